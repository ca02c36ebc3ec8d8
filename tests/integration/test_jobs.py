"""Scheduled work shared by workers on one database: each run claimed by exactly one of them,
and taken over when its holder dies before finishing it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.daemon import Daemon
from monitor.models import utcnow
from monitor.store import Store
from monitor.store.holders import Holder
from tests.integration.test_store_processes import engine_url
from tests.support.polling import poll
from tests.support.processes import race, ready

DUE = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
# A process that claims the 08:00 digest when it reads a line, and says whether it won.
CLAIMER = """
import sys
from datetime import UTC, datetime, timedelta
from monitor.store import Store
store = Store(sys.argv[1])
due = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
print("ready", flush=True)
sys.stdin.readline()
print(store.jobs.claim("digest:relocants", due, due + timedelta(seconds=1), timedelta(minutes=1)), flush=True)
store.close()
"""


def test_of_processes_claiming_one_run_at_once_exactly_one_wins(database_url):
    Store(database_url).close()  # migrated before, so the claims race each other, not the migration
    started = ready(CLAIMER, engine_url(database_url), count=4)
    results = race(started)

    assert [process.returncode for process in started] == [0] * 4, [err for _, err in results]
    assert sorted(out.strip() for out, _ in results) == ["False", "False", "False", "True"]


def test_a_run_is_taken_over_only_when_its_holder_neither_finished_nor_kept_its_lease(database_url):
    elsewhere, here = Store(database_url), Store(database_url)
    try:
        elsewhere.database.owner = Holder("another-host", 4242, 17)
        assert elsewhere.jobs.claim("digest:relocants", DUE, DUE, LEASE)
        assert not here.jobs.claim("digest:relocants", DUE, DUE + LEASE / 2, LEASE)
        assert here.jobs.claim("digest:relocants", DUE, DUE + LEASE * 2, LEASE)  # it vanished
        assert not elsewhere.jobs.claim("digest:relocants", DUE, DUE + LEASE * 2, LEASE)

        here.jobs.finish("digest:relocants", DUE, DUE + LEASE * 2)
        assert not elsewhere.jobs.claim("digest:relocants", DUE, DUE + LEASE * 10, LEASE)
        # another run, or another job, is another claim
        assert elsewhere.jobs.claim(
            "digest:relocants", DUE + timedelta(days=1), DUE + timedelta(days=1), LEASE
        )
        assert elsewhere.jobs.claim("outbox", DUE, DUE, LEASE)
    finally:
        elsewhere.close()
        here.close()


def test_two_workers_firing_one_digest_at_once_send_it_once(
    n1_config, smtp_server, database_url, open_monitor
):
    """Both schedulers fire the digest; the first to claim the run sends it, the other sees
    it taken, and later sees it done: the next run is not due yet."""
    path = n1_config(database_url, extra='digest = "* * * * *"\n')
    first, second = open_monitor(path), open_monitor(path)
    first.store.messages.record_empty(
        watchlist="relocants", recipients=[], now=utcnow() - timedelta(minutes=2)
    )
    poll(first)
    other = Daemon(second)
    second.store.database.owner = Holder("another-host", 4242, 17)

    async def both() -> None:
        await asyncio.gather(
            Daemon(first)._digest(first.config.watchlists[0]), other._digest(second.config.watchlists[0])
        )

    asyncio.run(both())
    asyncio.run(other._digest(second.config.watchlists[0]))

    assert len(smtp_server.sink.envelopes) == 1
    assert [run.status for run in first.store.messages.runs()] == ["sent", "empty"]
