"""Several workers on one database: registered, beating, renewing the leases of the work they
are doing, and listed by `monitor workers`, live and gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.leases import GONE_AFTER, LEASE
from monitor.models import utcnow
from monitor.store import Store
from monitor.store.holders import Holder
from monitor.store.schema import feeds
from tests.support.cli import monitor

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
ELSEWHERE = Holder("another-host", 4242, 17)


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


def test_workers_are_listed_live_first_and_a_silent_one_is_gone(database_url, write_config):
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
