"""How common a query word is in the news, so the matcher looks first for what is rare.

A query "elections AND relegated" is worth evaluating only where "relegated" is, and a phrase
"the relegated side" is best found from "relegated": the word to look for is the rarest one,
which length alone guesses badly ("elections" is long and common). wordfreq's lists give each
word's share of running text in English, Russian and Serbo-Croatian (one list, in Latin
letters); its "small" lists hold every word at least once per million words. They are shipped
in ``wordlists/`` (CC BY-SA 4.0, see NOTICE), made by tools/wordlists.py: wordfreq itself is
no longer updated, and installing it cost far more than these lists (docs/benchmarks.md).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable

from monitor.match.query import Word
from monitor.match.text import EN, RU, SR, serbian_latin, word_languages

_FOLDER = resources.files("monitor.match") / "wordlists"
_LISTS = (
    (EN, _FOLDER / "en.txt.gz", str.lower),
    (SR, _FOLDER / "sh.txt.gz", serbian_latin),
    (RU, _FOLDER / "ru.txt.gz", str.lower),
)
LIST_FILES = tuple(path for _, path, _ in _LISTS)  # what the answers depend on, with this module
UNLISTED = 1e-6  # the lists stop at one in a million: a word they lack is rarer still


def frequencies(words: Iterable[Word]) -> dict[Word, float]:
    """The share of running text each word (all words it begins, for a prefix) makes up in the
    likeliest of its languages; a word the lists lack is put below them, the longer the rarer.

    The lists are read for each call and dropped before it returns: kept, their 150,000 small
    objects would be interleaved with the matcher's, and keep RSS up after release()."""
    words = list(words)  # by position: a Word's hash is Python code
    shares = [0.0] * len(words)
    languages = [word_languages(word.text) for word in words]
    for bit, path, key in _LISTS:
        keyed = [(at, key(word.text)) for at, word in enumerate(words) if languages[at] & bit]
        if not keyed:
            continue
        buckets = _buckets(path)
        found = _word_shares(buckets, {text for at, text in keyed if not words[at].prefix})
        found |= _prefix_shares(buckets, {text for at, text in keyed if words[at].prefix})
        for at, text in keyed:
            shares[at] = max(shares[at], found.get(text, 0.0))
    return {word: share or UNLISTED / len(word.text) for word, share in zip(words, shares, strict=True)}


def _buckets(path: Traversable) -> list[list[str]]:
    """A list as shipped: gzipped text whose line n holds the words at n centibels of frequency
    (0 cB being every word), separated by spaces, in wordfreq's order."""
    packed = path.read_bytes()
    return [line.split(" ") if line else [] for line in gzip.decompress(packed).decode().split("\n")]


def _share(centibels: int) -> float:
    return 10 ** (-centibels / 100)


def _word_shares(buckets: list[list[str]], words: set[str]) -> dict[str, float]:
    """The share of each of ``words`` that the list holds (a set intersection per bucket)."""
    return {
        word: _share(centibels)
        for centibels, bucket in enumerate(buckets)
        for word in words.intersection(bucket)
    }


def _prefix_shares(buckets: list[list[str]], prefixes: set[str]) -> dict[str, float]:
    """Each prefix's total share: the sum over the listed words it begins."""
    totals = dict.fromkeys(prefixes, 0.0)
    lengths = {len(prefix) for prefix in prefixes}
    for centibels, bucket in enumerate(buckets):
        for length in lengths:
            for word in bucket:
                if word[:length] in totals:
                    totals[word[:length]] += _share(centibels)
    return totals
