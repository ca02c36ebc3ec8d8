"""Scheduled work shared by every worker on one database: each run of a job (a watchlist's
digest at 08:00, the alerts of a moment, the outbox's retry round) is claimed in a row, so
exactly one worker does it, whoever else fires the same schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update

from monitor.store.engine import Database, upsert
from monitor.store.holders import dead_holders
from monitor.store.schema import job_claims

KEEP = timedelta(days=1)  # a job's runs are remembered this long, then forgotten at its next claim


class JobStore:
    """Claims on runs of scheduled jobs."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, job: str, due: datetime, now: datetime, lease: timedelta) -> bool:
        """Whether this process does ``job``'s run scheduled at ``due``: it is the first to
        claim it, or takes over a run whose holder neither finished it nor renewed its lease in
        time (or died on this host). One statement decides, so two workers never both win."""
        owner = str(self.database.owner)
        with self.database.tx() as connection:
            connection.execute(
                delete(job_claims).where(job_claims.c.job == job, job_claims.c.due_at < now - KEEP)
            )
            inserted = connection.execute(
                upsert(connection)(job_claims)
                .values(job=job, due_at=due, owner=owner, until=now + lease)
                .on_conflict_do_nothing()
                .returning(job_claims.c.job)  # not every driver counts the rows of ON CONFLICT
            ).first()
            if inserted is not None:
                return True
            gone = dead_holders(connection, job_claims.c.owner, job_claims.c.until, now, self.database.owner)
            taken = connection.execute(
                update(job_claims)
                .where(
                    job_claims.c.job == job,
                    job_claims.c.due_at == due,
                    job_claims.c.done_at.is_(None),
                    or_(job_claims.c.until < now, job_claims.c.owner.in_(gone)),
                )
                .values(owner=owner, until=now + lease)
            ).rowcount
        return bool(taken == 1)

    def finish(self, job: str, due: datetime, now: datetime) -> None:
        """The run is done: nobody takes it over."""
        with self.database.tx() as connection:
            connection.execute(
                update(job_claims)
                .where(job_claims.c.job == job, job_claims.c.due_at == due)
                .values(done_at=now)
            )
