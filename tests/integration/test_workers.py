"""Several workers on one database: registered, beating, renewing the leases of the work they
are doing, and listed by `monitor workers`, live and gone."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import Engine, create_engine, exists, func, select, text, update
from sqlalchemy.engine import make_url

from monitor.daemon import ALERT_GATHER
from monitor.errors import DatabaseAway, StorageError
from monitor.leases import GONE_AFTER, LEASE
from monitor.models import utcnow
from monitor.store import Store
from monitor.store.holders import Holder
from monitor.store.migrate import MIGRATION_LOCK, newest_revision
from monitor.store.schema import alert_hits, digest_hits, digests, feeds, hits, items, workers
from tests.conftest import PG_ENV
from tests.support.cli import monitor
from tests.support.feeds import FIRST_PUBLISHED, Entry, rss
from tests.support.polling import text_part
from tests.support.processes import race, ready, start_daemon, wait_until

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
# a digest every minute and alerts, a few feeds claimed at a time, waiting messages retried soon
EVERY_MINUTE = """digest = "* * * * *"
alert = "immediate"

[polling]
concurrency = 4

[outbox]
retry_every = "1m"
"""
KINDS = ("digest", "alert")
ELSEWHERE = Holder("another-host", 4242, 17)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of the test's own (not a schema: a test takes it away)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = _engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _engine(url: str, **options: object) -> Engine:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), **options)


@contextmanager
def database_away(url: str) -> Iterator[None]:
    """The database refuses connections and cuts those of monitor's processes (as a restart
    or a failover would), until the block ends."""
    name = make_url(url).database
    admin = _engine(url.replace(f"/{name}", "/postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND application_name LIKE 'monitor %'"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def news(feed: str) -> list[Entry]:
    """Three entries of a feed's own, one a hit."""
    return [
        (f"{feed}-1", f"{feed}: BIA ocenila aktivistu", "Bezbednosno-informativna agencija."),
        (f"{feed}-2", f"{feed}: Vreme u Beogradu", "Sunčano."),
        (f"{feed}-3", f"{feed}: Fudbal", "Srbija je pobedila."),
    ]


def count(url: str, query: object) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]
    finally:
        engine.dispose()


def lease_of(store: Store, name: str) -> tuple[str | None, datetime | None]:
    with store.database.tx() as connection:
        row = connection.execute(
            select(feeds.c.lease_owner, feeds.c.lease_until).where(feeds.c.name == name)
        ).one()
    return row.lease_owner, row.lease_until


def test_a_beat_renews_only_the_leases_of_the_work_its_worker_is_doing(database_url):
    here, elsewhere = Store(database_url), Store(database_url)
    try:
        elsewhere.database.owner = ELSEWHERE
        here.feeds.sync([(name, f"https://example.org/{name}", True) for name in "ABC"], NOW)
        assert here.feeds.claim_due(str(here.database.owner), NOW, 2, LEASE) == ["A", "B"]
        assert elsewhere.feeds.claim_due(str(ELSEWHERE), NOW, 2, LEASE) == ["C"]

        later = NOW + LEASE / 2
        here.workers.beat(later, LEASE, feed_names={"A", "C"})

        assert lease_of(here, "A") == (str(here.database.owner), later + LEASE)  # polling it
        assert lease_of(here, "B") == (str(here.database.owner), NOW + LEASE)  # done with it
        assert lease_of(here, "C") == (str(ELSEWHERE), NOW + LEASE)  # another worker's
        # not renewed, it runs out and another worker takes it; the next beat leaves it alone
        taken = NOW + LEASE * 1.2
        assert elsewhere.feeds.claim_due(str(ELSEWHERE), taken, 5, LEASE) == ["B", "C"]
        here.workers.beat(taken, LEASE, feed_names={"A", "B"})
        assert lease_of(here, "B") == (str(ELSEWHERE), taken + LEASE)
    finally:
        here.close()
        elsewhere.close()


