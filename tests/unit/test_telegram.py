"""Public Telegram channels' previews read into items: text, media with captions, forwarded
posts, link previews, service messages, empty, missing and private channels, a changed page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config.types import telegram_preview
from monitor.errors import ParseError
from monitor.feeds.telegram import before, parse_channel, post_number
from tests.support.telegram import Post, channel_page, contact_page

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
URL = "https://t.me/s/serbia_ru"


def read(page: str, url: str = URL):
    return parse_channel(
        page.encode(), {"content-type": "text/html; charset=utf-8"}, feed="tg", url=url, now=NOW
    )


@pytest.mark.parametrize(
    ("url", "preview"),
    [
        ("https://t.me/s/serbia_ru", "https://t.me/s/serbia_ru"),
        ("https://t.me/serbia_ru", "https://t.me/s/serbia_ru"),
        ("http://telegram.me/s/serbia_ru/", "https://t.me/s/serbia_ru"),
        ("https://t.me/serbia_ru/123", None),  # a post, not a channel
        ("https://t.me/+AbCdEf", None),  # an invitation to a private chat
        ("https://t.me/joinchat/AbCdEf", None),
        ("https://example.org/s/serbia_ru", None),
        ("https://t.me/s/abc", None),  # too short for a channel's name
    ],
)
def test_a_channel_link_gives_its_preview(url, preview):
    assert telegram_preview(url) == preview


def test_a_text_post_is_an_item_with_its_link_first_line_as_title_and_date():
    page = channel_page(
        "serbia_ru",
        "Русские в Сербии",
        [Post(41, "БИА: гражданину России отказали в ВНЖ\nЕму дали 30 дней, чтобы покинуть Сербию.")],
    )

    [item] = read(page).items

    assert item.id == "serbia_ru/41" and item.link == "https://t.me/serbia_ru/41"
    assert item.title == "БИА: гражданину России отказали в ВНЖ"
    assert item.summary == "Ему дали 30 дней, чтобы покинуть Сербию."
    assert item.published == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert read(page).title == "Русские в Сербии" and post_number(item) == 41


def test_media_with_a_caption_forwards_and_link_previews_keep_what_they_say():
    page = channel_page(
        "serbia_ru",
        "Русские в Сербии",
        [
            Post(50, "Фото: очередь в МУП на Савској", photo=True),
            Post(51, "Срочно: новая высылка", forwarded_from="Медуза — LIVE"),
            Post(
                52,
                "Читайте подробности",
                preview_title="BIA: negativna bezbednosna procena",
                preview_description="Aktivista mora da napusti Srbiju",
            ),
            Post(53, "", photo=True),  # a photo without a caption: nothing to read
            Post(54, "", preview_title="N1: Proterivanje ruskog aktiviste"),
        ],
    )

    items = {item.id: item for item in read(page).items}

    assert set(items) == {"serbia_ru/50", "serbia_ru/51", "serbia_ru/52", "serbia_ru/54"}
    assert items["serbia_ru/50"].title == "Фото: очередь в МУП на Савској"
    assert "Forwarded from Медуза — LIVE" in items["serbia_ru/51"].summary
    assert "BIA: negativna bezbednosna procena" in items["serbia_ru/52"].summary
    assert "Aktivista mora da napusti Srbiju" in items["serbia_ru/52"].summary
    assert items["serbia_ru/54"].title == "N1: Proterivanje ruskog aktiviste"


def test_a_reply_is_read_as_its_own_text_not_the_quoted_one():
    page = channel_page("serbia_ru", "R", [Post(60, "Наш ответ", reply_to="Старый пост про БИА")])

    [item] = read(page).items

    assert item.title == "Наш ответ" and "БИА" not in item.summary
    photo_reply = channel_page("serbia_ru", "R", [Post(61, "", photo=True, reply_to="Старый пост про БИА")])
    assert read(photo_reply).items == []  # its only text is the quoted post's


def test_service_messages_are_left_out():
    page = channel_page(
        "serbia_ru", "R", [Post(70, "Channel photo updated", service=True), Post(71, "Новость")]
    )

    assert [item.id for item in read(page).items] == ["serbia_ru/71"]


def test_an_empty_channel_has_no_items_and_no_error():
    parsed = read(channel_page("serbia_ru", "Пустой канал", []))

    assert parsed.items == [] and parsed.title == "Пустой канал"


def test_a_missing_date_is_now():
    page = channel_page("serbia_ru", "R", [Post(80, "Без даты", date="not a date")])

    assert read(page).items[0].published == NOW


@pytest.mark.parametrize(
    ("page", "says"),
    [
        (contact_page("serbia_ru", "Private diaspora chat"), "“Private diaspora chat” has no public preview"),
        (contact_page("no_such_channel"), "no Telegram channel at https://t.me/s/serbia_ru"),
        ("<html><body><div class='feed'>a redesigned page</div></body></html>", "Telegram may have changed"),
        ("", "Telegram may have changed"),
    ],
)
def test_a_channel_without_a_preview_or_a_changed_page_fails_saying_why(page, says):
    with pytest.raises(ParseError, match=says) as caught:
        read(page)

    assert caught.value.kind == "not_a_feed"


def test_a_post_in_cp1251_is_read():
    page = channel_page("serbia_ru", "R", [Post(90, "Высылка из Сербии")]).replace(
        'charset="utf-8"', 'charset="windows-1251"'
    )

    parsed = parse_channel(
        page.encode("cp1251"),
        {"content-type": "text/html; charset=windows-1251"},
        feed="tg",
        url=URL,
        now=NOW,
    )

    assert parsed.items[0].title == "Высылка из Сербии"


def test_the_page_before_a_post():
    assert before("https://t.me/s/serbia_ru", 41) == "https://t.me/s/serbia_ru?before=41"
    assert before("http://127.0.0.1:8080/s/chan?before=99", 41) == "http://127.0.0.1:8080/s/chan?before=41"
