"""parse_feed: feed bytes → Items. Small feed documents written inline, shaped like real feeds."""

# Cyrillic letters that look Latin are the point of these tests.

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import FeedError, ParseError
from monitor.feeds.clean import SUMMARY_LIMIT, TITLE_LIMIT
from monitor.feeds.parse import MAX_ENTRIES, parse_feed, plain_text
from monitor.feeds.prescan import entry_fingerprints, read_feed

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
FEED_URL = "https://n1info.rs/feed/"

N1_RSS = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>N1 Srbija</title>
  <link>https://n1info.rs/</link>
  <description>Najnovije vesti</description>
  <language>sr-RS</language>
  <item>
    <title>BIA pozvala ruskog aktivistu na razgovor</title>
    <link>https://n1info.rs/vesti/bia-ruski-aktivista/</link>
    <dc:creator><![CDATA[N1 Beograd]]></dc:creator>
    <pubDate>Sun, 29 Mar 2026 10:15:00 +0100</pubDate>
    <guid isPermaLink="false">https://n1info.rs/?p=2419871</guid>
    <description><![CDATA[<p>Bezbednosno-informativna agencija (BIA) &amp; policija
      <a href="https://n1info.rs/tag/bia/">saopštile</a> su&hellip;</p>]]></description>
  </item>
  <item>
    <title>БИА: релоканти у Србији под лупом</title>
    <link>https://n1info.rs/vesti/bia-relokanti-cir/</link>
    <pubDate>Sun, 29 Mar 2026 09:00:00 +0100</pubDate>
    <guid isPermaLink="false">https://n1info.rs/?p=2419870</guid>
    <description><![CDATA[<p>Руски држављани који живе у Србији&hellip;</p>]]></description>
  </item>
</channel>
</rss>
""".encode()


def parse(body: bytes, *, url: str = FEED_URL, now: datetime = NOW, headers=None):
    return parse_feed(body, headers or {}, feed="N1 Srbija", url=url, now=now).items


def rss(*items: str, encoding: str = "UTF-8") -> str:
    """An RSS 2.0 document around the given <item> elements (as text, encode it yourself)."""
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0"><channel><title>Test</title><link>https://example.rs/</link>'
        "<description>d</description>" + "".join(items) + "</channel></rss>"
    )


def only(items):
    assert len(items) == 1
    return items[0]


# --- the shape of a real feed ---------------------------------------------------------------


def test_n1_feed_gives_one_item_per_entry_in_document_order():
    items = parse(N1_RSS)

    assert [item.title for item in items] == [
        "BIA pozvala ruskog aktivistu na razgovor",
        "БИА: релоканти у Србији под лупом",
    ]
    assert {item.feed for item in items} == {"N1 Srbija"}


def test_n1_item_fields_are_normalised():
    first = parse(N1_RSS)[0]

    assert first.id == "https://n1info.rs/?p=2419871"
    assert first.link == "https://n1info.rs/vesti/bia-ruski-aktivista/"
    assert first.summary == ("Bezbednosno-informativna agencija (BIA) & policija saopštile su…")
    assert first.published == datetime(2026, 3, 29, 9, 15, tzinfo=UTC)


def test_cyrillic_item_keeps_its_script():
    second = parse(N1_RSS)[1]

    assert second.title == "БИА: релоканти у Србији под лупом"
    assert second.summary == "Руски држављани који живе у Србији…"


def test_atom_feed_uses_entry_id_alternate_link_and_updated():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Balkan Insight</title>
  <id>tag:balkaninsight.com,2026:feed</id>
  <updated>2026-03-01T10:00:00Z</updated>
  <entry>
    <title type="html">Serbia expels Russian &lt;em&gt;anti-war&lt;/em&gt; activist</title>
    <id>tag:balkaninsight.com,2026:entry-991</id>
    <link rel="alternate" type="text/html" href="https://balkaninsight.com/2026/03/01/serbia-expels/"/>
    <link rel="enclosure" href="https://balkaninsight.com/img/991.jpg" type="image/jpeg"/>
    <updated>2026-03-01T11:30:00+01:00</updated>
    <summary type="html">&lt;p&gt;The &lt;b&gt;BIA&lt;/b&gt; found a
      &amp;quot;security risk&amp;quot;.&lt;/p&gt;</summary>
  </entry>
</feed>"""

    item = only(parse(atom, url="https://balkaninsight.com/feed/"))

    assert item.id == "tag:balkaninsight.com,2026:entry-991"
    assert item.link == "https://balkaninsight.com/2026/03/01/serbia-expels/"
    assert item.title == "Serbia expels Russian anti-war activist"
    assert item.summary == 'The BIA found a "security risk".'
    assert item.published == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