def test_startedare_listed_live_first_and_a_silent_one_is_gone(database_url, write_config):
    config = write_config({"N1": "https://n1info.rs/feed/"}, database_url=database_url, smtp_port=25)
    now = utcnow().replace(microsecond=0)  # `monitor workers` judges them at its own now
    here, elsewhere, stopping = Store(database_url), Store(database_url), Store(database_url)
    try:
        elsewhere.database.owner = ELSEWHERE
        stopping.database.owner = Holder("third-host", 7, 99)
        old = Store(database_url)
        old.database.owner = Holder("old-host", 1, 1)
        old.workers.register("0.0.1", now - timedelta(days=3))
        old.close()
        elsewhere.workers.register("0.1.0", now - timedelta(minutes=5))
        stopping.workers.register("0.1.0", now - timedelta(minutes=4))
        stopping.workers.stop(now - timedelta(minutes=3))
        here.workers.register("0.2.0", now - timedelta(minutes=2))  # forgets the old one
        here.workers.beat(now, LEASE)

        found = here.workers.known(now + GONE_AFTER / 2)
    finally:
        here.close()
        elsewhere.close()
        stopping.close()
    assert [(worker.host, worker.version, worker.state) for worker in found] == [
        (here.database.owner.host, "0.2.0", "live"),
        ("third-host", "0.1.0", "stopped"),
        ("another-host", "0.1.0", "gone"),
    ]
    assert found[0].id == str(here.database.owner) and found[0].last_seen == now

    code, out, _ = monitor(config, "workers", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    code_table, table, _ = monitor(config, "workers")

    assert code == 0 and code_table == 0
    assert [(worker["host"], worker["pid"], worker["state"]) for worker in listed] == [
        (here.database.owner.host, here.database.owner.pid, "live"),
        ("third-host", 7, "stopped"),
        ("another-host", 4242, "gone"),
    ]
    five_minutes_ago = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert listed[2] == {
        "id": "another-host:4242:17",
        "host": "another-host",
        "pid": 4242,
        "started": five_minutes_ago,
        "last_seen": five_minutes_ago,
        "version": "0.1.0",
        "stopped": None,
        "state": "gone",
    }
    assert "3 workers" in table and "another-host" in table and "gone" in table


def test_a_connection_cut_by_the_server_is_the_database_away_and_the_next_transaction_reconnects(
    pg_database,
):
    store = Store(pg_database)
    try:
        with pytest.raises(DatabaseAway, match="terminating connection"), store.database.tx() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        with pytest.raises(StorageError) as refused, store.database.tx() as connection:
            connection.execute(text("SELECT 1/0"))  # a refusal, not the database away
        store.feeds.sync([("N1", "https://n1info.rs/feed/", True)], NOW)
    finally:
        store.close()
    assert not isinstance(refused.value, DatabaseAway)
    assert count(pg_database, select(func.count()).select_from(feeds)) == 1


def test_a_worker_rides_out_the_database_going_away_and_stores_each_item_once(
    pg_database, feed_server, smtp_server, write_config
):
    """The database goes away in the middle of a poll cycle, for three seconds: the worker
    says so once, waits, reconnects, polls again the feeds whose polls failed, and goes on."""
    names = [f"F{number:02}" for number in range(40)]
    served = {
        name: feed_server.serve(
            f"/{name}.xml", rss(name, f"https://{name.lower()}.example", news(name)), delay=0.3
        )
        for name in names
    }
    config = write_config(served, database_url=pg_database, smtp_port=smtp_server.port)
    polled = select(func.count()).select_from(feeds).where(feeds.c.last_success_at.is_not(None))
    daemon = start_daemon(config)
    try:
        wait_until(lambda: len(feed_server.log) >= 8, 60, "the worker fetched")
        with database_away(pg_database):
            time.sleep(3)
        wait_until(lambda: count(pg_database, polled) == len(names), 60, "every feed polled")
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=30)
    finally:
        daemon.kill()

    assert daemon.returncode == 0, log
    fetches = {name: len(feed_server.statuses(f"/{name}.xml")) for name in names}
    assert any(times > 1 for times in fetches.values()), "no poll met the database away"
    assert count(pg_database, select(func.count()).select_from(items)) == 3 * len(names)
    assert count(pg_database, select(func.count(func.distinct(items.c.guid)))) == 3 * len(names)
    assert count(pg_database, select(func.count()).select_from(hits)) == len(names)
    away, back = log.count("event=database.away"), log.count("event=database.back")
    assert away >= 1 and back == away, log
    assert "Traceback" not in log and "crashed" not in log, log


