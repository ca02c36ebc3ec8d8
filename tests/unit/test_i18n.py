"""Digests, alerts and notices in the reader's language: plurals, dates, the HTML's lang, the
catalogs' words, templates a user overrides, and Serbian items in the reader's script."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from monitor.config.types import LOCALES
from monitor.digest import Digest, Reader, render_digest
from monitor.i18n.locales import CATALOGS, locale
from monitor.match import Matcher
from monitor.models import Hit, Item

BELGRADE = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # Saturday 08:00 in Belgrade
PUBLISHED = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # Friday 08:00 in Belgrade
CATALOG = Path(__file__).resolve().parents[2] / "monitor" / "i18n" / "locale"


def hit(n: int, title: str, summary: str = "", feed: str = "N1 Srbija", **changes: object) -> Hit:
    item = Item(
        feed, f"id-{n}", title, summary, f"https://n1info.rs/vesti/{n}/", PUBLISHED - timedelta(minutes=n - 1)
    )
    matches = tuple(Matcher({"bia": ("BIA", "БИА")}).match(title, summary)["bia"])
    return Hit(n, "bia", item, matches, PUBLISHED, None, **changes)  # type: ignore[arg-type]


def hits(count: int) -> list[Hit]:
    return [hit(n, f"BIA: saopštenje broj {n}") for n in range(1, count + 1)]


def digest(tag: str, found: list[Hit], **options: object) -> Digest:
    return render_digest("bia", found, Reader(BELGRADE, tag), NOW, **options)  # type: ignore[arg-type]


COUNTS = (1, 2, 5, 11, 21, 22, 25)
# What a native reader writes: Russian and Serbian have a form for 1 (and 21), for 2-4 (and 22),
# and for the rest (5-20, 25); English one for 1 and one for the rest.
NEW_ITEMS = {
    "en": (
        "1 new item",
        "2 new items",
        "5 new items",
        "11 new items",
        "21 new items",
        "22 new items",
        "25 new items",
    ),
    "ru": (
        "1 новый материал",
        "2 новых материала",
        "5 новых материалов",
        "11 новых материалов",
        "21 новый материал",
        "22 новых материала",
        "25 новых материалов",
    ),
    "sr-Cyrl": (
        "1 нова вест",
        "2 нове вести",
        "5 нових вести",
        "11 нових вести",
        "21 нова вест",
        "22 нове вести",
        "25 нових вести",
    ),
    "sr-Latn": (
        "1 nova vest",
        "2 nove vesti",
        "5 novih vesti",
        "11 novih vesti",
        "21 nova vest",
        "22 nove vesti",
        "25 novih vesti",
    ),
}
ALERT = {"en": "alert", "ru": "срочно", "sr-Cyrl": "хитно", "sr-Latn": "hitno"}
DECEMBER = {"en": "Dec", "ru": "дек.", "sr-Cyrl": "дец", "sr-Latn": "dec"}
FRIDAY = {
    "en": "Fri, 4 Dec 2026, 08:00",
    "ru": "пт, 4 дек. 2026\u202fг., 08:00",  # CLDR: a narrow no-break space before г.
    "sr-Cyrl": "пет, 4. дец 2026. 08:00",
    "sr-Latn": "pet, 4. dec 2026. 08:00",
}
CASES = [
    (tag, count, said) for tag, forms in NEW_ITEMS.items() for count, said in zip(COUNTS, forms, strict=True)
]


def test_every_locale_the_config_accepts_has_its_rows_here():
    assert set(NEW_ITEMS) == set(LOCALES) == {locale(tag).tag for tag in LOCALES}


def english_words() -> set[str]:
    """The words of the catalogs' English messages, placeholders left out."""
    with (CATALOG / "ru" / "LC_MESSAGES" / "monitor.po").open("rb") as file:
        catalog = read_po(file)
    said = " ".join(
        " ".join(message.id) if isinstance(message.id, tuple) else message.id
        for message in catalog
        if message.id
    )
    return {word.casefold() for word in re.findall(r"[A-Za-z]{3,}", re.sub(r"%\(\w+\)\w", " ", said))} - {
        "monitor"
    }


def english_left(text: str) -> set[str]:
    """The catalog's English words in ``text`` outside its tags and its commands."""
    prose = re.sub(r"<code>.*?</code>|`[^`]*`|<[^>]+>", " ", text)
    return {word.casefold() for word in re.findall(r"[A-Za-z]+", prose)} & english_words()


@pytest.mark.parametrize(("tag", "count", "said"), CASES)
def test_a_digest_says_its_count_in_the_readers_plural_and_dates_and_language(tag, count, said):
    found = digest(tag, hits(count))

    assert found.subject == f"[monitor] bia: {said}"
    assert f'<html lang="{tag}">' in found.html
    assert said in found.html and found.text.startswith(f"bia: {said} (")
    assert FRIDAY[tag] in found.text and DECEMBER[tag] in found.html
    if tag != "en":
        assert english_left(found.text) == set() and english_left(found.html) == set()
        assert english_left(found.notice) == set()


