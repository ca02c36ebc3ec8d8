"""Which word of a query the matcher looks for first: the rarest, by wordfreq's lists."""

from __future__ import annotations

import pytest

from monitor.match.engine import _required, _terms, _triggers
from monitor.match.frequency import UNLISTED, frequencies
from monitor.match.query import Term, Word, parse_query


def frequency(word: Word) -> float:
    return frequencies([word])[word]


@pytest.mark.parametrize(
    ("common", "rare"),
    [
        ("elections", "relegated"),  # longer, yet commoner
        ("Srbija", "protjerivanje"),
        ("Србија", "протеривање"),  # Serbian Cyrillic is looked up in Latin letters
        ("президента", "высылка"),
        ("BIA", "Bezbednosno-informativna"),  # unlisted words: the longer, the rarer
    ],
)
def test_a_rare_word_is_less_frequent_than_a_common_one(common: str, rare: str) -> None:
    assert frequency(Word(common)) > frequency(Word(rare))


def test_serbian_cyrillic_and_latin_have_one_frequency() -> None:
    assert frequency(Word("Србија")) == frequency(Word("Srbija")) > UNLISTED


def test_a_prefix_is_as_common_as_all_the_words_it_begins() -> None:
    assert frequency(Word("elect", prefix=True)) > frequency(Word("elections")) > frequency(Word("elect"))


def test_many_words_are_weighed_at_once_as_one_by_one() -> None:
    words = [Word("migra", prefix=True), Word("Srbija"), Word("высылка"), Word("BIA"), Word("Србија")]
    assert frequencies(words) == {word: frequency(word) for word in words}


@pytest.mark.parametrize(
    ("query", "trigger"),
    [
        ("elections AND relegated", ["relegated"]),
        ("relegated elections", ["relegated"]),
        ('"the relegated side" AND Europe', ['"the relegated side"']),
        ("(Srbija OR Hrvatska) AND protjerivanje", ["protjerivanje"]),
        ("Srbija AND (BIA OR VBA)", ["BIA", "VBA"]),
        ("Europe NEAR/5 relegated", ["relegated"]),
    ],
)
def test_a_query_is_evaluated_where_its_rarest_required_part_is(query: str, trigger: list[str]) -> None:
    tree = parse_query(query)
    shares = frequencies({word for term in _terms(tree) for word in term.words})
    terms: list[Term] = _triggers(tree, _required(tree, shares.__getitem__), shares.__getitem__)
    assert [term.text for term in terms] == trigger