def test_a_killed_startedfeeds_go_to_the_other_worker_within_a_minute_and_it_is_listed_gone(
    pg_database, feed_server, smtp_server, write_config
):
    """Worker A claims six feeds that answer slowly, two at a time (one host): its polls run
    past a lease's time, renewed, and worker B keeps off them. A is killed as if its host
    vanished (its claims rewritten to another host's, so B cannot see it dead): B polls what
    A held once the leases run out, and `monitor workers` lists A gone."""
    names = [f"S{number}" for number in range(6)]
    served = {
        name: feed_server.serve(
            f"/{name}.xml", rss(name, f"https://{name.lower()}.example", news(name)), delay=28
        )
        for name in names
    }
    config = write_config(served, database_url=pg_database, smtp_port=smtp_server.port)
    first = start_daemon(config)
    second = None
    try:
        wait_until(lambda: feed_server.max_in_flight >= 2, 60, "worker A fetched")
        second = start_daemon(config)
        began = time.monotonic()
        wait_until(
            lambda: count(pg_database, select(func.count()).select_from(workers)) == 2, 60, "B registered"
        )
        time.sleep(max(0.0, LEASE.total_seconds() + 2 - (time.monotonic() - began)))
        read_at = utcnow()
        engine = _engine(pg_database)
        with engine.connect() as connection:
            held = connection.execute(
                select(feeds.c.name, feeds.c.lease_owner, feeds.c.lease_until).where(
                    feeds.c.lease_owner.is_not(None)
                )
            ).all()
        fetched_by_then = list(feed_server.log)

        first.send_signal(signal.SIGSTOP)  # alive, so B cannot take its claims as a dead local's
        gone_owner = f"vanished-host:{first.pid}:1"
        with engine.begin() as connection:
            owner = connection.execute(select(workers.c.id).where(workers.c.pid == first.pid)).scalar_one()
            connection.execute(
                update(feeds).where(feeds.c.lease_owner == owner).values(lease_owner=gone_owner)
            )
            connection.execute(
                update(workers).where(workers.c.id == owner).values(id=gone_owner, host="vanished-host")
            )
        engine.dispose()
        first.kill()
        first.wait()
        for name in names:
            feed_server.serve(f"/{name}.xml", rss(name, f"https://{name.lower()}.example", news(name)))
        polled = select(func.count()).select_from(feeds).where(feeds.c.last_success_at.is_not(None))
        wait_until(lambda: count(pg_database, polled) == len(names), 60, "B polled A's feeds")
        wait_until(lambda: _states(config).get("vanished-host") == "gone", 30, "A listed gone")
        listed = _states(config)
        second.send_signal(signal.SIGTERM)
        _, log = second.communicate(timeout=30)
    finally:
        first.kill()
        if second is not None:
            second.kill()

    # while A polled, past a lease's time: four feeds still A's, their leases renewed, none
    # fetched twice
    assert sorted(owner for _, owner, _ in held) == [owner] * 4
    assert all(until > read_at for _, _, until in held)
    assert len(fetched_by_then) == len({path for path, _ in fetched_by_then})
    assert second.returncode == 0, log
    assert listed == {"vanished-host": "gone", socket.gethostname(): "live"}
    assert count(pg_database, select(func.count()).select_from(items)) == 3 * len(names)


def _states(config) -> dict[str, str]:
    code, out, err = monitor(config, "workers", "--json")
    assert code == 0, err
    return {worker["host"]: worker["state"] for worker in map(json.loads, out.splitlines())}


def test_startedstarting_at_once_on_an_empty_database_wait_for_one_migration(pg_database, write_config):
    """Four `monitor db upgrade` at once, while the test holds the migration's advisory lock:
    all four wait on it; let go, one migrates and the others find the schema made."""
    config = write_config({"N1": "https://n1info.rs/feed/"}, database_url=pg_database, smtp_port=25)
    engine = _engine(pg_database)
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as holder:
        holder.execute(select(func.pg_advisory_lock(MIGRATION_LOCK)))
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "-c", str(config), "db", "upgrade"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        try:
            with engine.connect() as probe:
                wait_until(lambda: probe.execute(waiting).scalar() == 4, 60, "four waiting on the lock")
            assert all(process.poll() is None for process in started)
        finally:
            holder.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK)))
            holder.commit()
        results = [process.communicate(timeout=60) for process in started]
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()

    assert [process.returncode for process in started] == [0] * 4, [err for _, err in results]
    assert versions == [newest_revision()]
    assert all("schema upgraded from nothing" in out for out, _ in results)  # each found none before


