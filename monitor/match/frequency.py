"""How common a query word is in the news, so the matcher looks first for what is rare.

A query "elections AND relegated" is worth evaluating only where "relegated" is, and a phrase
"the relegated side" is best found from "relegated": the word to look for is the rarest one,
which length alone guesses badly ("elections" is long and common). wordfreq's lists give each
word's share of running text in English, Russian and Serbo-Croatian (one list, in Latin
letters); its "small" lists hold every word at least once per million words.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import cache
from itertools import accumulate

from monitor.match.query import Word
from monitor.match.text import EN, RU, SR, serbian_latin, word_languages

_LISTS = ((EN, "en", str.lower), (SR, "sh", serbian_latin), (RU, "ru", str.lower))
UNLISTED = 1e-6  # the lists stop at one in a million: a word they lack is rarer still


@cache
def _table(language: str) -> dict[str, float]:
    import wordfreq  # a tenth of a second of imports (ftfy, langcodes): only for a compile

    table = wordfreq.get_frequency_dict(language, wordlist="small")
    for cached in (wordfreq.get_frequency_dict, wordfreq.get_frequency_list):
        cached.cache_clear()  # so that ours is the one copy, and release() frees it
    return table


@cache
def _sorted(language: str) -> tuple[list[str], list[float]]:
    """A list's words in order, and the running total of their frequencies: a prefix's words
    are one run of them, its total a difference of two sums."""
    listed = sorted(_table(language).items())
    return [word for word, _ in listed], [0.0, *accumulate(share for _, share in listed)]


def _listed(key: str, language: str, prefix: bool) -> float:
    if not prefix:
        return _table(language).get(key, 0.0)
    words, totals = _sorted(language)
    return totals[bisect_left(words, key + "\U0010ffff")] - totals[bisect_left(words, key)]


@cache
def frequency(word: Word) -> float:
    """The share of running text that ``word`` (all words it begins, for a prefix) makes up in
    the likeliest of its languages; a word the lists lack is put below them, the longer the rarer."""
    languages = word_languages(word.text)
    listed = 0.0
    for bit, name, key in _LISTS:
        if languages & bit:
            listed = max(listed, _listed(key(word.text), name, word.prefix))
    return listed or UNLISTED / len(word.text)


def release() -> None:
    """Drop the lists: megabytes nobody reads until the next compile."""
    for cached in (_table, _sorted, frequency):
        cached.cache_clear()
