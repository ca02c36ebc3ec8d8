"""One story told twice? Two reports are one story when their titles and leads, normalised as
the matcher reads text, share most of their words (rapidfuzz's token_set_ratio, which forgives
what a rewrite adds: "…, rights groups say", and a fair share of them outright) and their
titles name no one the other does not. Titles alone say less, so two reports without a lead
must agree more.

The names are what tell two expulsions on one day apart: "Ruskom aktivisti Ilji Zotovu
naloženo da napusti Srbiju" and "… Ruslanu Ahmetovu …" share every other word. A name is a
capitalised word of the title after its first (which any sentence capitalises); it is "named by
the other" when a word of the other's title or lead begins alike (three letters: Zotov,
Zotovu, Зотову). Both titles must name someone the other does not for a conflict: a rewrite
adds names (a lawyer, a rights group) without dropping the one it is about.

Measured on tests/data/story_pairs.json (bench/stories.py, docs/matching.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from rapidfuzz.fuzz import token_set_ratio

from monitor.match.document import Document
from monitor.match.text import RU, fold_russian, fold_serbian, guess_languages, words

SAME = 52  # token_set_ratio of two keys, 0-100, from which two reports with leads may be one story
SAME_TITLES = 64  # the same, when either is a title alone
SHARED = 0.15  # of the two keys' words (Jaccard), at least
LEAD = 8  # words of a summary that make it a lead
PREFIX = 5  # a word's first letters that are compared: inflection changes the ending
NAME_PREFIX = 3  # Zotov, Zotovu, Зотову; Ilja, Ilji
LEAD_WORDS = 40  # of the summary: a lead, not the article
WITHIN = timedelta(hours=36)  # from a story's first report, the reports that may join it
KEPT = timedelta(days=4)  # stories first reported this long ago are forgotten by a StoryIndex
RARE = 10  # of a report's words, those in the fewest stories find its candidates
COMMON = 500  # a word in more stories finds none: "said", or a feed's "Weather for …"
CANDIDATES = 8  # stories sharing the most words with a report, tested with same_story
# a word of two letters or more, as its first PREFIX letters
_KEY_WORD = re.compile(rf"(?<!\w)(\w{{2,{PREFIX}}})\w*").findall


@dataclass(frozen=True, slots=True)
class Telling:
    """What of a report is compared: its key (the title's and lead's words, folded and cut to
    PREFIX letters) and the title's names (NAME_PREFIX letters each)."""

    key: str
    names: frozenset[str]
    lead: bool


def telling(title: str, summary: str) -> Telling:
    """A report's title and summary made comparable: Serbian Cyrillic folded to Latin,
    diacritics folded, Russian kept in Cyrillic (ё as е), cases and endings cut."""
    title_words, summary_words = words(title), words(summary)
    text, read = f"{title} {summary[:400]}", chain(title_words, summary_words[:LEAD_WORDS])
    return tell(title_words, summary_words, guess_languages(text, read, None))


def told(document: Document) -> Telling:
    """``telling`` of an item the matcher has read already, in the languages it found (a
    story is told by its title and lead, not its article's body)."""
    return tell(document.words[0], document.words[1], document.languages)


def tell(title_words: Sequence[str], summary_words: Sequence[str], languages: int) -> Telling:
    """``telling`` of words already read, in ``languages`` (match.text's bits)."""
    lead_words = summary_words[:LEAD_WORDS]
    fold = fold_russian if languages == RU else fold_serbian
    # folded and cut whole, in a few calls rather than a few per word: this runs for every item stored
    title = fold(" ".join(title_words))
    names = {
        word[:NAME_PREFIX]
        for word, written in zip(title.split()[1:], title_words[1:], strict=False)
        if len(written) > 1 and written[0].isupper()
    }
    return Telling(
        " ".join(_KEY_WORD(f"{title} {fold(' '.join(lead_words))}")),
        frozenset(names),
        len(lead_words) >= LEAD,
    )


def similarity(a: Telling, b: Telling) -> float:
    return token_set_ratio(a.key, b.key)


def shared(a: Telling, b: Telling) -> float:
    left, right = set(a.key.split()), set(b.key.split())
    return len(left & right) / len(left | right) if left | right else 0.0


def _heard(told: Telling) -> set[str]:
    """Each word's first NAME_PREFIX letters: a name is mentioned when a word begins alike."""
    return {word[:NAME_PREFIX] for word in told.key.split()}


def names_differ(a: Telling, b: Telling) -> bool:
    """Each title names someone (or somewhere) the other report does not mention."""
    return bool(a.names - _heard(b)) and bool(b.names - _heard(a))


