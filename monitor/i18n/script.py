"""Serbian in either script, for showing titles and snippets in the reader's.

Cyrillic → Latin is exact: a letter map, with Љ Њ Џ as LJ NJ DŽ in all-caps words. Latin →
Cyrillic must know where lj, nj, dž are two letters, not one: across a prefix (nad|živeti,
in|jekcija) or an acronym's parts (Tan|jug), which a short table names. dj is always д+ј:
today's text writes ђ as đ, so dj is ijekavian (djeca) or a prefix (podjela, nadjačati).
What is not Serbian stays in Latin: links, addresses, handles, foreign words.
"""

from __future__ import annotations

import re

from monitor.config.types import Script

_CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџш"
_LATIN = "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š".split()
_TITLE = {ord(c): latin for c, latin in zip(_CYRILLIC, _LATIN, strict=True)} | {
    ord(c.upper()): latin.capitalize() for c, latin in zip(_CYRILLIC, _LATIN, strict=True)
}
_CAPS = _TITLE | {ord(c.upper()): latin.upper() for c, latin in zip(_CYRILLIC, _LATIN, strict=True)}
_RUSSIAN_ONLY = re.compile("[ыэъьяюёйщЫЭЪЬЯЮЁЙЩ]")
_WORD = re.compile(r"[^\W\d_]+")

_LETTERS = {latin: c for c, latin in zip(_CYRILLIC, _LATIN, strict=True) if len(latin) == 1}
_TO_CYRILLIC = str.maketrans(_LETTERS | {latin.upper(): c.upper() for latin, c in _LETTERS.items()})
# lj, Lj, LJ (and lJ) → љ or Љ: the first letter's case is the Cyrillic letter's
_DIGRAPHS = {
    first + second: c.upper() if first.isupper() else c
    for c, latin in zip(_CYRILLIC, _LATIN, strict=True)
    if len(latin) == 2
    for first in (latin[0], latin[0].upper())
    for second in (latin[1], latin[1].upper())
}
_DIGRAPH = re.compile("|".join(_DIGRAPHS))
# Beginnings of words whose Cyrillic is not letter by letter: two letters that look like a
# digraph across a prefix (nad|živeti, in|jekcija) or an acronym (Tan|jug), after Ćirilizator's
# list (github.com/turanjanin/cirilizator), cut to words news writes; and a name said, not spelled.
_BEGINNINGS = {
    "nadživ": "наджив",
    "nadžnje": "наджње",
    "podžanr": "поджанр",
    "podžup": "поджуп",
    "odžal": "оджал",
    "injek": "инјек",
    "konjug": "конјуг",
    "konjunk": "конјунк",
    "vanjezi": "ванјези",
    "tanjug": "танјуг",
    "covid": "ковид",
}
_BEGINNING = re.compile("|".join(_BEGINNINGS), re.IGNORECASE)

_SERBIAN_LATIN = "".join(_LETTERS) + "".join(_LETTERS).upper()
_TOKEN = re.compile(
    r"(?i:https?://|www\.)\S+"  # a link
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # an address
    r"|[@#]\w+"  # a handle, a hashtag
    rf"|(?P<serbian>[{_SERBIAN_LATIN}]+)(?![^\W\d_])"  # a word in Serbian Latin letters
    r"|[^\W\d_]+"  # any other word: Twitter, Müller, Путин
)


def to_latin(text: str) -> str:
    """Serbian Cyrillic in Serbian Latin; words with letters only Russian has are left alone."""
    return _WORD.sub(_latin_word, text)


def to_cyrillic(text: str) -> str:
    """Serbian Latin in Serbian Cyrillic; links, addresses, handles and foreign words stay."""
    return _TOKEN.sub(_cyrillic_token, text)


def in_script(text: str, script: Script) -> str:
    """``text`` in the reader's script."""
    return to_cyrillic(text) if script == "cyrl" else to_latin(text)


def _latin_word(match: re.Match[str]) -> str:
    word = match.group()
    if _RUSSIAN_ONLY.search(word):
        return word
    # a lone capital is a word's initial (Nj. V.), not an all-caps word
    return word.translate(_CAPS if len(word) > 1 and word.isupper() else _TITLE)


def _cyrillic_token(match: re.Match[str]) -> str:
    word = match.group("serbian")
    if word is None:
        return match.group()
    if beginning := _BEGINNING.match(word):
        head, rest = word[: beginning.end()], word[beginning.end() :]
        return _cased_as(head, _BEGINNINGS[head.lower()]) + _cyrillic_letters(rest)
    return _cyrillic_letters(word)


def _cased_as(latin: str, cyrillic: str) -> str:
    if latin.isupper():
        return cyrillic.upper()
    return cyrillic.capitalize() if latin[0].isupper() else cyrillic


def _cyrillic_letters(latin: str) -> str:
    return _DIGRAPH.sub(lambda match: _DIGRAPHS[match.group()], latin).translate(_TO_CYRILLIC)
