"""The feeds table: the configured feeds, their polling state, their claims and their health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import Connection, bindparam, func, or_, select, update

from monitor.models import FeedState, FeedStatus, Health, PollRecord, Validators
from monitor.store.engine import Database, chunks, upsert
from monitor.store.holders import dead_holders
from monitor.store.schema import feeds, hits, items

RATE_WINDOW = timedelta(days=7)
RATE_MIN_SPAN = timedelta(hours=6)
HEALTH_ORDER: tuple[Health, ...] = get_args(Health)

# Built once: a statement made per call cost more CPU in SQLAlchemy than the database's work.
_POLL_COLUMNS = (
    "etag",
    "last_modified",
    "body_hash",
    "entry_hashes",
    "moved_to",
    "warning",
    "last_success_at",
    "next_poll_at",
)
_POLLED = (
    update(feeds)
    .where(feeds.c.name == bindparam("feed_name"))
    .values(
        last_error=None,
        last_error_kind=None,
        failures=0,
        failing_since=None,
        lease_owner=None,
        lease_until=None,
        **{name: bindparam(f"new_{name}") for name in _POLL_COLUMNS},
    )
)


def health(enabled: bool, gone_at: datetime | None, failures: int, last_success: datetime | None) -> Health:
    if not enabled:
        return "disabled"
    if gone_at is not None:
        return "gone"
    if failures:
        return "failing"
    return "ok" if last_success else "new"


def write_polls(connection: Connection, polls: Sequence[tuple[str, PollRecord, datetime]]) -> None:
    """Successful polls into their feeds' rows (feed, record, when): one executemany for the
    feeds that stay where they are; one UPDATE each for a move."""
    staying = []
    for feed, record, now in polls:
        fingerprints = " ".join(sorted(record.fingerprints)) if record.fingerprints else None
        values = (
            record.validators.etag,
            record.validators.last_modified,
            record.body_hash,
            fingerprints,
            record.moved_to,
            record.warning,
            now,
            record.next_poll,
        )
        params = {"feed_name": feed} | {
            f"new_{name}": value for name, value in zip(_POLL_COLUMNS, values, strict=True)
        }
        if record.adopt_url:
            connection.execute(_POLLED.values(fetch_url=record.adopt_url), params)
        else:
            staying.append(params)
    if staying:
        connection.execute(_POLLED, staying)


def items_per_day(
    connection: Connection, now: datetime, feed_ids: Sequence[int] | None = None
) -> dict[int, float]:
    """Items published per day over the last week, per feed id: counted over the span they
    cover, at least six hours, so a first poll of a busy feed does not read as a quiet week."""
    window = now - RATE_WINDOW
    query = (
        select(items.c.feed_id, func.count().label("count"), func.min(items.c.published_at).label("oldest"))
        .where(items.c.published_at >= window, items.c.published_at <= now)
        .group_by(items.c.feed_id)
    )
    if feed_ids is not None:
        query = query.where(items.c.feed_id.in_(feed_ids))
    return {
        row.feed_id: row.count / (max(now - row.oldest, RATE_MIN_SPAN) / timedelta(days=1))
        for row in connection.execute(query)
    }


class FeedStore:
    """The feeds: synced with the config, claimed when due, and what their polls left."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def sync(self, configured: Sequence[tuple[str, str, bool]], now: datetime) -> None:
        """Make the feeds table match the config: (name, url, enabled) for each configured feed.

        A new feed is due at once. A changed URL starts afresh (validators, moves, hash, gone).
        Feeds no longer configured are disabled, so they keep their items but are not polled.
        """
        wanted = {name: (url, enabled) for name, url, enabled in configured}
        with self.database.tx() as connection:
            known = {row.name: row.url for row in connection.execute(select(feeds.c.name, feeds.c.url))}
            for name, (url, enabled) in wanted.items():
                if name not in known:  # another worker starting may add it too: one row
                    connection.execute(
                        upsert(connection)(feeds)
                        .values(name=name, url=url, enabled=enabled, created_at=now, next_poll_at=now)
                        .on_conflict_do_nothing()
                    )
                    continue
                values: dict[str, Any] = {"enabled": enabled}
                if known[name] != url:
                    values.update(
                        url=url,
                        fetch_url=None,
                        moved_to=None,
                        etag=None,
                        last_modified=None,
                        body_hash=None,
                        entry_hashes=None,
                        gone_at=None,
                        next_poll_at=now,
                    )
                connection.execute(update(feeds).where(feeds.c.name == name).values(**values))
            gone = [name for name in known if name not in wanted]
            if gone:
                connection.execute(update(feeds).where(feeds.c.name.in_(gone)).values(enabled=False))

    def state(self, feed: str, now: datetime) -> FeedState:
        return self.states([feed], now)[feed]

    def states(self, names: Sequence[str], now: datetime) -> dict[str, FeedState]:
        """What polling needs to know about each named feed, read in one go per few hundred."""
        states: dict[str, FeedState] = {}
        with self.database.tx() as connection:
            for chunk in chunks(names):
                rows = connection.execute(
                    select(
                        feeds.c.id,
                        feeds.c.name,
                        func.coalesce(feeds.c.fetch_url, feeds.c.url).label("url"),
                        feeds.c.etag,
                        feeds.c.last_modified,
                        feeds.c.body_hash,
                        feeds.c.entry_hashes,
                        feeds.c.moved_to,
                        feeds.c.failures,
                        feeds.c.warning,
                    ).where(feeds.c.name.in_(chunk))
                ).all()
                rates = items_per_day(connection, now, [row.id for row in rows])
                for row in rows:
                    states[row.name] = FeedState(
                        name=row.name,
                        url=row.url,
                        validators=Validators(row.etag, row.last_modified),
                        body_hash=row.body_hash,
                        fingerprints=frozenset((row.entry_hashes or "").split()),
                        moved_to=row.moved_to,
                        failures=row.failures,
                        warning=row.warning,
                        items_per_day=rates.get(row.id),
                    )
        return states

    def claim_due(self, owner: str, now: datetime, limit: int, lease: timedelta) -> list[str]:
        """Lease up to ``limit`` enabled feeds that are due and not leased, soonest due first, as
        ``owner`` (``str(database.owner)`` for a process's own). A crashed worker's feeds come
        back when their lease runs out, or at once when it ran on this host (see
        ``holders.dead``). Safe under concurrency: PostgreSQL skips rows another worker is
        claiming; SQLite has one writer at a time."""
        with self.database.tx() as connection:
            gone = dead_holders(
                connection, feeds.c.lease_owner, feeds.c.lease_until, now, self.database.owner
            )
            due = (
                select(feeds.c.id)
                .where(
                    feeds.c.enabled.is_(True),
                    feeds.c.gone_at.is_(None),
                    or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now),
                    or_(
                        feeds.c.lease_until.is_(None),
                        feeds.c.lease_until < now,
                        feeds.c.lease_owner.in_(gone),
                    ),
                )
                .order_by(feeds.c.next_poll_at)
                .limit(limit)
            )
            if connection.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = connection.execute(
                update(feeds)
                .where(feeds.c.id.in_(due.scalar_subquery()))
                .values(lease_owner=owner, lease_until=now + lease)
                .returning(feeds.c.name)
            ).scalars()
            return sorted(claimed)

    def release_leases(self, owner: str) -> None:
        """A worker stopping hands back the feeds it claimed and did not poll."""
        with self.database.tx() as connection:
            connection.execute(
                update(feeds).where(feeds.c.lease_owner == owner).values(lease_owner=None, lease_until=None)
            )

    def next_due(self) -> datetime | None:
        """When the next enabled feed falls due (leases aside)."""
        with self.database.tx() as connection:
            moment: datetime | None = connection.execute(
                select(func.min(feeds.c.next_poll_at)).where(
                    feeds.c.enabled.is_(True), feeds.c.gone_at.is_(None)
                )
            ).scalar()
        return moment

    def record_failure(
        self, feed: str, kind: str, message: str, now: datetime, next_poll: datetime | None
    ) -> None:
        """A failed poll: counted, kept as the last error; ``next_poll`` None means the feed is
        gone (410) and is not polled again until its URL changes."""
        with self.database.tx() as connection:
            connection.execute(
                update(feeds)
                .where(feeds.c.name == feed)
                .values(
                    last_error_kind=kind,
                    last_error=message,
                    last_error_at=now,
                    failures=feeds.c.failures + 1,
                    failing_since=func.coalesce(feeds.c.failing_since, now),
                    gone_at=now if next_poll is None else None,
                    next_poll_at=next_poll,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def record_quiet_polls(self, polls: Sequence[tuple[str, PollRecord, datetime]]) -> None:
        """Many successful polls that brought no entries (feed, record, when), in one transaction."""
        with self.database.tx() as connection:
            write_polls(connection, polls)

    def statuses(self, now: datetime) -> list[FeedStatus]:
        """Every configured feed's health, worst first."""
        item_counts = select(items.c.feed_id, func.count().label("n")).group_by(items.c.feed_id).subquery()
        hit_counts = (
            select(items.c.feed_id, func.count().label("n"))
            .join(hits, hits.c.item_id == items.c.id)
            .group_by(items.c.feed_id)
            .subquery()
        )
        query = (
            select(
                feeds.c.id,
                feeds.c.name,
                func.coalesce(feeds.c.fetch_url, feeds.c.url).label("url"),
                feeds.c.enabled,
                feeds.c.gone_at,
                feeds.c.last_success_at,
                feeds.c.last_error_kind,
                feeds.c.last_error,
                feeds.c.last_error_at,
                feeds.c.failing_since,
                feeds.c.failures,
                feeds.c.warning,
                feeds.c.next_poll_at,
                func.coalesce(item_counts.c.n, 0).label("items"),
                func.coalesce(hit_counts.c.n, 0).label("hits"),
            )
            .outerjoin(item_counts, item_counts.c.feed_id == feeds.c.id)
            .outerjoin(hit_counts, hit_counts.c.feed_id == feeds.c.id)
        )
        with self.database.tx() as connection:
            rows = connection.execute(query).all()
            rates = items_per_day(connection, now)
        statuses = [
            FeedStatus(
                name=row.name,
                url=row.url,
                health=health(row.enabled, row.gone_at, row.failures, row.last_success_at),
                last_success=row.last_success_at,
                last_error_kind=row.last_error_kind,
                last_error=row.last_error,
                last_error_at=row.last_error_at,
                failing_since=row.failing_since,
                failures=row.failures,
                warning=row.warning,
                items_per_day=rates.get(row.id),
                next_poll=None if row.gone_at or not row.enabled else row.next_poll_at,
                items=row.items,
                hits=row.hits,
            )
            for row in rows
        ]
        return sorted(statuses, key=lambda s: (HEALTH_ORDER.index(s.health), -s.failures, s.name))
