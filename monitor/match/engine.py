"""The compiled matcher: every watchlist's queries in one index, one pass over an item's tokens.

Compile: each query word is expanded into caseless keys (its forms, per language) and entered
in a dict; prefixes go in a dict per prefix length. Match: each token's keys are looked up
(plus its prefixes of the indexed lengths), which yields the terms present, with positions;
only the queries containing a present term are evaluated. The cost per item grows with its
length, not with the number of queries.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.match.forms import case_shape, expand
from monitor.match.query import All, Any, InTitle, Near, Node, Not, Term, parse_query, positive_terms
from monitor.match.text import Token, guess_languages, prepare, tokens
from monitor.models import Field, Match, Span

Occurrence = tuple[Field, int, int]  # field, first token, token after the last
_FIELDS: tuple[Field, ...] = ("title", "summary")


@dataclass(frozen=True, slots=True)
class _Entry:
    term: int
    word: int
    languages: int
    max_length: int | None = None


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
    """An item's fields as tokens, and the terms found in them."""

    def __init__(self, title: str, summary: str, language: str | None) -> None:
        self.text: dict[Field, str] = {"title": prepare(title), "summary": prepare(summary)}
        self.languages = guess_languages(f"{self.text['title']} {self.text['summary']}", language)
        self.tokens: dict[Field, list[Token]] = {
            field: tokens(self.text[field], self.languages) for field in _FIELDS
        }

    def spans(self, occurrences: Iterable[Occurrence]) -> tuple[Span, ...]:
        """Character spans of token occurrences, title first, in reading order, each once."""
        found = set()
        for field, first, after in occurrences:
            start, end = self.tokens[field][first].start, self.tokens[field][after - 1].end
            found.add(Span(field, start, end, self.text[field][start:end]))
        return tuple(sorted(found, key=lambda span: (span.field != "title", span.start, span.end)))


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
        self._exact: dict[str, list[_Entry]] = defaultdict(list)
        self._prefixes: dict[int, dict[str, list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        for term_id, term in enumerate(self._terms):
            for word_number, word in enumerate(term.words):
                self._index(term_id, word_number, word.text, word.prefix, word.exact)
        self._prefix_lengths = sorted(self._prefixes)

    def _index(self, term: int, word: int, text: str, prefix: bool, exact: bool) -> None:
        forms = expand(text)
        if prefix:  # a prefix the user wrote is not inflected
            for key, languages in forms.literal:
                self._prefixes[len(key)][key].append(_Entry(term, word, languages))
            return
        for key, languages in forms.literal if exact else forms.exact:
            self._exact[key].append(_Entry(term, word, languages))
        if not exact:
            for key, languages, max_length in forms.prefixes:
                self._prefixes[len(key)][key].append(_Entry(term, word, languages, max_length))

    def _find(self, document: _Document) -> dict[int, list[Occurrence]]:
        """Where each term of any query occurs in the document (phrases: all words in a row)."""
        seen: dict[int, dict[int, set[tuple[Field, int]]]] = defaultdict(lambda: defaultdict(set))
        for field in _FIELDS:
            for position, token in enumerate(document.tokens[field]):
                for key in token.keys:
                    for entry in self._entries(key):
                        if entry.languages & document.languages and self._accepts(entry, token.text):
                            seen[entry.term][entry.word].add((field, position))
        found: dict[int, list[Occurrence]] = {}
        for term_id, words in seen.items():
            count = len(self._terms[term_id].words)
            if len(words) < count:
                continue
            starts = sorted(
                (field, position)
                for field, position in words[0]
                if all((field, position + offset) in words[offset] for offset in range(1, count))
            )
            if starts:
                found[term_id] = [(field, position, position + count) for field, position in starts]
        return found

    def _entries(self, key: str) -> Iterable[_Entry]:
        yield from self._exact.get(key, ())
        for length in self._prefix_lengths:
            if length > len(key):
                break
            for entry in self._prefixes[length].get(key[:length], ()):
                if entry.max_length is None or len(key) <= entry.max_length:
                    yield entry

    def _accepts(self, entry: _Entry, original: str) -> bool:
        """Exact terms need the form and case as written; acronyms need capitals (BIA, not Bia)."""
        word = self._terms[entry.term].words[entry.word]
        if word.exact:
            return unicodedata.normalize("NFKC", original) == unicodedata.normalize("NFKC", word.text)
        shape = case_shape(word.text)
        if shape is None:
            return True
        written = unicodedata.normalize("NFKC", original)
        return written.isupper() if shape == "upper" else case_shape(written) == shape

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
            occurrences = self._evaluate(query.tree, found, None)
            if occurrences is None:
                continue
            spans = document.spans(occurrences)
            terms = tuple(
                dict.fromkeys(
                    self._terms[term].text
                    for term, places in found.items()
                    if any(place in occurrences for place in places)
                )
            )
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
    ) -> list[Occurrence] | None:
        """The occurrences that make ``node`` true (empty for a satisfied NOT), or None if false."""
        if isinstance(node, Term):
            places = [o for o in found.get(self._term_ids[node], ()) if field is None or o[0] == field]
            return places or None
        if isinstance(node, InTitle):
            return self._evaluate(node.child, found, "title")
        if isinstance(node, Not):
            return [] if self._evaluate(node.child, found, field) is None else None
        if isinstance(node, All):
            collected: list[Occurrence] = []
            for child in node.children:
                result = self._evaluate(child, found, field)
                if result is None:
                    return None
                collected += result
            return collected
        if isinstance(node, Any):
            results = [r for child in node.children if (r := self._evaluate(child, found, field)) is not None]
            return [o for r in results for o in r] if results else None
        left, right = self._evaluate(node.left, found, field), self._evaluate(node.right, found, field)
        if left is None or right is None:
            return None
        near = {
            place
            for a in left
            for b in right
            if a[0] == b[0] and max(b[1] - a[2], a[1] - b[2]) <= node.distance
            for place in (a, b)
        }
        return sorted(near) or None


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not | InTitle):
        return _terms(node.child)
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return [term for child in children for term in _terms(child)]
