"""Inflection: a query word expanded, once at compile time, into the forms it has in each language.

Expanding query words beat stemming every document in our measurements (notes/matching.md):
faster, exact highlights, and none of the stemmers' false merges (Serbian BIA → "bi", English
relocant → "reloc"). Sources: simplemma's dictionaries (``en``; ``hbs`` for Serbian, both scripts)
read in reverse, pymorphy3 for Russian, regular English endings and a guarded Snowball stem for
words no dictionary knows. Acronyms are never inflected (Serbian writes BIA-e, split at the hyphen).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from monitor.match.text import (
    ANY,
    EN,
    RU,
    SR,
    fold_russian,
    fold_serbian,
    has_serbian_latin,
    serbian_latin,
    word_languages,
)

STEM_MIN = 5  # shorter stems hit function words (sr "od", ru "и")
STEM_EXTRA = 4  # a stem matches words at most this much longer
# Lemmas whose forms are not expanded: auxiliaries (a search for "was" is not one for "is"), and
# Serbian pronouns, whose forms are some of the commonest words and also English ones: the
# English "time" and "one" are forms of taj and onaj, which would make them find "to" and "ona".
_UNEXPANDED = frozenset(
    "be have do will shall biti jesam hteti htjeti"
    " taj ovaj onaj ja ti on mi vi sebe svoj moj tvoj njegov njen njihov naš vaš"
    " koji ko šta što čiji sav svaki neki nešto niko ništa kakav takav sam".split()
)


@dataclass(frozen=True, slots=True)
class Forms:
    """Caseless keys a word matches, each valid in some languages; prefixes with a length bound."""

    exact: tuple[tuple[str, int], ...]
    prefixes: tuple[tuple[str, int, int], ...] = ()


def is_acronym(word: str) -> bool:
    """BIA, MUP, EU, БИА: all capitals, up to five letters; matched case-sensitively."""
    return word.isalpha() and word.isupper() and len(word) <= 5


def case_shape(word: str) -> str | None:
    """The capitals a word must be written with, or None when case does not matter.

    Acronyms must be all capitals; a word with capitals inside (BiH, iPhone) must have them
    where they are written: its lower-case twin is often another word (Serbian "bih", I would).
    """
    if is_acronym(word):
        return "upper"
    if not word.isupper() and any(char.isupper() for char in word[1:]):
        return "".join("U" if char.isupper() else "l" for char in word)
    return None


@dataclass(frozen=True, slots=True)
class _LemmaDictionary:
    """simplemma's form → lemma dictionary, and the forms of the lemmas asked for so far.

    Reading it in reverse for every lemma would make some 200,000 lists, a tenth of a second and
    tens of megabytes; one scan per batch of query words finds the forms of just their lemmas.
    """

    lemmas: Mapping[bytes, bytes]
    forms: dict[bytes, list[bytes]]

    def read_forms(self, lemmas: Iterable[bytes]) -> None:
        missing = {lemma for lemma in lemmas if lemma not in self.forms}
        if not missing:
            return
        for lemma in missing:
            self.forms[lemma] = []
        for form, lemma in self.lemmas.items():
            if lemma in missing:
                self.forms[lemma].append(form)


@cache
def _simplemma(language: str) -> _LemmaDictionary:
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    mapping: Any = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(language)
    # The bytes dict behind the str view, read as it is: a scan for forms through the view, or a
    # copy, costs ten times more (docs/benchmarks.md). Private to simplemma, so bounded (<3)
    # and tested (tests/unit/test_library_internals.py); the copy is the fallback.
    raw = getattr(mapping, "_dict", None)
    if raw is None:
        raw = {key.encode(): mapping[key].encode() for key in mapping}
    return _LemmaDictionary(raw, {})


@cache
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@cache
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


def release() -> None:
    """Drop the dictionaries (the most memory monitor holds) once every query is compiled, and hand the memory
    back to the system: glibc keeps freed memory for reuse, so RSS would barely shrink."""
    for loaded in (_simplemma, _morph, _stemmer, expand):
        loaded.cache_clear()
    gc.collect()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, for one): no trim
            ctypes.CDLL(None).malloc_trim(0)


def _dictionary_lookups(word: str) -> list[tuple[str, set[str]]]:
    """Which simplemma dictionaries a word is looked up in, with which spellings."""
    languages = word_languages(word)
    lookups = []
    if languages & SR:
        lookups.append(("hbs", {word, serbian_latin(word)}))
    if languages & EN:
        lookups.append(("en", {word}))
    return lookups


def _lemmas(language: str, spellings: Iterable[str]) -> set[bytes]:
    """The lemmas behind ``spellings`` in simplemma's form → lemma dictionary; and a Serbian
    infinitive itself, a verb the user means even where the dictionary sends it to another
    word (dobiti, to get, is there a form of dobit, profit). Other words are not taken as
    their own lemma: "Gora" must not find "gore" (worse).

    Auxiliaries and pronouns are not expanded (``_UNEXPANDED``), nor are negated verbs whose
    lemma is the positive one (nije → biti would make "did not allow" find "allowed").
    """
    lexicon = _simplemma(language)
    found = {
        lemma
        for spelling in spellings
        for variant in (spelling, spelling.lower(), spelling.capitalize())
        if (lemma := lexicon.lemmas.get(variant.encode())) is not None
        and not (variant.lower().startswith(("ne", "ni")) and not lemma.lower().startswith((b"ne", b"ni")))
    }
    if language == "hbs":
        found.update(spelling.lower().encode() for spelling in spellings if spelling.endswith(("ti", "ći")))
    return {lemma for lemma in found if lemma.decode().lower() not in _UNEXPANDED}


def _present_tense(lemma: str, forms: set[str]) -> set[str]:
    """The present-tense forms a verb's paradigm lacks because the dictionary gives them to
    another word (živeti's živi and žive are forms of živ, alive; pozivati's poziva is one of
    poziv, a call), from the second person singular and first plural it does have: the i-verbs
    (-iti, -eti: živiš, živimo → živi, živim, žive) and the a-verbs (-ati: pozivaš, pozivamo →
    poziva, pozivam, pozivaju). Only the 2nd singular shows the type: -imo and -ite are also
    the imperative of other verbs (pokažimo)."""
    if lemma.endswith(("iti", "eti")):
        vowel, endings = "i", ("i", "im", "e")
    elif lemma.endswith("ati"):
        vowel, endings = "a", ("a", "am", "aju")
    else:
        return set()
    stems = {form[:-2] for form in forms if form.endswith(vowel + "š") and form[:-2] + vowel + "mo" in forms}
    return {stem + ending for stem in stems for ending in endings} - forms


def prepare(words: Iterable[str]) -> None:
    """Read the dictionary forms of many query words in one scan per dictionary: compiling
    thousands of queries would otherwise scan once per word."""
    wanted: dict[str, set[bytes]] = {}
    for word in words:
        if not case_shape(word):
            for language, spellings in _dictionary_lookups(word):
                wanted.setdefault(language, set()).update(_lemmas(language, spellings))
    for language, lemmas in wanted.items():
        _simplemma(language).read_forms(lemmas)


def _dictionary_forms(language: str, spellings: Iterable[str]) -> set[str]:
    """Every form of the lemmas behind ``spellings``."""
    lexicon = _simplemma(language)
    lemmas = _lemmas(language, spellings)
    lexicon.read_forms(lemmas)
    found: set[str] = set()
    for lemma in lemmas:
        forms = {form.decode() for form in lexicon.forms[lemma]}
        found |= forms | (_present_tense(lemma.decode(), forms) if language == "hbs" else set())
    return found


def _english_endings(word: str) -> set[str]:
    """Regular English inflection for words the dictionary lacks: relocant → relocants, not relocation."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("y") and len(word) > 3:
        forms.add(word[:-1] + "ies")
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    else:
        forms |= {word + "ed", word + "ing"}
    return forms


