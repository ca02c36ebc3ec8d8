"""Watchlist matching behind one small interface: ``Matcher(queries).match(item)``.

The query language for now: a query is one or more terms, all of which must occur in the
item's title or summary. A term is a word (whole word), a ``word*`` prefix, or a
``"quoted phrase"`` (its words adjacent and in order). Matching is case-insensitive and
Unicode-aware, so Cyrillic works and ``BIA`` never matches inside "Serbia".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.models import Field, Item, Match, Span

_TOKEN = re.compile(r'"([^"]*)("?)|(\S+)')
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query that cannot be compiled; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True)
class Term:
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]


def _term(text: str, words: list[str], prefix: bool) -> Term:
    body = r"\W+".join(re.escape(word) for word in words)
    tail = r"\w*" if prefix else r"(?!\w)"
    return Term(text, re.compile(rf"(?<!\w){body}{tail}", re.IGNORECASE))


def compile_query(text: str) -> Query:
    """Compile one query; raises QueryError naming the column of the problem."""
    terms = []
    for token in _TOKEN.finditer(unicodedata.normalize("NFC", text)):
        column = token.start() + 1
        phrase, closed, word = token.groups()
        if word is not None:
            prefix = word.endswith("*")
            words = _WORD.findall(word)
            if not words:
                raise QueryError(f"{word!r} has no letters or digits to match", column)
            if word in ("AND", "OR", "NOT") or word.startswith("-") or set("()") & set(word):
                raise QueryError(
                    f"{word!r}: operators and parentheses are not supported yet; all terms of a "
                    "query must occur (AND), and a watchlist's separate queries act as OR",
                    column,
                )
            if "*" in word.rstrip("*") or word.endswith("**"):
                raise QueryError(f"{word!r}: '*' may only end a word, as in relokant*", column)
        else:
            if not closed:
                raise QueryError("unbalanced quote: close the phrase with '\"'", column)
            words, prefix = _WORD.findall(phrase), False
            if not words:
                raise QueryError("empty phrase: put words between the quotes", column)
        terms.append(_term(token.group(), words, prefix))
    if not terms:
        raise QueryError("empty query: write at least one word", 1)
    return Query(text, tuple(terms))


class Matcher:
    """The compiled queries of one watchlist."""

    def __init__(self, queries: Sequence[str]) -> None:
        self.queries = tuple(compile_query(query) for query in queries)

    def match(self, item: Item) -> list[Match]:
        """Every query that matches the item, with each matched term's spans."""
        fields: tuple[tuple[Field, str], ...] = (("title", item.title), ("summary", item.summary))
        found = []
        for query in self.queries:
            spans: list[Span] = []
            for term in query.terms:
                term_spans = [
                    Span(field, hit.start(), hit.end(), hit.group())
                    for field, text in fields
                    for hit in term.pattern.finditer(text)
                ]
                if not term_spans:
                    break
                spans.extend(term_spans)
            else:
                terms = tuple(term.text for term in query.terms)
                found.append(Match(query.text, terms, tuple(spans)))
        return found
