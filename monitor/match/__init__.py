"""Watchlist matching: the query language, scripts, inflection, spans. Pure: no I/O.

``Matcher({watchlist: queries}).match(title, summary, language)`` → matches per watchlist.
"""

from monitor.match.engine import Explanation, Matcher, TermReport
from monitor.match.forms import release
from monitor.match.languages import known_language, language_code
from monitor.match.lexicon import Lexicon
from monitor.match.query import QueryError, parse_query

__all__ = [
    "Explanation",
    "Lexicon",
    "Matcher",
    "QueryError",
    "TermReport",
    "known_language",
    "language_code",
    "parse_query",
    "release",
]
