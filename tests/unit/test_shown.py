"""What the commands write to a terminal: controls and bidi overrides as escapes, marks kept."""

from __future__ import annotations

import pytest

from monitor.cli.render import SUMMARY_LINE, highlighted, shown
from monitor.models import Span


@pytest.mark.parametrize(
    ("text", "lines", "written"),
    [
        ("BIA o relokantima", False, "BIA o relokantima"),
        ("\x1b[31mred", False, r"\x1b[31mred"),
        ("nul\x00 bel\x07 del\x7f csi\x9b", False, r"nul\x00 bel\x07 del\x7f csi\x9b"),
        ("one\ntwo\tthree\r", False, r"one\x0atwo\x09three\x0d"),
        ("one\ntwo\tthree\r", True, "one\ntwo\tthree\\x0d"),
        ("\u202egnp.exe\u202c \u2066x\u2069", False, r"\u202egnp.exe\u202c \u2066x\u2069"),
        ("line\u2028break", True, r"line\u2028break"),
        (
            "עברית\u200f (RLM), ZWJ 👩\u200d💻, ZWNJ می\u200cخواهم",
            False,
            "עברית\u200f (RLM), ZWJ 👩\u200d💻, ZWNJ می\u200cخواهم",
        ),
        ("[bold red]x[/]", False, "[bold red]x[/]"),
    ],
)
def test_controls_and_bidi_overrides_are_shown_as_escapes_and_language_marks_kept(text, lines, written):
    assert shown(text, lines) == written


def test_search_highlights_each_span_in_the_text_made_safe():
    text = "\x1b[31m BIA-e i BIA"
    found = highlighted(text, [Span("title", 6, 9, "BIA"), Span("title", 14, 17, "BIA")])

    assert found.plain == r"\x1b[31m BIA-e i BIA"
    marked = [found.plain[span.start : span.end] for span in found.spans]
    assert marked == ["BIA", "BIA"] and found.spans[0].start == 9


def test_a_long_summary_is_shown_around_what_matched_there():
    text = "x " * 200 + "relokanti " + "y " * 200
    found = highlighted(text, [Span("summary", 400, 409, "relokanti")], around=400)

    assert found.plain.startswith("…x ") and found.plain.endswith("…")
    assert len(found.plain) == SUMMARY_LINE + 2
    assert [found.plain[s.start : s.end] for s in found.spans] == ["relokanti"]
