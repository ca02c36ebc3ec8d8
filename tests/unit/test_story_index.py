"""monitor.match.story.StoryIndex: which recent story a new report joins, by its words, its
feed and its time; and that finding candidates by rare words loses no pair that same_story
would join, on the labelled pairs among a day's other news."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.match.story import KEPT, WITHIN, StoryIndex, same_story, telling

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[1] / "data" / "story_pairs.json"

FIRST = telling(
    "Ruskom aktivisti Ilji Zotovu naloženo da napusti Srbiju",
    "Bezbednosno-informativna agencija ocenila je da ruski aktivista Ilja Zotov predstavlja "
    "bezbednosni rizik, pa mu je otkazan privremeni boravak u Srbiji.",
)
REWRITE = telling(
    "Руском активисти Иљи Зотову наложено да напусти Србију након процене БИА",
    "Безбедносно-информативна агенција оценила је да руски активиста Иља Зотов представља "
    "безбедносни ризик, па му је отказан привремени боравак у Србији, наводе правници.",
)
OTHER_PERSON = telling(
    "Ruskom aktivisti Ruslanu Ahmetovu naloženo da napusti Srbiju",
    "Bezbednosno-informativna agencija ocenila je da ruski aktivista Ruslan Ahmetov predstavlja "
    "bezbednosni rizik, pa mu je otkazan privremeni boravak u Srbiji.",
)


def index_with_first() -> StoryIndex:
    index = StoryIndex()
    index.add(1, FIRST, feed=10, published=NOW)
    return index


@pytest.mark.parametrize(
    ("report", "feed", "published", "story"),
    [
        (REWRITE, 11, NOW + timedelta(hours=3), 1),  # another outlet, the other script
        (FIRST, 11, NOW, 1),  # word for word: an agency's report reprinted
        (REWRITE, 10, NOW + timedelta(hours=3), None),  # a feed never tells one story twice
        (REWRITE, 11, NOW + WITHIN + timedelta(minutes=1), None),  # too late to be the same
        (REWRITE, 11, NOW - WITHIN - timedelta(minutes=1), None),  # reported long before
        (FIRST, 11, NOW + WITHIN + timedelta(minutes=1), None),  # word for word, but days apart
        (OTHER_PERSON, 11, NOW, None),  # another expulsion the same day
    ],
)
def test_a_report_joins_the_story_it_tells(report, feed, published, story) -> None:
    assert index_with_first().find(report, feed, published) == story


def test_a_story_holds_every_feed_that_told_it() -> None:
    index = index_with_first()
    index.add(1, REWRITE, feed=11, published=NOW)

    assert index.find(FIRST, 11, NOW) is None
    assert index.find(FIRST, 12, NOW) == 1


@pytest.mark.parametrize(
    ("text", "feed", "published", "story"),
    [
        ("first", 11, NOW + timedelta(hours=1), 1),  # the first report's title and lead, reprinted
        ("first", 10, NOW + timedelta(hours=1), None),  # by the feed that told it
        ("first", 11, NOW + WITHIN + timedelta(minutes=1), None),  # too late
        ("rewrite", 11, NOW, None),  # a rewrite is told, not known by its text
    ],
)
def test_a_reprint_is_known_by_its_texts_hash_before_it_is_told(text, feed, published, story) -> None:
    index = StoryIndex()
    index.add(1, FIRST, feed=10, published=NOW, text="first")

    assert index.reprint(text, feed, published) == story


def test_a_report_joins_a_held_story_without_being_told() -> None:
    index = index_with_first()
    index.add(1, None, feed=11, published=NOW)

    assert index.find(REWRITE, 11, NOW) is None  # feed 11 told it already
    with pytest.raises(AssertionError):
        index.add(2, None, feed=11, published=NOW)  # a story cannot begin untold


def test_old_stories_are_forgotten() -> None:
    index = StoryIndex()
    index.add(1, FIRST, feed=10, published=NOW, text="first")
    index.add(2, OTHER_PERSON, feed=10, published=NOW + timedelta(days=2))

    index.forget(NOW + KEPT + timedelta(hours=1))

    assert len(index) == 1
    assert index.find(FIRST, 11, NOW) is None
    assert index.reprint("first", 11, NOW) is None
    assert index.find(OTHER_PERSON, 11, NOW + timedelta(days=2)) == 2


def test_candidates_by_rare_words_lose_no_pair_same_story_joins() -> None:
    """Each labelled pair's first report among the other pairs' first reports of other stories
    (many on the same topic, naming the same people), all published in one day: the second
    joins it exactly when same_story says the two are one story."""
    pairs = json.loads(DATA.read_text("utf-8"))["pairs"]
    pairs = [pair for pair in pairs if pair["case"] != "cross_language"]
    tellings = [
        (telling(p["a"]["title"], p["a"]["lead"]), telling(p["b"]["title"], p["b"]["lead"])) for p in pairs
    ]
    wrong = []
    for number, (first, second) in enumerate(tellings):
        index = StoryIndex()
        for other, (story, _) in enumerate(tellings):
            if other != number and not same_story(story, first) and not same_story(second, story):
                index.add(other, story, feed=other, published=NOW)
        index.add(number, first, feed=number, published=NOW)
        if (index.find(second, feed=-1, published=NOW) == number) != same_story(second, first):
            wrong.append((pairs[number]["a"]["title"], pairs[number]["b"]["title"]))

    assert sum(same_story(b, a) for a, b in tellings) >= 90
    assert wrong == []
