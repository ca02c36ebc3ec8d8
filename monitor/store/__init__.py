"""All SQL lives here. Callers see plain models and StorageError, never SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from monitor.errors import ClaimedError
from monitor.models import (
    WAITING,
    Delivery,
    DeliveryState,
    DigestRun,
    Kind,
    Outgoing,
    digest_error,
    digest_state,
)
from monitor.store.engine import Database, chunks
from monitor.store.feeds import FeedStore
from monitor.store.hits import CLAIMS, HitStore
from monitor.store.holders import dead_holders
from monitor.store.items import ItemStore
from monitor.store.migrate import migrate
from monitor.store.schema import (
    deliveries,
    digests,
    hits,
)

# Built once: a statement made per call cost more CPU in SQLAlchemy than the database's work.
_RUN_COLUMNS = [column for column in digests.c if column.name not in ("message", "notice")]
_MARKS = {"digest": "delivered_at", "alert": "alerted_at"}  # the hit's column once it is through
_OUTGOING = select(
    digests.c.kind,
    digests.c.notice,
    digests.c.id,
    digests.c.watchlist,
    digests.c.created_at,
    digests.c.message_id,
    digests.c.message,
    digests.c.hit_count,
)


class Store:
    """The database of one monitor: feeds and their state, items, hits, digest runs."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        migrate(self.database)
        self.feeds = FeedStore(self.database)
        self.items = ItemStore(self.database)
        self.hits = HitStore(self.database)

    def close(self) -> None:
        self.database.close()

    # digests

    def record_digest(
        self,
        *,
        watchlist: str,
        recipients: Sequence[str],
        message_id: str,
        message: bytes,
        hit_ids: Sequence[int],
        now: datetime,
        lease: timedelta = timedelta(0),
        kind: Kind = "digest",
        notice: tuple[str, str] | None = None,
    ) -> Outgoing:
        """Put a digest (or an alert) in the outbox before it is sent, in one transaction: its
        message (and ``notice``, title and body, for channels), its recipients (each pending)
        and its hits, which it claims among those of its kind; held by its maker for ``lease``
        (see ``claim``). A hit another message of its kind claimed (a concurrent run) fails the
        whole record with a ClaimedError, and nothing is recorded."""
        with self.database.tx() as connection:
            digest_id = connection.execute(
                insert(digests)
                .values(
                    watchlist=watchlist,
                    created_at=now,
                    recipients=list(recipients),
                    message_id=message_id,
                    message=message,
                    hit_count=len(hit_ids),
                    status="pending",
                    sending_until=now + lease if lease else None,
                    sending_owner=str(self.database.owner) if lease else None,
                    kind=kind,
                    notice=None if notice is None else {"title": notice[0], "body": notice[1]},
                )
                .returning(digests.c.id)
            ).scalar_one()
            connection.execute(
                insert(deliveries),
                [
                    {"digest_id": digest_id, "recipient": recipient, "state": "pending"}
                    for recipient in recipients
                ],
            )
            if hit_ids:
                try:
                    connection.execute(
                        insert(CLAIMS[kind]),
                        [{"digest_id": digest_id, "hit_id": hit_id} for hit_id in hit_ids],
                    )
                except IntegrityError as exc:  # the primary key: the hit is in another one
                    raise ClaimedError(
                        f"another {kind} run of watchlist {watchlist!r} is sending these hits; try again"
                    ) from exc
        return Outgoing(
            digest_id,
            watchlist,
            now,
            message_id,
            message,
            tuple(recipients),
            len(hit_ids),
            kind=kind,
            notice=notice,
        )

    def record_empty(self, *, watchlist: str, recipients: Sequence[str], now: datetime) -> None:
        """A digest run that had nothing to send."""
        with self.database.tx() as connection:
            connection.execute(
                insert(digests).values(
                    watchlist=watchlist,
                    created_at=now,
                    recipients=list(recipients),
                    hit_count=0,
                    status="empty",
                )
            )

    def outbox(self, watchlist: str, due: datetime | None = None) -> list[Outgoing]:
        """The watchlist's recorded digests that some recipient still waits for, oldest first;
        with ``due``, only those whose next try (``retry_at``) is not after it."""
        query = _OUTGOING.where(digests.c.watchlist == watchlist, digests.c.status == "pending")
        if due is not None:
            query = query.where(or_(digests.c.retry_at.is_(None), digests.c.retry_at <= due))
        with self.database.tx() as connection:
            return self._outgoing(connection, query.order_by(digests.c.created_at, digests.c.id))

    def claim(self, digest_id: int, now: datetime, lease: timedelta) -> Outgoing | None:
        """Hold a waiting digest for ``lease`` to send it, as it now is (whom it still waits
        for); None when another sender holds it, or nobody waits for it any more. Whoever holds
        it records the attempt, which lets it go; a sender that dies holds it until the lease
        runs out, or until a process on its host sees it dead. One UPDATE decides, so two
        processes never hold one digest at once."""
        with self.database.tx() as connection:
            gone = dead_holders(
                connection, digests.c.sending_owner, digests.c.sending_until, now, self.database.owner
            )
            claimed = connection.execute(
                update(digests)
                .where(
                    digests.c.id == digest_id,
                    digests.c.status == "pending",
                    or_(
                        digests.c.sending_until.is_(None),
                        digests.c.sending_until < now,
                        digests.c.sending_owner.in_(gone),
                    ),
                )
                .values(sending_until=now + lease, sending_owner=str(self.database.owner))
            ).rowcount
            if claimed != 1:
                return None
            [outgoing] = self._outgoing(connection, _OUTGOING.where(digests.c.id == digest_id))
        return outgoing

    def _outgoing(self, connection: Connection, query: Select[Any]) -> list[Outgoing]:
        rows = connection.execute(query).all()
        found = self._deliveries(connection, [row.id for row in rows])
        outgoing = []
        for row in rows:
            waiting = [delivery for delivery in found[row.id] if delivery.state in WAITING]
            outgoing.append(
                Outgoing(
                    row.id,
                    row.watchlist,
                    row.created_at,
                    row.message_id,
                    row.message,
                    tuple(delivery.recipient for delivery in waiting),
                    row.hit_count,
                    max((delivery.attempts for delivery in waiting), default=0),
                    row.kind,
                    (row.notice["title"], row.notice["body"]) if row.notice else None,
                )
            )
        return outgoing

    def record_attempt(
        self,
        digest_id: int,
        results: Mapping[str, tuple[DeliveryState, str | None]],
        now: datetime,
        retry_at: datetime | None = None,
    ) -> DigestRun:
        """What one try to send a digest did for each recipient tried: its new state and the
        server's answer. In the same transaction the digest's state follows, and its sender
        lets it go; while someone waits for it, the periodic retry tries it again from
        ``retry_at``; once nobody waits (all sent or refused), its hits are delivered. Returns
        the digest as it now is."""
        with self.database.tx() as connection:
            for recipient, (state, error) in results.items():
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.digest_id == digest_id, deliveries.c.recipient == recipient)
                    .values(
                        state=state,
                        attempts=deliveries.c.attempts + 1,
                        last_error=error,
                        sent_at=now if state == "sent" else None,
                    )
                )
            found = self._deliveries(connection, [digest_id])[digest_id]
            status = digest_state(found)
            connection.execute(
                update(digests)
                .where(digests.c.id == digest_id)
                .values(
                    status=status,
                    error=digest_error(found),
                    retry_at=retry_at if status == "pending" else None,
                    sending_until=None,
                    sending_owner=None,
                )
            )
            if status != "pending":
                kind: Kind = connection.execute(
                    select(digests.c.kind).where(digests.c.id == digest_id)
                ).scalar_one()
                claims, mark = CLAIMS[kind], hits.c[_MARKS[kind]]
                connection.execute(
                    update(hits)
                    .where(
                        hits.c.id.in_(select(claims.c.hit_id).where(claims.c.digest_id == digest_id)),
                        mark.is_(None),
                    )
                    .values({mark: now})
                )
            [run] = self._runs(connection, select(*_RUN_COLUMNS).where(digests.c.id == digest_id))
        return run

    @staticmethod
    def _deliveries(connection: Connection, digest_ids: Sequence[int]) -> dict[int, tuple[Delivery, ...]]:
        found: dict[int, tuple[Delivery, ...]] = {digest_id: () for digest_id in digest_ids}
        for chunk in chunks(digest_ids):
            rows = connection.execute(
                select(deliveries).where(deliveries.c.digest_id.in_(chunk)).order_by(deliveries.c.recipient)
            )
            for row in rows:
                found[row.digest_id] += (
                    Delivery(row.recipient, row.state, row.attempts, row.last_error, row.sent_at),
                )
        return found

    def _runs(self, connection: Connection, query: Select[Any]) -> list[DigestRun]:
        rows = connection.execute(query).all()
        found = self._deliveries(connection, [row.id for row in rows])
        return [
            DigestRun(
                row.watchlist,
                row.created_at,
                tuple(row.recipients),
                row.message_id,
                row.hit_count,
                row.status,
                row.error,
                found[row.id],
                row.kind,
            )
            for row in rows
        ]

    def digest_runs(self, watchlist: str | None = None, limit: int = 20) -> list[DigestRun]:
        """The most recent digest runs, newest first, with each recipient's delivery."""
        query = select(*_RUN_COLUMNS).order_by(digests.c.created_at.desc(), digests.c.id.desc()).limit(limit)
        if watchlist:
            query = query.where(digests.c.watchlist == watchlist)
        with self.database.tx() as connection:
            return self._runs(connection, query)

    def last_delivery(self, watchlist: str) -> datetime | None:
        """When the watchlist's last digest was cut: the newest one recorded to be sent (even if
        still pending, or refused: the hits before it are its own), or sent before the outbox.
        Where the next digest's period begins."""
        with self.database.tx() as connection:
            moment: datetime | None = connection.execute(
                select(func.max(digests.c.created_at)).where(
                    digests.c.watchlist == watchlist,
                    digests.c.kind == "digest",
                    or_(digests.c.message.is_not(None), digests.c.status.in_(("sent", "partial"))),
                )
            ).scalar()
        return moment

    def digest_due_since(self, watchlist: str) -> datetime | None:
        """Since when the watchlist has been waiting for a digest: its last run, whatever the
        outcome, or, if it never ran, its oldest undelivered hit. None when nothing waits."""
        with self.database.tx() as connection:
            moment: datetime | None = connection.execute(
                select(func.max(digests.c.created_at)).where(
                    digests.c.watchlist == watchlist, digests.c.kind == "digest"
                )
            ).scalar()
            if moment is None:
                moment = connection.execute(
                    select(func.min(hits.c.created_at)).where(
                        hits.c.watchlist == watchlist, hits.c.delivered_at.is_(None)
                    )
                ).scalar()
        return moment
