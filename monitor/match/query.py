"""The query language, parsed into a small tree. Pure; errors name the column.

query    := or
or       := and ("OR" and)*
and      := unary (["AND"] unary)*          juxtaposition means AND
unary    := ("NOT" | "-") unary | near
near     := primary ("NEAR/" n primary)*    within n words, either order
primary  := "(" or ")" | "title:" primary | term
term     := word | word* | "a phrase" | =word | ="exact phrase"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.feeds.clean import clean

_LEXER = re.compile(
    r"""(?P<space>\s+)
      | (?P<open>\()
      | (?P<close>\))
      | (?P<phrase>=?"[^"]*"?)
      | (?P<near>NEAR(?:/\S*)?)
      | (?P<field>title:)
      | (?P<minus>-(?=[\w("=]))
      | (?P<word>[^\s()"]+)""",
    re.VERBOSE,
)
_WORD = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT"}


class QueryError(ValueError):
    """A query that cannot be compiled; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    prefix: bool = False
    exact: bool = False
    name: bool = False  # a capitalised word of a phrase: part of a name, as in "Crna Gora"


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase (its words adjacent and in order), as the user wrote it."""

    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Any:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int


@dataclass(frozen=True, slots=True)
class InTitle:
    child: Node


Node = Term | All | Any | Not | Near | InTitle


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    column: int


def _lex(text: str) -> list[_Token]:
    found = []
    for match in _LEXER.finditer(text):
        kind = match.lastgroup or "word"
        if kind == "space":
            continue
        if kind == "word" and match.group() in _OPERATORS:
            kind = match.group()
        found.append(_Token(kind, match.group(), match.start() + 1))
    return found


def _capitalised(word: str) -> bool:
    """Nikola, Gora, Сад: a capital and then small letters (not BIA, not BiH)."""
    return word[:1].isupper() and word[1:].islower()


def _term(token: _Token) -> Term:
    raw = token.text
    exact = raw.startswith("=")
    body = raw[1:] if exact else raw
    if token.kind == "phrase":
        if len(body) < 2 or not body.endswith('"'):
            raise QueryError("unbalanced quote: close the phrase with '\"'", token.column)
        words = _WORD.findall(body[1:-1])
        if not words:
            raise QueryError("empty phrase: put words between the quotes", token.column)
        named = not exact and len(words) > 1
        return Term(raw, tuple(Word(word, exact=exact, name=named and _capitalised(word)) for word in words))
    prefix = body.endswith("*")
    if "*" in body.rstrip("*") or body.endswith("**"):
        raise QueryError(f"{raw!r}: '*' may only end a word, as in relokan*", token.column)
    words = _WORD.findall(body)
    if not words:
        raise QueryError(f"{raw!r} has no letters or digits to match", token.column)
    if prefix and len(words[-1]) < 3:
        raise QueryError(f"{raw!r}: a prefix needs at least 3 letters before '*'", token.column)
    last = len(words) - 1
    return Term(raw, tuple(Word(w, prefix=prefix and i == last, exact=exact) for i, w in enumerate(words)))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def end_column(self) -> int:
        return len(self.text.rstrip()) + 1

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query: write at least one word", 1)
        node = self.any()
        if (extra := self.peek()) is not None:
            raise QueryError("unbalanced parenthesis: this ')' closes nothing", extra.column)
        return node

    def any(self) -> Node:
        children = [self.all()]
        while (token := self.peek()) and token.kind == "OR":
            self.take()
            children.append(self.all())
        return children[0] if len(children) == 1 else Any(tuple(children))

    def all(self) -> Node:
        children = [self.unary()]
        while (token := self.peek()) and token.kind not in ("OR", "close"):
            if token.kind == "AND":
                self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else All(tuple(children))

    def unary(self) -> Node:
        token = self.peek()
        if token and token.kind in ("NOT", "minus"):
            self.take()
            return Not(self.unary())
        return self.near()

    def near(self) -> Node:
        node = self.primary()
        while (token := self.peek()) and token.kind == "near":
            self.take()
            distance = token.text.partition("/")[2]
            if not distance.isdigit() or int(distance) == 0:
                raise QueryError(
                    f"{token.text!r}: write NEAR/n with a number of words, as NEAR/10", token.column
                )
            node = Near(node, self.primary(), int(distance))
            for side in (node.left, node.right):
                if not _near_operand(side):
                    raise QueryError(
                        "NEAR joins words, phrases, (a OR b) groups or title:(...)", token.column
                    )
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("a word, phrase or '(' is missing at the end", self.end_column())
        if token.kind == "open":
            self.take()
            node = self.any()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError("unbalanced parenthesis: this '(' is never closed", token.column)
            self.take()
            return node
        if token.kind == "field":
            self.take()
            return InTitle(self.primary())
        if token.kind in ("word", "phrase"):
            self.take()
            return _term(token)
        if token.kind == "close":
            raise QueryError("unbalanced parenthesis: this ')' closes nothing", token.column)
        raise QueryError(f"{token.text!r} needs a word, phrase or '(' after it", token.column)


def _near_operand(node: Node) -> bool:
    if isinstance(node, InTitle):
        return _near_operand(node.child)
    return isinstance(node, Term) or (isinstance(node, Any) and all(_near_operand(c) for c in node.children))


def positive_terms(node: Node, negated: bool = False) -> list[Term]:
    """The terms that can make the query match (not under NOT): the candidates' triggers."""
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return positive_terms(node.child, not negated)
    if isinstance(node, InTitle):
        return positive_terms(node.child, negated)
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return [term for child in children for term in positive_terms(child, negated)]


def parse_query(text: str) -> Node:
    """Parse one query; raises QueryError with the column of the problem."""
    tree = _Parser(clean(text)).parse()
    if not positive_terms(tree):
        raise QueryError("a query needs at least one term that is not negated", 1)
    return tree
