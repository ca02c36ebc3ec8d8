"""The daemon in-process (its first poll, a digest missed while it was down, what it survives),
and as processes: one killed, the next taking over its feeds."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import create_engine, func, select

from monitor.daemon import Daemon
from monitor.models import utcnow
from monitor.store.schema import feeds
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.polling import run_until


def test_digest_missed_while_down_goes_out_when_the_daemon_starts(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    two_days_ago = utcnow() - timedelta(days=2)
    monitor.store.messages.record_empty(watchlist="relocants", recipients=[], now=two_days_ago)

    asyncio.run(run_until(Daemon(monitor), lambda: smtp_server.sink.envelopes))

    [message] = smtp_server.sink.messages
    assert message["Subject"] == "[monitor] relocants: 1 new item"
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_daemon_started_after_its_last_digest_sends_nothing_early(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    monitor.store.messages.record_empty(watchlist="relocants", recipients=[], now=utcnow())

    asyncio.run(run_until(Daemon(monitor), lambda: monitor.store.hits.find()))

    assert smtp_server.sink.envelopes == []
    assert [hit.delivered for hit in monitor.store.hits.find()] == [None]


def test_the_poll_loop_polls_a_feed_again_when_the_database_says_it_is_due(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    from sqlalchemy import update

    from monitor.store.schema import feeds

    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS[:1]))
    monitor = open_monitor(
        write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port, interval=None)
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(Daemon(monitor, idle_pause=timedelta(seconds=0.2)).run(stop))
        try:
            async with asyncio.timeout(20):
                while feed_server.statuses("/n1.xml") != [200]:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
                assert feed_server.statuses("/n1.xml") == [200]  # not due again for minutes
                feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
                with monitor.store.database.engine.begin() as connection:
                    connection.execute(update(feeds).values(next_poll_at=utcnow()))
                while len(monitor.store.hits.find()) < 1:
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await running

    asyncio.run(scenario())

    assert feed_server.statuses("/n1.xml") == [200, 200]
    [status] = monitor.store.feeds.statuses(utcnow())
    assert (status.items, status.health) == (3, "ok")
    assert status.next_poll > utcnow() + timedelta(minutes=4)


def test_the_poll_loop_outlives_a_database_that_is_away_for_a_while(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    from monitor.errors import StorageError

    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    claim = monitor.poller.claim_due
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 3:  # the loop's first three tries
            raise StorageError("database error: the server closed the connection")
        return claim(*args, **kwargs)

    monitor.poller.claim_due = flaky

    asyncio.run(
        run_until(Daemon(monitor, idle_pause=timedelta(seconds=0.1)), lambda: monitor.store.hits.find())
    )

    assert feed_server.statuses("/n1.xml") == [200]
    assert len(monitor.store.hits.find()) == 1 and len(calls) >= 4


def test_no_heartbeat_once_polling_has_stopped(
    feed_server, smtp_server, database_url, write_config, open_monitor, tmp_path
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    heartbeat = tmp_path / "heartbeat"
    daemon = Daemon(monitor, heartbeat)

    async def scenario() -> tuple[bool, bool]:
        await daemon._beat()
        alive = heartbeat.exists()
        heartbeat.unlink()
        daemon._polling = asyncio.create_task(asyncio.sleep(0))
        await daemon._polling  # polling ended (it only ends on a crash or at stop)
        await daemon._beat()
        return alive, heartbeat.exists()

    assert asyncio.run(scenario()) == (True, False)


def test_a_catch_up_that_fails_is_one_logged_event_and_polling_goes_on(
    feed_server, smtp_server, database_url, write_config, open_monitor, caplog
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    claim = monitor.poller.claim_due
    claims = []

    def broken(watchlist: str):
        raise RuntimeError("a bug in the catch-up")

    def first_claim_broken(*args, **kwargs):
        claims.append(1)
        if len(claims) == 1:
            raise KeyError("a bug in a claim")
        return claim(*args, **kwargs)

    monitor.store.messages.due_since = broken
    monitor.poller.claim_due = first_claim_broken

    with caplog.at_level(logging.ERROR, logger="monitor.daemon"):
        asyncio.run(
            run_until(Daemon(monitor, idle_pause=timedelta(seconds=0.1)), lambda: monitor.store.hits.find())
        )

    assert feed_server.statuses("/n1.xml") == [200]
    events = [record for record in caplog.records if record.name == "monitor.daemon"]
    assert sorted((record.getMessage(), record.fields["error"]) for record in events) == [
        ("daemon.catch_up_failed", "RuntimeError: a bug in the catch-up"),
        ("poll.claim_failed", "KeyError: 'a bug in a claim'"),
    ]


def test_a_daemon_started_after_one_was_killed_polls_its_feeds_at_once(
    feed_server, smtp_server, database_url, write_config, tmp_path
):
    """The killed daemon was fetching every feed (slow answers) when it died, holding their
    leases; the next one on this host sees it is dead and takes them at once."""
    names = [f"F{number}" for number in range(6)]
    slow = {
        name: feed_server.serve(f"/{name}.xml", rss(name, "https://n1info.rs", []), delay=60)
        for name in names
    }
    config = write_config(slow, database_url=database_url, smtp_port=smtp_server.port)
    command = [sys.executable, "-m", "monitor", "-c", str(config), "run"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}

    database = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    leased = select(func.count()).where(feeds.c.lease_until.is_not(None))

    first = subprocess.Popen(command, stderr=subprocess.DEVNULL, env=environment)
    try:
        deadline = time.monotonic() + 30
        while feed_server.max_in_flight < 2:  # two at a time per host
            assert time.monotonic() < deadline, "the first daemon did not fetch"
            time.sleep(0.05)
    finally:
        first.kill()
        first.wait()
    with database.connect() as connection:
        assert connection.execute(leased).scalar() == len(names)
    database.dispose()
    for name in names:
        feed_server.serve(f"/{name}.xml", rss(name, "https://n1info.rs", SERBIAN_NEWS[:1]))
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment)
    try:
        deadline = time.monotonic() + 20
        while not all(feed_server.statuses(f"/{name}.xml") == [200] for name in names):
            assert time.monotonic() < deadline, f"polled: {feed_server.log}"
            time.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        _, log = second.communicate(timeout=30)
    finally:
        second.kill()

    assert second.returncode == 0, log
