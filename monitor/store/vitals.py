"""A monitor's vitals in one read: feeds by health, the latest polls, the most overdue feed,
the messages waiting, the live workers. Aggregates over small tables (feeds, digests,
workers), so /healthz and every scrape of /metrics cost a few milliseconds."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sqlalchemy import bindparam, func, select

from monitor.leases import GONE_AFTER
from monitor.models import Health, Kind, Vitals
from monitor.store.engine import Database
from monitor.store.feeds import HEALTH_ORDER, health
from monitor.store.schema import digests, feeds, workers

FAILING_SHOWN = 10  # names of failing feeds in the vitals; the count says how many there are

# Built once: a statement made per call cost more CPU in SQLAlchemy than the database's work.
_FEEDS = select(feeds.c.name, feeds.c.enabled, feeds.c.gone_at, feeds.c.failures, feeds.c.last_success_at)
_POLLS = select(
    func.max(feeds.c.last_success_at).label("success"),
    func.max(feeds.c.last_error_at).label("error"),
)
_WAITING = (
    select(digests.c.kind, func.count().label("n"), func.min(digests.c.created_at).label("oldest"))
    .where(digests.c.status == "pending")
    .group_by(digests.c.kind)
)
_OVERDUE = select(func.min(feeds.c.next_poll_at)).where(
    feeds.c.enabled, feeds.c.gone_at.is_(None), feeds.c.next_poll_at <= bindparam("now")
)
_LIVE = select(func.count()).where(workers.c.stopped_at.is_(None), workers.c.last_seen >= bindparam("since"))


class VitalsStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self, now: datetime) -> Vitals:
        with self.database.tx() as connection:
            rows = connection.execute(_FEEDS).all()
            polls = connection.execute(_POLLS).one()
            overdue_since = connection.execute(_OVERDUE, {"now": now}).scalar()
            waiting = connection.execute(_WAITING).all()
            live_workers = connection.execute(_LIVE, {"since": now - GONE_AFTER}).scalar_one()
        states = {
            row.name: health(row.enabled, row.gone_at, row.failures, row.last_success_at) for row in rows
        }
        by_health: dict[Health, int] = dict.fromkeys(HEALTH_ORDER, 0)
        for state in states.values():
            by_health[state] += 1
        failing = sorted(
            (name for name, state in states.items() if state in ("gone", "failing")),
            key=lambda name: (HEALTH_ORDER.index(states[name]), name),
        )
        counts: dict[Kind, int] = dict.fromkeys(get_args(Kind), 0)
        for row in waiting:
            counts[row.kind] = row.n
        return Vitals(
            feeds=by_health,
            failing=tuple(failing[:FAILING_SHOWN]),
            last_poll=max((at for at in (polls.success, polls.error) if at is not None), default=None),
            last_success=polls.success,
            overdue_since=overdue_since,
            waiting=counts,
            oldest_waiting=min((row.oldest for row in waiting), default=None),
            live_workers=live_workers,
        )
