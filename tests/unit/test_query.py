"""The query language: what users write in a watchlist, what it finds, and the errors it gets."""

from __future__ import annotations

import pytest

from monitor.match import Matcher, QueryError, parse_query
from tests.support.matching import finds, spans


def found_spans(query: str, title: str, summary: str = "", language: str | None = None) -> list[tuple]:
    return [(span.field, span.text) for span in spans(query, title, summary, language)]


# --- boolean operators ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("BIA AND relokanti", "BIA prati relokante u Novom Sadu", True),
        ("BIA AND relokanti", "BIA saslušala novinara", False),
        ("BIA relokanti", "BIA prati relokante u Novom Sadu", True),  # juxtaposition means AND
        ("BIA relokanti", "Relokanti osnivaju firme u Beogradu", False),
        ("BIA OR MUP", "MUP zabranio skup ruske opozicije", True),
        ("BIA OR MUP", "BIA pozvala aktivistu na informativni razgovor", True),
        ("BIA OR MUP", "Vlada usvojila budžet za 2026. godinu", False),
        ("BIA NOT MUP", "BIA pozvala aktivistu na razgovor", True),
        ("BIA NOT MUP", "BIA i MUP zajedno na terenu", False),
        ("BIA -MUP", "BIA pozvala aktivistu na razgovor", True),
        ("BIA -MUP", "BIA i MUP zajedno na terenu", False),
        ("BIA AND -MUP", "BIA i MUP zajedno na terenu", False),
        ("BIA NOT (MUP OR policija)", "BIA i policija na granici", False),
        ("BIA NOT (MUP AND policija)", "BIA i policija na granici", True),
        # AND binds tighter than OR
        ("BIA OR MUP relokanti", "BIA pozvala aktivistu", True),
        ("BIA OR MUP relokanti", "MUP zabranio skup", False),
        ("BIA OR MUP relokanti", "MUP privodi relokante", True),
        ("(BIA OR MUP) relokanti", "BIA pozvala aktivistu", False),
        ("(BIA OR MUP) relokanti", "MUP privodi relokante", True),
        ("((BIA OR MUP) AND (relokanti OR aktivisti))", "BIA saslušala aktiviste", True),
    ],
)
def test_boolean_operators_and_parentheses(query, title, expected):
    assert finds(query, title) is expected


def test_not_looks_at_the_whole_item_title_and_summary():
    assert not finds("BIA -MUP", "BIA pozvala aktivistu na razgovor", "Saopštenje MUP-a stiglo je kasnije.")


def test_and_inside_a_phrase_is_a_word_not_an_operator():
    assert finds('"War and Peace"', "Tolstoy's War and Peace returns to the Belgrade stage")
    assert not finds('"War and Peace"', "Peace talks fail as war goes on")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Russian anti-war activist expelled", True),
        ("Russian anti war activist expelled", True),
        ("Activist expelled over war comments", False),
    ],
)
def test_hyphenated_query_word_is_a_phrase_not_a_negation(title, expected):
    assert finds("anti-war", title) is expected


# --- phrases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "summary", "expected"),
    [
        ('"ruska dijaspora"', "Ruska dijaspora u Beogradu protestuje", "", True),
        ('"ruska dijaspora"', "Skup ruske dijaspore u Beogradu", "", True),
        ('"ruska dijaspora"', "Dijaspora ruska?", "", False),  # in order
        ('"ruska dijaspora"', "Ruska i srpska dijaspora", "", False),  # adjacent
        ('"ruska dijaspora"', "Vesti: ruska", "dijaspora se okuplja", False),  # not across fields
        ('"Russian diaspora"', "Russian diaspora in Serbia grows", "", True),
        ('"Russian diaspora"', "The diaspora, Russian and Ukrainian", "", False),
    ],
)
def test_phrase_needs_its_words_adjacent_and_in_order(query, title, summary, expected):
    assert finds(query, title, summary) is expected


# --- proximity ------------------------------------------------------------------------------


