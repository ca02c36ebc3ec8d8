"""Which word of a query the matcher looks for first: the rarest, by wordfreq's lists (shipped)."""

from __future__ import annotations

import pytest

from monitor.match.frequency import UNLISTED, frequencies
from monitor.match.plan import required_parts, terms_of, triggers
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


# What the matcher computed when it read wordfreq 3.1.1's own files, before the lists were
# shipped with monitor: the shipped lists must give the same floats, to the last bit.
WORDFREQ_3_1_1 = [
    ("the", False, 0.05370317963702527),
    ("elections", False, 4.5708818961487516e-05),
    ("relegated", False, 2.951209226666384e-06),
    ("measles", False, 2.1379620895022326e-06),
    ("relocant", False, 1.25e-07),
    ("BIA", False, 3.333333333333333e-07),
    ("Serbia", False, 5.128613839913648e-06),
    ("Europe", False, 0.00010964781961431851),
    ("elect", True, 0.0004510382332724067),
    ("relocat", True, 1.0684742178666392e-05),
    ("migra", True, 3.99156463305267e-05),
    ("zzqxv", False, 2e-07),
    ("e", True, 0.02101065832008919),
    ("Srbija", False, 0.0001174897554939529),
    ("Србија", False, 0.0001174897554939529),
    ("protjerivanje", False, 7.692307692307692e-08),
    ("proterivanje", False, 1.5488166189124828e-06),
    ("Vučić", False, 4.466835921509635e-06),
    ("Вучић", False, 4.466835921509635e-06),
    ("izbačen", False, 5.888436553555884e-06),
    ("dijaspora", False, 1.8197008586099826e-06),
    ("relokant", True, 1.25e-07),
    ("srb", True, 0.0010502992159815096),
    ("Bezbednosno-informativna", False, 4.166666666666666e-08),
    ("президента", False, 0.0001230268770812381),
    ("высылка", False, 1.4285714285714285e-07),
    ("релокант", True, 1.25e-07),
    ("Сербия", False, 6.025595860743581e-06),
    ("ёлка", False, 1.0232929922807537e-06),
    ("елка", False, 2.5703957827688647e-06),
    ("выс", True, 0.0013714256750168804),
    ("щзщзщ", False, 2e-07),
    ("2024", False, 2.5e-07),
    ("covid", False, 7.244359600749906e-06),
    ("Đoković", False, 6.606934480075964e-06),
    ("džem", False, 2.3442288153199226e-06),
    ("љубав", False, 0.00017782794100389227),
    ("на", False, 0.01778279410038923),
]


def test_the_shipped_lists_weigh_words_as_wordfreq_did() -> None:
    words = [Word(text, prefix=prefix) for text, prefix, _ in WORDFREQ_3_1_1]
    shares = frequencies(words)
    assert [(w.text, w.prefix, shares[w]) for w in words] == WORDFREQ_3_1_1


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
    shares = frequencies({word for term in terms_of(tree) for word in term.words})
    terms: list[Term] = triggers(tree, required_parts(tree, shares.__getitem__), shares.__getitem__)
    assert [term.text for term in terms] == trigger
