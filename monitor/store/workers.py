"""The workers on one database: each `monitor run` registers a row, and its heartbeat keeps the
row fresh and renews, in the same transaction, every lease it holds (see monitor.leases)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, tuple_, update

from monitor.leases import FORGET_AFTER, worker_state
from monitor.models import Worker
from monitor.store.engine import Database, chunks
from monitor.store.schema import digests, feeds, job_claims, workers


class WorkerStore:
    """This process's row among the workers, its beats, and the list of them all."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def register(self, version: str, now: datetime) -> None:
        """This process starts working; the rows of workers not seen for ``FORGET_AFTER`` are
        forgotten."""
        owner = self.database.owner
        with self.database.tx() as connection:
            connection.execute(
                delete(workers).where(
                    (workers.c.last_seen < now - FORGET_AFTER) | (workers.c.id == str(owner))
                )
            )
            connection.execute(
                insert(workers).values(
                    id=str(owner),
                    host=owner.host,
                    pid=owner.pid,
                    started_at=now,
                    last_seen=now,
                    version=version,
                )
            )

    def beat(
        self,
        now: datetime,
        lease: timedelta,
        feed_names: Collection[str] = (),
        message_ids: Collection[int] = (),
        runs: Collection[tuple[str, datetime]] = (),
    ) -> None:
        """This process lives: its row is seen at ``now``, and the leases it holds on the work
        it is doing (feeds being polled, messages being sent, scheduled runs under way) run
        until ``now + lease``, in one transaction. Only leases it still holds are renewed:
        one that ran out and was taken by another worker stays with that one."""
        owner = str(self.database.owner)
        until = now + lease
        with self.database.tx() as connection:
            connection.execute(update(workers).where(workers.c.id == owner).values(last_seen=now))
            for names in chunks(sorted(feed_names)):
                connection.execute(
                    update(feeds)
                    .where(feeds.c.lease_owner == owner, feeds.c.name.in_(names))
                    .values(lease_until=until)
                )
            for ids in chunks(sorted(message_ids)):
                connection.execute(
                    update(digests)
                    .where(digests.c.sending_owner == owner, digests.c.id.in_(ids))
                    .values(sending_until=until)
                )
            if runs:
                connection.execute(
                    update(job_claims)
                    .where(
                        job_claims.c.owner == owner,
                        job_claims.c.done_at.is_(None),
                        tuple_(job_claims.c.job, job_claims.c.due_at).in_(list(runs)),
                    )
                    .values(until=until)
                )

    def stop(self, now: datetime) -> None:
        """This process stopped cleanly."""
        with self.database.tx() as connection:
            connection.execute(
                update(workers)
                .where(workers.c.id == str(self.database.owner))
                .values(last_seen=now, stopped_at=now)
            )

    def known(self, now: datetime) -> list[Worker]:
        """Every worker remembered, the live ones first, then the newest."""
        with self.database.tx() as connection:
            rows = connection.execute(select(workers).order_by(workers.c.started_at.desc())).all()
        found = [
            Worker(
                id=row.id,
                host=row.host,
                pid=row.pid,
                started=row.started_at,
                last_seen=row.last_seen,
                version=row.version,
                stopped=row.stopped_at,
                state=worker_state(row.last_seen, row.stopped_at, now),
            )
            for row in rows
        ]
        return sorted(found, key=lambda worker: worker.state != "live")
