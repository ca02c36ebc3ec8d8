"""Feed autodiscovery: the RSS and Atom feeds an HTML page names in its <link rel="alternate">."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """An HTML page rather than a feed: served as text/html, or starting like a page."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type in ("text/html", "application/xhtml+xml") or bool(_HTML.match(body[:4096]))


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (type, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name: (value or "").strip() for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.links.append((kind, values["href"]))


def feed_links(page: bytes, base_url: str) -> list[str]:
    """Absolute URLs of the feeds a page announces, RSS before Atom, in page order, each once."""
    finder = _LinkFinder()
    finder.feed(page.decode("utf-8", errors="replace"))
    finder.close()
    ordered = sorted(finder.links, key=lambda link: FEED_TYPES.index(link[0]))
    return list(dict.fromkeys(urljoin(base_url, href) for _, href in ordered))
