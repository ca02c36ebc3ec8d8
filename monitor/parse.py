"""Feed bytes → Items. Pure: feedparser reads the bytes it is given and never does HTTP."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.models import Item
from monitor.text import clean

_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


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
    return clean(_SPACE.sub(" ", text).strip())


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
    if guid := (entry.get("id") or "").strip():
        return str(guid)
    if link := (entry.get("link") or "").strip():
        return str(link)
    digest = hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()
    return f"sha256:{digest}"


def parse_feed(body: bytes, headers: Mapping[str, str], *, feed: str, url: str, now: datetime) -> list[Item]:
    """Normalise every entry of a feed document; ``now`` stands in for missing dates."""
    # Without a Content-Type feedparser gives up on the body; XML rules (the prolog's charset) fit.
    headers = {"content-type": "application/xml", **{k.lower(): v for k, v in headers.items()}}
    parsed = feedparser.parse(
        body, response_headers={**headers, "content-location": url}, sanitize_html=False
    )
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom elements found"
        raise ParseError(url, f"not a readable feed: {reason}")
    items = []
    for entry in parsed.entries:
        title = plain_text(entry.get("title", ""))
        summary = plain_text(entry.get("summary", ""))
        raw_date = _raw(entry, "published") or _raw(entry, "updated") or ""
        items.append(
            Item(
                feed=feed,
                id=_item_id(entry, title, raw_date),
                title=title,
                summary=summary,
                link=(entry.get("link") or "").strip(),
                published=_published(entry, now),
            )
        )
    return items
