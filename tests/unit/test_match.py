"""Matcher(queries).match(item): whole words, prefixes, phrases, AND; spans that point at the text."""

# Cyrillic letters that look Latin are the point of these tests.
# ruff: noqa: RUF001

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from monitor.match import Matcher, QueryError, compile_query
from monitor.models import Item, Match


def item(title: str = "", summary: str = "") -> Item:
    return Item(
        feed="N1 Srbija",
        id="https://n1info.rs/?p=1",
        title=title,
        summary=summary,
        link="https://n1info.rs/vesti/1/",
        published=datetime(2026, 3, 29, 9, 0, tzinfo=UTC),
    )


def matches(query: str, title: str, summary: str = "") -> list[Match]:
    return Matcher([query]).match(item(title, summary))


def matched_texts(query: str, title: str, summary: str = "") -> list[str]:
    return [span.text for match in matches(query, title, summary) for span in match.spans]


# --- whole words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Serbia and Russia sign a deal",
        "Colombia elects a president",
        "Media bias in the campaign",
        "BIAS is a word too",
        "Lokalni BIA_2026 hashtag",
        "Kod BIA2 nije agencija",
    ],
)
def test_bia_does_not_match_inside_other_words(title):
    assert matches("BIA", title) == []


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("BIA saslušala aktivistu", "BIA"),
        ("Direktor BIA-e podneo ostavku", "BIA"),
        ("Bezbednosno-informativna agencija (BIA) saopštila", "BIA"),
        ("Agencija, BIA.", "BIA"),
        ("bia je pozvala", "bia"),
        ("Bia je pozvala", "Bia"),
    ],
)
def test_bia_matches_as_a_whole_word(title, expected):
    assert matched_texts("BIA", title) == [expected]


def test_lower_case_query_matches_upper_case_text():
    assert matched_texts("bia", "Saopštenje BIA") == ["BIA"]


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("БИА", "Директор БИА", "БИА"),
        ("БИА", "директор бИа", "бИа"),
        ("релоканты", "Релоканты в Белграде", "Релоканты"),
        ("Релоканты", "о нас, релоканты", "релоканты"),
        ("РЕЛОКАНТЫ", "релоканты", "релоканты"),
        ("србији", "Руси у СРБИЈИ", "СРБИЈИ"),
    ],
)
def test_cyrillic_terms_match_cyrillic_text_in_any_case(query, title, expected):
    assert matched_texts(query, title) == [expected]


def test_cyrillic_term_does_not_match_inside_a_longer_word():
    assert matches("БИА", "БИАТЛОН у Сочију") == []


def test_word_term_is_an_exact_form_not_a_prefix():
    assert matches("relokant", "relokanti u Srbiji") == []


# --- prefixes -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["relokant", "relokanti", "relokante", "Relokantima", "RELOKANTSKI"])
def test_prefix_matches_words_that_start_with_it(word):
    assert matched_texts("relokant*", f"Vest o {word} danas") == [word]


def test_relokan_prefix_matches_the_genitive_plural_relokanata_as_the_docs_say():
    assert matched_texts("relokan*", "Broj relokanata raste, relokant ostaje") == ["relokanata", "relokant"]


@pytest.mark.parametrize("title", ["relokacija firmi", "prerelokanti", "relokan"])
def test_prefix_does_not_match_other_words(title):
    assert matches("relokant*", title) == []


def test_cyrillic_prefix_matches_inflected_forms():
    assert matched_texts("релокант*", "Релокантов стало больше, релоканты уезжают") == [
        "Релокантов",
        "релоканты",
    ]


# --- phrases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "He was declared a security risk",
        "A Security Risk, the agency said",
        "security  risk",
        "a security-risk finding",
    ],
)
def test_phrase_matches_adjacent_words_in_order(title):
    assert matches('"security risk"', title) != []


@pytest.mark.parametrize(
    "title",
    [
        "risk to security",
        "security is a risk",
        "security risks",
        "cybersecurity risk",
    ],
)
def test_phrase_does_not_match_apart_reordered_or_inflected(title):
    assert matches('"security risk"', title) == []


def test_cyrillic_phrase():
    assert matched_texts('"Руси у Србији"', "Колико има Руси у Србији?") == ["Руси у Србији"]


# --- AND and OR -----------------------------------------------------------------------------


def test_query_with_two_terms_needs_both():
    assert matches("proter* Srbij*", "Proteran ruski aktivista") == []
    assert matches("proter* Srbij*", "Vesti iz Srbije") == []