def test_three_workers_share_the_feeds_and_tell_each_hit_once_through_a_kill_and_cut_connections(
    pg_database, feed_server, smtp_server, write_config
):
    """Three workers, 120 feeds, a digest every minute and immediate alerts. One worker is
    killed in the middle of the first poll cycle, and the others' connections are cut once.
    Every feed is polled; every item and hit is stored once; each recipient gets each hit in
    one digest and one alert (unless a digest told it while its alert round gathered), those
    of the second cycle too; a feed is fetched twice in the
    first cycle only when the killed worker held it, or its poll met a cut connection."""
    names = [f"F{number:03}" for number in range(120)]
    hit_feeds = names[::4]
    links = {name: f"https://{name.lower()}.example" for name in names}
    # each feed's news days apart from the others', so no two feeds tell one story: each hit is
    # an entry of its own, "also reported by" none
    starts = {name: FIRST_PUBLISHED - timedelta(days=2 * number) for number, name in enumerate(names)}

    def entries(name: str, fresh: bool = False) -> list[Entry]:
        found = [
            (f"{name}-1", f"{name}: Vreme u Beogradu", "Sunčano."),
            (f"{name}-2", f"{name}: Fudbal", "Gol."),
        ]
        if name in hit_feeds:
            found.append(
                (f"{name}-3", f"{name}: BIA ocenila aktivistu", "Bezbednosno-informativna agencija.")
            )
        if fresh:
            found.append((f"{name}-4", f"{name}: BIA opet saslušala aktivistu", "Aktivista je pozvan."))
        return found

    served = {
        name: feed_server.serve(
            f"/{name}.xml", rss(name, links[name], entries(name), starts[name]), delay=0.3
        )
        for name in names
    }
    config = write_config(
        served,
        database_url=pg_database,
        smtp_port=smtp_server.port,
        extra=EVERY_MINUTE,
    )
    recipients = {"desk@example.org", "lawyer@example.org"}
    started = [start_daemon(config) for _ in range(3)]
    engine = _engine(pg_database)
    try:
        wait_until(lambda: len(feed_server.log) >= 30, 60, "the workers fetched")
        with engine.connect() as connection:
            held = dict(
                connection.execute(
                    select(feeds.c.lease_owner, func.count())
                    .where(feeds.c.lease_owner.is_not(None))
                    .group_by(feeds.c.lease_owner)
                ).all()
            )
        busiest = max(held, key=held.__getitem__)
        victim = next(worker for worker in started if f":{worker.pid}:" in busiest)
        victim.send_signal(signal.SIGSTOP)
        with engine.connect() as connection:
            reclaimed = set(
                connection.execute(select(feeds.c.name).where(feeds.c.lease_owner == busiest)).scalars()
            )
        victim.kill()
        victim.wait()
        with engine.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE 'monitor %'"
                )
            ).scalar_one()
        polled = select(func.count()).select_from(feeds).where(feeds.c.last_success_at.is_not(None))
        wait_until(lambda: count(pg_database, polled) == len(names), 60, "every feed polled")
        first_cycle = Counter(path for path, _ in feed_server.log)

        for name in hit_feeds[:10]:  # the second cycle's news
            feed_server.serve(f"/{name}.xml", rss(name, links[name], entries(name, fresh=True), starts[name]))
        new_items = select(func.count()).select_from(items)
        wait_until(
            lambda: count(pg_database, new_items) == 2 * len(names) + 40, 100, "the second cycle polled"
        )
        expected = {f"{links[name]}/{name}-3/" for name in hit_feeds} | {
            f"{links[name]}/{name}-4/" for name in hit_feeds[:10]
        }
        everyone = {(recipient, link) for recipient in recipients for link in expected}

        def all_told() -> bool:
            alerted = _told(smtp_server, "alert").keys() | {
                (recipient, link) for recipient in recipients for link in _digest_first(pg_database)
            }
            return _told(smtp_server, "digest").keys() >= everyone <= alerted

        try:
            wait_until(all_told, 120, "every hit in a digest and an alert")
        except AssertionError:
            for worker in started:
                worker.kill()
            untold = {kind: sorted(everyone - _told(smtp_server, kind).keys()) for kind in KINDS}
            logs = [worker.communicate(timeout=30)[1] for worker in started]
            raise AssertionError(f"not told: {untold}\nlogs: {logs}") from None
        survivors = [worker for worker in started if worker is not victim]
        for worker in survivors:
            worker.send_signal(signal.SIGTERM)
        logs = [worker.communicate(timeout=30)[1] for worker in survivors]
    finally:
        for worker in started:
            worker.kill()
        engine.dispose()

    assert [worker.returncode for worker in survivors] == [0, 0], logs
    assert cut >= 2  # both survivors had a connection
    polled_again = {
        line.split("feed=")[1].split()[0]
        for log in logs
        for line in log.splitlines()
        if "event=poll.again" in line
    }
    for name in names:
        assert first_cycle[f"/{name}.xml"] <= 1 + (name in reclaimed) + (name in polled_again), name
    assert count(pg_database, select(func.count()).select_from(items)) == 2 * len(names) + len(hit_feeds) + 10
    assert count(pg_database, select(func.count()).select_from(hits)) == len(expected)
    wanted = dict.fromkeys(everyone, 1)
    first_in_a_digest = _digest_first(pg_database)
    assert _told(smtp_server, "digest") == wanted
    assert _told(smtp_server, "alert") == {pair: 1 for pair in everyone if pair[1] not in first_in_a_digest}
    assert all("Traceback" not in log for log in logs), logs