def _between(count: int) -> str:
    return " ".join(["reči"] * count)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Russian diaspora in Serbia keeps growing", True),
        ("Serbia is home to a growing Russian diaspora", True),  # either order
        (f"Russian diaspora {_between(10)} Serbia", True),  # ten words between: within
        (f"Serbia {_between(10)} Russian diaspora", True),
        (f"Russian diaspora {_between(11)} Serbia", False),  # eleven: beyond
        (f"Serbia {_between(11)} Russian diaspora", False),
        ("Russian diaspora grows", False),
    ],
)
def test_near_finds_both_sides_within_the_distance_in_either_order(title, expected):
    assert finds('"Russian diaspora" NEAR/10 Serbia', title) is expected


def test_near_does_not_join_a_title_and_a_summary():
    assert not finds('"Russian diaspora" NEAR/10 Serbia', "Russian diaspora", "Serbia")


def test_near_accepts_an_or_group_on_either_side():
    query = '(relokanti OR dijaspora) NEAR/3 (Beograd OR "Novi Sad")'
    assert finds(query, "Relokanti otvaraju kafiće u Beogradu")
    assert not finds(query, "Relokanti otvaraju kafiće, restorane i pekare širom Beograda")


def test_near_records_only_the_places_that_are_near_each_other():
    title = f"Serbia {_between(15)} Russian diaspora meets in Serbia"
    assert found_spans('"Russian diaspora" NEAR/10 Serbia', title) == [
        ("title", "Russian diaspora"),
        ("title", "Serbia"),
    ]


# --- prefixes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("relokan*", "Relokanti otvaraju IT firme", True),
        ("relokan*", "Broj relokanata raste", True),
        ("relokan*", "Релоканти у Београду", True),  # Serbian Cyrillic is the same text
        ("relokan*", "Relokacija kancelarija u Beograd", False),
        ("relokan*", "Relokan", True),
        ("relokan*", "Релоканты в Белграде", False),  # Russian is not transliterated
        ("релокан*", "Число релокантов в Сербии выросло", True),
        ("Expel*", "Serbia expelled a Russian activist", True),
        ("pas*", "Passport rules tightened for Russians", True),
    ],
)
def test_prefix_matches_words_starting_with_it(query, title, expected):
    assert finds(query, title) is expected


@pytest.mark.parametrize("language", ["en", None])
def test_prefix_is_not_inflected_into_a_shorter_prefix(language):
    assert not finds("pas*", "Parliament debates new visa rules", language=language)


# --- fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "summary", "expected"),
    [
        ("title:(BIA OR MUP)", "MUP zabranio skup", "", True),
        ("title:(BIA OR MUP)", "Zabranjen skup", "Odluku je doneo MUP.", False),
        ("title:BIA", "Zabranjen skup", "BIA je upozorila organizatore.", False),
        ('title:"ruska dijaspora"', "Ruska dijaspora u Novom Sadu", "", True),
        ('title:"ruska dijaspora"', "Skup u Novom Sadu", "Ruska dijaspora se okupila.", False),
        ("title:BIA relokanti", "BIA na meti", "Relokanti tvrde da su praćeni.", True),
        ("title:(BIA relokanti)", "BIA na meti", "Relokanti tvrde da su praćeni.", False),
    ],
)
def test_title_field_restricts_its_terms_to_the_title(query, title, summary, expected):
    assert finds(query, title, summary) is expected


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("BIA: direktor podneo ostavku", "", True),
        ("Direktor podneo ostavku", "BIA je potvrdila vest.", False),
    ],
)
def test_title_field_can_be_a_near_operand(title, summary, expected):
    assert finds("title:(BIA) NEAR/5 direktor", title, summary) is expected


def test_title_field_reports_only_title_spans():
    assert found_spans("title:BIA", "BIA na meti", "BIA je upozorila organizatore.") == [("title", "BIA")]