# --- ids ------------------------------------------------------------------------------------


def test_guid_is_the_id_even_when_there_is_a_link():
    body = rss(
        "<item><title>t</title><link>https://example.rs/a</link>"
        '<guid isPermaLink="false">  urn:example:42  </guid></item>'
    ).encode()

    assert only(parse(body)).id == "urn:example:42"


def test_link_is_the_id_when_there_is_no_guid():
    body = rss("<item><title>t</title><link>https://example.rs/vesti/42/</link></item>").encode()

    assert only(parse(body)).id == "https://example.rs/vesti/42/"


def _no_guid_no_link(title: str, date: str | None) -> bytes:
    pub = f"<pubDate>{date}</pubDate>" if date else ""
    return rss(f"<item><title>{title}</title>{pub}<description>x</description></item>").encode()


def test_entry_without_guid_or_link_gets_a_sha256_id():
    item = only(parse(_no_guid_no_link("Protest u Beogradu", "Sun, 29 Mar 2026 10:15:00 +0100")))

    assert re.fullmatch(r"sha256:[0-9a-f]{64}", item.id)


def test_hashed_id_is_the_same_on_the_next_poll():
    body = _no_guid_no_link("Protest u Beogradu", "Sun, 29 Mar 2026 10:15:00 +0100")

    first = only(parse(body, now=NOW))
    again = only(parse(body, now=NOW + timedelta(hours=1)))

    assert first.id == again.id


def test_hashed_id_does_not_depend_on_now_when_the_date_is_missing():
    body = _no_guid_no_link("Protest u Beogradu", None)

    first = only(parse(body, now=NOW))
    later = only(parse(body, now=NOW + timedelta(days=1)))

    assert first.published != later.published
    assert first.id == later.id


def test_hashed_id_does_not_depend_on_position_in_the_feed():
    a = "<item><title>Prva vest</title></item>"
    b = "<item><title>Druga vest</title></item>"

    ids = {item.title: item.id for item in parse(rss(a, b).encode())}
    swapped = {item.title: item.id for item in parse(rss(b, a).encode())}

    assert ids == swapped


@pytest.mark.parametrize(
    ("title", "date"),
    [
        ("Protest u Novom Sadu", "Sun, 29 Mar 2026 10:15:00 +0100"),
        ("Protest u Beogradu", "Mon, 30 Mar 2026 10:15:00 +0100"),
    ],
)
def test_hashed_id_changes_with_title_or_date(title, date):
    base = only(parse(_no_guid_no_link("Protest u Beogradu", "Sun, 29 Mar 2026 10:15:00 +0100")))

    other = only(parse(_no_guid_no_link(title, date)))

    assert other.id != base.id


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&#1041;&#1048;&#1040; saopštenje", "БИА saopštenje"),
        ("&#x411;&#x418;&#x410;", "БИА"),
        ("<p>Prvi pasus</p><p>Drugi pasus</p>", "Prvi pasus Drugi pasus"),
        ("linija<br/>druga", "linija druga"),
        ("<p>Vest <b>dana</b></p><script>var ad = 'BIA';</script>", "Vest dana"),
        ("<style>p { color: red }</style><p>Tekst</p>", "Tekst"),
        ("  mnogo \n\t  razmaka  ", "mnogo razmaka"),
        ("relo\u00adkanti", "relokanti"),
        ("relo&shy;kanti", "relokanti"),
        ("zero\u200bwidth", "zerowidth"),
        ("5 < 6 and <i>7</i> > 6", "5 < 6 and 7 > 6"),
        ("Bezbednosno-informativna", "Bezbednosno-informativna"),
        ("", ""),
    ],
)
def test_plain_text(fragment, expected):
    assert plain_text(fragment) == expected


def test_plain_text_composes_decomposed_letters():
    decomposed = "dru\u0073\u030cтво"  # "s" + combining caron

    assert plain_text(decomposed) == "dru\u0161тво"


def test_title_and_summary_lose_tags_entities_and_script():
    body = rss(
        "<item><title>Vu&#269;i&#263; &amp; BIA: &#1041;&#1048;&#1040;</title>"
        '<guid isPermaLink="false">g1</guid>'
        "<description><![CDATA[<p>Prvi &amp; <strong>drugi</strong></p>"
        "<script type=\"text/javascript\">document.write('BIA reklama')</script>"
        "<p>tre&#263;i</p>]]></description></item>"
    ).encode()

    item = only(parse(body))

    assert item.title == "Vučić & BIA: БИА"
    assert item.summary == "Prvi & drugi treći"
    assert "document.write" not in item.summary
    assert "reklama" not in item.summary


