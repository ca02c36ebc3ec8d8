"""What the search index holds of an item, and the condition a query puts on it: tables."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from monitor.match import Matcher
from monitor.match.document import Document
from monitor.match.engine import Pattern
from monitor.match.index import MAX_KEY, AllOf, AnyOf, Key, condition, index_keys
from monitor.match.query import Word
from monitor.match.text import ANY
from monitor.store.search import fts5_query, tsquery


def written(word: Word) -> Iterable[Pattern]:
    """A stand-in for the dictionaries: a word's key is itself, and "relokant" has two forms and
    a stem; a word with a 7 has a form NFKC made with ASCII punctuation."""
    key = word.text.lower()
    if word.text == "relokant" and not word.prefix:
        forms = ("relokant", "relokanti", "relocant")
        return [*(Pattern(form, False, ANY) for form in forms), Pattern("relok", True, ANY, 9)]
    if "7" in key:
        return [Pattern(key, False, ANY), Pattern("(7)", False, ANY)]
    return [Pattern(key, word.prefix, ANY)]


@pytest.mark.parametrize(
    ("query", "fts5", "tsq"),
    [
        ("bia", '"bia"', "'bia'"),
        ("relokan*", '"relokan"*', "'relokan':*"),
        # a form that starts with a prefix of the same word adds nothing
        ("relokant", '("relocant" OR "relok"*)', "('relocant' | 'relok':*)"),
        ("bia srbija", '("bia" AND "srbija")', "('bia' & 'srbija')"),
        ("bia OR mup", '("bia" OR "mup")', "('bia' | 'mup')"),
        ('"crna gora"', '("crna" AND "gora")', "('crna' & 'gora')"),  # a phrase: its words
        ("bia NEAR/5 (mup OR vojska)", '("bia" AND ("mup" OR "vojska"))', "('bia' & ('mup' | 'vojska'))"),
        ("bia -sport", '"bia"', "'bia'"),  # NOT: the matcher turns those down
        ("bia NOT (sport OR fudbal)", '"bia"', "'bia'"),
        ("title:(bia OR mup) srbija", '(("bia" OR "mup") AND "srbija")', "(('bia' | 'mup') & 'srbija')"),
        ("x7 bia", '"bia"', "'bia'"),  # a key the index splits: the word is left to the matcher
        ("o'brien", '("o" AND "brien")', "('o' & 'brien')"),
    ],
)
def test_a_query_becomes_a_condition_every_match_meets(query, fts5, tsq):
    found = condition([query], written)

    assert found is not None
    assert fts5_query(found) == fts5
    assert tsquery(found) == tsq


@pytest.mark.parametrize(
    "queries",
    [["-sport OR bia"], ["bia", "NOT sport OR mup"], ["x7"], ["x7 NEAR/3 y7"]],
)
def test_a_query_that_absences_can_satisfy_puts_no_condition(queries):
    assert condition(queries, written) is None


def test_queries_together_are_any_of_their_conditions():
    assert condition(["bia mup", "relokan*"], written) == AnyOf(
        (AllOf((Key("bia"), Key("mup"))), Key("relokan", prefix=True))
    )


def test_a_key_longer_than_the_index_keeps_is_found_by_its_start():
    long = "a" * (MAX_KEY + 5)

    assert condition([long], written) == Key("a" * MAX_KEY, prefix=True)
    assert index_keys(Document(f"{long} b", "", None)) == ["a" * MAX_KEY, "b"]


def test_quotes_in_a_key_are_escaped_for_postgresql():
    assert tsquery(Key("it's\\")) == "'it''s\\\\'"


@pytest.mark.parametrize(
    ("title", "language", "keys"),
    [
        ("BIA-e o Vučiću", "sr", ["bia", "e", "o", "vucicu"]),
        ("Ђоковић у Београду", "sr", ["djokovic", "u", "beogradu"]),
        ("Ёлки и релоканты", "ru", ["елки", "и", "релоканты"]),
        # Cyrillic with no letter or word to tell Serbian from Russian: keyed both ways,
        # whatever the hint, so the matcher's keys under any hint are among them
        ("Путин о Косову", "sr", ["putin", "o", "kosovu", "путин", "о", "косову"]),
        ("Путин о Косову", "ru", ["putin", "o", "kosovu", "путин", "о", "косову"]),
        ("ＢＩＡ proterivanje", None, ["bia", "proterivanje"]),
    ],
)
def test_an_items_keys_are_its_words_as_the_matcher_keys_them_under_any_hint(title, language, keys):
    assert index_keys(Document(title, "", language)) == keys


def test_the_matchers_own_patterns_make_the_condition():
    matcher = Matcher({"w": ["высылка", "BIA"]})

    found = condition(["высылка"], matcher.patterns_of)

    assert isinstance(found, AnyOf)
    assert {Key("высылка"), Key("высылки"), Key("высылок")} <= set(found.children)
    assert condition(["BIA"], matcher.patterns_of) == Key("bia")
