"""Text clean-up shared by parsing and matching: what "the same text" means everywhere, and
what no stored text may hold."""

from __future__ import annotations

import re
import unicodedata

# What no stored text may hold, dropped from every field of every item (and from queries):
# - what is not a character: surrogates (UTF-8 cannot encode them) and noncharacters
#   (U+FDD0-U+FDEF, and the last two code points of every plane);
# - controls: C0 but tab and newline (NUL fails PostgreSQL's inserts, ESC drives terminals),
#   DEL and C1;
# - bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the
#   text around them, so what a reader sees is not what was matched. The marks that languages
#   need stay: LRM, RLM and the Arabic letter mark (U+200E, U+200F, U+061C);
# - format characters that only hide text: deprecated shaping controls (U+206A-U+206F),
#   interlinear annotation (U+FFF9-U+FFFB) and tag characters (U+E0000-U+E007F).
# Soft hyphens and zero-width characters (space, non-joiner, joiner, word joiner, BOM) are
# invisible but split words (proteri\u00advanje, B\u200dIA): they go too, so the matcher
# sees the word a reader sees, and a span's offsets hold in the stored text.
# Two patterns: a character class of the Basic Multilingual Plane only is a bitmap in re, one
# with a character beyond it a list of ranges tried one by one, far slower; so what lies
# beyond (tag characters, noncharacters of the other planes) is looked for only in text that
# has such characters.
_UNWANTED = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u202a-\u202e\u2060\u2066-\u206f\ufeff"
    "\ud800-\udfff\ufdd0-\ufdef\ufff9-\ufffb\ufffe\uffff]"
)
_NONCHARACTERS = "".join(chr(plane << 16 | last) for plane in range(1, 17) for last in (0xFFFE, 0xFFFF))
_UNWANTED_BEYOND = re.compile(f"[\U000e0000-\U000e007f{_NONCHARACTERS}]")

_SPACES = str.maketrans("\r\x0b\x0c", "   ")

TITLE_LIMIT = 1_000  # characters of a stored title: a headline is under 200
SUMMARY_LIMIT = 20_000  # characters of a stored summary: a long article's first pages
_NEAR = 100  # a cut moves back to a word boundary this close to the limit


def clean(text: str) -> str:
    """NFC, without what no stored text may hold, soft hyphens and zero-width characters; a
    carriage return, vertical tab or form feed is a space. Dropping comes before NFC, so
    cleaning twice changes nothing."""
    if "\r" in text or "\x0b" in text or "\x0c" in text:
        text = text.translate(_SPACES)
    text = _UNWANTED.sub("", text)
    if not text.isascii() and max(text) > "\uffff":
        text = _UNWANTED_BEYOND.sub("", text)
    return unicodedata.normalize("NFC", text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one is near, ending "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ", max(0, limit - 1 - _NEAR))
    return (cut[:space] if space > 0 else cut).rstrip() + "…"
