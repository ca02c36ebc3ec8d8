"""What a full-text index holds of an item, and which items a query can match, read from it.

The index holds each item's word keys as the matcher makes them (Serbian Cyrillic folded to
Latin, diacritics folded, Russian kept Cyrillic), for every language the item may be in
whatever its feed's hint: the keys depend on the text alone, so stored items can be indexed
without the config. A query becomes a condition on those keys that holds for every item the
matcher would accept (a superset): each word is one of its forms' keys or starts with one of
its prefixes, a phrase or NEAR needs all its words, OR any side, and NOT nothing, since the
matcher confirms each candidate. A query that only absences can satisfy ("-a OR b") gives no
condition: every item is a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

from monitor.match.document import Document
from monitor.match.engine import Pattern
from monitor.match.query import Any, InTitle, Near, Node, Not, Term, Word, parse_query
from monitor.match.text import guess_languages, key_functions

MAX_KEY = 60  # characters of a key indexed: a longer one is found by its start, as a prefix
# Keys are runs of word characters, one index token each, except where NFKC made ASCII
# punctuation (⑴ → "(1)"): the index splits those, so a query does not rely on them.
_SPLIT_BY_INDEX = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")


@dataclass(frozen=True, slots=True)
class Key:
    """An index token, or the start of tokens (``prefix``)."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Condition, ...]


Condition = Key | AllOf | AnyOf


def index_keys(document: Document) -> list[str]:
    """The distinct keys an index holds for an item: its tokens keyed for every language it
    may be in without a hint (a hint only narrows them), each cut to ``MAX_KEY``."""
    tokens = list(chain(*document.words))
    languages = guess_languages(" ".join(document.text), tokens, None)
    return list(
        dict.fromkeys(keys_of(token)[:MAX_KEY] for keys_of in key_functions(languages) for token in tokens)
    )


def condition(queries: Iterable[str], patterns_of: Callable[[Word], Iterable[Pattern]]) -> Condition | None:
    """What an item's keys must hold for any of ``queries`` to match it; None when a query
    needs nothing (every item is a candidate). ``patterns_of``: a word's keys (the Matcher's)."""
    found = [_node(parse_query(query), patterns_of) for query in queries]
    kept = [c for c in found if c is not None]
    return _any(kept) if len(kept) == len(found) else None


def _node(node: Node, patterns_of: Callable[[Word], Iterable[Pattern]]) -> Condition | None:
    if isinstance(node, Term):
        return _all([c for word in node.words if (c := _word(word, patterns_of)) is not None])
    if isinstance(node, Not):
        return None
    if isinstance(node, InTitle):  # the index does not tell fields apart: the matcher does
        return _node(node.child, patterns_of)
    if isinstance(node, Any):
        alternatives = [_node(child, patterns_of) for child in node.children]
        kept = [c for c in alternatives if c is not None]
        return _any(kept) if len(kept) == len(alternatives) else None
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return _all([c for child in children if (c := _node(child, patterns_of)) is not None])


def _word(word: Word, patterns_of: Callable[[Word], Iterable[Pattern]]) -> Condition | None:
    """One of the word's keys; None if the index cannot hold one of them whole."""
    keys = set()
    for pattern in patterns_of(word):
        if _SPLIT_BY_INDEX.search(pattern.key):
            return None
        long = len(pattern.key) > MAX_KEY
        keys.add(Key(pattern.key[:MAX_KEY], pattern.prefix or long))
    prefixes = [key.text for key in keys if key.prefix]
    kept = sorted(
        (key for key in keys if key.prefix or not key.text.startswith(tuple(prefixes))),
        key=lambda key: (key.text, key.prefix),
    )
    return _any(list[Condition](kept))


def _all(children: list[Condition]) -> Condition | None:
    if not children:
        return None
    return children[0] if len(children) == 1 else AllOf(tuple(children))


def _any(children: list[Condition]) -> Condition | None:
    if not children:
        return None
    return children[0] if len(children) == 1 else AnyOf(tuple(children))
