"""The outbox's tables: each message (a digest or an alert) recorded before it is sent, its
recipients' deliveries, the hits it claims, and who holds it while sending."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from monitor.errors import ClaimedError
from monitor.models import (
    WAITING,
    Attempt,
    Delivery,
    Kind,
    Message,
    MessageRun,
    Notice,
    Outgoing,
    Recipient,
    message_error,
    message_state,
)
from monitor.store.engine import Database, chunks
from monitor.store.hits import CLAIMS
from monitor.store.holders import dead_holders
from monitor.store.schema import deliveries, digests, hits

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


class MessageStore:
    """Messages in the outbox: recorded, claimed by one sender, tried, through."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        *,
        watchlist: str,
        recipients: Sequence[Recipient],
        message: Message,
        hit_ids: Sequence[int],
        now: datetime,
        lease: timedelta = timedelta(0),
    ) -> Outgoing:
        """Put a message in the outbox before it is sent, in one transaction: its bytes and
        notice, its recipients (each pending) and its hits, which it claims among those of its
        kind; held by its maker for ``lease`` (see ``claim``). A hit another message of its
        kind claimed (a concurrent run) fails the whole record with a ClaimedError, and nothing
        is recorded."""
        notice = message.notice
        with self.database.tx() as connection:
            message_id = connection.execute(
                insert(digests)
                .values(
                    watchlist=watchlist,
                    created_at=now,
                    recipients=[recipient.address for recipient in recipients],
                    message_id=message.message_id,
                    message=message.wire,
                    hit_count=len(hit_ids),
                    status="pending",
                    sending_until=now + lease if lease else None,
                    sending_owner=str(self.database.owner) if lease else None,
                    kind=message.kind,
                    notice=None if notice is None else {"title": notice.title, "body": notice.body},
                )
                .returning(digests.c.id)
            ).scalar_one()
            connection.execute(
                insert(deliveries),
                [
                    {
                        "digest_id": message_id,
                        "recipient": recipient.address,
                        "channel": recipient.channel,
                        "state": "pending",
                    }
                    for recipient in recipients
                ],
            )
            if hit_ids:
                try:
                    connection.execute(
                        insert(CLAIMS[message.kind]),
                        [{"digest_id": message_id, "hit_id": hit_id} for hit_id in hit_ids],
                    )
                except IntegrityError as exc:  # the primary key: the hit is in another one
                    raise ClaimedError(
                        f"another {message.kind} run of watchlist {watchlist!r} is sending these hits; "
                        "try again"
                    ) from exc
        return Outgoing(message_id, watchlist, now, message, tuple(recipients), len(hit_ids))

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

    def waiting(self, watchlist: str, due: datetime | None = None) -> list[Outgoing]:
        """The watchlist's recorded messages that some recipient still waits for, oldest first;
        with ``due``, only those whose next try (``retry_at``) is not after it."""
        query = _OUTGOING.where(digests.c.watchlist == watchlist, digests.c.status == "pending")
        if due is not None:
            query = query.where(or_(digests.c.retry_at.is_(None), digests.c.retry_at <= due))
        with self.database.tx() as connection:
            return self._outgoing(connection, query.order_by(digests.c.created_at, digests.c.id))

    def claim(self, message_id: int, now: datetime, lease: timedelta) -> Outgoing | None:
        """Hold a waiting message for ``lease`` to send it, as it now is (whom it still waits
        for); None when another sender holds it, or nobody waits for it any more. Whoever holds
        it records the attempt, which lets it go; a sender that dies holds it until the lease
        runs out, or until a process on its host sees it dead. One UPDATE decides, so two
        processes never hold one message at once."""
        with self.database.tx() as connection:
            gone = dead_holders(
                connection, digests.c.sending_owner, digests.c.sending_until, now, self.database.owner
            )
            claimed = connection.execute(
                update(digests)
                .where(
                    digests.c.id == message_id,
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
            [outgoing] = self._outgoing(connection, _OUTGOING.where(digests.c.id == message_id))
        return outgoing

    def _outgoing(self, connection: Connection, query: Select[Any]) -> list[Outgoing]:
        rows = connection.execute(query).all()
        waiting = self._waiting(connection, [row.id for row in rows])
        return [
            Outgoing(
                row.id,
                row.watchlist,
                row.created_at,
                _message(row),
                tuple(Recipient(found.recipient, found.channel) for found in waiting[row.id]),
                row.hit_count,
                max((found.attempts for found in waiting[row.id]), default=0),
            )
            for row in rows
        ]

    @staticmethod
    def _waiting(connection: Connection, message_ids: Sequence[int]) -> dict[int, list[Row[Any]]]:
        """The deliveries of each message whose recipient still waits, by recipient."""
        found: dict[int, list[Row[Any]]] = {message_id: [] for message_id in message_ids}
        for chunk in chunks(message_ids):
            rows = connection.execute(
                select(deliveries)
                .where(deliveries.c.digest_id.in_(chunk), deliveries.c.state.in_(WAITING))
                .order_by(deliveries.c.recipient)
            )
            for row in rows:
                found[row.digest_id].append(row)
        return found

    def record_attempt(
        self,
        message_id: int,
        attempts: Mapping[str, Attempt],
        now: datetime,
        retry_at: datetime | None = None,
    ) -> MessageRun:
        """What one try to send a message did for each recipient tried. In the same transaction
        the message's state follows, and its sender lets it go; while someone waits for it, the
        periodic retry tries it again from ``retry_at``; once nobody waits (all sent or
        refused), its hits are through. Returns the message's run as it now is."""
        with self.database.tx() as connection:
            for recipient, attempt in attempts.items():
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.digest_id == message_id, deliveries.c.recipient == recipient)
                    .values(
                        state=attempt.state,
                        attempts=deliveries.c.attempts + 1,
                        last_error=attempt.error,
                        sent_at=now if attempt.state == "sent" else None,
                    )
                )
            found = self._deliveries(connection, [message_id])[message_id]
            status = message_state(found)
            connection.execute(
                update(digests)
                .where(digests.c.id == message_id)
                .values(
                    status=status,
                    error=message_error(found),
                    retry_at=retry_at if status == "pending" else None,
                    sending_until=None,
                    sending_owner=None,
                )
            )
            if status != "pending":
                kind: Kind = connection.execute(
                    select(digests.c.kind).where(digests.c.id == message_id)
                ).scalar_one()
                claimed, mark = CLAIMS[kind], hits.c[_MARKS[kind]]
                connection.execute(
                    update(hits)
                    .where(
                        hits.c.id.in_(select(claimed.c.hit_id).where(claimed.c.digest_id == message_id)),
                        mark.is_(None),
                    )
                    .values({mark: now})
                )
            [run] = self._runs(connection, select(*_RUN_COLUMNS).where(digests.c.id == message_id))
        return run

    @staticmethod
    def _deliveries(connection: Connection, message_ids: Sequence[int]) -> dict[int, tuple[Delivery, ...]]:
        found: dict[int, tuple[Delivery, ...]] = {message_id: () for message_id in message_ids}
        for chunk in chunks(message_ids):
            rows = connection.execute(
                select(deliveries).where(deliveries.c.digest_id.in_(chunk)).order_by(deliveries.c.recipient)
            )
            for row in rows:
                found[row.digest_id] += (
                    Delivery(row.recipient, row.state, row.attempts, row.last_error, row.sent_at),
                )
        return found

    def _runs(self, connection: Connection, query: Select[Any]) -> list[MessageRun]:
        rows = connection.execute(query).all()
        found = self._deliveries(connection, [row.id for row in rows])
        return [
            MessageRun(
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

    def runs(self, watchlist: str | None = None, limit: int = 20) -> list[MessageRun]:
        """The most recent runs, digests and alerts, newest first, with each recipient's delivery."""
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

    def due_since(self, watchlist: str) -> datetime | None:
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


def _message(row: Row[Any]) -> Message:
    """A recorded message as the outbox sends it again: the same bytes, the same notice."""
    notice = Notice(row.notice["title"], row.notice["body"]) if row.notice else None
    return Message(row.kind, row.message_id, row.message, notice)