def test_escaped_html_in_description_is_stripped():
    body = rss(
        '<item><guid isPermaLink="false">g</guid><title>t</title>'
        "<description>&lt;p&gt;Vest &lt;a href=&quot;https://n1info.rs/&quot;&gt;ovde&lt;/a&gt;"
        "&lt;/p&gt;</description></item>"
    ).encode()

    assert only(parse(body)).summary == "Vest ovde"


def test_soft_hyphen_is_removed_from_title_and_summary():
    body = rss(
        '<item><guid isPermaLink="false">g</guid>'
        "<title>Relo\u00adkanti u Srbiji</title>"
        "<description>Bez\u00adbed\u00adnos\u00adno-in\u00adfor\u00adma\u00adtiv\u00adna</description>"
        "</item>"
    ).encode()

    item = only(parse(body))

    assert item.title == "Relokanti u Srbiji"
    assert item.summary == "Bezbednosno-informativna"


def test_entities_in_html_with_tags_are_decoded_only_once():
    # The HTML says the literal text "&nbsp;", as an article about HTML would.
    body = rss(
        '<item><guid isPermaLink="false">g</guid><title>t</title>'
        "<description><![CDATA[<p>Write &amp;nbsp; for a space</p>]]></description></item>"
    ).encode()

    assert only(parse(body)).summary == "Write &nbsp; for a space"


# --- hostile text: what a feed cannot make us store ------------------------------------------


def atom(*entries: str) -> str:
    """An Atom document around the given <entry> elements (as text, encode it yourself)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Test</title><id>urn:test</id>" + "".join(entries) + "</feed>"
    )


def hostile(kind: str, bad: str) -> bytes:
    """A feed with ``bad`` inside its entry's title, summary, link and id."""
    if kind == "rss":
        return rss(
            f"<item><title>BIA{bad} saopštenje</title><description>Tekst{bad} vesti</description>"
            f"<link>https://n1info.rs/vesti/1{bad}/</link><guid>urn:n1:1{bad}</guid></item>"
        ).encode()
    return atom(
        f'<entry><title>BIA{bad} saopštenje</title><summary type="html">Tekst{bad} vesti</summary>'
        f'<link href="https://n1info.rs/vesti/1{bad}/"/><id>urn:n1:1{bad}</id></entry>'
    ).encode()


INVALID_CODE_POINTS = [
    "&#xD800;",  # a lone surrogate: feedparser's fallback parser raised UnicodeEncodeError
    "&#xDFFF;",
    "&#55296;",
    "&#xDBFF;&#xDFFF;",  # a surrogate pair written as two references is two lone surrogates
    "&#x110000;",  # past the last code point: ValueError
    "&#99999999999999999999;",  # OverflowError
    "&#xFFFE;",  # noncharacters
    "&#xFFFF;",
    "&#xFDD0;",
    "&#x1FFFF;",
]
# C1 controls in text become windows-1252's letters in feedparser (&#x9F; is Ÿ): test_text has them
CONTROLS = ["&#0;", "&#x0;", "\x00", "&#1;", "&#x1B;", "\x1b", "\x08", "\x7f"]
FORMAT = ["&#x202E;", "\u202e", "\u2066", "&#x2069;", "\u206a", "\U000e0041"]


@pytest.mark.parametrize("kind", ["rss", "atom"])
@pytest.mark.parametrize("bad", [*INVALID_CODE_POINTS, *CONTROLS, *FORMAT])
def test_what_no_stored_text_may_hold_is_dropped_from_every_field(kind, bad):
    item = only(parse(hostile(kind, bad)))

    assert (item.title, item.summary, item.link, item.id) == (
        "BIA saopštenje",
        "Tekst vesti",
        "https://n1info.rs/vesti/1/",
        "urn:n1:1",
    )
    for text in (item.title, item.summary, item.link, item.id):
        text.encode("utf-8")  # what the database and the digest are given


@pytest.mark.parametrize("bad", [*INVALID_CODE_POINTS, "&#0;", "&#x1B;"])
def test_an_invalid_reference_in_cdata_is_dropped_too(bad):
    body = rss(
        f"<item><guid>g</guid><title><![CDATA[BIA{bad} saopštenje]]></title>"
        f"<description><![CDATA[<p>Tekst{bad} vesti</p>]]></description></item>"
    ).encode()

    item = only(parse(body))

    assert (item.title, item.summary) == ("BIA saopštenje", "Tekst vesti")


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_escaped_reference_is_text_not_a_reference(kind):
    """ "&amp;#xD800;" is the text "&#xD800;": not dropped from the XML, and the link keeps it."""
    item = only(parse(hostile(kind, "&amp;#xD800;")))

    assert item.link == "https://n1info.rs/vesti/1&#xD800;/"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_invalid_references_no_longer_make_the_feed_malformed(kind):
    parsed = parse_feed(hostile(kind, "&#xD800;&#0;&#xFFFE;"), {}, feed="f", url=FEED_URL, now=NOW)

    assert parsed.warnings == ()