def _serbian_fleeting_a(word: str) -> set[str]:
    """The genitive plural of a noun ending in two consonants inserts an a: relokant → relokanata,
    student → studenata. The stem below covers the other forms of words the dictionary lacks."""
    vowels = "aeiou"
    if len(word) >= STEM_MIN and word[-1] not in vowels and word[-2] not in vowels + "r":
        return {f"{word[:-1]}a{word[-1]}a"}
    return set()


# Regular Serbian case endings of a name by its last letter: a-nouns (Gora, Tesla, Nikola),
# o-nouns (Kosovo, Marko), adjectives (Novi), and nouns ending in a consonant (Sad, Beograd).
_NAME_ENDINGS = {
    "a": ("a", "e", "i", "u", "o", "om"),
    "o": ("o", "a", "u", "om"),
    "i": ("i", "og", "oga", "om", "ome", "im"),
}
_CONSONANT_ENDINGS = ("", "a", "u", "om", "e")
# The long forms of an adjective, which simplemma lacks for passive participles (zabranjen has
# zabranjena, zabranjeni… but not zabranjenog, zabranjenom).
_SHORT_ADJECTIVE = ("a", "e", "i", "o")
_LONG_ADJECTIVE = ("og", "oga", "om", "ome", "omu", "oj", "u", "im", "ima", "ih")


