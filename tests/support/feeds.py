"""Feed documents in the style of real outlets, and the entries the tests publish in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

Entry = tuple[str, str, str]  # guid, title, description


FIRST_PUBLISHED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def rss(title: str, link: str, entries: Sequence[Entry], start: datetime = FIRST_PUBLISHED) -> str:
    """An RSS 2.0 document like a WordPress news site's (N1, Danas) publishes, its first entry
    published at ``start``, each next ten minutes later."""
    items = "".join(
        f"""
    <item>
      <title>{escape(entry_title)}</title>
      <link>{link}/{guid}/</link>
      <guid isPermaLink="false">{guid}</guid>
      <pubDate>{format_datetime(start + timedelta(minutes=10 * number))}</pubDate>
      <description><![CDATA[<p>{description}</p>]]></description>
    </item>"""
        for number, (guid, entry_title, description) in enumerate(entries)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{escape(title)}</title>
    <link>{link}</link>
    <description>Vesti</description>
    <language>sr</language>{items}
  </channel>
</rss>
"""


SERBIAN_NEWS: list[Entry] = [
    ("n1-1001", "Vučić o odnosima Srbije i Rusije", "Predsednik je govorio o energetici i gasu."),
    (
        "n1-1002",
        "BIA: Ruski aktivista proglašen bezbednosnim rizikom",
        "Bezbednosno-informativna agencija (BIA) dala je negativnu ocenu, a ruski relokanti strahuju.",
    ),
    (
        "n1-1003",
        "Fudbal: Srbija pobedila Kolumbiju",
        "Serbia beat Colombia in a friendly; no bias, said the coach.",
    ),
]

RUSSIAN_NEWS: list[Entry] = [
    (
        "mz-1",
        "Сербия выслала российского активиста",
        "Релоканты в Белграде говорят, что БИА следит за ними.",
    ),
    ("mz-2", "Погода в Москве", "Снег и мороз."),
]