def test_a_feed_with_raw_control_bytes_is_read_without_them():
    body = rss("<item><guid>g</guid><title>BIA\x00 \x1b[31msaopštenje\x07</title></item>").encode()

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert [item.title for item in parsed.items] == ["BIA [31msaopštenje"]


def test_read_feed_drops_invalid_references_from_new_entries_too():
    """The pre-scan's lxml refuses the reference, so it is unsure and the whole body is read."""
    first = read(channel(FIRST))
    new = '<item><guid isPermaLink="false">c</guid><title>Novo&#xD800;: BIA&#0;</title></item>'

    again = read(channel(new, FIRST), first.fingerprints)

    assert again.parsed is not None
    assert [item.title for item in again.parsed.items] == ["Novo: BIA", "BIA i relokanti"]


def test_the_marks_languages_need_are_kept():
    title = "\u05e9\u05dc\u05d5\u05dd\u200e 2026 \u0645\u0631\u062d\u0628\u0627\u200f!"

    assert only(parse(rss(f"<item><guid>g</guid><title>{title}</title></item>").encode())).title == title


def test_a_bug_of_feedparser_on_a_broken_document_is_that_feed_s_parse_error():
    """Its fallback parser raises TypeError on an <image> closing a <width> it never opened."""
    body = rss("<image></width></image><item><guid>g</guid><title>t</title></item>").encode()

    with pytest.raises(ParseError, match=r"feedparser failed \(TypeError") as raised:
        parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)
    assert raised.value.url == FEED_URL


def test_an_unclosed_element_with_an_invalid_reference_is_read_anyway():
    body = rss("<item><guid>g</guid><title>t</title><description>x&#xD800;</item>").encode()

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert [(item.title, item.summary) for item in parsed.items] == [("t", "")]
    assert parsed.warnings[0].startswith("malformed feed, read anyway: ")


def test_an_entry_whose_summary_feedparser_leaves_empty_is_read():
    """Its fallback parser gives None for a media:description closed by another element."""
    body = rss(
        '<item><guid>g</guid><title>t</title><media:description xmlns:media="http://search.yahoo.com/mrss/">'
        "</content:encoded></item>"
    ).encode()

    assert only(parse(body)).summary == ""


# --- huge items and feeds -------------------------------------------------------------------


def test_a_huge_title_and_summary_are_cut_at_a_word():
    words = " ".join(f"reč{n}" for n in range(60_000))
    body = rss(
        f"<item><guid>g</guid><title>BIA {words}</title><description>{words}</description></item>"
    ).encode()

    item = only(parse(body))

    assert len(item.title) <= TITLE_LIMIT and len(item.summary) <= SUMMARY_LIMIT
    assert item.title.endswith("…") and item.summary.endswith("…")
    assert item.title.startswith("BIA reč0 reč1 ")
    assert item.title[:-1] in f"BIA {words} "  # whole words: the cut is at a space
    assert words.startswith(item.summary[:-1] + " ")


def dated(n: int) -> str:
    """An entry published ``n`` minutes after midnight of 1 March 2026."""
    published = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=n)
    return (
        f'<item><guid isPermaLink="false">e{n}</guid><title>Vest {n}</title>'
        f"<pubDate>{published:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
    )


def test_the_newest_entries_are_read_in_document_order_and_the_rest_counted():
    order = [3, 9, 1, 7, 5, 8, 2]  # a feed out of date order

    parsed = parse_feed(rss(*map(dated, order)).encode(), {}, feed="f", url=FEED_URL, now=NOW, max_entries=4)

    assert [item.id for item in parsed.items] == ["e9", "e7", "e5", "e8"]
    assert parsed.warnings == ("the feed has 7 entries; read the newest 4",)


def test_undated_entries_keep_document_order():
    entries = [f'<item><guid isPermaLink="false">u{n}</guid><title>Vest {n}</title></item>' for n in range(5)]

    parsed = parse_feed(rss(dated(1), *entries).encode(), {}, feed="f", url=FEED_URL, now=NOW, max_entries=3)

    assert [item.id for item in parsed.items] == ["u0", "u1", "u2"]  # as new as now: newer than e1


