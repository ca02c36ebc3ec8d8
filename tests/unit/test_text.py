"""clean and shorten: what every stored field of an item holds, as tables."""

from __future__ import annotations

import pytest

from monitor.feeds.clean import clean, shorten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # what is not a character
        ("BIA\ud800 i\udfff relokanti", "BIA i relokanti"),
        ("BIA\ufffe\uffff\ufdd0\U0001fffe\U0010ffff", "BIA"),
        ("BIA\ufffd", "BIA\ufffd"),  # the replacement character is one, and says a byte was lost
        # controls: C0 but tab and newline, DEL, C1; carriage return, VT and FF are spaces
        ("BIA\x00\x01\x08\x0e\x1b[31m\x1f\x7f", "BIA[31m"),
        ("BIA\x80\x85\x9b\x9f", "BIA"),
        ("prvi\tdrugi\ntreći", "prvi\tdrugi\ntreći"),
        ("prvi\r\ndrugi\rtreći\x0bčetvrti\x0cpeti", "prvi \ndrugi treći četvrti peti"),
        # bidi embeddings, overrides and isolates go; the marks languages need stay
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069BIA", "BIA"),
        *[(marked, marked) for marked in ["\u05e9\u05dc\u05d5\u05dd\u200e 2026\u200f", "\u0645\u061c1"]],
        # format characters that only hide text
        ("BIA\u206a\u206f\ufff9skriveno\ufffb", "BIAskriveno"),
        ("BIA\U000e0001\U000e0041\U000e007f", "BIA"),
        # invisible characters that split words, as before
        ("relo\u00adkanti", "relokanti"),
        ("B\u200bI\u200cA\u200d\u2060\ufeff", "BIA"),
        # NFC, after dropping: a mark parted from its letter by what is dropped joins it
        ("dru\u0073\u030cтво", "dru\u0161тво"),
        ("s\u202e\u030c", "\u0161"),
        # emoji and other scripts are untouched
        ("Srbija 🇷🇸 👍🏽 日本語 עברית", "Srbija 🇷🇸 👍🏽 日本語 עברית"),
        ("", ""),
    ],
)
def test_clean(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    ["s\u200b\u030c", "a\x00\u0301\u202eb\ud800", "\r\n\x0b", "relo\u00adkanti\U000e0041"],
)
def test_cleaning_twice_changes_nothing(text):
    """The matcher cleans stored text again, and its spans are offsets into what it cleaned."""
    assert clean(clean(text)) == clean(text)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("BIA i relokanti", 100, "BIA i relokanti"),
        ("BIA i relokanti", 15, "BIA i relokanti"),
        ("BIA i relokanti", 14, "BIA i…"),  # back to the space before the word under way
        ("BIA i relokanti", 8, "BIA i…"),
        ("Bezbednosnoinformativna", 10, "Bezbednos…"),  # no space near: cut inside the word
        ("x " + "y" * 300, 200, "x " + "y" * 197 + "…"),  # the space is not near
    ],
)
def test_shorten(text, limit, expected):
    shortened = shorten(text, limit)

    assert shortened == expected
    assert len(shortened) <= limit