# --- exact forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("=BIA", "BIA saslušala aktivistu", True),
        ("=BIA", "Bia Ferreira na Exitu", False),
        ("=Srbija", "Srbija uvodi nova pravila", True),
        ("=Srbija", "Rusi u Srbiji", False),  # no inflection
        ("=Srbija", "SRBIJA UVODI NOVA PRAVILA", False),  # exact case
        ("=srbija", "Srbija uvodi nova pravila", False),
        ('="ruska dijaspora"', "Kako živi ruska dijaspora", True),
        ('="ruska dijaspora"', "Skup ruske dijaspore", False),
        ('="ruska dijaspora"', "Ruska dijaspora na ulicama", False),
        ("=relocants", "Relocants say Serbia is home", False),
        ("=relocants", "Why relocants stay", True),
        ("=relocants", "A relocant's story", False),
        ("=BIA", "Direktor BIA-e podneo ostavku", True),  # split at the hyphen
        ("=BIA", "БИА саслушала активисту", False),  # as written: docs/matching.md
        ('="Rusi u Srbiji"', "Rusi u Srbiji traže boravak", True),
        ('="Rusi u Srbiji"', "Sve više Rusa u Srbiji", False),
    ],
)
def test_exact_term_matches_only_the_form_and_case_written(query, title, expected):
    assert finds(query, title) is expected


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("BIA AND (Serbia", 9, "unbalanced parenthesis"),
        ("(BIA OR MUP", 1, "unbalanced parenthesis"),
        ("BIA OR MUP)", 11, "unbalanced parenthesis"),
        ("BIA ((MUP)", 5, "unbalanced parenthesis"),
        ('BIA "ruska dijaspora', 5, "unbalanced quote"),
        ('"BIA" "', 7, "unbalanced quote"),
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ('""', 1, "empty phrase"),
        ('BIA OR "  "', 8, "empty phrase"),
        ("BIA NEAR Srbija", 5, "NEAR/n"),
        ("BIA NEAR/ Srbija", 5, "NEAR/n"),
        ("BIA NEAR/0 Srbija", 5, "NEAR/n"),
        ("BIA NEAR/x Srbija", 5, "NEAR/n"),
        ("(BIA AND MUP) NEAR/5 relokanti", 15, "NEAR"),
        ("relokanti NEAR/5 (BIA MUP)", 11, "NEAR"),
        ("NOT BIA", 1, "not negated"),
        ("-BIA", 1, "not negated"),
        ("-BIA -MUP", 1, "not negated"),
        ("NOT (BIA OR MUP)", 1, "not negated"),
        ("a*b", 1, "'*' may only end a word"),
        ("relo*kant", 1, "'*' may only end a word"),
        ("ab*", 1, "at least 3 letters"),
        ("BIA OR ru*", 8, "at least 3 letters"),
        ("BIA AND", 8, "missing at the end"),
        ("BIA OR", 7, "missing at the end"),
        ("BIA NOT", 8, "missing at the end"),
        ("BIA NEAR/5", 11, "missing at the end"),
        ("title:", 7, "missing at the end"),
        ("BIA AND OR MUP", 9, "needs a word"),
        ("AND BIA", 1, "needs a word"),
    ],
)
def test_bad_query_names_the_problem_and_its_column(query, column, message):
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.column == column
    assert str(caught.value).startswith(f"column {column}: ")
    assert message in str(caught.value)


def test_query_error_is_a_value_error():
    with pytest.raises(ValueError, match=r"^column 9: .*unbalanced parenthesis"):
        parse_query("BIA AND (Serbia")


def test_matcher_rejects_a_bad_query_when_compiled():
    with pytest.raises(QueryError):
        Matcher({"bezbednost": ["BIA", "BIA AND"]})


@pytest.mark.parametrize(
    "query",
    [
        "BIA",
        "BIA AND relokanti",
        "BIA relokanti",
        "BIA OR MUP",
        "BIA NOT MUP",
        "BIA -MUP",
        "(BIA OR MUP) AND (relokanti OR aktivisti)",
        '"ruska dijaspora"',
        '"Russian diaspora" NEAR/10 Serbia',
        "(relokanti OR dijaspora) NEAR/3 Beograd",
        "relokan*",
        "abc*",
        "title:(BIA OR MUP)",
        "title:BIA",
        "=BIA",
        '="ruska dijaspora"',
        "высылка OR выслать",
        "протеривање -Хрватска",
        "NOT NOT BIA",
    ],
)
def test_well_formed_query_parses(query):
    parse_query(query)
