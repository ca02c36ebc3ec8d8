"""Normalisation shared by queries and items: scripts, case, diacritics, tokens with offsets.

Serbian Cyrillic is folded to Latin (always that way: Latin → Cyrillic is ambiguous), Latin
diacritics are folded (č ć → c, š → s, ž → z, đ → dj), Russian keeps its Cyrillic (ё → е):
romanising it would invent matches. Every token keeps its character span in the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import islice

from monitor.match.languages import known_language

SERBIAN_ONLY = frozenset("јљњћђџЈЉЊЋЂЏ")
RUSSIAN_ONLY = frozenset("ыэъьяюёйщЫЭЪЬЯЮЁЙЩ")
SERBIAN_LATIN_ONLY = frozenset("čćšžđČĆŠŽĐ")

# Languages as bits, so a form can be valid in several and an item can be in several.
EN, SR, RU, OTHER = 1, 2, 4, 8
ANY = EN | SR | RU | OTHER

_TOKEN = re.compile(r"\w+")


def _function_words(text: str) -> frozenset[str]:
    """Words as written in lower case or capitalised, so a text's tokens need no case folding."""
    return frozenset(form for word in text.split() for form in (word, word.capitalize()))


# Common function words of each language that are not words of the other one written in the
# same script: English "to", "on", "a" and "do" are also Serbian; Russian "и", "на", "после",
# "она" also Serbian Cyrillic, so they are left out. Serbian in both scripts, diacritics or not.
_ENGLISH_WORDS = _function_words(
    "the of and in is was for with that by from at as after has have are be it its an this"
    " will said not but were been their over against into about who which says had would"
)
_SERBIAN_WORDS = _function_words(
    "je i u na da se su za od sa iz ili koji koja koje posle nije kao što sto ali će ce bio bila"
    " biti ima još jos samo već vec prema nakon tokom protiv pre kada kako ovo zbog"
    " је се су од са који која које није као што али ће био била бити има још само већ према"
    " након током пре када како ово због"
)
_RUSSIAN_WORDS = _function_words(
    "в во к от для что это как так его её ее был была были было который которая которые"
    " также уже еще ещё чтобы года"
)
_SAMPLE = 48  # words whose function words are counted: plenty, and an item's length costs nothing
_CYRILLIC = SR | RU | OTHER  # what Cyrillic text may be in
_LATIN = EN | SR | OTHER


def _latin_folding() -> dict[int, str]:
    table = {ord("đ"): "dj", ord("ð"): "d", ord("ø"): "o", ord("ł"): "l", ord("æ"): "ae", ord("œ"): "oe"}
    for code in range(0x00C0, 0x0250):
        char = chr(code).lower()
        if len(char) != 1 or ord(char) in table:
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base != char and base.isascii() and base.isalpha():
            table[ord(char)] = base
    return table


_SERBIAN_LATIN = dict(
    zip(
        map(ord, "абвгдђежзијклљмнњопрстћуфхцчџш"),
        "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š".split(),
        strict=True,
    )
)

_LATIN_FOLD = _latin_folding()
_SERBIAN_CYRILLIC = {code: latin.translate(_LATIN_FOLD) for code, latin in _SERBIAN_LATIN.items()}
_SERBIAN_FOLD = {**_LATIN_FOLD, **_SERBIAN_CYRILLIC}
_RUSSIAN_FOLD = {**_LATIN_FOLD, ord("ё"): "е"}


def _finder(letters: str) -> Callable[[str], bool]:
    """Whether a text has any of ``letters`` (a regex character class): a search, far cheaper
    than making a set of a long text."""
    pattern = re.compile(f"[{letters}]")
    return lambda text: pattern.search(text) is not None


has_cyrillic = _finder("\u0400-\u04ff")
# one search, which stops at the first letter only one of the two languages has
_decisive_letter = re.compile(f"([{''.join(sorted(SERBIAN_ONLY))}])|[{''.join(sorted(RUSSIAN_ONLY))}]").search
_has_serbian_cyrillic = _finder("".join(sorted(SERBIAN_ONLY)))
_has_russian = _finder("".join(sorted(RUSSIAN_ONLY)))
has_serbian_latin = _finder("".join(sorted(SERBIAN_LATIN_ONLY)))