def test_query_terms_may_be_found_in_title_and_summary():
    found = matches("proter* Srbij*", "Proteran ruski aktivista", "Odluka BIA u Srbiji")

    assert len(found) == 1
    assert found[0].query == "proter* Srbij*"
    assert found[0].terms == ("proter*", "Srbij*")
    assert {(span.field, span.text) for span in found[0].spans} == {
        ("title", "Proteran"),
        ("summary", "Srbiji"),
    }


def test_each_query_of_a_watchlist_is_reported_separately():
    matcher = Matcher(["BIA", "relokant*", "deport*"])

    found = matcher.match(item("BIA i relokanti", "relokantima je sve teže"))

    assert [match.query for match in found] == ["BIA", "relokant*"]
    assert [span.text for span in found[1].spans] == ["relokanti", "relokantima"]


def test_matcher_without_matching_query_gives_empty_list():
    assert Matcher(["BIA", '"security risk"']).match(item("Vremenska prognoza", "Sunčano")) == []


def test_every_occurrence_gets_a_span():
    assert matched_texts("BIA", "BIA, BIA", "i opet BIA") == ["BIA", "BIA", "BIA"]


# --- spans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "summary"),
    [
        ("BIA", "Direktor BIA-e (BIA) podneo ostavku", "Saopštenje BIA, a ne Serbia"),
        ("релокант*", "Релоканты и БИА", "Многие релоканты уехали"),
        ('"security risk" Serbia', "Serbia: a security risk?", "Serbia said security  risk"),
        ("relokant*", "Re\u0161enje za relokante", "relokanti \u2014 relokantima"),
    ],
)
def test_span_offsets_point_at_the_matched_text(query, title, summary):
    fields = {"title": title, "summary": summary}

    spans = [span for match in matches(query, title, summary) for span in match.spans]

    assert spans
    for span in spans:
        assert fields[span.field][span.start : span.end] == span.text


def test_span_offsets_are_exact():
    [match] = matches("BIA", "Direktor BIA-e", "i (BIA)")

    assert [(s.field, s.start, s.end) for s in match.spans] == [("title", 9, 12), ("summary", 3, 6)]


def test_phrase_span_covers_the_whole_phrase():
    [match] = matches('"Russian diaspora"', "The Russian  diaspora in Belgrade")

    [span] = match.spans
    assert (span.start, span.end, span.text) == (4, 21, "Russian  diaspora")


def test_query_in_decomposed_unicode_matches_composed_text():
    query = unicodedata.normalize("NFD", "društv*")  # s + U+030C

    assert matched_texts(query, "Rusko demokratsko društvo u Beogradu") == ["društvo"]


# --- query errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "column", "says"),
    [
        ('"entry ban', 1, "unbalanced quote"),
        ('Serbia "entry ban', 8, "unbalanced quote"),
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ('""', 1, "empty phrase"),
        ('" "', 1, "empty phrase"),
        ("BIA AND Serbia", 5, "not supported"),
        ("BIA OR БИА", 5, "not supported"),
        ("NOT BIA", 1, "not supported"),
        ("(BIA)", 1, "not supported"),
        ("BIA (Serbia", 5, "not supported"),
        ("-Serbia BIA", 1, "not supported"),
        ("a*b", 1, "may only end a word"),
        ("Serbia *bia", 8, "may only end a word"),
        ("relokant**", 1, "may only end a word"),
        ("*", 1, "no letters or digits"),
        ("BIA ---", 5, "no letters or digits"),
    ],
)
def test_bad_query_raises_query_error_with_column(query, column, says):
    with pytest.raises(QueryError) as caught:
        compile_query(query)

    assert caught.value.column == column
    assert f"column {column}" in str(caught.value)
    assert says in str(caught.value)


def test_query_error_is_a_value_error():
    assert issubclass(QueryError, ValueError)


def test_matcher_rejects_a_bad_query():
    with pytest.raises(QueryError):
        Matcher(["BIA", '"unclosed'])


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("BIA", ("BIA",)),
        ("proter* Srbij*", ("proter*", "Srbij*")),
        ('"entry ban" Serbia', ('"entry ban"', "Serbia")),
        ("Bezbednosno-informativn*", ("Bezbednosno-informativn*",)),
        ("and or not", ("and", "or", "not")),
    ],
)
def test_compile_query_splits_terms(query, terms):
    compiled = compile_query(query)

    assert compiled.text == query
    assert tuple(term.text for term in compiled.terms) == terms


def test_lower_case_operator_words_are_ordinary_words():
    assert matched_texts("rock and roll", "Rock and roll in Belgrade") == ["Rock", "and", "roll"]


def test_hyphenated_term_matches_with_or_without_the_hyphen():
    assert matched_texts("Bezbednosno-informativn*", "Bezbednosno informativna agencija") == [
        "Bezbednosno informativna"
    ]
    assert matched_texts("anti-war", "An anti-war rally") == ["anti-war"]
