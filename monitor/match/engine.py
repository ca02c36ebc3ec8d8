"""The compiled matcher: every watchlist's queries in one index, one lookup per word of an item.

Compile: each query word is expanded into caseless keys (its forms, per language), which become
the patterns of one Aho-Corasick automaton: " key " for a form, " prefix" for a prefix. Match:
what each written token reaches (the query words whose patterns its key holds, checked for
language, length and case) is worked out once and remembered, since news repeats its words;
the words that anchor terms give the terms present with their positions; only the queries
those terms can make true are evaluated, and spans are made for those that match. The cost
per item grows with its length and its matches, not with the number of queries.
"""

from __future__ import annotations

import gc
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any as AnyType
from typing import NamedTuple

import ahocorasick

from monitor.match.document import Document
from monitor.match.forms import Forms, case_shape, literal, name_forms, prepare
from monitor.match.lexicon import Lexicon
from monitor.match.plan import (
    Evaluate,
    Found,
    Occurrence,
    Place,
    evaluator,
    required_parts,
    terms_of,
    triggers,
)
from monitor.match.query import Node, Term, Word, parse_query, positive_terms
from monitor.match.text import SR, key_functions
from monitor.models import Match, Span

_KNOWN_TOKENS = 1 << 16  # tokens whose reach is remembered, per keying and languages: bounded memory


UNBOUNDED = 1 << 30


class Pattern(NamedTuple):
    """A caseless key that finds a query word: a whole token's key, or the start of one
    (``prefix``) at most ``max_length`` long, in items of ``languages``."""

    key: str
    prefix: bool
    languages: int
    max_length: int = UNBOUNDED


def word_patterns(word: Word, lexicon: Lexicon) -> Iterator[Pattern]:
    """The keys of a query word: its forms (a prefix the user wrote is not inflected; an =exact
    word is only itself), a name's regular case forms, and guarded stems as prefixes."""
    text = word.text
    if word.prefix:
        for key, languages in literal(text):
            yield Pattern(key, True, languages)
        return
    forms = Forms(literal(text)) if word.exact else lexicon.forms_of(text)
    for key, languages in forms.exact:
        yield Pattern(key, False, languages)
    if word.name:  # in a phrase, a name is found in every case, as regular endings make it
        known = {key for key, _ in forms.exact}
        for key in name_forms(text):
            if key not in known:
                yield Pattern(key, False, SR)
    for key, languages, max_length in forms.prefixes:
        yield Pattern(key, True, languages, max_length)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A query word reached from an index key; ``written`` checks the token as written, if needed."""

    word: int
    languages: int
    max_length: int = UNBOUNDED
    written: Callable[[str], bool] | None = None


class _Anchoring(NamedTuple):
    """A phrase as its anchor word finds it: it spans ``before`` words before the anchor's place
    and ``after`` from it on, and ``others`` tells whether its other words are around it."""

    term: int
    before: int
    after: int
    others: Callable[[list[_Reach], int], bool]


def _neighbours(words: Sequence[tuple[int, int]]) -> Callable[[list[_Reach], int], bool]:
    """Whether a field's tokens (their reach) have each word at its offset from a place."""
    if len(words) == 1:  # two-word phrases, the commonest: one look
        ((offset, word),) = words
        return lambda reach, at: word in reach[at + offset].words
    return lambda reach, at: all(word in reach[at + offset].words for offset, word in words)


@dataclass(frozen=True, slots=True)
class _Reach:
    """The query words a token reaches, and what to look for where it is: the terms of one word
    it finds (their ids), and the words of it that anchor phrases (as ``~word``), whose other
    words are then checked around it. Single words need no second look, and most terms are one."""

    anchors: tuple[int, ...]
    words: frozenset[int]

    def union(self, other: _Reach) -> _Reach:
        return _Reach(tuple(sorted({*self.anchors, *other.anchors})), self.words | other.words)


_NOTHING = _Reach((), frozenset())


@dataclass(frozen=True, slots=True)
class _Query:
    watchlist: str
    text: str
    tree: Node
    evaluate: Evaluate
    term: int | None  # a query of one term matches where the term is: no tree to evaluate
    needs: frozenset[int]  # terms that must all be found for the tree to be worth evaluating
    needs_one_of: tuple[frozenset[int], ...]  # sets of terms that must each have one found


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


