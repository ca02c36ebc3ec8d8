"""Feed bytes → Items. Pure: feedparser reads the bytes it is given and never does HTTP."""

from __future__ import annotations

import calendar
import codecs
import contextlib
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

import charset_normalizer
import feedparser
from lxml import etree

from monitor.errors import ParseError
from monitor.feeds.clean import SUMMARY_LIMIT, TITLE_LIMIT, clean, shorten
from monitor.feeds.discover import feed_links, looks_like_html
from monitor.models import Item

_SPACE = re.compile(r"\s+")
# What XML 1.0 forbids in a document, raw or as a character reference: C0 controls but tab,
# newline and carriage return, surrogates, U+FFFE and U+FFFF, and references past U+10FFFF.
# feedparser's fallback parser turns a reference to a surrogate into a UnicodeEncodeError and
# one past U+10FFFF into a ValueError or an OverflowError; the others only make the document
# ill-formed. "&amp;#xD800;" is text, and no match. Two patterns, not one alternation: a
# character class and a literal start are each scanned in C, twice as fast over a body.
_NOT_XML_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
_XML_DECLARATION = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECLARATION_TEXT = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[A-Za-z0-9._:-]+(["'])""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Undeclared legacy encodings of the languages our users read, guessed among first: Russian,
# Serbian and its neighbours, Western European. Short texts guess wrong among all code pages.
_LEGACY = ("cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1252", "iso8859_5", "cp866", "mac_cyrillic")
# feedparser's notes about encodings we settled ourselves: not a problem of the feed
_ENCODING_NOTICES = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_NON_ASCII = bytes(range(0x80, 0x100))
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
    headers = {**headers, "content-type": _utf8_label(content_type), "content-location": url}
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


def _utf8_label(content_type: str | None) -> str:
    """The response's media type, labelled UTF-8: what the body handed to feedparser is."""
    media_type = (content_type or "").split(";")[0].strip() or "application/xml"
    return f"{media_type}; charset=utf-8"


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


def as_utf8(body: bytes, content_type: str | None) -> tuple[bytes, list[str]]:
    """The body re-encoded as UTF-8, its XML declaration saying so, and a warning when what
    the server or the document declared was wrong, or when some bytes were not UTF-8.

    UTF-8 is taken whatever the labels say when the body is UTF-8 but for a few bytes (see
    _mostly_utf8: legacy text is almost never valid UTF-8); those bytes become U+FFFD. Only a
    body that is not UTF-8 at all is read in a legacy code page: the declared one, then the
    one charset-normalizer guesses (Russian sites still serve cp1251 and koi8-r unlabelled).
    """
    declared = [name for name in (_xml_encoding(body), _header_charset(content_type)) if name]
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _declare_utf8(body[len(bom) :].decode(codec, errors="replace")), []
    text = body.decode("utf-8", errors="replace")
    if (invalid := _mostly_utf8(body, text)) is not None:
        plural = "s" if invalid > 1 else ""
        replaced = (
            [f"UTF-8 but for {invalid} invalid byte sequence{plural}, each read as U+FFFD"] if invalid else []
        )
        return _declare_utf8(text), _mislabelled(declared, "utf-8") + replaced
    for codec in declared:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        return _declare_utf8(text), _mislabelled(declared, codec)
    best = charset_normalizer.from_bytes(body, cp_isolation=list(_LEGACY)).best()
    best = best or charset_normalizer.from_bytes(body).best()
    codec = best.encoding if best else "utf-8"
    return _declare_utf8(body.decode(codec, errors="replace")), _mislabelled(declared, codec)


def _mostly_utf8(body: bytes, text: str) -> int | None:
    """How many invalid sequences ``text`` (``body`` decoded as UTF-8, errors replaced) has, or
    None when it is not UTF-8 at all: when they are as many as its valid non-ASCII
    characters. Legacy text is nearly all invalid sequences (the corpus's cp1251, koi8-r,
    iso-8859-1 and cp1252 captures: 0.00-0.03 valid characters per invalid sequence); a UTF-8
    body with a few bad bytes is nearly all valid ones."""
    invalid = text.count("\ufffd") - body.count("\ufffd".encode())
    if not invalid:
        return 0
    valid = len(text) - len(body.translate(None, _NON_ASCII)) - invalid
    return invalid if valid > invalid else None


def _mislabelled(declared: list[str], used: str) -> list[str]:
    wrong = [name for name in declared if _codec(name) != _codec(used)]
    if not wrong:
        return []
    return [f"declared encoding {', '.join(dict.fromkeys(wrong))} is wrong; the text is {_codec(used)}"]


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _xml_encoding(body: bytes) -> str | None:
    found = _XML_DECLARATION.match(body[:200])
    return found.group(1).decode("ascii") if found else None


def _header_charset(content_type: str | None) -> str | None:
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def _declare_utf8(text: str) -> bytes:
    """``text`` as UTF-8 that says so, without what XML forbids (see _NOT_XML_CHARACTER)."""
    text = _NOT_XML_CHARACTER.sub("", text)
    if "&#" in text:
        text = _REFERENCE.sub(_xml_allowed, text)
    return _XML_DECLARATION_TEXT.sub(r"\g<1>utf-8\g<2>", text, count=1).encode("utf-8")


def _xml_allowed(found: re.Match[str]) -> str:
    """A character reference kept when XML allows its character, or nothing."""
    hexadecimal, decimal = found.groups()
    digits = (hexadecimal or decimal).lstrip("0")
    if not digits or len(digits) > 7:  # NUL, or a number past any code point
        return ""
    code = int(digits, 16 if hexadecimal else 10)
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
    return found.group() if allowed or 0x10000 <= code <= 0x10FFFF else ""


@dataclass(frozen=True, slots=True)
class Reading:
    """A feed body read: parsed, or not (``parsed`` None) when every entry was seen before."""

    parsed: ParsedFeed | None
    fingerprints: frozenset[str] | None


def read_feed(
    body: bytes,
    headers: Mapping[str, str],
    *,
    feed: str,
    url: str,
    now: datetime,
    seen: frozenset[str],
    max_entries: int = MAX_ENTRIES,
) -> Reading:
    """The body's new and edited entries, parsed; ``parsed`` None when there are none.

    ``seen`` holds the fingerprints of the last body's entries. Servers that ignore conditional
    GET rewrite lastBuildDate on every poll, and feedparser costs some 20 times the pre-scan:
    when every entry is among ``seen``, feedparser is not run, and when some are, it reads a
    copy of the document without them. Runs in a worker process: arguments and result pickle.

    The fingerprints are of every entry, also those past ``max_entries``: the next poll does
    not read again what this one left out, and still reads what is new.
    """
    scanned = _scan(body)
    if scanned is None:
        return Reading(parse_feed(body, headers, feed=feed, url=url, now=now, max_entries=max_entries), None)
    root, entries = scanned
    fingerprints = frozenset(entries)
    if fingerprints <= seen:
        return Reading(None, fingerprints)
    if fingerprints & seen:
        for fingerprint, entry in entries.items():
            if fingerprint in seen and (parent := entry.getparent()) is not None:
                parent.remove(entry)
        reduced = etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")
        content_type = {key.lower(): value for key, value in headers.items()}.get("content-type")
        with contextlib.suppress(ParseError):  # then the whole body: a copy must never fail a feed
            parsed = parse_feed(
                reduced,
                {"content-type": _utf8_label(content_type)},
                feed=feed,
                url=url,
                now=now,
                max_entries=max_entries,
            )
            return Reading(parsed, fingerprints)
    parsed = parse_feed(body, headers, feed=feed, url=url, now=now, max_entries=max_entries)
    return Reading(parsed, fingerprints)


def entry_fingerprints(body: bytes) -> frozenset[str] | None:
    """A hash of each entry's XML as written, or None when unsure (not well-formed, or no
    entries found): any edit to an entry changes its hash, a new entry adds one."""
    scanned = _scan(body)
    return None if scanned is None else frozenset(scanned[1])


def _scan(body: bytes) -> tuple[Any, dict[str, Any]] | None:
    """The document's root and its entries by fingerprint, or None when unsure."""
    # Entities are not expanded and nothing is fetched: a feed cannot make the pre-scan read
    # files or grow a billion laughs. A parser per call: lxml parsers are not for sharing.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    entries = {
        hashlib.blake2b(etree.tostring(entry), digest_size=8).hexdigest(): entry
        for entry in root.iter("{*}item", "{*}entry")
    }
    return (root, entries) if entries else None
