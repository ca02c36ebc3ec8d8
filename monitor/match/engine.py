"""The compiled matcher: every watchlist's queries in one index, one pass over an item's words.

Compile: each query word is expanded into caseless keys (its forms, per language), which become
the patterns of one Aho-Corasick automaton: " key " for a form, " prefix" for a prefix. Match:
the item's keys, joined by spaces, go through the automaton once, which yields the terms
present with their positions; only the queries containing a present term are evaluated, and
spans are made for those that match. The cost per item grows with its length and its matches,
not with the number of queries.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any as AnyType

import ahocorasick

from monitor.match.forms import Forms, case_shape, expand, literal
from monitor.match.query import All, Any, InTitle, Near, Node, Not, Term, parse_query, positive_terms
from monitor.match.text import guess_languages, key_functions, word_offsets, words
from monitor.models import Field, Match, Span
from monitor.text import clean

Occurrence = tuple[Field, int, int]  # field, first token, token after the last
Place = tuple[int, Occurrence]  # a term and where it occurs
_FIELDS: tuple[Field, ...] = ("title", "summary")


@dataclass(frozen=True, slots=True)
class _Entry:
    """A query word reached from an index key; ``written`` checks the token as written, if needed."""

    term: int
    word: int
    languages: int
    max_length: int = 1 << 30
    written: Callable[[str], bool] | None = None


@dataclass(frozen=True, slots=True)
class _Query:
    watchlist: str
    text: str
    tree: Node


@dataclass(frozen=True, slots=True)
class TermReport:
    """One term of a query and where it was found: the unit of ``monitor explain``."""

    text: str
    negated: bool
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    watchlist: str
    query: str
    matched: bool
    terms: tuple[TermReport, ...]


class _Document:
    """An item's fields as tokens with their keys, and the languages it may be in."""

    def __init__(self, title: str, summary: str, language: str | None) -> None:
        self.text: dict[Field, str] = {"title": clean(title), "summary": clean(summary)}
        self.languages = guess_languages(f"{self.text['title']} {self.text['summary']}", language)
        self.words: dict[Field, list[str]] = {field: words(self.text[field]) for field in _FIELDS}
        self._offsets: dict[Field, list[tuple[int, int]]] = {}
        self._spans: dict[Occurrence, Span] = {}

    def spans(self, occurrences: Iterable[Occurrence]) -> tuple[Span, ...]:
        """Character spans of token occurrences, title first, in reading order, each once."""
        return tuple(self._span(occurrence) for occurrence in sorted(set(occurrences), key=_reading_order))

    def _span(self, occurrence: Occurrence) -> Span:
        """One occurrence's span, made once per item: many queries share their words."""
        if occurrence not in self._spans:
            field, first, after = occurrence
            if field not in self._offsets:
                self._offsets[field] = word_offsets(self.text[field])
            start, end = self._offsets[field][first][0], self._offsets[field][after - 1][1]
            self._spans[occurrence] = Span(field, start, end, self.text[field][start:end])
        return self._spans[occurrence]