def name_forms(word: str) -> tuple[str, ...]:
    """The caseless keys of a name's regular Serbian case forms, in both scripts.

    A name in a phrase ("Crna Gora", "Nikola Tesla", "Novi Sad") must be found in every case, and
    the dictionary misses some: it lacks Tesle, and gives forms that are also other words to
    those words only (gora to zao, "bad"; Sada to sada, "now"). Regular endings fill in; the
    other words of the phrase keep them from matching on their own.
    """
    latin = serbian_latin(word)
    if latin[-1:] in _NAME_ENDINGS:
        forms = [latin[:-1] + ending for ending in _NAME_ENDINGS[latin[-1]]]
    elif latin[-1:].isalpha() and latin[-1] not in "eu":
        forms = [latin + ending for ending in _CONSONANT_ENDINGS]
    else:
        return ()
    return tuple(dict.fromkeys(fold_serbian(form) for form in forms))


def _long_adjective(latin: str, serbian: set[str]) -> set[str]:
    """An adjective's long forms, when the dictionary has only its short ones (zabranjen,
    zabranjena, zabranjeno…): news writes "zabranjenog ulaska" as often."""
    known = {serbian_latin(form) for form in serbian}
    if latin[-1:] in "aeiou" or not all(latin + ending in known for ending in _SHORT_ADJECTIVE):
        return set()
    return {latin + ending for ending in _LONG_ADJECTIVE}


def _russian_forms(word: str) -> set[str]:
    """The lexeme of the word's likeliest reading, without imperatives: news rarely uses them,
    and they collide with common words (выслать's "вышли" reads as "went out")."""
    parses = _morph().parse(word.lower())
    return {form.word for form in parses[0].lexeme if "impr" not in form.tag} if parses else set()


def literal(word: str) -> tuple[tuple[str, int], ...]:
    """The keys of ``word`` as written, uninflected: for prefixes and =exact terms."""
    return _literal(word, word_languages(word))


@cache
def expand(word: str) -> Forms:
    """The keys ``word`` matches, tagged with the languages in which each is a form of it."""
    languages = word_languages(word)
    literal = _literal(word, languages)
    if case_shape(word):
        return Forms(literal)
    exact: dict[str, int] = dict(literal)
    prefixes: list[tuple[str, int, int]] = []

    def add(forms: Iterable[str], language: int, fold: Any = fold_serbian) -> None:
        for form in forms:
            key = fold(form)
            exact[key] = exact.get(key, 0) | language

    dictionary = {
        language: _dictionary_forms(language, spellings) for language, spellings in _dictionary_lookups(word)
    }
    serbian = dictionary.get("hbs", set())
    if languages & EN:
        english = dictionary["en"]
        if not english and not serbian and not has_serbian_latin(word):
            english = _english_endings(word.lower())
        add(english, EN)
    if languages & SR:
        # simplemma's Serbian lacks many forms (proterivanja, dijaspore): a guarded stem fills in
        latin = serbian_latin(word)
        stem = _stemmer("serbian").stemWord(latin) if len(latin) >= STEM_MIN else ""
        add(serbian or _serbian_fleeting_a(stem if len(stem) >= STEM_MIN else latin), SR)
        add(_long_adjective(latin, serbian), SR)
        if len(stem) >= STEM_MIN:
            prefixes.append((fold_serbian(stem), SR, len(stem) + STEM_EXTRA))
    if languages & RU:
        add(_russian_forms(word), RU, fold_russian)
    return Forms(tuple(exact.items()), tuple(prefixes))


def _literal(word: str, languages: int) -> tuple[tuple[str, int], ...]:
    """The word as written matches in every language: Russian Cyrillic by its Russian key,
    Latin and Serbian Cyrillic by their Latin key, and a word that may be either by both."""
    if languages == RU:
        return ((fold_russian(word), ANY),)
    if languages & RU:
        return ((fold_serbian(word), ANY & ~RU), (fold_russian(word), RU))
    return ((fold_serbian(word), ANY),)
