"""Public Telegram channels as sources, served on loopback as t.me serves their previews: posts
polled into items and hits (parsed in worker processes), a gap since the last poll read back
with ?before=, a channel that does not exist beside a good feed, a page that fails mid-way."""

from __future__ import annotations

import pytest

from monitor.app import App
from monitor.models import utcnow
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.polling import poll, text_part
from tests.support.telegram import Post, channel_page, contact_page

TELEGRAM = {"Diaspora": 'type = "telegram"\nlanguage = "ru"'}


def posts(first: int, last: int, text: str = "Новости диаспоры, выпуск {n}") -> list[Post]:
    return [
        Post(n, text.format(n=n), date=f"2026-12-04T{n % 24:02d}:00:00+00:00") for n in range(first, last + 1)
    ]


def test_a_channels_posts_become_items_and_hits_and_reach_the_digest(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    page = channel_page(
        "diaspora",
        "Русские в Сербии",
        [
            *posts(1, 3),
            Post(
                4,
                "Релоканты: БИА отказала активисту в ВНЖ\nЕму дали 30 дней.",
                forwarded_from="Медуза — LIVE",
            ),
            Post(5, "Pinned", service=True),
        ],
    )
    url = feed_server.serve("/s/diaspora", page, content_type="text/html; charset=utf-8")
    config = write_config(
        {"Diaspora": url}, database_url=database_url, smtp_port=smtp_server.port, feed_settings=TELEGRAM
    )
    monitor = open_monitor(config, parse_workers=2)

    summary = poll(monitor)
    monitor.outbox.send_digests(utcnow())

    assert (summary.new_items, summary.new_hits, summary.failed) == (4, 1, 0)
    [hit] = monitor.store.hits.find(watchlist="relocants")
    assert (
        hit.item.title == "Релоканты: БИА отказала активисту в ВНЖ"
        and hit.item.link == "https://t.me/diaspora/4"
    )
    [message] = smtp_server.sink.messages
    assert "https://t.me/diaspora/4" in text_part(message)


@pytest.fixture
def polled_channel(feed_server, smtp_server, database_url, write_config, open_monitor):
    """A monitor that has polled the channel "diaspora" once, when it showed ``first``-``last``."""

    def polled(first: int, last: int) -> App:
        page = channel_page("diaspora", "D", posts(first, last))
        url = feed_server.serve("/s/diaspora", page, content_type="text/html")
        config = write_config(
            {"Diaspora": url}, database_url=database_url, smtp_port=smtp_server.port, feed_settings=TELEGRAM
        )
        monitor = open_monitor(config)
        poll(monitor)
        return monitor

    return polled


def test_posts_beyond_the_preview_since_the_last_poll_are_read_back_with_before(feed_server, polled_channel):
    monitor = polled_channel(26, 45)
    # 44 posts since: the preview shows the last 20, the pages before hold the rest
    feed_server.serve("/s/diaspora", channel_page("diaspora", "D", posts(70, 89)), content_type="text/html")
    feed_server.serve(
        "/s/diaspora?before=70", channel_page("diaspora", "D", posts(50, 69)), content_type="text/html"
    )
    feed_server.serve(
        "/s/diaspora?before=50", channel_page("diaspora", "D", posts(30, 49)), content_type="text/html"
    )

    summary = poll(monitor)

    assert (summary.new_items, summary.failed) == (44, 0)
    assert feed_server.statuses("/s/diaspora?before=70") == [200]
    assert feed_server.statuses("/s/diaspora?before=50") == [200]
    assert feed_server.statuses("/s/diaspora?before=30") == []  # post 45 was stored: no further
    assert monitor.store.feeds.statuses(utcnow())[0].items == 64


def test_a_page_before_that_fails_keeps_the_posts_read_so_far(feed_server, polled_channel):
    monitor = polled_channel(1, 5)
    feed_server.serve("/s/diaspora", channel_page("diaspora", "D", posts(40, 59)), content_type="text/html")
    feed_server.serve("/s/diaspora?before=40", "", status=429, headers={"Retry-After": "60"})

    summary = poll(monitor)

    assert (summary.new_items, summary.failed) == (20, 0)
    assert feed_server.statuses("/s/diaspora?before=40") == [429]


def test_a_channel_that_does_not_exist_fails_alone_saying_so(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    missing = feed_server.serve("/s/nochannel", "", status=302, location="/nochannel")
    feed_server.serve("/nochannel", contact_page("nochannel"), content_type="text/html")
    private = feed_server.serve("/s/closed", "", status=302, location="/closed")
    feed_server.serve("/closed", contact_page("closed", "Closed diaspora chat"), content_type="text/html")
    news = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"Missing": missing, "Private": private, "N1": news},
        database_url=database_url,
        smtp_port=smtp_server.port,
        feed_settings={"Missing": 'type = "telegram"', "Private": 'type = "telegram"'},
    )
    monitor = open_monitor(config)

    summary = poll(monitor)

    assert (summary.failed, summary.new_items) == (2, 3)
    errors = {status.name: status.last_error for status in monitor.store.feeds.statuses(utcnow())}
    assert errors["N1"] is None
    assert "no Telegram channel at" in errors["Missing"]
    assert "“Closed diaspora chat” has no public preview" in errors["Private"]
