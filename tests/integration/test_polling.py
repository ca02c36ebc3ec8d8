"""Polling through the pipeline against a server that misbehaves: health, schedule, moves."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from datetime import timedelta

import pytest

from monitor.app import App
from monitor.http.fetch import Fetcher, Limits
from monitor.models import FeedStatus, utcnow
from monitor.polling.poller import PollSummary
from tests.support.feeds import RUSSIAN_NEWS, SERBIAN_NEWS, rss
from tests.support.processes import descendants

LIMITS = Limits(deadline=2.0, read_timeout=1.0, max_bytes=1_000_000)
N1 = rss("N1", "https://n1info.rs", SERBIAN_NEWS)
MEDUZA = rss("Meduza", "https://meduza.io", RUSSIAN_NEWS)


def poll(monitor: App, limits: Limits = LIMITS) -> PollSummary:
    async def run() -> PollSummary:
        async with Fetcher(limits) as fetcher:
            return await monitor.poller.poll(monitor.config.feeds, fetcher)

    return asyncio.run(run())


def health(monitor: App) -> dict[str, FeedStatus]:
    return {status.name: status for status in monitor.store.feeds.statuses(utcnow())}


WORKERS = pytest.mark.parametrize("parse_workers", [0, 2], ids=["threads", "processes"])


@WORKERS
def test_poll_all_over_good_and_misbehaving_feeds_keeps_its_deadlines_and_records_each_error(
    feed_server, smtp_server, database_url, write_config, open_monitor, parse_workers
):
    html_page = (
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/n1.xml">'
        "</head><body>N1</body></html>"
    )
    cp1251 = MEDUZA.replace(' encoding="UTF-8"', "").encode("cp1251")
    broken = N1.replace("</channel>", "<br></channel>").replace("n1-100", "broken-100")
    feeds = {
        "N1": feed_server.serve("/n1.xml", N1),
        "Meduza cp1251": feed_server.serve("/meduza.xml", cp1251, content_type="application/rss+xml"),
        "Mislabelled": feed_server.serve(
            "/mislabelled.xml",
            MEDUZA.replace(' encoding="UTF-8"', "").replace("mz-", "ml-").encode("cp1251"),
            content_type="application/rss+xml; charset=utf-8",
        ),
        "Broken XML": feed_server.serve("/broken.xml", broken),
        "Down": feed_server.serve("/down.xml", "", status=500),
        "Busy": feed_server.serve("/busy.xml", "", status=429, headers={"Retry-After": "600"}),
        "Drip": feed_server.serve("/drip.xml", N1, drip=0.5),
        "Endless": feed_server.serve("/endless.xml", "", endless=True),
        "Bomb": feed_server.serve("/bomb.xml", "", gzip_bomb=20_000_000),
        "Loop": feed_server.serve("/loop-a", "", status=302, location=feed_server.url("/loop-b")),
        "Gone": feed_server.serve("/gone.xml", "", status=410),
        "Page": feed_server.serve("/page.html", html_page, content_type="text/html"),
        "Bare page": feed_server.serve(
            "/bare.html", "<html><body>hi</body></html>", content_type="text/html"
        ),
        "Empty": feed_server.serve("/empty.xml", rss("Empty", "https://empty.example", [])),
        "Sparse": feed_server.serve(
            "/sparse.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
            "<item><title>BIA bez datuma, linka i guida</title></item></channel></rss>",
        ),
    }
    feed_server.serve("/loop-b", "", status=302, location=feed_server.url("/loop-a"))
    monitor = open_monitor(
        write_config(feeds, database_url=database_url, smtp_port=smtp_server.port), parse_workers
    )

    started = time.monotonic()
    summary = poll(monitor)
    elapsed = time.monotonic() - started

    assert elapsed < LIMITS.deadline + 3  # every fetch runs at once; none may outlast its deadline much
    status = health(monitor)
    assert {name: s.items for name, s in status.items() if s.health == "ok"} == {
        "N1": 3,
        "Meduza cp1251": 2,
        "Mislabelled": 2,
        "Broken XML": 3,
        "Empty": 0,
        "Sparse": 1,
    }
    errors = {name: (s.health, s.last_error_kind, s.last_error) for name, s in status.items() if s.last_error}
    assert errors == {
        "Down": ("failing", "http", "HTTP 500 Internal Server Error"),
        "Busy": ("failing", "http", "HTTP 429 Too Many Requests; asked to retry after 600 s"),
        "Drip": ("failing", "timeout", "no complete answer within 2 s"),
        "Endless": ("failing", "too_large", "body larger than 1,000,000 bytes; not read"),
        "Bomb": ("failing", "too_large", "body larger than 1,000,000 bytes; not read"),
        "Loop": (
            "failing",
            "redirect",
            f"redirect loop: {feeds['Loop']} → {feed_server.url('/loop-b')} → {feeds['Loop']}",
        ),
        "Gone": ("gone", "gone", "HTTP 410 Gone: the publisher removed the feed"),
        "Page": (
            "failing",
            "not_a_feed",
            f"an HTML page, not a feed; the page names its feed: {feeds['N1']} (use that URL)",
        ),
        "Bare page": (
            "failing",
            "not_a_feed",
            'an HTML page, not a feed, and it names no feed (no <link rel="alternate" '
            'type="application/rss+xml">); find the site\'s RSS or Atom address',
        ),
    }
    assert status["Mislabelled"].warning == "declared encoding utf-8 is wrong; the text is cp1251"
    assert status["Broken XML"].warning.startswith("malformed feed, read anyway: ")
    assert (summary.ok, summary.failed) == (6, 9)
    titles = {hit.item.title for hit in monitor.store.hits.find()}
    assert "Сербия выслала российского активиста" in titles  # cp1251 read as Russian, and matched


@WORKERS
def test_feeds_that_fail_to_parse_fail_alone_among_many_good_ones(
    feed_server, smtp_server, database_url, write_config, open_monitor, parse_workers
):
    good = {
        f"Good {number}": feed_server.serve(f"/good-{number}.xml", N1.replace("n1-", f"g{number}-"))
        for number in range(30)
    }
    broken = {
        "Page": feed_server.serve("/page.html", "<html><body>hi</body></html>", content_type="text/html"),
        "Truncated": feed_server.serve("/cut.xml", N1[: len(N1) // 3].split("<item>")[0]),
        "Namespace": feed_server.serve(
            "/ns.xml", '<?xml version="1.0"?><rss version="2.0"><channel><dc:title>x</dc:title></rss>'
        ),
    }
    monitor = open_monitor(
        write_config(good | broken, database_url=database_url, smtp_port=smtp_server.port), parse_workers
    )

    summary = poll(monitor)

    failed = {outcome.feed for outcome in summary.outcomes if outcome.error}
    assert failed == set(broken)
    assert summary.new_items == 30 * 3
    assert {status.last_error_kind for status in health(monitor).values() if status.last_error} == {
        "not_a_feed"
    }


def test_nul_and_controls_in_items_are_stored_without_them_on_every_backend(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    assert "BIA: Ruski aktivista" in N1
    dirty = N1.replace("BIA: Ruski aktivista", "BIA: Ruski&#0; akti\x00vista\x1b[31m&#x7;")
    feeds = {
        "Dirty": feed_server.serve("/dirty.xml", dirty),
        "Clean": feed_server.serve("/clean.xml", N1.replace("n1-", "c-").replace("n1info", "clean")),
    }
    monitor = open_monitor(write_config(feeds, database_url=database_url, smtp_port=smtp_server.port))

    summary = poll(monitor)

    assert (summary.ok, summary.failed, summary.new_items) == (2, 0, 6)
    [dirty_hit] = [hit for hit in monitor.store.hits.find() if hit.item.feed == "Dirty"]
    assert dirty_hit.item.title == "BIA: Ruski aktivista[31m proglašen bezbednosnim rizikom"


def test_retry_after_puts_the_next_poll_at_least_that_far_away(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/busy.xml", "", status=429, headers={"Retry-After": "3600"})
    monitor = open_monitor(write_config({"Busy": url}, database_url=database_url, smtp_port=smtp_server.port))

    before = utcnow()
    poll(monitor)

    assert health(monitor)["Busy"].next_poll >= before + timedelta(seconds=3600)


def test_failures_back_off_and_a_success_resets_them(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/flaky.xml", "", status=503)
    monitor = open_monitor(
        write_config({"Flaky": url}, database_url=database_url, smtp_port=smtp_server.port, interval=None)
    )

    delays = []
    for _ in range(3):
        before = utcnow()
        poll(monitor)
        delays.append(health(monitor)["Flaky"].next_poll - before)
    feed_server.serve("/flaky.xml", N1)
    poll(monitor)

    assert [round(delay / timedelta(minutes=5)) for delay in delays] == [1, 2, 4]  # ±10% jitter
    assert (health(monitor)["Flaky"].health, health(monitor)["Flaky"].failures) == ("ok", 0)


def test_a_new_feed_is_polled_again_within_the_bounds_and_a_fixed_interval_wins(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", N1)
    adaptive = open_monitor(
        write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port, interval=None)
    )

    before = utcnow()
    poll(adaptive)
    delay = health(adaptive)["N1"].next_poll - before

    assert timedelta(minutes=4) < delay < timedelta(hours=2, minutes=13)


def test_a_gone_feed_is_not_claimed_again(feed_server, smtp_server, database_url, write_config, open_monitor):
    url = feed_server.serve("/gone.xml", "", status=410)
    monitor = open_monitor(write_config({"Gone": url}, database_url=database_url, smtp_port=smtp_server.port))

    poll(monitor)

    assert monitor.poller.claim_due(10, timedelta(minutes=5)) == []
    assert health(monitor)["Gone"].next_poll is None


def test_a_permanent_redirect_seen_twice_becomes_the_polled_address(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    new = feed_server.serve("/feed/", N1, etag=None)
    old = feed_server.serve("/rss", "", status=301, location=new)
    monitor = open_monitor(write_config({"N1": old}, database_url=database_url, smtp_port=smtp_server.port))

    poll(monitor)
    after_one = health(monitor)["N1"].url
    poll(monitor)
    after_two = health(monitor)["N1"].url
    poll(monitor)

    assert (after_one, after_two) == (old, new)
    assert feed_server.statuses("/rss") == [301, 301]  # the third poll went straight to the new address
    assert feed_server.statuses("/feed/") == [200, 200, 200]


def test_a_server_ignoring_conditional_get_is_not_parsed_again(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", N1, etag=None)
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))

    first, second = poll(monitor), poll(monitor)

    assert feed_server.statuses("/n1.xml") == [200, 200]
    assert (first.outcomes[0].unchanged, second.outcomes[0].unchanged) == (False, True)
    assert (first.new_items, second.new_items) == (3, 0)


def test_more_feeds_than_a_chunk_of_states_are_each_polled_once_with_their_own_state(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    # Each feed under its own path and ETag: a 304 on the second poll proves that feed's own
    # validators were read, in whichever chunk of states it fell.
    urls = {f"Feed {n}": feed_server.serve(f"/feed/{n}.xml", N1) for n in range(30)}
    monitor = open_monitor(write_config(urls, database_url=database_url, smtp_port=smtp_server.port))
    monitor.poller.states_per_read = 7

    first, second = poll(monitor), poll(monitor)

    assert [outcome.feed for outcome in second.outcomes] == list(urls)
    assert (first.ok, first.failed, second.ok) == (30, 0, 30)
    assert all(outcome.unchanged for outcome in second.outcomes)
    assert [feed_server.statuses(f"/feed/{n}.xml") for n in range(30)] == [[200, 304]] * 30


def test_a_story_in_two_feeds_is_one_hit_and_an_edit_that_now_matches_makes_one(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    plain = [("n1-1", "Vesti iz Beograda", "Saobraćaj i vreme.")]
    first = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", plain))
    # the same link (https://n1info.rs/n1-1/) in another outlet's wording, which never changes
    copy = feed_server.serve(
        "/copy.xml", rss("Copy", "https://n1info.rs", [("n1-1", "Vesti iz Beograda", "")])
    )
    monitor = open_monitor(
        write_config({"N1": first, "Copy": copy}, database_url=database_url, smtp_port=smtp_server.port)
    )

    before = poll(monitor)
    edited = [("n1-1", "Vesti iz Beograda", "BIA je pozvala relokante na razgovor.")]
    feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", edited))
    after = poll(monitor)
    again = poll(monitor)

    assert (before.new_items, before.new_hits) == (1, 0)
    assert (after.new_items, after.new_hits) == (0, 1)
    assert (again.new_items, again.new_hits, sum(o.edited for o in again.outcomes)) == (0, 0, 0)
    [hit] = monitor.store.hits.find()
    assert hit.item.summary == "BIA je pozvala relokante na razgovor."
    assert len(hit.also_in) == 1 and {hit.item.feed, *hit.also_in} == {"N1", "Copy"}


def test_a_tickers_posts_under_one_link_are_stories_of_their_own_and_a_copy_is_not(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    posts = [
        ("t-1", "BIA saslušala ruskog aktivistu", ""),
        ("t-2", "Vlada usvojila budžet za 2027. godinu", ""),
        ("t-3", "BIA saslušala ruskog aktivistu (VIDEO)", ""),  # the first post again, tagged
    ]
    ticker = re.sub(r"https://rbc\.ru/t-\d/", "https://rbc.ru/live/", rss("RBC", "https://rbc.ru", posts))
    later = re.sub(
        r"https://rbc\.ru/t-\d/",
        "https://rbc.ru/live/",
        rss("RBC", "https://rbc.ru", [*posts, ("t-4", "Požar u Novom Sadu ugašen", "")]),
    )
    copy = re.sub(
        r"https://rbc\.ru/c-\d/",
        "https://rbc.ru/live/?utm_source=rss",
        rss("Copy", "https://rbc.ru", [("c-1", "BIA saslušala ruskog aktivistu", "")]),
    )
    feeds = {"RBC": feed_server.serve("/rbc.xml", ticker), "Copy": feed_server.serve("/copy.xml", copy)}
    monitor = open_monitor(write_config(feeds, database_url=database_url, smtp_port=smtp_server.port))

    first = poll(monitor)
    feed_server.serve("/rbc.xml", later)
    second = poll(monitor)

    assert (first.new_items, second.new_items) == (2, 1)
    assert sum(status.items for status in health(monitor).values()) == 3  # the copy is the first post


def test_a_rebuilt_body_with_no_new_entry_is_not_parsed_but_an_edit_is(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", N1, etag=None)
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))

    first = poll(monitor)
    feed_server.serve("/n1.xml", N1.replace("<description>Vesti", "<description>Vesti, 08:05"), etag=None)
    rebuilt = poll(monitor)
    feed_server.serve("/n1.xml", N1.replace("energetici i gasu", "energetici, gasu i BIA"), etag=None)
    edited = poll(monitor)

    assert (first.new_items, first.outcomes[0].unchanged) == (3, False)
    assert (rebuilt.new_items, rebuilt.outcomes[0].unchanged) == (0, True)
    assert (edited.outcomes[0].unchanged, edited.outcomes[0].edited, edited.new_hits) == (False, 1, 1)


def test_feeds_are_parsed_in_worker_processes_when_asked(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    path = write_config(
        {"N1": feed_server.serve("/n1.xml", N1), "Meduza": feed_server.serve("/meduza.xml", MEDUZA)},
        database_url=database_url,
        smtp_port=smtp_server.port,
    )

    summary = poll(open_monitor(path, parse_workers=2))

    assert (summary.ok, summary.new_items, summary.new_hits) == (2, 5, 2)


def test_feeds_parsed_when_the_parse_workers_died_are_parsed_in_a_fresh_pool_and_not_failed(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    path = write_config(
        {
            "N1": feed_server.serve("/n1.xml", N1, etag=None),
            "Meduza": feed_server.serve("/m.xml", MEDUZA, etag=None),
        },
        database_url=database_url,
        smtp_port=smtp_server.port,
    )
    monitor = open_monitor(path, parse_workers=2)

    first = poll(monitor)
    workers = descendants(os.getpid(), depth=2)  # the fork server's children
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)  # the pool notices its dead workers
    feed_server.serve("/n1.xml", N1.replace("Vesti", "Vesti 2"), etag=None)
    feed_server.serve("/m.xml", MEDUZA.replace("Vesti", "Vesti 2"), etag=None)
    after = poll(monitor)

    assert (first.ok, after.ok, after.failed) == (2, 2, 0)
    assert all(status.failures == 0 for status in health(monitor).values())