class Matcher:
    """Every query of every watchlist, compiled once per config load."""

    def __init__(self, watchlists: Mapping[str, Sequence[str]], lexicon: Lexicon | None = None) -> None:
        """``lexicon``: forms and frequencies of words known from earlier compiles, used first
        and filled with the new ones (a fresh one when not given)."""
        with _collector_paused():
            self._compile(watchlists, Lexicon() if lexicon is None else lexicon)

    def _compile(self, watchlists: Mapping[str, Sequence[str]], lexicon: Lexicon) -> None:
        parsed = [(name, text, parse_query(text)) for name, queries in watchlists.items() for text in queries]
        words = {word for _, _, tree in parsed for term in terms_of(tree) for word in term.words}
        shares = cache(lambda: lexicon.frequencies_of(words))  # only if a query has a choice to make

        def frequency(word: Word) -> float:
            return shares()[word]

        required = [required_parts(tree, frequency) for _, _, tree in parsed]  # per query: its parts
        self._terms: list[Term] = []
        term_ids: dict[Term, int] = {}
        self._triggers: list[list[int]] = []  # term id → queries it can make match
        for number, (_, _, tree) in enumerate(parsed):
            for term in terms_of(tree):
                if term not in term_ids:
                    term_ids[term] = len(self._terms)
                    self._terms.append(term)
                    self._triggers.append([])
            for term in triggers(tree, required[number], frequency):
                self._triggers[term_ids[term]].append(number)
        self._term_ids = term_ids
        self._queries = [
            self._query(name, text, tree, parts)
            for (name, text, tree), parts in zip(parsed, required, strict=True)
        ]
        self._term_texts = [(term.text,) for term in self._terms]
        # Distinct query words are the unit of the index: a word shared by many terms (alone, in
        # phrases) is looked for once. Each term is its words' ids; each word knows the terms it
        # anchors (a phrase's rarest word), so "a stray" is considered when "stray" is present,
        # not whenever "a" is.
        word_ids: dict[Word, int] = {}
        self._term_words = [
            tuple(word_ids.setdefault(word, len(word_ids)) for word in term.words) for term in self._terms
        ]
        self._singles: list[list[int]] = [[] for _ in word_ids]  # word → the terms that are just it
        self._anchored: list[list[_Anchoring]] = [[] for _ in word_ids]  # word → phrases it anchors
        for term_id, term in enumerate(self._terms):
            ids = self._term_words[term_id]
            if len(ids) == 1:
                self._singles[ids[0]].append(term_id)
                continue
            anchor = min(range(len(ids)), key=lambda offset: frequency(term.words[offset]))
            others = [(offset - anchor, word) for offset, word in enumerate(ids) if offset != anchor]
            phrase = _Anchoring(term_id, anchor, len(ids) - anchor, _neighbours(others))
            self._anchored[ids[anchor]].append(phrase)
        # " key " for a word's forms, " prefix" for prefixes: the patterns of one automaton, so one
        # pass over an item's keys, joined by spaces, finds every index entry it reaches.
        self._patterns: dict[str, list[_Entry]] = defaultdict(list)
        self._word_patterns: dict[Word, tuple[Pattern, ...]] = {}
        self._lexicon = lexicon
        prepare(
            word.text for word in word_ids if not (word.prefix or word.exact or word.text in lexicon.forms)
        )
        for word, word_id in word_ids.items():
            self._index(word_id, word, lexicon)
        self._automaton = self._build_automaton()
        self._reaches: dict[tuple[Callable[[str], str], int], dict[str, _Reach]] = {}

    def _query(self, watchlist: str, text: str, tree: Node, required: list[list[Term]]) -> _Query:
        parts = [frozenset(self._term_ids[term] for term in part) for part in required]
        return _Query(
            watchlist,
            text,
            tree,
            evaluator(tree, self._term_ids),
            self._term_ids[tree] if isinstance(tree, Term) else None,
            frozenset(term for part in parts if len(part) == 1 for term in part),
            tuple(part for part in parts if len(part) > 1),
        )

    def _build_automaton(self) -> AnyType:
        automaton = ahocorasick.Automaton()
        for pattern, reached in self._patterns.items():
            automaton.add_word(pattern, (len(pattern), reached))
        if self._patterns:
            automaton.make_automaton()
        return automaton

    def _index(self, word_id: int, word: Word, lexicon: Lexicon) -> None:
        written = _written_check(word.text, word.exact)
        entries: dict[tuple[int, int], _Entry] = {}  # one per (languages, bound): a word has tens of forms
        for key, prefix, languages, max_length in word_patterns(word, lexicon):
            if (languages, max_length) not in entries:
                entries[languages, max_length] = _Entry(word_id, languages, max_length, written)
            self._patterns[f" {key}" if prefix else f" {key} "].append(entries[languages, max_length])

    def patterns_of(self, word: Word) -> tuple[Pattern, ...]:
        """The keys a query word is found by, made when first asked (search and backfill ask;
        a daemon's compile need not keep them)."""
        if word not in self._word_patterns:
            self._word_patterns[word] = tuple(word_patterns(word, self._lexicon))
        return self._word_patterns[word]

    def _reach(
        self, known: dict[str, _Reach], token: str, keys_of: Callable[[str], str], languages: int
    ) -> _Reach:
        """What a written token reaches in an item of ``languages``, remembered in ``known``:
        the automaton's patterns in its key, checked for language, length and how it is written."""
        key = keys_of(token)
        words = frozenset(
            entry.word
            for _, (_, entries) in self._automaton.iter(f" {key} ")
            for entry in entries
            if entry.languages & languages
            and len(key) <= entry.max_length
            and (entry.written is None or entry.written(token))
        )
        singles = [term for word in words for term in self._singles[word]]
        anchors = tuple(sorted(singles + [~word for word in words if self._anchored[word]]))
        reach = known[token] = _Reach(anchors, words) if words else _NOTHING
        return reach

    def _known(self, keys_of: Callable[[str], str], languages: int) -> dict[str, _Reach]:
        """The reach of the tokens seen so far, keyed by ``keys_of`` in items of ``languages``:
        news repeats its words, so a token's reach is worked out once, then looked up."""
        known = self._reaches.setdefault((keys_of, languages), {})
        if len(known) > _KNOWN_TOKENS:
            known.clear()
        return known

    def _find(self, document: Document) -> Found:
        """Where each term of any query occurs in the document (phrases: all words in a row)."""
        if len(self._automaton) == 0:
            return {}
        languages = document.languages
        keyings = [(keys_of, self._known(keys_of, languages)) for keys_of in key_functions(languages)]
        reach: list[list[_Reach]] = []  # per field, what each token reaches
        # a term of one word → where it is, and ~word for a phrase's anchor: in reading order
        anchors: dict[int, list[Occurrence]] = {}
        for field, tokens in enumerate(document.words):
            for keys_of, known in keyings:
                reached = [
                    known.get(token) or self._reach(known, token, keys_of, languages) for token in tokens
                ]
                for position, token_reach in enumerate(reached):
                    for anchor in token_reach.anchors:
                        if anchor in anchors:
                            anchors[anchor].append((field, position, position + 1))
                        else:
                            anchors[anchor] = [(field, position, position + 1)]
                if len(reach) == field:
                    reach.append(reached)
                else:  # Cyrillic that may be Serbian or Russian: a token reaches what either keying does
                    reach[field] = [a.union(b) for a, b in zip(reach[field], reached, strict=True)]
        if len(keyings) > 1:
            anchors = {anchor: sorted(set(places)) for anchor, places in anchors.items()}
        found: Found = anchors
        for anchor in [anchor for anchor in anchors if anchor < 0]:
            places = found.pop(anchor)
            for term, before, after, others in self._anchored[~anchor]:
                phrases = [
                    (field, at - before, at + after)
                    for field, at, _ in places
                    if before <= at <= len(reach[field]) - after and others(reach[field], at)
                ]
                if phrases:
                    found[term] = phrases
        return found

    def match(
        self,
        title: str,
        summary: str,
        language: str | None = None,
        watchlists: Iterable[str] | None = None,
        body: str = "",
    ) -> dict[str, list[Match]]:
        """The queries that match, per watchlist (all, or those named), with their spans;
        ``body``: the article's text, for an item read in full text."""
        return self.match_document(Document(title, summary, language, body), watchlists)

    def match_document(
        self, document: Document, watchlists: Iterable[str] | None = None
    ) -> dict[str, list[Match]]:
        """``match`` of an item already read as a Document: the poller indexes it too."""
        found = self._find(document)
        wanted = None if watchlists is None else set(watchlists)
        triggers, queries, texts = self._triggers, self._queries, self._term_texts
        present, spans_of = found.keys(), document.spans_in_order
        matches: dict[str, list[Match]] = {}
        for number in sorted({query for term in found for query in triggers[term]}):
            query = queries[number]
            if wanted is not None and query.watchlist not in wanted:
                continue
            term = query.term
            if term is not None:  # its places are in reading order already
                match = Match(query.text, texts[term], spans_of(found[term]))
            elif present >= query.needs and not any(present.isdisjoint(part) for part in query.needs_one_of):
                places = query.evaluate(found)
                if places is None:
                    continue
                match = self._composite(query.text, places, document)
            else:  # a required part is missing: the tree cannot hold
                continue
            if query.watchlist in matches:
                matches[query.watchlist].append(match)
            else:
                matches[query.watchlist] = [match]
        return matches

    def _composite(self, query: str, places: list[Place], document: Document) -> Match:
        """The match of an evaluated query: its terms and spans in reading order, each once."""
        if all(term == places[0][0] for term, _ in places):  # one term: in reading order already
            spans = document.spans_in_order(occurrence for _, occurrence in places)
            return Match(query, self._term_texts[places[0][0]], spans)
        ordered = sorted(places, key=itemgetter(1))
        spans = document.spans_in_order(dict.fromkeys(occurrence for _, occurrence in ordered))
        return Match(query, tuple(dict.fromkeys(self._terms[term].text for term, _ in ordered)), spans)

    def explain(
        self,
        title: str,
        summary: str,
        language: str | None = None,
        watchlists: Iterable[str] | None = None,
        body: str = "",
    ) -> list[Explanation]:
        """Every query of the named watchlists, whether it matched, and each term's places."""
        document = Document(title, summary, language, body)
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
                for term in dict.fromkeys(terms_of(query.tree))
            )
            matched = query.evaluate(found) is not None
            reports.append(Explanation(query.watchlist, query.text, matched, terms))
        return reports


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Compiling makes some 10^5 lasting objects and no cycles: the collections they trigger
    would scan the loaded dictionaries again and again, half the time of a large compile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