def test_a_feed_of_more_than_max_entries_is_read_to_max_entries():
    body = rss(*map(dated, range(MAX_ENTRIES + 5))).encode()

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert len(parsed.items) == MAX_ENTRIES
    assert parsed.items[0].id == "e5"
    assert parsed.warnings == (f"the feed has {MAX_ENTRIES + 5} entries; read the newest {MAX_ENTRIES}",)


def test_entries_left_out_are_not_read_again_and_new_ones_are_read():
    old = [dated(n) for n in range(10)]

    first = read_feed(channel(*old), {}, feed="f", url=FEED_URL, now=NOW, seen=frozenset(), max_entries=4)
    same = read_feed(
        channel(*old), {}, feed="f", url=FEED_URL, now=NOW, seen=first.fingerprints, max_entries=4
    )
    newer = read_feed(
        channel(dated(20), *old), {}, feed="f", url=FEED_URL, now=NOW, seen=first.fingerprints, max_entries=4
    )

    assert first.parsed is not None and [item.id for item in first.parsed.items] == ["e6", "e7", "e8", "e9"]
    assert same.parsed is None
    assert newer.parsed is not None and [item.id for item in newer.parsed.items] == ["e20"]
    assert newer.parsed.warnings == ()


# --- dates ----------------------------------------------------------------------------------


def test_published_from_a_plus_0100_date_is_aware_utc():
    body = rss(
        '<item><guid isPermaLink="false">g</guid><title>t</title>'
        "<pubDate>Sun, 29 Mar 2026 10:15:00 +0100</pubDate></item>"
    ).encode()

    published = only(parse(body)).published

    assert published == datetime(2026, 3, 29, 9, 15, tzinfo=UTC)
    assert published.utcoffset() == timedelta(0)


def test_atom_published_is_preferred_to_updated():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
<updated>2026-03-02T00:00:00Z</updated>
<entry><title>e</title><id>urn:e</id>
<published>2026-03-01T08:00:00+03:00</published><updated>2026-03-02T09:00:00Z</updated>
</entry></feed>"""

    assert only(parse(atom)).published == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def test_missing_date_falls_back_to_now():
    body = rss('<item><guid isPermaLink="false">g</guid><title>Bez datuma</title></item>').encode()

    assert only(parse(body, now=NOW)).published == NOW


def test_unparseable_date_falls_back_to_now():
    body = rss(
        '<item><guid isPermaLink="false">g</guid><title>t</title><pubDate>juče uveče</pubDate></item>'
    ).encode()

    assert only(parse(body, now=NOW)).published == NOW


# --- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/vesti/bia-123/", "https://n1info.rs/vesti/bia-123/"),
        ("bia-123/", "https://n1info.rs/feed/bia-123/"),
        ("../vesti/bia-123/", "https://n1info.rs/vesti/bia-123/"),
        ("https://other.rs/x", "https://other.rs/x"),
    ],
)
def test_relative_link_is_resolved_against_the_feed_url(link, expected):
    body = rss(f'<item><guid isPermaLink="false">g</guid><title>t</title><link>{link}</link></item>')

    assert only(parse(body.encode(), url="https://n1info.rs/feed/")).link == expected


def test_each_feed_resolves_links_against_its_own_url_and_xml_base():
    body = rss('<item><guid isPermaLink="false">g</guid><title>t</title><link>bia-1/</link></item>').encode()
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://danas.rs/rss/">
  <title>Danas</title><id>urn:danas</id><updated>2026-03-29T10:00:00Z</updated>
  <entry xml:base="https://danas.rs/vesti/"><id>urn:1</id><title>t</title>
    <updated>2026-03-29T10:00:00Z</updated><link href="bia-2/"/></entry>
  <entry><id>urn:2</id><title>u</title><updated>2026-03-29T10:00:00Z</updated><link href="bia-3/"/></entry>
</feed>"""

    for _ in range(2):  # what feedparser remembers of one document does not leak into another
        assert only(parse(body, url="https://n1info.rs/feed/")).link == "https://n1info.rs/feed/bia-1/"
        assert only(parse(body, url="https://nova.rs/rss/")).link == "https://nova.rs/rss/bia-1/"
        links = [item.link for item in parse(atom, url="https://danas.rs/feed/")]
        assert links == ["https://danas.rs/vesti/bia-2/", "https://danas.rs/rss/bia-3/"]


def test_entry_without_link_has_empty_link():
    body = rss('<item><guid isPermaLink="false">g</guid><title>t</title></item>').encode()

    assert only(parse(body)).link == ""


