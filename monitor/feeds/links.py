"""Canonical links: one story, one address, however a feed decorates it.

Feeds add tracking parameters (utm_*, fbclid), fragments, trailing slashes, upper-case hosts
and default ports; syndicated copies of a story differ only in those. The canonical form drops
them, so an item republished with a new guid, or carried by two feeds, is recognised as one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rapidfuzz.fuzz import token_sort_ratio
from rapidfuzz.utils import default_process

# Parameters that identify a campaign or a click, never the story.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "__twitter", "_hs")
_TRACKING = frozenset(
    "fbclid gclid dclid gclsrc yclid msclkid igshid mc_cid mc_eid ocid cmpid _ga _gl ref_src "
    "ref_url rss rss_source feed_id at_medium at_campaign at_custom1 at_custom2 smid sr_share "
    "ncid cid_source spm".split()
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Titles under one link are one story from this token_sort_ratio up: a headline edited or
# tagged ("(VIDEO)", "UPDATE:") scores 89-94, a ticker's different posts 39-55.
ONE_STORY = 70
# How much of a title is compared, here and in the digest: a headline is shorter, and the
# comparison takes time in the product of the two lengths (a digest of a few hits with
# megabyte titles took minutes to render).
TITLE_PREFIX = 300


@lru_cache(maxsize=1 << 16)  # a poll looks a link up, then stores it: parsing it once is enough
def canonical_link(link: str) -> str | None:
    """The link without what varies between copies of one story; None for no usable link."""
    link = link.strip()
    if not link:
        return None
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().removesuffix(".").removeprefix("www.")
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING and not key.lower().startswith(_TRACKING_PREFIXES)
    ]
    # http and https, www. or not: one story. The canonical form identifies, it is not fetched.
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def story_key(title: str) -> str:
    """What of a title is compared to tell stories apart: its first TITLE_PREFIX characters,
    lower case, without punctuation (rapidfuzz's ``default_process``)."""
    return default_process(title[:TITLE_PREFIX])


def one_story(title: str, other: str) -> bool:
    """Whether two entries under one canonical link tell one story. Live blogs and tickers
    publish every post under the page's link, each with a guid and a headline of its own:
    those are stories of their own, not copies."""
    if not title or not other:
        return True
    return token_sort_ratio(story_key(title), story_key(other)) >= ONE_STORY


def tickers(entries: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The canonical links under which one feed's (link, title) entries tell more than one
    story: a ticker or a live blog, whose posts are told apart by their titles."""
    first: dict[str, str] = {}
    found = set()
    for link, title in entries:
        if (canonical := canonical_link(link)) is None:
            continue
        if canonical not in first:
            first[canonical] = title
        elif not one_story(first[canonical], title):
            found.add(canonical)
    return frozenset(found)