@pytest.mark.parametrize(("tag", "count", "said"), CASES)
def test_an_alert_says_so_in_the_readers_language_with_its_plural(tag, count, said):
    found = digest(tag, hits(count), kind="alert")

    assert found.subject == f"[monitor] {ALERT[tag]}: bia — {said}"
    assert f'<html lang="{tag}">' in found.html and said in found.text
    if tag != "en":
        assert english_left(found.text) == set() and english_left(found.html) == set()


def test_an_english_digest_keeps_its_english_words():
    """The check of the others can fail: English words are found where they are."""
    found = digest("en", hits(3))

    assert {"new", "items", "matched", "sent"} <= english_left(found.text)


@pytest.mark.parametrize("tag", [tag for tag in LOCALES if tag != "en"])
def test_everything_a_full_digest_says_in_its_own_words_is_translated(tag):
    """Every part at once: also reported by, also in, alerted at, more, problems, since."""
    from monitor.digest import Problem

    told = hit(1, "BIA: saopštenje o proterivanju", also_in=("lawyers",), alerted=NOW - timedelta(hours=2))
    other = hit(2, "BIA: saopštenje o proterivanju", feed="Danas")
    problems = [Problem("RTS", NOW - timedelta(days=2), "http: HTTP 500"), Problem("Blog", None, "HTTP 410")]

    found = digest(
        tag, [told, other, *hits(30)[2:]], max_entries=3, since=NOW - timedelta(days=1), problems=problems
    )

    for part in (found.text, found.html, found.notice):
        assert english_left(part) == set(), part
    assert "`monitor check-config`" in found.text  # the footer is wrapped, never inside a command


def test_the_empty_digest_and_notice_are_translated():
    found = digest("ru", [])

    assert found.subject == "[monitor] bia: ничего нового"
    assert found.notice == "Со времени прошлой сводки ничего нового."
    assert "Со времени прошлой сводки ничего нового." in found.text


def test_a_user_template_gets_the_translations_of_the_packaged_messages(tmp_path):
    (tmp_path / "digest.txt").write_text(
        '{{ ngettext("%(num)d new item", "%(num)d new items", count) }} / {{ _("Sources with problems") }}'
        ' / {{ _("a sentence of the user\'s own") }}'
    )
    (tmp_path / "subject.txt").write_text(
        '{{ watchlist }} — {{ ngettext("%(num)d new item", "%(num)d new items", count) }}'
    )

    found = digest("sr-Cyrl", hits(5), templates_folder=tmp_path)

    assert found.text == "5 нових вести / Извори са сметњама / a sentence of the user's own"
    assert found.subject == "bia — 5 нових вести"
    assert '<html lang="sr-Cyrl">' in found.html  # no digest.html there: the packaged one


def test_serbian_latin_is_serbian_cyrillic_transliterated():
    """Written by tools/catalogs.py from one catalog, so the two cannot drift."""
    for count, cyrillic, latin in zip(COUNTS, NEW_ITEMS["sr-Cyrl"], NEW_ITEMS["sr-Latn"], strict=True):
        assert digest("sr-Latn", hits(count)).subject == f"[monitor] bia: {latin}"
        assert digest("sr-Cyrl", hits(count)).subject == f"[monitor] bia: {cyrillic}"
    assert set(CATALOGS) == {"ru", "sr", "sr_Latn"}


# --- Serbian items in the reader's script ---------------------------------------------------


def shown(script: str | None, found: Hit, hint: str | None = None) -> Digest:
    reader = Reader(BELGRADE, "sr-Cyrl", script, {found.item.feed: hint})  # type: ignore[arg-type]
    return render_digest("bia", [found], reader, NOW)


def test_a_serbian_latin_item_is_shown_in_cyrillic_marks_and_links_kept():
    found = hit(1, "BIA izdala negativnu bezbednosnu procenu", "Ljubljana i Njegoš: vidi https://n1info.rs/a")

    page = shown("cyrl", found)

    assert "БИА" in page.text and "негативну безбедносну процену" in page.text
    assert ">БИА</mark>" in page.html and "Љубљана и Његош" in page.text
    assert "https://n1info.rs/a" in page.text and 'href="https://n1info.rs/vesti/1/"' in page.html


def test_a_serbian_cyrillic_item_is_shown_in_latin():
    page = shown("latn", hit(1, "БИА издала негативну безбедносну процену", "Руски држављанин у Љубљани"))

    assert (
        "*BIA* izdala negativnu bezbednosnu procenu" in page.text
        and "Ruski državljanin u Ljubljani" in page.text
    )


@pytest.mark.parametrize(
    ("title", "summary", "hint"),
    [
        ("БИА: россиянину отказали в виде на жительство", "Гражданин России должен покинуть Сербию", None),
        ("БИА и ФСБ", "", "ru"),  # nothing in the text tells; the feed says Russian
        ("BIA says the activist must leave Serbia", "The agency has not explained why", None),
    ],
)
def test_russian_and_english_items_are_never_transliterated(title, summary, hint):
    found = hit(1, title, summary)

    assert shown("latn", found, hint).text == shown(None, found, hint).text
    assert shown("cyrl", found, hint).text == shown(None, found, hint).text


def test_without_a_script_serbian_items_stay_as_published():
    page = shown(None, hit(1, "BIA izdala negativnu bezbednosnu procenu"))

    assert "*BIA* izdala negativnu" in page.text