def same_story(a: Telling, b: Telling) -> bool:
    """Whether two reports (close enough in time: the caller's window) tell one story."""
    return _one_story(a, b, similarity(a, b))


def _one_story(a: Telling, b: Telling, score: float) -> bool:
    """``same_story`` of two reports whose similarity is ``score``, measured already."""
    wanted = SAME if a.lead and b.lead else SAME_TITLES
    return score >= wanted and shared(a, b) >= SHARED and not names_differ(a, b)


@dataclass(slots=True)
class _Story:
    telling: Telling  # its first report's
    published: datetime  # its first report's
    text: str | None = None  # its first report's text's hash (models.content_hash)
    feeds: set[int] = field(default_factory=set)  # no feed tells one story twice


class StoryIndex:
    """The recent stories a new report may join, by story id (the id of its first report).

    Candidates are the stories sharing the most of a report's RARE rarest words (a name, a
    place, a rare verb: what two reports of one story share), each word weighed by its
    rarity, so a lookup costs what those words' postings cost, not what "Serbia" and "said"
    would (a word in more than COMMON stories counts for none), and a day of stories on one
    topic does not crowd out the one told. Of the candidates, the report joins the one that
    same_story finds most alike: one from another feed, first reported within WITHIN of it.
    Pure: the store feeds it what it stores and what other processes stored."""

    def __init__(self) -> None:
        self._stories: dict[int, _Story] = {}
        self._postings: dict[str, list[int]] = {}  # word → stories: lists, as sets cost more memory
        self._keys: dict[str, int] = {}  # a story's first report's key → the story
        self._texts: dict[str, int] = {}  # a story's first report's text's hash → the story

    def __len__(self) -> int:
        return len(self._stories)

    def reprint(self, text: str, feed: int, published: datetime) -> int | None:
        """The story whose first report's title and lead were word for word these (``text``:
        their hash), if this report may join it: found before the report is told."""
        story = self._texts.get(text)
        return story if story is not None and self._joins(story, feed, published) else None

    def holds(self, story_id: int) -> bool:
        return story_id in self._stories

    def find(self, told: Telling, feed: int, published: datetime) -> int | None:
        """The story this report tells, or None: it is a story of its own."""
        if (same := self._keys.get(told.key)) is not None and self._joins(same, feed, published):
            return same  # word for word (an agency's report, reprinted)
        postings = sorted(
            (
                posting
                for word in set(told.key.split())
                if (posting := self._postings.get(word)) and len(posting) <= COMMON
            ),
            key=len,
        )
        shared: dict[int, float] = {}
        for posting in postings[:RARE]:
            weight = 1 / len(posting)
            for story_id in posting:
                shared[story_id] = shared.get(story_id, 0.0) + weight
        best, best_score = None, 0.0
        for story_id in sorted(shared, key=shared.__getitem__, reverse=True)[:CANDIDATES]:
            story = self._stories[story_id]
            if (
                self._joins(story_id, feed, published)
                and (score := similarity(told, story.telling)) > best_score
                and _one_story(told, story.telling, score)
            ):
                best, best_score = story_id, score
        return best

    def _joins(self, story_id: int, feed: int, published: datetime) -> bool:
        story = self._stories[story_id]
        return feed not in story.feeds and abs(story.published - published) <= WITHIN

    def add(
        self, story_id: int, told: Telling | None, feed: int, published: datetime, text: str | None = None
    ) -> None:
        """A report of ``story_id``: the story begins with it if the index does not hold it,
        which needs its telling (and its text's hash, for reprints found by it); a report that
        joins a held story needs neither."""
        story = self._stories.get(story_id)
        if story is None:
            assert told is not None, "a report that begins a story is told"
            story = self._stories[story_id] = _Story(told, published, text)
            self._keys[told.key] = story_id
            if text is not None:
                self._texts[text] = story_id
            for word in set(told.key.split()):
                self._postings.setdefault(word, []).append(story_id)
        story.feeds.add(feed)

    def forget(self, now: datetime) -> None:
        """Drop the stories first reported more than KEPT before ``now``."""
        before = now - KEPT
        for story_id in [i for i, story in self._stories.items() if story.published < before]:
            forgotten = self._stories.pop(story_id)
            key = forgotten.telling.key
            if self._keys.get(key) == story_id:
                del self._keys[key]
            if forgotten.text is not None and self._texts.get(forgotten.text) == story_id:
                del self._texts[forgotten.text]
            for word in set(key.split()):
                posting = self._postings[word]
                posting.remove(story_id)
                if not posting:
                    del self._postings[word]
