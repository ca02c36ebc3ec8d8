"""How well monitor.match.story tells one story from two, on the labelled pairs
(tests/data/story_pairs.json: English, Serbian in both scripts, Russian; rewrites, one story in
two scripts, two expulsions on one day, the same event a week apart). The figures guarded here
are those docs/matching.md reports; bench/stories.py prints them, and the other methods'."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from monitor.match.story import WITHIN, same_story, telling

PAIRS = json.loads((Path(__file__).resolve().parents[1] / "data" / "story_pairs.json").read_text("utf-8"))[
    "pairs"
]
WINDOW = WITHIN


def said(pair: dict, leads: bool = True) -> bool:
    a, b = pair["a"], pair["b"]
    apart = abs(datetime.fromisoformat(a["published"]) - datetime.fromisoformat(b["published"]))
    return apart <= WINDOW and same_story(
        telling(a["title"], a["lead"] if leads else ""), telling(b["title"], b["lead"] if leads else "")
    )


def figures(pairs: list[dict], leads: bool = True) -> tuple[float, float]:
    guesses = [(said(pair, leads), pair["same"]) for pair in pairs]
    true = sum(1 for guess, same in guesses if guess and same)
    guessed = sum(1 for guess, _ in guesses if guess)
    return true / guessed, true / sum(1 for _, same in guesses if same)


MAIN = [pair for pair in PAIRS if pair["case"] != "cross_language"]


def test_the_set_is_the_one_measured():
    cases = {pair["case"] for pair in PAIRS}
    assert len(MAIN) >= 198 and {"rewrite", "scripts", "week_apart", "same_day_two_people"} <= cases


def test_same_story_with_leads_is_precise_and_finds_nine_in_ten():
    precision, recall = figures(MAIN)

    assert precision >= 0.98, precision  # a wrong merge hides a story
    assert recall >= 0.88, recall


def test_titles_alone_are_never_merged_wrongly_though_fewer_are_found():
    precision, recall = figures(MAIN, leads=False)

    assert precision >= 0.98, precision
    assert recall >= 0.25, recall


@pytest.mark.parametrize("case", ["same_day_two_people", "week_apart", "same_topic", "unrelated"])
def test_no_pair_of_two_stories_is_merged(case):
    merged = [
        (pair["a"]["title"], pair["b"]["title"]) for pair in MAIN if pair["case"] == case and said(pair)
    ]

    assert merged == []


def test_one_story_in_both_scripts_is_one_story():
    scripts = [pair for pair in MAIN if pair["case"] == "scripts"]

    assert sum(map(said, scripts)) >= 0.9 * len(scripts)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            (
                "Ruskom aktivisti Ilji Zotovu naloženo da napusti Srbiju",
                "BIA ga smatra bezbednosnim rizikom.",
            ),
            (
                "Ruskom aktivisti Ruslanu Ahmetovu naloženo da napusti Srbiju",
                "BIA ga smatra bezbednosnim rizikom.",
            ),
            False,
        ),
        (
            (
                "Руском активисти Иљи Зотову отказан боравак",
                "Зотов има 30 дана да напусти Србију, каже адвокат.",
            ),
            (
                "Ilji Zotovu otkazan boravak u Srbiji",
                "Zotov ima 30 dana da napusti Srbiju, kaže njegov advokat.",
            ),
            True,
        ),
        (
            ("Srbija protera ruskog aktivistu nakon procene BIA", ""),
            ("BIA: aktivista iz Rusije ostaje u Srbiji, sud poništio odluku", ""),
            False,
        ),
    ],
)
def test_names_and_scripts_decide(a, b, same):
    assert same_story(telling(*a), telling(*b)) is same
