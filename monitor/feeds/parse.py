"""Feed bytes → Items. Pure: feedparser reads the bytes it is given and never does HTTP."""

from __future__ import annotations

import calendar
import functools
import hashlib
import heapq
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.feeds.clean import SUMMARY_LIMIT, TITLE_LIMIT, clean, shorten
from monitor.feeds.discover import feed_links, looks_like_html
from monitor.feeds.encoding import as_utf8, utf8_label
from monitor.models import Item

_SPACE = re.compile(r"\s+")
# feedparser's notes about encodings we settled ourselves: not a problem of the feed
_ENCODING_NOTICES = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# Entries taken from one body: a feed of 100,000 would hold the database's write lock for long,
# and no newsroom publishes a thousand stories between two polls.
MAX_ENTRIES = 1_000
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


def _remember_base_uris() -> None:
    """feedparser works out the document's base URI again at the start of every element, the
    same two strings each time: a fifth of its time on our corpus. It is a pure function of
    them, so it is cached (the links themselves are still resolved one by one). Private to
    feedparser, so bounded (<7) and tested (tests/unit/test_library_internals.py). The public
    way round, no Content-Location, costs nothing but changes ids: feedparser resolves a
    permalink guid against it, and isPermaLink is not in its result to do the same after."""
    mixin = getattr(feedparser, "mixin", None)
    resolve = getattr(mixin, "make_safe_absolute_uri", None)
    if resolve is not None and not hasattr(resolve, "cache_info"):
        mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=256)(resolve)  # type: ignore[union-attr]


_remember_base_uris()


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(fragment: str) -> str:
    """HTML fragment → one line of plain text: tags stripped, entities decoded, NFC."""
    if "<" in fragment:  # the parser decodes entities itself: decoding again would corrupt "&amp;lt;"
        extractor = _TextExtractor()
        extractor.feed(fragment)
        extractor.close()
        text = "".join(extractor.parts)
    else:
        text = html.unescape(fragment)
    return _SPACE.sub(" ", clean(text)).strip()


def _raw(entry: dict[str, Any], key: str) -> Any:
    """The entry's own value, bypassing feedparser's deprecated updated→published key mapping."""
    return dict.get(entry, key)


def _published(entry: dict[str, Any], now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _raw(entry, key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return now


def _item_id(entry: Mapping[str, Any], title: str, published: str) -> str:
    if guid := clean(entry.get("id") or "").strip():
        return guid
    if link := clean(entry.get("link") or "").strip():
        return link
    digest = hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()
    return f"sha256:{digest}"


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's items, and what was wrong with it but could be recovered (health shows them)."""

    items: list[Item]
    warnings: tuple[str, ...] = ()
    title: str = ""  # the feed's own title and language, for `monitor feeds add`
    language: str | None = None


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    *,
    feed: str,
    url: str,
    now: datetime,
    max_entries: int = MAX_ENTRIES,
) -> ParsedFeed:
    """Normalise the entries of a feed document, the newest ``max_entries`` of them (in
    document order); ``now`` stands in for missing dates."""
    headers = {k.lower(): v for k, v in headers.items()}
    content_type = headers.get("content-type")
    utf8, warnings = as_utf8(body, content_type)
    # feedparser gets UTF-8 that says so; without a Content-Type it would give up on the body.
    # Titles and summaries become plain text here, so neither sanitising their HTML nor
    # resolving the links inside it is of use: a third of feedparser's time, measured on the
    # corpus. Entry links and ids are resolved either way.
    headers = {**headers, "content-type": utf8_label(content_type), "content-location": url}
    try:
        parsed = feedparser.parse(
            utf8, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # its fallback parser has bugs on broken documents: one feed's error
        problem = f"feedparser failed ({type(exc).__name__}: {exc})"
        raise ParseError(url, f"not a readable feed: {problem}") from exc
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        raise ParseError(url, _not_a_feed(body, content_type, url, parsed.get("bozo_exception")))
    if parsed.bozo and not isinstance(parsed.bozo_exception, _ENCODING_NOTICES):
        warnings.append(f"malformed feed, read anyway: {parsed.bozo_exception}")
    entries = [(entry, _published(entry, now)) for entry in parsed.entries]
    if len(entries) > max_entries:
        warnings.append(f"the feed has {len(entries)} entries; read the newest {max_entries}")
        entries = _newest(entries, max_entries)
    items = []
    for entry, published in entries:
        title = shorten(plain_text(entry.get("title") or ""), TITLE_LIMIT)  # None: fallback parser
        summary = shorten(plain_text(entry.get("summary") or ""), SUMMARY_LIMIT)
        raw_date = clean(_raw(entry, "published") or _raw(entry, "updated") or "")
        items.append(
            Item(
                feed=feed,
                id=_item_id(entry, title, raw_date),
                title=title,
                summary=summary,
                link=clean(entry.get("link") or "").strip(),
                published=published,
            )
        )
    channel = parsed.get("feed", {})
    language = clean(channel.get("language") or "").strip() or None
    return ParsedFeed(items, tuple(warnings), plain_text(channel.get("title") or ""), language)


def _newest(entries: list[tuple[Any, datetime]], count: int) -> list[tuple[Any, datetime]]:
    """The ``count`` newest entries, in document order; undated ones are as new as ``now``,
    which is what they are stored with, and the earlier in the document wins a tie."""
    newest = heapq.nlargest(count, range(len(entries)), key=lambda n: (entries[n][1], -n))
    return [entries[n] for n in sorted(newest)]


def _not_a_feed(body: bytes, content_type: str | None, url: str, problem: object) -> str:
    if looks_like_html(body, content_type):
        links = feed_links(body, url)
        if links:
            return f"an HTML page, not a feed; the page names its feed: {links[0]} (use that URL)"
        return (
            'an HTML page, not a feed, and it names no feed (no <link rel="alternate" '
            'type="application/rss+xml">); find the site\'s RSS or Atom address'
        )
    return f"not a readable feed: {problem or 'no RSS or Atom elements found'}"
