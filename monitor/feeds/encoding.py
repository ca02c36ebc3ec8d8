"""Bytes to UTF-8 before feedparser sees them: the encoding settled here (BOM, mostly-UTF-8,
the declared code page, then a guess among our users' legacy code pages), the XML declaration
made to say so, and what XML forbids dropped."""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

import charset_normalizer

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
# <meta charset="…"> or <meta http-equiv="Content-Type" content="…; charset=…">, in a page's head
_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_META_SCAN = 4096  # bytes of a page searched for it (HTML asks for it in the first 1,024)
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
_NON_ASCII = bytes(range(0x80, 0x100))


def utf8_label(content_type: str | None) -> str:
    """The response's media type, labelled UTF-8: what the body handed to feedparser is."""
    media_type = (content_type or "").split(";")[0].strip() or "application/xml"
    return f"{media_type}; charset=utf-8"


def as_utf8(body: bytes, content_type: str | None) -> tuple[bytes, list[str]]:
    """The body re-encoded as UTF-8, its XML declaration saying so, and a warning when what
    the server or the document declared was wrong, or when some bytes were not UTF-8."""
    text, warnings = decode(body, [_xml_encoding(body), _header_charset(content_type)])
    return _declare_utf8(text), warnings


def html_text(body: bytes, content_type: str | None) -> tuple[str, list[str]]:
    """A web page's text, decoded as ``decode`` does, the server's charset before the page's
    ``<meta charset>`` (HTML's order), and the same warnings."""
    found = _META_CHARSET.search(body[:_META_SCAN])
    meta = found.group(1).decode("ascii") if found else None
    return decode(body, [_header_charset(content_type), meta])


def decode(body: bytes, declared: Sequence[str | None]) -> tuple[str, list[str]]:
    """The body as text, and a warning when what was ``declared`` was wrong, or when some
    bytes were not UTF-8.

    UTF-8 is taken whatever the labels say when the body is UTF-8 but for a few bytes (see
    _mostly_utf8: legacy text is almost never valid UTF-8); those bytes become U+FFFD. Only a
    body that is not UTF-8 at all is read in a legacy code page: the declared one, then the
    one charset-normalizer guesses (Russian sites still serve cp1251 and koi8-r unlabelled).
    """
    names = [name for name in declared if name]
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace"), []
    text = body.decode("utf-8", errors="replace")
    if (invalid := _mostly_utf8(body, text)) is not None:
        plural = "s" if invalid > 1 else ""
        replaced = (
            [f"UTF-8 but for {invalid} invalid byte sequence{plural}, each read as U+FFFD"] if invalid else []
        )
        return text, _mislabelled(names, "utf-8") + replaced
    for codec in names:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, _mislabelled(names, codec)
    best = charset_normalizer.from_bytes(body, cp_isolation=list(_LEGACY)).best()
    best = best or charset_normalizer.from_bytes(body).best()
    codec = best.encoding if best else "utf-8"
    return body.decode(codec, errors="replace"), _mislabelled(names, codec)


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