# --- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "application/rss+xml"}, {"Content-Type": "text/xml; charset=windows-1251"}],
)
def test_cp1251_body_with_encoding_declaration_gives_cyrillic(headers):
    body = rss(
        '<item><guid isPermaLink="false">rts-1</guid>'
        "<title>Релоканты в Сербии</title>"
        "<description>&lt;p&gt;Безбедносно-информативна агенција (БИА)&lt;/p&gt;</description></item>",
        encoding="windows-1251",
    ).encode("cp1251")

    item = only(parse(body, headers=headers))

    assert item.title == "Релоканты в Сербии"
    assert item.summary == "Безбедносно-информативна агенција (БИА)"


RUSSIAN_ITEM = (
    '<item><guid isPermaLink="false">fontanka-1</guid>'
    "<title>Высылка релокантов из Сербии: МВД отказало в виде на жительство</title>"
    "<description>Граждане России, выступавшие против войны, получили отказ.</description></item>"
)


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_legacy_cyrillic_body_without_any_declaration_is_recognised(codec):
    body = rss(RUSSIAN_ITEM).replace(' encoding="UTF-8"', "").encode(codec)

    parsed = parse_feed(body, {"Content-Type": "application/rss+xml"}, feed="f", url=FEED_URL, now=NOW)

    assert only(parsed.items).title == "Высылка релокантов из Сербии: МВД отказало в виде на жительство"
    assert parsed.warnings == ()


def test_cp1251_body_served_as_utf8_is_read_and_the_wrong_label_reported():
    body = rss(RUSSIAN_ITEM).replace(' encoding="UTF-8"', "").encode("cp1251")

    parsed = parse_feed(
        body, {"Content-Type": "application/rss+xml; charset=utf-8"}, feed="f", url=FEED_URL, now=NOW
    )

    assert only(parsed.items).title.startswith("Высылка релокантов")
    assert parsed.warnings == ("declared encoding utf-8 is wrong; the text is cp1251",)


def test_utf8_body_labelled_cp1251_is_read_as_utf8():
    body = rss(RUSSIAN_ITEM, encoding="windows-1251").encode("utf-8")

    parsed = parse_feed(
        body, {"Content-Type": "text/xml; charset=windows-1251"}, feed="f", url=FEED_URL, now=NOW
    )

    assert only(parsed.items).summary == "Граждане России, выступавшие против войны, получили отказ."
    assert parsed.warnings == ("declared encoding windows-1251 is wrong; the text is utf-8",)


SERBIAN_CYRILLIC = [
    "БИА позвала руског активисту на информативни разговор",
    "Релоканти у Србији: Министарство унутрашњих послова одбило захтеве за боравак",
    "Протеривање држављана Русије из Србије и Црне Горе",
]


def serbian_cyrillic(*damage: int) -> bytes:
    """A UTF-8 feed of Serbian Cyrillic titles, with one byte of the first title replaced by
    0xFF (never valid in UTF-8) at each of the ``damage`` offsets into its encoded text."""
    titles = [title.encode() for title in SERBIAN_CYRILLIC]
    first = bytearray(titles[0])
    for offset in damage:
        first[offset] = 0xFF
    items = b"".join(
        b'<item><guid isPermaLink="false">' + str(n).encode() + b"</guid><title>" + title + b"</title></item>"
        for n, title in enumerate([bytes(first), *titles[1:]])
    )
    head, tail = rss("|").encode().split(b"|")
    return head + items + tail


@pytest.mark.parametrize(
    ("damage", "first", "warning"),
    [
        (
            (0,),
            "\ufffd\ufffdИА позвала руског",
            "UTF-8 but for 2 invalid byte sequences, each read as U+FFFD",
        ),
        (
            (2,),
            "Б\ufffd\ufffdА позвала руског",
            "UTF-8 but for 2 invalid byte sequences, each read as U+FFFD",
        ),
        (
            (1, 3, 7),  # a lead byte left without its continuation is one sequence, the 0xFF another
            "\ufffd\ufffd\ufffd\ufffdА \ufffd\ufffdозвала руског",
            "UTF-8 but for 6 invalid byte sequences, each read as U+FFFD",
        ),
    ],
    ids=["a lead byte", "another", "a few"],
)
def test_a_utf8_feed_with_a_few_invalid_bytes_is_read_as_utf8(damage, first, warning):
    parsed = parse_feed(serbian_cyrillic(*damage), {}, feed="f", url=FEED_URL, now=NOW)

    titles = [item.title for item in parsed.items]
    assert titles[0].startswith(first)
    assert titles[1:] == SERBIAN_CYRILLIC[1:]
    assert parsed.warnings == (warning,)


