"""The daemon in-process: its first poll, and a digest missed while it was down."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from monitor.daemon import Daemon
from monitor.pipeline import utcnow
from tests.integration.conftest import SERBIAN_NEWS, rss


async def run_until(daemon: Daemon, done, timeout: float = 20.0) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running


def test_digest_missed_while_down_goes_out_when_the_daemon_starts(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    two_days_ago = utcnow() - timedelta(days=2)
    monitor.store.record_empty(watchlist="relocants", recipients=[], now=two_days_ago)

    asyncio.run(run_until(Daemon(monitor), lambda: smtp_server.sink.envelopes))

    [message] = smtp_server.sink.messages
    assert message["Subject"] == "[monitor] relocants: 1 new item"
    assert all(hit.delivered for hit in monitor.store.hits())


def test_daemon_started_after_its_last_digest_sends_nothing_early(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    monitor.store.record_empty(watchlist="relocants", recipients=[], now=utcnow())

    asyncio.run(run_until(Daemon(monitor), lambda: monitor.store.hits()))

    assert smtp_server.sink.envelopes == []
    assert [hit.delivered for hit in monitor.store.hits()] == [None]


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
                with monitor.store.engine.begin() as connection:
                    connection.execute(update(feeds).values(next_poll_at=utcnow()))
                while len(monitor.store.hits()) < 1:
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await running

    asyncio.run(scenario())

    assert feed_server.statuses("/n1.xml") == [200, 200]
    [status] = monitor.store.feed_statuses(utcnow())
    assert (status.items, status.health) == (3, "ok")
    assert status.next_poll > utcnow() + timedelta(minutes=4)


def test_the_poll_loop_outlives_a_database_that_is_away_for_a_while(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    from monitor.errors import StorageError

    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    monitor = open_monitor(write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port))
    claim = monitor.claim_due
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 3:  # the start's catch-up and the loop's first two tries
            raise StorageError("database error: the server closed the connection")
        return claim(*args, **kwargs)

    monitor.claim_due = flaky

    asyncio.run(run_until(Daemon(monitor, idle_pause=timedelta(seconds=0.1)), lambda: monitor.store.hits()))

    assert feed_server.statuses("/n1.xml") == [200]
    assert len(monitor.store.hits()) == 1 and len(calls) >= 4


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
