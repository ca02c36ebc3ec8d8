"""An article's page to the story's text: its paragraphs without the site's menus, "most read"
links, notices and comments (trafilatura), decoded as the server and the page declare. Pure,
and run in the parse workers: extraction costs more than a feed's parse."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.errors import ArticleError
from monitor.feeds.clean import clean, shorten
from monitor.feeds.discover import looks_like_html
from monitor.feeds.encoding import html_text

BODY_LIMIT = 100_000  # characters of an article's text stored and matched: a long read's first pages
# tags a page may hold: the extractor's time grows with them (seconds at tens of thousands), and
# its own size limit applies only after that work, so a page past this is refused unread
MAX_TAGS = 60_000
MIN_WORDS = 8  # fewer is a notice ("Enable JavaScript to read this site"), not an article


def read_article(body: bytes, headers: Mapping[str, str], url: str) -> str:
    """The article's text at ``url``, paragraphs apart; raises ArticleError when the page holds
    none (not a web page, or nothing but page furniture: a consent wall, an empty shell that
    scripts fill)."""
    if not looks_like_html(body, headers.get("content-type")):
        kind = headers.get("content-type") or "no Content-Type"
        raise ArticleError(url, f"not a web page ({kind}); the item keeps what its feed said")
    if (tags := body.count(b"<")) > MAX_TAGS:
        raise ArticleError(
            url,
            f"a page of {tags:,} tags, more than the {MAX_TAGS:,} read; the item keeps what its feed said",
        )
    text, _ = html_text(body, headers.get("content-type"))
    # precise first: a paywall's "subscribe" box and a shell's <noscript> are not the story;
    # then as a reader would, for layouts the precise pass finds nothing in (old table layouts)
    extracted = _extract(text, url, precise=True) or _extract(text, url, precise=False) or ""
    if len(extracted.split()) < MIN_WORDS:
        raise ArticleError(
            url,
            "no article text on the page (a consent or login wall, a page its scripts fill, or a "
            "layout the extractor does not know); the item keeps what its feed said",
        )
    return shorten(clean(extracted.strip()), BODY_LIMIT)


def _extract(text: str, url: str, *, precise: bool) -> str | None:
    # imported at the first page: a process that reads no feed in full text, and each parse
    # worker, would otherwise carry what it loads (dateparser among it) for nothing
    import trafilatura

    return trafilatura.extract(
        text,
        url=url,
        favor_precision=precise,
        include_comments=False,
        include_tables=False,
    )