def test_a_utf8_feed_with_one_invalid_byte_labelled_koi8_r_is_still_utf8():
    """koi8-r, unlike cp1251, decodes any byte: the label alone would make mojibake of it."""
    body = serbian_cyrillic(0).replace(b'encoding="UTF-8"', b'encoding="koi8-r"')

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert [item.title for item in parsed.items][1:] == SERBIAN_CYRILLIC[1:]
    assert parsed.warnings[0] == "declared encoding koi8-r is wrong; the text is utf-8"


@pytest.mark.parametrize("declared", [True, False])
def test_a_serbian_cp1251_feed_is_still_cp1251(declared):
    """Serbian in cp1251 holds byte pairs that are valid UTF-8 by chance (ИЈ is C8 A3, ȣ)."""
    items = "".join(
        f"<item><guid>{n}</guid><title>{t.upper()}</title></item>" for n, t in enumerate(SERBIAN_CYRILLIC)
    )
    document = rss(items, encoding="windows-1251")
    body = (document if declared else document.replace(' encoding="windows-1251"', "")).encode("cp1251")

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert [item.title for item in parsed.items] == [title.upper() for title in SERBIAN_CYRILLIC]
    assert parsed.warnings == ()


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-32"])
def test_byte_order_marks_decide_the_encoding(codec):
    body = rss(RUSSIAN_ITEM, encoding=codec.removesuffix("-sig")).encode(codec)

    assert only(parse(body)).title.startswith("Высылка релокантов")


def test_recoverable_xml_error_keeps_the_entries_and_records_a_warning():
    body = rss(
        RUSSIAN_ITEM, '<item><title>Second & unescaped</title><guid isPermaLink="false">2</guid></item>'
    ).encode()

    parsed = parse_feed(body, {}, feed="f", url=FEED_URL, now=NOW)

    assert [item.id for item in parsed.items] == ["fontanka-1", "2"]
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0].startswith("malformed feed, read anyway: ")


# --- not a feed -----------------------------------------------------------------------------


def test_html_page_names_the_feed_it_announces():
    page = b"""<!DOCTYPE html><html><head><title>Danas</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed/">
</head><body>...</body></html>"""

    with pytest.raises(ParseError) as caught:
        parse(page, url="https://www.danas.rs/vesti/", headers={"Content-Type": "text/html"})

    assert str(caught.value) == (
        "an HTML page, not a feed; the page names its feed: https://www.danas.rs/feed/ (use that URL)"
    )
    assert caught.value.kind == "not_a_feed"


def test_html_page_without_a_feed_link_says_so():
    page = b"<html><head><title>x</title></head><body><p>hi</p></body></html>"

    with pytest.raises(ParseError, match="an HTML page, not a feed, and it names no feed"):
        parse(page)


def test_html_page_raises_parse_error_with_the_url():
    page = b"""<!DOCTYPE html>
<html lang="sr"><head><meta charset="utf-8"><title>N1 Srbija</title></head>
<body><h1>Vesti</h1><p>Ovo nije feed.</p></body></html>"""

    with pytest.raises(ParseError) as caught:
        parse(page, url="https://n1info.rs/", headers={"Content-Type": "text/html; charset=utf-8"})

    assert isinstance(caught.value, FeedError)
    assert caught.value.url == "https://n1info.rs/"


def test_html_page_without_content_type_raises_parse_error():
    page = b"<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</p></body></html>"

    with pytest.raises(ParseError):
        parse(page)


@pytest.mark.parametrize("body", [b"\x00\x01\x02 binary", b'{"items": []}', b"   \n"])
def test_garbage_raises_parse_error(body):
    with pytest.raises(ParseError):
        parse(body)


def test_empty_body_raises_parse_error():
    with pytest.raises(ParseError):
        parse(b"")


@pytest.mark.parametrize(
    "document",
    [
        rss().encode(),
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>'
        b"<updated>2026-03-01T00:00:00Z</updated></feed>",
    ],
    ids=["rss", "atom"],
)
def test_valid_feed_without_entries_gives_no_items(document):
    assert parse(document) == []


# --- pre-scan: skipping feedparser when nothing is new ----------------------------------------

FIRST = '<item><guid isPermaLink="false">a</guid><title>BIA i relokanti</title></item>'
SECOND = '<item><guid isPermaLink="false">b</guid><title>Vesti</title></item>'


def channel(*items: str, built: str = "Sun, 22 Nov 2026 08:00:00 GMT", namespace: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"{namespace}><channel><title>T</title>'
        f"<lastBuildDate>{built}</lastBuildDate>{''.join(items)}</channel></rss>"
    ).encode()


