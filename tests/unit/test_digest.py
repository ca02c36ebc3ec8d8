"""render_digest, snippet, highlight, compose.build_message and wire_bytes: pure, so tested with
plain values."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.digest import Digest, Problem, Reader, Segment, highlight, render_digest, snippet
from monitor.errors import ConfigError
from monitor.match import Matcher
from monitor.models import Hit, Item, Span
from monitor.outbox.compose import build_message, wire_bytes

BELGRADE = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 CET in Belgrade
MARK = re.compile(r"<mark[^>]*>(.*?)</mark>")


def hit(
    id: int,
    title: str,
    summary: str = "",
    *,
    link: str = "https://n1info.rs/vesti/1/",
    published: datetime = datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    queries: tuple[str, ...] = ("BIA",),
    feed: str = "N1 Srbija",
) -> Hit:
    """A hit whose matches come from the real matcher, so spans are where they would be."""
    item = Item(feed, f"id-{id}", title, summary, link, published)
    matches = tuple(Matcher({"bia": queries}).match(title, summary).get("bia", []))
    assert matches, f"test setup: {queries} does not match {title!r} / {summary!r}"
    return Hit(id, "bia", item, matches, published, None)


def render(hits, *, watchlist="bia", timezone=BELGRADE, now=NOW):
    return render_digest(watchlist, hits, Reader(timezone), now)


def joined(segments: tuple[Segment, ...]) -> str:
    return "".join(segment.text for segment in segments)


def marked(segments: tuple[Segment, ...]) -> list[str]:
    return [segment.text for segment in segments if segment.marked]


# --- subject and order ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "subject"),
    [
        (1, "[monitor] bia: 1 new item"),
        (2, "[monitor] bia: 2 new items"),
        (3, "[monitor] bia: 3 new items"),
        (0, "[monitor] bia: nothing new"),
    ],
)
def test_subject_counts_items_with_the_right_plural(count, subject):
    hits = [hit(i, f"BIA vest {i}") for i in range(1, count + 1)]

    digest = render(hits)

    assert digest.subject == subject
    assert digest.watchlist == "bia"


def test_heading_counts_items_in_both_parts():
    digest = render([hit(1, "BIA vest")])

    assert "1 new item ·" in digest.html
    assert digest.text.startswith("bia: 1 new item (")


def test_an_empty_digest_says_there_is_nothing_new_and_still_lists_problems():
    problem = Problem("Danas", NOW - timedelta(days=2), "http: HTTP 500")

    digest = render_digest("bia", [], Reader(BELGRADE), NOW, [problem])

    for part in (digest.html, digest.text):
        assert "Nothing new since the last digest." in part
        assert "Danas: failing since" in part
    assert digest.hit_ids == ()


def test_past_max_entries_the_newest_are_shown_the_rest_counted_and_all_covered():
    hits = [
        hit(n, f"BIA vest broj {n}", published=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=n))
        for n in range(1, 8)
    ]

    digest = render_digest("Srbija BIA", hits, Reader(BELGRADE), NOW, max_entries=3)

    assert digest.hit_ids == (7, 6, 5, 4, 3, 2, 1)  # covered: not sent again tomorrow
    for part in (digest.html, digest.text):
        assert [n for n in range(1, 8) if f"vest broj {n}<" in part or f"vest broj {n}\n" in part] == [
            5,
            6,
            7,
        ]
        assert "7 new items" in part
        assert "and 4 more" in part
    assert "run `monitor hits --watchlist 'Srbija BIA'`" in digest.text
    assert "run <code>monitor hits --watchlist &#39;Srbija BIA&#39;</code>" in digest.html


def test_no_more_line_when_every_entry_fits():
    digest = render_digest("bia", [hit(1, "BIA vest")], Reader(BELGRADE), NOW, max_entries=1)

    assert "more" not in digest.text
    assert "more:" not in digest.html


def test_a_templates_folder_replaces_the_templates_it_holds_and_keeps_escaping(tmp_path):
    (tmp_path / "digest.html").write_text(
        "<h1>{{ count }} for {{ watchlist }}</h1>{% for entry in entries %}"
        "<p>{% for part in entry.title %}{{ part.text }}{% endfor %}</p>{% endfor %}"
    )

    digest = render_digest(
        "bia", [hit(1, "BIA <script>alert(1)</script>")], Reader(BELGRADE), NOW, templates_folder=tmp_path
    )

    assert digest.html == "<h1>1 for bia</h1><p>BIA &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert digest.text.startswith("bia: 1 new item (")  # no digest.txt there: the packaged one


def test_a_template_using_a_name_it_is_not_given_fails_naming_its_file(tmp_path):
    (tmp_path / "digest.txt").write_text("{{ recipients }}")

    with pytest.raises(ConfigError, match=r"digest.txt: 'recipients' is undefined"):
        render_digest("bia", [hit(1, "BIA vest")], Reader(BELGRADE), NOW, templates_folder=tmp_path)


# --- one story, several outlets ---------------------------------------------------------------

DAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def story(
    id: int, feed: str, title: str, hours: float = 0, link: str | None = None, story: int | None = None
) -> Hit:
    """A hit of ``story`` (as the store found it; None: a story of its own)."""
    told = hit(
        id,
        title,
        feed=feed,
        published=DAY + timedelta(hours=hours),
        link=link or f"https://{feed.lower().replace(' ', '')}.rs/{id}/",
    )
    return replace(told, story=story)


def test_one_story_told_by_other_outlets_is_one_entry_shown_as_first_reported():
    hits = [
        story(1, "N1", "Srbija protera ruskog aktivistu nakon procene BIA", hours=1, story=1),
        story(2, "Danas", "Srbija proterala ruskog aktivistu posle procene BIA", hours=2, story=1),
        story(3, "RFE", "Ruski aktivista mora da napusti Srbiju, BIA", hours=3, link="javascript:x", story=1),
        story(4, "Danas", "Policija: BIA nije učestvovala u hapšenju u Novom Sadu", hours=0),
    ]

    digest = render(hits)

    assert digest.hit_ids == (3, 2, 1, 4)  # every hit covered, newest first
    assert 'also reported by: <a href="https://danas.rs/2/" style="color:#1d4ed8;">Danas</a>, RFE</div>' in (
        digest.html
    )
    assert "* Srbija protera ruskog aktivistu nakon procene *BIA*\n" in digest.text  # the first report
    assert "  also reported by: Danas <https://danas.rs/2/>, RFE\n" in digest.text
    assert digest.text.count("\n* ") == 2
    assert "4 new items" in digest.text


def test_hits_of_no_story_in_common_are_entries_of_their_own_however_alike():
    first = story(1, "N1", "Srbija protera ruskog aktivistu nakon procene BIA", hours=2)
    second = story(2, "Danas", "Srbija protera ruskog aktivistu nakon procene BIA", hours=1)

    digest = render([first, second])

    assert digest.text.count("\n* ") == 2
    assert "also reported by" not in digest.text


def test_the_storys_reports_that_no_watchlist_hit_are_named_too_with_their_language_or_script():
    """The store gives each hit its story's other reports; a report in another language is
    noted with its language, one in Serbian's other script with the script, in the reader's
    language."""
    shown = story(1, "N1", "Ruskom aktivisti Ilji Zotovu naloženo da napusti Srbiju, BIA", hours=1, story=1)
    reports = (
        Item(
            "Danas",
            "d-1",
            "Руском активисти Иљи Зотову наложено да напусти Србију",
            "",
            "https://danas.rs/1/",
            DAY,
        ),
        Item("Nova", "n-1", "Ilja Zotov mora da napusti Srbiju", "", "https://nova.rs/1/", DAY),
        Item("Meduza", "m-1", "Российскому активисту Илье Зотову велели покинуть Сербию", "", "", DAY),
    )
    digest = render([replace(shown, reports=reports)])

    assert (
        "also reported by: Danas (Cyrillic) <https://danas.rs/1/>, Nova <https://nova.rs/1/>, Meduza (ru)\n"
        in (digest.text)
    )
    in_cyrillic = render_digest("bia", [replace(shown, reports=reports)], Reader(BELGRADE, "sr-Cyrl"), NOW)
    assert "Danas (ћирилица)" in in_cyrillic.text and "Meduza (ru)" in in_cyrillic.text


def test_hits_with_huge_titles_render_with_all_their_text():
    titles = [f"BIA {n} " + " ".join(f"reč{n}x{k}" for k in range(25_000)) for n in range(5)]
    hits = [
        hit(n, title, published=datetime(2026, 3, 2, 7 - n, 0, tzinfo=UTC)) for n, title in enumerate(titles)
    ]

    digest = render(hits)

    assert len(titles[0]) > 200_000
    for title in titles:
        assert f"* *BIA* {title[4:]}\n" in digest.text
        assert title[4:] in digest.html
    assert digest.text.count("\n* ") == 5


def test_a_report_is_noted_with_its_language_only_where_the_shown_one_cannot_be_in_it():
    """A Latin title without a clue may be English or Serbian: a Serbian report beside it is not
    called "sr", a Russian one is "ru"."""
    shown = story(1, "Wire", "BIA", story=1)
    reports = (
        Item("N1", "n-1", "BIA saopštila da je aktivista bezbednosni rizik", "", "https://n1.rs/1/", DAY),
        Item(
            "Meduza", "m-1", "ФСБ и БИА: российскому активисту велели уехать", "", "https://meduza.io/1/", DAY
        ),
    )

    text = render([replace(shown, reports=reports)]).text

    assert "also reported by: N1 <https://n1.rs/1/>, Meduza (ru) <https://meduza.io/1/>\n" in text


def test_max_entries_counts_stories_not_hits():
    hits = [
        story(1, "N1", "Srbija protera ruskog aktivistu nakon procene BIA", hours=3, story=1),
        story(2, "Danas", "Srbija proterala ruskog aktivistu posle procene BIA", hours=2, story=1),
        story(3, "Danas", "Policija: BIA nije učestvovala u hapšenju u Novom Sadu", hours=0),
    ]

    digest = render_digest("bia", hits, Reader(BELGRADE), NOW, max_entries=1)

    assert "and 1 more" in digest.text and "Novom Sadu" not in digest.text


def test_the_header_names_the_period_since_the_last_digest_in_the_watchlist_timezone():
    last = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

    digest = render_digest("bia", [hit(1, "BIA vest")], Reader(BELGRADE), NOW, since=last)

    assert "1 new item since Mon, 2 Mar 2026, 08:00 · Tue, 3 Mar 2026, 08:00 CET" in digest.html
    assert digest.text.startswith("bia: 1 new item since Mon, 2 Mar 2026, 08:00 (Tue, 3 Mar")


def test_grouped_by_feed_the_outlets_come_in_order_each_under_its_heading_newest_first():
    hits = [
        story(1, "N1", "BIA saslušala aktivistu", hours=1),
        story(2, "Danas", "BIA i MUP o boravišnim dozvolama", hours=3),
        story(3, "N1", "Sud o odluci BIA o proterivanju", hours=4),
        story(4, "Danas", "Advokati traže uvid u procene BIA", hours=2),
    ]

    by_feed = render_digest("bia", hits, Reader(BELGRADE), NOW, group_by="feed")
    by_time = render(hits)

    text = by_feed.text
    assert text.index("== Danas ==") < text.index("i MUP") < text.index("Advokati") < text.index("== N1 ==")
    assert text.index("== N1 ==") < text.index("Sud o odluci") < text.index("saslušala")
    assert by_feed.html.count("text-transform:uppercase") == 2
    assert "==" not in by_time.text and "text-transform:uppercase" not in by_time.html


def test_newest_item_comes_first():
    old = hit(1, "BIA stara vest", published=datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    new = hit(2, "BIA nova vest", published=datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    middle = hit(3, "BIA srednja vest", published=datetime(2026, 3, 1, 19, 0, tzinfo=UTC))

    digest = render([old, new, middle])

    assert digest.hit_ids == (2, 3, 1)
    for part in (digest.html, digest.text):
        assert part.index("nova vest") < part.index("srednja vest") < part.index("stara vest")


def test_items_published_together_are_ordered_by_hit_id_descending():
    same = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

    digest = render([hit(5, "BIA a", published=same), hit(9, "BIA b", published=same)])

    assert digest.hit_ids == (9, 5)


# --- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "timezone", "shown"),
    [
        (datetime(2026, 3, 2, 7, 0, tzinfo=UTC), BELGRADE, "Mon, 2 Mar 2026, 08:00"),
        (datetime(2026, 6, 1, 6, 0, tzinfo=UTC), BELGRADE, "Mon, 1 Jun 2026, 08:00"),
        (datetime(2026, 3, 2, 7, 0, tzinfo=UTC), ZoneInfo("UTC"), "Mon, 2 Mar 2026, 07:00"),
        (datetime(2026, 3, 2, 23, 30, tzinfo=UTC), BELGRADE, "Tue, 3 Mar 2026, 00:30"),
    ],
)
def test_item_time_is_shown_in_the_watchlist_timezone(published, timezone, shown):
    digest = render([hit(1, "BIA vest", published=published)], timezone=timezone)

    assert shown in digest.html
    assert shown in digest.text


def test_generated_time_is_now_in_the_watchlist_timezone():
    digest = render([hit(1, "BIA vest")], now=datetime(2026, 6, 1, 6, 0, tzinfo=UTC))

    assert "Mon, 1 Jun 2026, 08:00 CEST" in digest.html
    assert digest.text.startswith("bia: 1 new item (Mon, 1 Jun 2026, 08:00 CEST)")


# --- highlighting in the rendered parts -----------------------------------------------------


def test_matched_words_are_marked_in_html():
    digest = render([hit(1, "Direktor BIA podneo ostavku", "BIA je saopštila, a ne Serbia")])

    assert MARK.findall(digest.html) == ["BIA", "BIA"]


def test_matched_words_are_starred_in_text():
    digest = render([hit(1, "Direktor BIA podneo ostavku", "BIA je saopštila")])

    assert "* Direktor *BIA* podneo ostavku" in digest.text
    assert "*BIA* je saopštila" in digest.text


def test_cyrillic_prefix_match_is_marked_whole():
    digest = render([hit(1, "Релоканты в Белграде", queries=("релокант*",))])

    assert MARK.findall(digest.html) == ["Релоканты"]
    assert "*Релоканты* в Белграде" in digest.text


def test_matched_queries_are_listed():
    digest = render([hit(1, "BIA i relokanti", queries=("BIA", "relokant*", "deport*"))])

    assert "matched: BIA · relokant*" in digest.html
    assert "matched: BIA · relokant*" in digest.text


def test_title_only_match_still_shows_the_summary_unmarked():
    digest = render([hit(1, "BIA saopštenje", "Agencija je objavila izveštaj.")])

    assert "Agencija je objavila izveštaj." in digest.html
    assert MARK.findall(digest.html) == ["BIA"]


def test_item_without_title_is_shown_by_its_link():
    digest = render([hit(1, "", "BIA saopštenje", link="https://n1info.rs/vesti/42/")])

    assert "* https://n1info.rs/vesti/42/" in digest.text


# --- escaping and links ---------------------------------------------------------------------


def test_feed_text_is_escaped_in_html():
    nasty = hit(
        1,
        'BIA <script>alert("x")</script> "citat"',
        "BIA <img src=x onerror=alert(1)> & <b>bold</b>",
        feed="N1 <i>Srbija</i>",
    )

    html = render([nasty]).html

    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(" in html
    assert '"x"' not in html and '"citat"' not in html
    assert re.search(r"(&#34;|&quot;)citat(&#34;|&quot;)", html)
    assert "&amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "N1 &lt;i&gt;Srbija&lt;/i&gt;" in html


def test_marked_text_is_escaped_too():
    html = render([hit(1, "x <BIA> y", queries=("BIA",))]).html

    assert MARK.findall(html) == ["BIA"]
    assert "&lt;<mark" in html


def test_watchlist_and_query_text_are_escaped_in_html():
    html = render([hit(1, "Security risk", queries=('"security risk"',))], watchlist="bia <b>").html

    assert "bia <b>" not in html
    assert "bia &lt;b&gt;" in html
    assert re.search(r"matched: (&#34;|&quot;)security risk(&#34;|&quot;)", html)


def test_text_part_keeps_feed_text_as_written():
    text = render([hit(1, 'BIA & "Rusi" <u Srbiji>')]).text

    assert '*BIA* & "Rusi" <u Srbiji>' in text


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_unsafe_link_is_not_rendered_as_an_href(link):
    digest = render([hit(1, "BIA vest", link=link)])

    assert "href" not in digest.html
    assert "javascript" not in digest.html.lower()
    assert "script:" not in digest.text.lower()
    assert "data:" not in digest.text


def test_http_link_is_rendered_as_an_escaped_href():
    digest = render([hit(1, "BIA vest", link="https://n1info.rs/vesti/?id=1&lang=sr")])

    assert 'href="https://n1info.rs/vesti/?id=1&amp;lang=sr"' in digest.html
    assert "  https://n1info.rs/vesti/?id=1&lang=sr" in digest.text


# --- snippet --------------------------------------------------------------------------------

LONG = (
    "Beograd — "
    + "Vlada je danas održala sednicu o budžetu i infrastrukturi. " * 5
    + "Prema saopštenju, BIA je pozvala ruskog aktivistu na informativni razgovor. "
    + "Aktivista je rekao da ne zna razlog poziva. " * 12
    + "Kraj vesti."
)


def spans_of(query: str, text: str) -> list[Span]:
    found = Matcher({"w": [query]}).match("", text).get("w", [])
    return [span for match in found for span in match.spans]


def test_snippet_of_a_long_summary_is_a_window_around_the_first_match():
    spans = spans_of("BIA", LONG)

    segments = snippet(LONG, spans)
    text = joined(segments)

    assert segments[0] == Segment("… ")
    assert segments[-1] == Segment(" …")
    assert marked(segments) == ["BIA"]
    assert len(text) < len(LONG)
    assert text.startswith("… ") and text.endswith(" …")


def test_snippet_window_is_cut_at_word_boundaries():
    segments = snippet(LONG, spans_of("BIA", LONG))

    inner = joined(segments).removeprefix("… ").removesuffix(" …")
    at = LONG.index(inner)
    assert LONG[at - 1] == " "
    assert LONG[at + len(inner)] == " "


def test_snippet_window_scales_with_context():
    spans = spans_of("BIA", LONG)

    inner = joined(snippet(LONG, spans, context=40)).removeprefix("… ").removesuffix(" …")

    assert 25 <= inner.index("BIA") <= 40  # about `context` characters lead up to the match
    assert 80 <= len(inner) <= 3 * 40


def test_snippet_of_a_short_summary_is_the_whole_text():
    text = "Prema saopštenju, BIA je pozvala aktivistu."

    segments = snippet(text, spans_of("BIA", text))

    assert joined(segments) == text
    assert [s.text for s in segments] == ["Prema saopštenju, ", "BIA", " je pozvala aktivistu."]


def test_snippet_near_the_start_has_no_leading_ellipsis():
    text = "BIA je saopštila " + "da nema novih informacija o slučaju. " * 12

    segments = snippet(text, spans_of("BIA", text))

    assert segments[0] == Segment("BIA", marked=True)
    assert segments[-1] == Segment(" …")


def test_snippet_near_the_end_has_no_trailing_ellipsis():
    text = "Slučaj i dalje nije rešen, kažu izvori bliski istrazi. " * 8 + "Pitanje za BIA"

    segments = snippet(text, spans_of("BIA", text))

    assert segments[0] == Segment("… ")
    assert segments[-1] == Segment("BIA", marked=True)


def test_snippet_without_spans_is_the_start_of_the_text():
    segments = snippet(LONG, [])

    assert joined(segments).startswith("Beograd — Vlada je danas")
    assert segments[-1] == Segment(" …")
    assert marked(segments) == []


def test_long_summary_in_the_digest_is_windowed():
    digest = render([hit(1, "Poziv na razgovor", LONG)])

    assert MARK.findall(digest.html) == ["BIA"]
    assert "… " in digest.html and " …" in digest.html
    assert "Beograd" not in digest.html
    assert "Kraj vesti" not in digest.html
    assert "Kraj vesti" not in digest.text


def test_snippet_keeps_the_match_when_no_space_precedes_it_in_the_window():
    text = "Izvor: https://example.org/" + "/".join(["arhiva"] * 30) + "/BIA " + "kraj " * 60

    segments = snippet(text, spans_of("BIA", text))

    assert marked(segments) == ["BIA"]


# --- highlight ------------------------------------------------------------------------------


def span(start: int, end: int, text: str = "") -> Span:
    return Span("summary", start, end, text)


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("abc BIA def", [span(4, 7)], [("abc ", False), ("BIA", True), (" def", False)]),
        ("BIA def", [span(0, 3)], [("BIA", True), (" def", False)]),
        ("abc BIA", [span(4, 7)], [("abc ", False), ("BIA", True)]),
        ("BIA", [span(0, 3)], [("BIA", True)]),
        ("no match here", [], [("no match here", False)]),
        (
            "BIA i BIA",
            [span(6, 9), span(0, 3)],  # out of order
            [("BIA", True), (" i ", False), ("BIA", True)],
        ),
        (
            "relokanti u Srbiji",
            [span(0, 9), span(0, 18)],  # overlapping: merged
            [("relokanti u Srbiji", True)],
        ),
        (
            "ab cd",
            [span(0, 2), span(2, 5)],  # touching: merged
            [("ab cd", True)],
        ),
        ("", [], []),
    ],
)
def test_highlight_splits_at_span_offsets(text, spans, expected):
    assert [(s.text, s.marked) for s in highlight(text, spans)] == expected


def test_highlight_window_clips_spans_to_it():
    text = "BIA je pozvala BIA aktivistu BIA"

    segments = highlight(text, [span(0, 3), span(15, 18), span(29, 32)], start=2, end=20)

    assert [(s.text, s.marked) for s in segments] == [
        ("A", True),
        (" je pozvala ", False),
        ("BIA", True),
        (" a", False),
    ]


def test_highlight_uses_offsets_not_text_search():
    segments = highlight("BIA i BIA", [span(6, 9, "BIA")])

    assert [(s.text, s.marked) for s in segments] == [("BIA i ", False), ("BIA", True)]


# --- text layout ----------------------------------------------------------------------------


def test_text_digest_indents_the_snippet_under_its_item():
    text = render([hit(1, "Vest", "Prema saopštenju, BIA je pozvala aktivistu.")]).text

    assert "\n  Prema saopštenju, *BIA* je pozvala aktivistu." in text


# --- the email message ----------------------------------------------------------------------


@pytest.fixture
def digest() -> Digest:
    return render([hit(1, "Релоканты и BIA", "Prema saopštenju, BIA je pozvala aktivistu.")])


def test_message_is_multipart_alternative_with_text_then_html(digest):
    message = build_message(digest, "monitor@example.org", ["desk@example.org"], NOW)

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().rstrip("\n") == digest.text.rstrip("\n")
    assert parts[1].get_content().rstrip("\n") == digest.html.rstrip("\n")


def test_message_prefers_html_and_keeps_cyrillic(digest):
    message = build_message(digest, "monitor@example.org", ["desk@example.org"], NOW)

    assert message.get_body(("html", "plain")).get_content_type() == "text/html"
    assert "Релоканты" in message.get_body(("plain",)).get_content()
    assert "Релоканты" in message.get_body(("html",)).get_content()


def test_message_headers(digest):
    now = datetime(2026, 3, 3, 8, 0, tzinfo=BELGRADE)

    message = build_message(digest, "monitor@example.org", ["desk@example.org", "legal@example.org"], now)

    assert message["From"] == "monitor@example.org"
    assert message["To"] == "desk@example.org, legal@example.org"
    assert message["Subject"] == "[monitor] bia: 1 new item"
    assert parsedate_to_datetime(message["Date"]) == now
    assert parsedate_to_datetime(message["Date"]).utcoffset() == timedelta(hours=1)
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", message["Message-ID"])


def test_message_ids_are_unique(digest):
    ids = {
        build_message(digest, "monitor@example.org", ["desk@example.org"], NOW)["Message-ID"]
        for _ in range(20)
    }

    assert len(ids) == 20


def test_message_subject_has_newlines_collapsed():
    digest = Digest("bia", "[monitor] bia:\r\n 2 new\n\titems", "<p>x</p>", "x", (1, 2))

    message = build_message(digest, "monitor@example.org", ["desk@example.org"], NOW)

    assert message["Subject"] == "[monitor] bia: 2 new items"
    assert "\n" not in str(message["Subject"])


def test_message_serialises_with_headers_before_the_body(digest):
    message = build_message(digest, "Monitor <monitor@example.org>", ["desk@example.org"], NOW)

    raw = message.as_string()
    head, _, _ = raw.partition("\n\n")
    for header in ("Subject:", "From:", "To:", "Date:", "Message-ID:", "Content-Type: multipart"):
        assert header in head
    assert parseaddr(message["From"]) == ("Monitor", "monitor@example.org")
    assert message["Message-ID"].endswith("@example.org>")


# --- sources with problems ------------------------------------------------------------------


def test_failing_and_gone_sources_are_named_at_the_end_of_both_parts():
    problems = [
        Problem("RTS Vesti", datetime(2026, 3, 1, 5, 30, tzinfo=UTC), "http: HTTP 500 <Internal> Error"),
        Problem("Old Blog", None, "gone: HTTP 410 Gone: the publisher removed the feed"),
    ]

    digest = render_digest("bia", [hit(1, "BIA saopštila")], Reader(BELGRADE), NOW, problems)

    expected = "RTS Vesti: failing since Sun, 1 Mar 2026, 06:30 (http: HTTP 500 <Internal> Error)"
    assert f"Sources with problems:\n  {expected}" in digest.text
    assert "Old Blog: gone: no longer polled" in digest.text
    assert "HTTP 500 &lt;Internal&gt; Error" in digest.html
    assert digest.html.index("Sources with problems") > digest.html.index("BIA")


def test_no_problem_section_when_every_source_works():
    digest = render([hit(1, "BIA saopštila")])

    assert "problems" not in digest.text and "problems" not in digest.html


def test_spans_that_no_longer_fit_an_edited_item_are_not_marked():
    stale = hit(1, "BIA saopštila")
    edited = Hit(
        stale.id,
        stale.watchlist,
        Item(stale.item.feed, stale.item.id, "Saopštenje: BIA", "", stale.item.link, stale.item.published),
        stale.matches,
        stale.created,
        None,
    )

    assert MARK.findall(render([edited]).html) == []


def test_the_other_outlets_that_carried_a_story_are_named_once_escaped():
    story = hit(1, "BIA saopštila")
    carried = Hit(
        story.id, story.watchlist, story.item, story.matches, story.created, None, ("Danas", "<RFE/RL>")
    )

    digest = render([carried])

    assert "  also in: Danas, <RFE/RL>\n" in digest.text
    assert "also in: Danas, &lt;RFE/RL&gt;" in digest.html
    assert "also in" not in render([story]).text


def test_wire_bytes_are_the_message_with_crlf_line_ends_and_read_back_the_same(digest):
    message = build_message(digest, "monitor@example.org", ["desk@example.org"], NOW)

    raw = wire_bytes(message)

    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n")
    again = message_from_bytes(raw, policy=policy.default)
    assert again["Message-ID"] == message["Message-ID"]
    text = again.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == message.get_body(("plain",)).get_content()
    assert wire_bytes(message) == raw


def test_wire_bytes_keep_an_address_that_needs_utf8_as_written(digest):
    message = build_message(digest, "monitor@example.org", ["đorđe@primer.rs"], NOW)

    assert b"To: \xc4\x91or\xc4\x91e@primer.rs\r\n" in wire_bytes(message)


# --- alerts and the channels' notice ---------------------------------------------------------


def test_an_alert_says_so_in_its_subject_and_header_and_a_digest_marks_what_was_alerted():
    told = Hit(1, "bia", hit(1, "BIA vest").item, hit(1, "BIA vest").matches, NOW, None, alerted=NOW)

    alert = render_digest("bia", [hit(2, "BIA druga vest")], Reader(BELGRADE), NOW, kind="alert")
    digest = render_digest("bia", [told], Reader(BELGRADE), NOW)

    assert alert.subject == "[monitor] alert: bia — 1 new item"
    assert alert.text.startswith("Alert: bia: 1 new item") and "monitor · alert" in alert.html
    assert "· alerted at 08:00" in digest.text and "alerted at 08:00" in digest.html
    assert digest.notice.startswith("• *BIA* vest (alerted at 08:00)\nN1 Srbija · https://n1info.rs/vesti/1/")


def test_the_notice_lists_titles_and_links_within_its_limit_and_counts_the_rest():
    hits = [
        hit(
            n,
            f"BIA vest broj {n} " + "reč " * 40,
            link=f"https://n1info.rs/vesti/{n}/",
            published=NOW - timedelta(minutes=n),
        )
        for n in range(1, 101)
    ]

    digest = render_digest("bia", hits, Reader(BELGRADE), NOW, max_entries=90)
    shown = digest.notice.count("• ")

    assert len(digest.notice) <= 3500 and 10 < shown < 90
    assert digest.notice.endswith(f"\n\nand {100 - shown} more: run `monitor hits --watchlist bia`")
    assert "https://n1info.rs/vesti/1/" in digest.notice  # the newest first


def test_an_empty_digest_s_notice_says_nothing_is_new():
    assert render_digest("bia", [], Reader(BELGRADE), NOW).notice == "Nothing new since the last digest."