def fold_serbian(token: str) -> str:
    """Caseless key of a Latin or Serbian Cyrillic token: ``Љубљана`` and ``Ljubljana`` → ``ljubljana``."""
    return token.casefold().translate(_SERBIAN_FOLD)


def fold_russian(token: str) -> str:
    """Caseless key of a Russian token: Cyrillic kept, ё folded to е."""
    return token.casefold().translate(_RUSSIAN_FOLD)


def guess_languages(text: str, tokens: Iterable[str], hint: str | None) -> int:
    """The item's languages as bits. The text decides where it is clear: in Cyrillic, the first
    letter that only Serbian or only Russian has; then the function words among its first
    words. The feed's ``hint`` breaks ties, where its language can be written in the text's
    script; then, for Latin text, č ć š ž đ mean Serbian (an English story may name Vučić, so
    they come last). When nothing decides, every candidate applies."""
    if has_cyrillic(text):
        if letter := _decisive_letter(text):
            return SR if letter.group(1) else RU
        written = set(islice(tokens, _SAMPLE))
        votes = len(written & _SERBIAN_WORDS) - len(written & _RUSSIAN_WORDS)
        if votes:
            return SR if votes > 0 else RU
        return _hint_languages(hint) & _CYRILLIC or SR | RU
    written = set(islice(tokens, _SAMPLE))
    votes = len(written & _ENGLISH_WORDS) - len(written & _SERBIAN_WORDS)
    if votes:
        return EN if votes > 0 else SR
    if hinted := _hint_languages(hint) & _LATIN:
        return hinted
    return SR if has_serbian_latin(text) else _LATIN


@lru_cache(maxsize=256)
def _hint_languages(hint: str | None) -> int:
    """A feed's language hint as bits: none for no hint, OTHER for a language the matcher does
    not read (the config refuses those, ``monitor match`` passes them on)."""
    if not hint:
        return 0
    code = known_language(hint)
    if code is None:
        return OTHER
    return EN if code == "en" else RU if code == "ru" else SR


def word_languages(word: str) -> int:
    """Which languages a query word can be in, from its letters."""
    if not has_cyrillic(word):
        return EN | SR
    if _has_serbian_cyrillic(word):
        return SR
    if _has_russian(word):
        return RU
    return SR | RU


def words(text: str) -> list[str]:
    """The word tokens of ``text``; Serbian writes BIA-e, so hyphens split words."""
    return _TOKEN.findall(text)


def key_functions(languages: int) -> list[Callable[[str], str]]:
    """How to key an item's words: one function, or two for Cyrillic that may be Serbian or
    Russian (folded to Latin, and kept Cyrillic), so either kind of term can find it."""
    serbian, russian = languages & SR, languages & RU
    if serbian and russian:
        return [_KEYS[SR], _KEYS[RU]]
    return [_KEYS[SR if serbian else RU if russian else 0]]


def _key(word: str, mode: int) -> str:
    """A word's caseless key in an item of ``mode`` (SR, RU or neither)."""
    if word.isascii():
        return word.lower()
    source = unicodedata.normalize("NFKC", word)  # ＢＩＡ → BIA
    if not has_cyrillic(source):
        return fold_serbian(source)
    return fold_russian(source) if mode == RU or not mode else fold_serbian(source)


# One cached key function per mode: news repeats its words, and folding is most of tokenising.
_KEYS = {mode: lru_cache(maxsize=1 << 16)(lambda word, mode=mode: _key(word, mode)) for mode in (0, SR, RU)}


def serbian_latin(word: str) -> str:
    """Serbian Cyrillic in Latin letters, diacritics kept, lower case: as dictionaries expect."""
    return word.lower().translate(_SERBIAN_LATIN)