class Matcher:
    """Every query of every watchlist, compiled once per config load."""

    def __init__(self, watchlists: Mapping[str, Sequence[str]]) -> None:
        self._queries = [
            _Query(name, text, parse_query(text)) for name, queries in watchlists.items() for text in queries
        ]
        self._terms: list[Term] = []
        term_ids: dict[Term, int] = {}
        self._triggers: list[list[int]] = []  # term id → queries it can make match
        for number, query in enumerate(self._queries):
            for term in _terms(query.tree):
                if term not in term_ids:
                    term_ids[term] = len(self._terms)
                    self._terms.append(term)
                    self._triggers.append([])
            for term in positive_terms(query.tree):
                if number not in self._triggers[term_ids[term]]:
                    self._triggers[term_ids[term]].append(number)
        self._term_ids = term_ids
        # " key " for a word's forms, " prefix" for prefixes: the patterns of one automaton, so one
        # pass over an item's keys, joined by spaces, finds every index entry it reaches.
        self._patterns: dict[str, list[_Entry]] = defaultdict(list)
        for term_id, term in enumerate(self._terms):
            for word_number, word in enumerate(term.words):
                self._index(term_id, word_number, word.text, word.prefix, word.exact)
        self._automaton = self._build_automaton()

    def _build_automaton(self) -> AnyType:
        automaton = ahocorasick.Automaton()
        for pattern, reached in self._patterns.items():
            automaton.add_word(pattern, (len(pattern), reached))
        if self._patterns:
            automaton.make_automaton()
        return automaton

    def _index(self, term: int, word: int, text: str, prefix: bool, exact: bool) -> None:
        written = _written_check(text, exact)
        entries: dict[int, _Entry] = {}  # one entry per set of languages: a word has tens of forms

        def entry(languages: int) -> _Entry:
            if languages not in entries:
                entries[languages] = _Entry(term, word, languages, written=written)
            return entries[languages]

        if prefix:  # a prefix the user wrote is not inflected
            for key, languages in literal(text):
                self._patterns[f" {key}"].append(entry(languages))
            return
        forms = Forms(literal(text)) if exact else expand(text)
        for key, languages in forms.exact:
            self._patterns[f" {key} "].append(entry(languages))
        for key, languages, max_length in forms.prefixes:
            self._patterns[f" {key}"].append(_Entry(term, word, languages, max_length, written))

    def _find(self, document: _Document) -> dict[int, list[Occurrence]]:
        """Where each term of any query occurs in the document (phrases: all words in a row)."""
        languages = document.languages
        seen: dict[tuple[int, int], set[tuple[Field, int]]] = {}
        if len(self._automaton) == 0:
            return {}
        for field in _FIELDS:
            written_words = document.words[field]
            for keys_of in key_functions(languages):
                keys = [keys_of(word) for word in written_words]
                joined = f" {' '.join(keys)} "
                for end, (length, reached) in self._automaton.iter(joined):
                    position = joined.count(" ", 0, end - length + 1)
                    key, written = keys[position], written_words[position]
                    for entry in reached:
                        if (
                            entry.languages & languages
                            and len(key) <= entry.max_length
                            and (entry.written is None or entry.written(written))
                        ):
                            seen.setdefault((entry.term, entry.word), set()).add((field, position))
        found: dict[int, list[Occurrence]] = {}
        for (term, word), places in seen.items():
            count = len(self._terms[term].words)
            if word:
                continue
            if count > 1:
                places = {
                    (field, first)
                    for field, first in places
                    if all(
                        (field, first + offset) in seen.get((term, offset), ()) for offset in range(1, count)
                    )
                }
            if places:
                found[term] = [(field, first, first + count) for field, first in sorted(places)]
        return found

    def match(
        self, title: str, summary: str, language: str | None = None, watchlists: Iterable[str] | None = None
    ) -> dict[str, list[Match]]:
        """The queries that match, per watchlist (all, or those named), with their spans."""
        document = _Document(title, summary, language)
        found = self._find(document)
        wanted = None if watchlists is None else set(watchlists)
        candidates = sorted({query for term in found for query in self._triggers[term]})
        matches: dict[str, list[Match]] = {}
        for number in candidates:
            query = self._queries[number]
            if wanted is not None and query.watchlist not in wanted:
                continue
            places = self._evaluate(query.tree, found, None)
            if places is None:
                continue
            spans = document.spans(occurrence for _, occurrence in places)
            terms = tuple(dict.fromkeys(self._terms[term].text for term, _ in sorted(places, key=_reading)))
            matches.setdefault(query.watchlist, []).append(Match(query.text, terms, spans))
        return matches

    def explain(
        self, title: str, summary: str, language: str | None = None, watchlists: Iterable[str] | None = None
    ) -> list[Explanation]:
        """Every query of the named watchlists, whether it matched, and each term's places."""
        document = _Document(title, summary, language)
        found = self._find(document)
        wanted = None if watchlists is None else set(watchlists)
        reports = []
        for query in self._queries:
            if wanted is not None and query.watchlist not in wanted:
                continue
            positive = set(positive_terms(query.tree))
            terms = tuple(
                TermReport(
                    term.text,
                    term not in positive,
                    document.spans(found.get(self._term_ids[term], ())),
                )
                for term in dict.fromkeys(_terms(query.tree))
            )
            matched = self._evaluate(query.tree, found, None) is not None
            reports.append(Explanation(query.watchlist, query.text, matched, terms))
        return reports

    def _evaluate(
        self, node: Node, found: dict[int, list[Occurrence]], field: Field | None
    ) -> list[Place] | None:
        """The (term, occurrence) places that make ``node`` true (none for a satisfied NOT), or None."""
        if isinstance(node, Term):
            term = self._term_ids[node]
            places = [(term, o) for o in found.get(term, ()) if field is None or o[0] == field]
            return places or None
        if isinstance(node, InTitle):
            return self._evaluate(node.child, found, "title")
        if isinstance(node, Not):
            return [] if self._evaluate(node.child, found, field) is None else None
        if isinstance(node, All):
            collected: list[Place] = []
            for child in node.children:
                result = self._evaluate(child, found, field)
                if result is None:
                    return None
                collected += result
            return collected
        if isinstance(node, Any):
            results = [r for child in node.children if (r := self._evaluate(child, found, field)) is not None]
            return [place for r in results for place in r] if results else None
        left, right = self._evaluate(node.left, found, field), self._evaluate(node.right, found, field)
        if left is None or right is None:
            return None
        near = {
            place
            for a in left
            for b in right
            if a[1][0] == b[1][0] and max(b[1][1] - a[1][2], a[1][1] - b[1][2]) <= node.distance
            for place in (a, b)
        }
        return sorted(near) or None


def _reading_order(occurrence: Occurrence) -> tuple[bool, int, int]:
    field, first, after = occurrence
    return field != "title", first, after


def _reading(place: Place) -> tuple[bool, int, int]:
    return _reading_order(place[1])


def _written_check(text: str, exact: bool) -> Callable[[str], bool] | None:
    """How a token must be written to count: exact terms as written, acronyms in capitals
    (BIA, not Bia), words with inner capitals with them where they are (BiH, not bih)."""
    if exact:
        wanted = unicodedata.normalize("NFKC", text)
        return lambda written: unicodedata.normalize("NFKC", written) == wanted
    shape = case_shape(text)
    if shape is None:
        return None
    if shape == "upper":
        return lambda written: unicodedata.normalize("NFKC", written).isupper()
    return lambda written: case_shape(unicodedata.normalize("NFKC", written)) == shape


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not | InTitle):
        return _terms(node.child)
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return [term for child in children for term in _terms(child)]