def _digest_first(url: str) -> set[str]:
    """The links of the hits that no alert told because a digest told them first, soon after
    they were found: an alert tells only of hits no message has told yet, so a hit found in the
    seconds an alert round waits for others may go out in a digest made meanwhile."""
    soon = ALERT_GATHER + timedelta(seconds=20)  # an alert round late under load
    query = (
        select(items.c.link, hits.c.created_at, digests.c.created_at.label("told"))
        .select_from(
            hits.join(items, items.c.id == hits.c.item_id)
            .join(digest_hits, digest_hits.c.hit_id == hits.c.id)
            .join(digests, digests.c.id == digest_hits.c.digest_id)
        )
        .where(~exists().where(alert_hits.c.hit_id == hits.c.id))
    )
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return {row.link for row in connection.execute(query) if row.told <= row.created_at + soon}
    finally:
        engine.dispose()


def _told(smtp_server, kind: str) -> Counter[tuple[str, str]]:
    """How many messages of ``kind`` told each recipient of each hit (by its link)."""
    told: Counter[tuple[str, str]] = Counter()
    for recipients, raw in list(smtp_server.sink.envelopes):  # a copy: the server appends meanwhile
        message = message_from_bytes(raw, policy=policy.default)
        if message["Subject"].startswith("[monitor] alert:") != (kind == "alert"):
            continue
        found = set(re.findall(r"https://f\d{3}\.example/f\d{3}-\d/", text_part(message), re.IGNORECASE))
        told.update((recipient, link) for recipient in recipients for link in found)
    return told


# A worker's start as far as its feeds: the store opened, then, at a line, the config's feeds
# added (200 new ones), as every worker starting at once does.
SYNCER = """
import sys
from monitor.models import utcnow
from monitor.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
store.feeds.sync([(f"F{n}", f"https://example.org/{n}", True) for n in range(200)], utcnow())
store.close()
"""


def test_workers_starting_at_once_add_the_configured_feeds_once_without_error(pg_database):
    Store(pg_database).close()
    started = ready(SYNCER, pg_database.replace("postgresql://", "postgresql+psycopg://", 1), count=4)
    results = race(started)

    assert [process.returncode for process in started] == [0] * 4, [err for _, err in results]
    assert count(pg_database, select(func.count()).select_from(feeds)) == 200


def test_a_stopping_worker_hands_back_the_feeds_it_has_not_polled_and_is_listed_stopped(
    database_url, feed_server, smtp_server, write_config
):
    """Six slow feeds, two fetched at a time: SIGTERM while two are being fetched and four wait.
    After the grace the worker stops; it holds no feed, records no failure for the polls it
    cut short, and says it stopped."""
    names = [f"S{number}" for number in range(6)]
    served = {
        name: feed_server.serve(
            f"/{name}.xml", rss(name, f"https://{name.lower()}.example", news(name)), delay=20
        )
        for name in names
    }
    config = write_config(served, database_url=database_url, smtp_port=smtp_server.port)
    daemon = start_daemon(config)
    try:
        wait_until(lambda: feed_server.max_in_flight >= 2, 60, "the worker fetched")
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=60)
    finally:
        daemon.kill()
    store = Store(database_url)
    try:
        with store.database.tx() as connection:
            rows = connection.execute(select(feeds.c.lease_owner, feeds.c.failures)).all()
        listed = store.workers.known(utcnow())
    finally:
        store.close()

    assert daemon.returncode == 0, log
    assert rows == [(None, 0)] * len(names)
    assert [(worker.pid, worker.state) for worker in listed] == [(daemon.pid, "stopped")]