def read(body: bytes, seen: frozenset[str] = frozenset()):
    return read_feed(body, {}, feed="f", url=FEED_URL, now=NOW, seen=seen)


def test_a_rebuilt_body_with_the_same_entries_is_not_parsed_again():
    first = read(channel(FIRST, SECOND))
    rebuilt = read(channel(SECOND, FIRST, built="Sun, 22 Nov 2026 08:05:00 GMT"), first.fingerprints)

    assert first.parsed is not None and len(first.parsed.items) == 2
    assert rebuilt.parsed is None
    assert rebuilt.fingerprints == first.fingerprints


@pytest.mark.parametrize(
    "changed",
    [
        [FIRST, SECOND, '<item><guid isPermaLink="false">c</guid><title>Novo</title></item>'],
        [FIRST.replace("BIA i relokanti", "BIA i relokanti (dopunjeno)"), SECOND],
    ],
    ids=["new entry", "edited entry"],
)
def test_a_new_or_edited_entry_is_parsed(changed):
    first = read(channel(FIRST, SECOND))

    assert read(channel(*changed), first.fingerprints).parsed is not None


def test_entries_are_found_in_a_default_namespace_and_in_atom():
    namespaced = channel(FIRST, namespace=' xmlns="http://backend.userland.com/rss2"')
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><id>urn:1</id><title>BIA</title></entry><entry><id>urn:2</id><title>x</title></entry></feed>"
    )

    assert len(entry_fingerprints(namespaced) or ()) == 1
    assert len(entry_fingerprints(atom) or ()) == 2


@pytest.mark.parametrize(
    "body",
    [channel(), channel(FIRST).replace(b"</channel>", b"<br></channel>"), b"<html><body>x</body></html>"],
    ids=["no entries", "not well-formed", "a page"],
)
def test_the_pre_scan_is_unsure_rather_than_wrong(body):
    assert entry_fingerprints(body) is None


def test_a_billion_laughs_is_refused_by_the_pre_scan_not_expanded():
    """Expanded, it would take gigabytes; libxml2 refuses the amplification at once, and the
    pre-scan is unsure, so feedparser (expat, protected too) decides."""
    levels = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{levels}]>'
        "<rss><channel><item><title>&l9;</title></item></channel></rss>"
    ).encode()

    assert entry_fingerprints(bomb) is None


def test_only_the_new_entries_of_a_known_feed_are_given_to_feedparser():
    first = read(channel(FIRST, SECOND))
    third = '<item><guid isPermaLink="false">c</guid><title>Novo: BIA</title></item>'

    again = read(channel(third, FIRST, SECOND, built="Sun, 22 Nov 2026 08:10:00 GMT"), first.fingerprints)

    assert again.parsed is not None
    assert [item.id for item in again.parsed.items] == ["c"]
    assert again.parsed.title == "T"
    assert again.fingerprints == first.fingerprints | entry_fingerprints(channel(third))


def test_a_legacy_encoded_feed_keeps_its_text_when_only_its_new_entries_are_parsed():
    def cp1251(*items: str) -> bytes:
        return rss(*items, encoding="windows-1251").encode("cp1251")

    old = '<item><guid isPermaLink="false">r1</guid><title>Погода в Москве</title></item>'
    new = '<item><guid isPermaLink="false">r2</guid><title>Сербия выслала релоканта</title></item>'
    headers = {"content-type": "application/rss+xml; charset=windows-1251"}
    first = read_feed(cp1251(old), headers, feed="f", url=FEED_URL, now=NOW, seen=frozenset())

    again = read_feed(cp1251(new, old), headers, feed="f", url=FEED_URL, now=NOW, seen=first.fingerprints)

    assert again.parsed is not None
    assert [(item.id, item.title) for item in again.parsed.items] == [("r2", "Сербия выслала релоканта")]
    assert again.parsed.warnings == ()


def test_if_feedparser_refused_the_copy_without_known_entries_the_whole_body_is_read(monkeypatch):
    import monitor.feeds.prescan

    real = monitor.feeds.prescan.parse_feed

    def refuse_copies(body, *args, **kwargs):
        if body.startswith(b"<?xml version='1.0' encoding='utf-8'?>"):  # how lxml writes the copy
            raise ParseError(FEED_URL, "not a readable feed")
        return real(body, *args, **kwargs)

    first = read(channel(FIRST))
    monkeypatch.setattr(monitor.feeds.prescan, "parse_feed", refuse_copies)

    again = read(channel(SECOND, FIRST), first.fingerprints)

    assert again.parsed is not None
    assert [item.id for item in again.parsed.items] == ["b", "a"]
