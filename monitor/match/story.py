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

from dataclasses import dataclass

from rapidfuzz.fuzz import token_set_ratio

from monitor.match.text import RU, fold_russian, fold_serbian, guess_languages, words

SAME = 52  # token_set_ratio of two keys, 0-100, from which two reports with leads may be one story
SAME_TITLES = 64  # the same, when either is a title alone
SHARED = 0.15  # of the two keys' words (Jaccard), at least
LEAD = 8  # words of a summary that make it a lead
PREFIX = 5  # a word's first letters that are compared: inflection changes the ending
NAME_PREFIX = 3  # Zotov, Zotovu, Зотову; Ilja, Ilji
LEAD_WORDS = 40  # of the summary: a lead, not the article


@dataclass(frozen=True, slots=True)
class Telling:
    """What of a report is compared: its key (the title's and lead's words, folded and cut to
    PREFIX letters), every word's first NAME_PREFIX letters, and the title's names."""

    key: str
    heard: frozenset[str]
    names: frozenset[str]
    lead: bool


def telling(title: str, summary: str) -> Telling:
    """A report's title and summary made comparable: Serbian Cyrillic folded to Latin,
    diacritics folded, Russian kept in Cyrillic (ё as е), cases and endings cut."""
    title_words = words(title)
    lead_words = words(summary)[:LEAD_WORDS]
    text = f"{title} {summary[:400]}"
    fold = fold_russian if guess_languages(text, title_words + lead_words, None) == RU else fold_serbian
    folded = [fold(word) for word in title_words + lead_words if len(word) > 1]
    names = {fold(word)[:NAME_PREFIX] for word in title_words[1:] if len(word) > 1 and word[0].isupper()}
    return Telling(
        " ".join(word[:PREFIX] for word in folded),
        frozenset(word[:NAME_PREFIX] for word in folded),
        frozenset(names),
        len(lead_words) >= LEAD,
    )


def similarity(a: Telling, b: Telling) -> float:
    return token_set_ratio(a.key, b.key)


def shared(a: Telling, b: Telling) -> float:
    left, right = set(a.key.split()), set(b.key.split())
    return len(left & right) / len(left | right) if left | right else 0.0


def names_differ(a: Telling, b: Telling) -> bool:
    """Each title names someone (or somewhere) the other report does not mention."""
    return bool(a.names - b.heard) and bool(b.names - a.heard)


def same_story(a: Telling, b: Telling) -> bool:
    """Whether two reports (close enough in time: the caller's window) tell one story."""
    wanted = SAME if a.lead and b.lead else SAME_TITLES
    return similarity(a, b) >= wanted and shared(a, b) >= SHARED and not names_differ(a, b)
