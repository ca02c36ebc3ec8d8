"""Helpers for the matcher's tests: one watchlist holding one query, compiled once per query."""

from __future__ import annotations

from functools import cache

from monitor.match import Matcher
from monitor.models import Span


@cache
def _matcher(query: str) -> Matcher:
    return Matcher({"watch": [query]})


def finds(query: str, title: str, summary: str = "", language: str | None = None) -> bool:
    return bool(_matcher(query).match(title, summary, language).get("watch"))


def spans(query: str, title: str, summary: str = "", language: str | None = None) -> list[Span]:
    matches = _matcher(query).match(title, summary, language).get("watch", [])
    return [span for match in matches for span in match.spans]
