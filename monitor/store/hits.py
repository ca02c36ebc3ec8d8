"""The hits table: a watchlist's matches of an item, made once, read with the item's story."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    case,
    func,
    null,
    or_,
    select,
    type_coerce,
    update,
)

from monitor.models import Hit, Item, Kind, Match, Span
from monitor.store.engine import Database, chunks, upsert
from monitor.store.rows import ITEM_COLUMNS, item_of
from monitor.store.schema import UTCDateTime, alert_hits, digest_hits, feeds, hits, items, sightings

CLAIMS = {"digest": digest_hits, "alert": alert_hits}  # where each kind of message claims its hits
Matches = Mapping[str, Mapping[str, Sequence[Match]]]  # guid → watchlist → matches
_STORY = func.coalesce(items.c.story_id, items.c.id).label("story")  # a first report is its own story


def _match_to_json(match: Match) -> dict[str, Any]:
    return {"query": match.query, "terms": match.terms, "spans": [span._asdict() for span in match.spans]}


def _match_from_json(data: Mapping[str, Any]) -> Match:
    spans = tuple(Span(**span) for span in data["spans"])
    return Match(data["query"], tuple(data["terms"]), spans)


def _insert_hits(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> set[tuple[int, str]]:
    """Insert the hits of ``rows`` that are not stored yet, in one statement; the (item id,
    watchlist) of those made."""
    if not rows:
        return set()
    made = connection.execute(
        upsert(connection)(hits).on_conflict_do_nothing().returning(hits.c.item_id, hits.c.watchlist), rows
    )
    return {(row.item_id, row.watchlist) for row in made}


def save_hits(
    connection: Connection,
    targets: Mapping[str, tuple[int, bool]],
    matches: Matches,
    now: datetime,
) -> Counter[str]:
    """A hit per item and watchlist that matches and has none yet, in one statement; after an
    edit, the waiting hits' spans follow the new text. ``targets``: guid → (item id, edited).
    Returns the hits made, by watchlist."""
    wanted = [
        (item_id, edited, watchlist, [_match_to_json(match) for match in found])
        for guid, (item_id, edited) in targets.items()
        for watchlist, found in matches.get(guid, {}).items()
    ]
    made = _insert_hits(
        connection,
        [
            {"item_id": item_id, "watchlist": watchlist, "matches": stored, "created_at": now}
            for item_id, _, watchlist, stored in wanted
        ],
    )
    for item_id, edited, watchlist, stored in wanted:
        if edited and (item_id, watchlist) not in made:
            connection.execute(
                update(hits)
                .where(
                    hits.c.item_id == item_id,
                    hits.c.watchlist == watchlist,
                    hits.c.delivered_at.is_(None),
                )
                .values(matches=stored)
            )
    return Counter(watchlist for _, watchlist in made)


def _told(mark: ColumnElement[Any], claims: Table) -> ColumnElement[Any]:
    """When a message of one kind told of the hit: its mark, except for a backfilled hit that
    none told of, whose mark was set only so that none waits for it."""
    untold = and_(hits.c.backfilled, ~select(claims.c.hit_id).where(claims.c.hit_id == hits.c.id).exists())
    return type_coerce(case((untold, null()), else_=mark), UTCDateTime)


class HitStore:
    """The hits, as the CLI and the outbox read them."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def find(
        self,
        *,
        watchlist: str | None = None,
        since: datetime | None = None,
        waiting: Kind | None = None,
        hit_id: int | None = None,
    ) -> list[Hit]:
        """Stored hits, newest item first; ``waiting``: only those no message of that kind
        covers yet (an alert: nor any digest, since the digest told of them already)."""
        conditions = []
        if hit_id is not None:
            conditions.append(hits.c.id == hit_id)
        if watchlist is not None:
            conditions.append(hits.c.watchlist == watchlist)
        if since is not None:
            conditions.append(hits.c.created_at >= since)
        if waiting:
            conditions.append(hits.c.delivered_at.is_(None))
            for claims in {digest_hits, CLAIMS[waiting]}:
                conditions.append(~select(claims.c.hit_id).where(claims.c.hit_id == hits.c.id).exists())
        query = (
            select(
                hits.c.id,
                hits.c.watchlist,
                hits.c.matches,
                hits.c.created_at,
                _told(hits.c.delivered_at, digest_hits).label("delivered_at"),
                _told(hits.c.alerted_at, alert_hits).label("alerted_at"),
                hits.c.backfilled,
                items.c.id.label("item_id"),
                _STORY,
                *ITEM_COLUMNS,
            )
            .join(items, items.c.id == hits.c.item_id)
            .join(feeds, feeds.c.id == items.c.feed_id)
            .where(*conditions)
            .order_by(items.c.published_at.desc(), hits.c.id.desc())
        )
        with self.database.tx() as connection:
            rows = connection.execute(query).all()
            carried = self._carried_by(connection, list({row.item_id for row in rows}))
            told = self._reports(connection, list({row.story for row in rows}))
        return [
            Hit(
                id=row.id,
                watchlist=row.watchlist,
                item=item_of(row),
                matches=tuple(_match_from_json(match) for match in row.matches),
                created=row.created_at,
                delivered=row.delivered_at,
                also_in=tuple(name for name in carried.get(row.item_id, ()) if name != row.feed),
                alerted=row.alerted_at,
                backfilled=row.backfilled,
                story=row.story,
                reports=tuple(item for item_id, item in told.get(row.story, ()) if item_id != row.item_id),
            )
            for row in rows
        ]

    def backfill(
        self, watchlist: str, found: Mapping[int, Sequence[Match]], now: datetime, *, deliver: bool
    ) -> int:
        """Record what a backfill found, item id → matches: the hits the watchlist does not
        have yet, marked backfilled. Unless ``deliver``, they are made through, as if
        delivered and alerted now, so that no digest and no alert waits for them (``find``
        still tells them apart). Returns the hits made."""
        through = None if deliver else now
        rows = [
            {
                "item_id": item_id,
                "watchlist": watchlist,
                "matches": [_match_to_json(match) for match in matches],
                "created_at": now,
                "backfilled": True,
                "delivered_at": through,
                "alerted_at": through,
            }
            for item_id, matches in found.items()
        ]
        with self.database.tx() as connection:
            return len(_insert_hits(connection, rows))

    @staticmethod
    def _reports(connection: Connection, stories: Sequence[int]) -> dict[int, list[tuple[int, Item]]]:
        """Each story's items (id, item), first published first."""
        found: dict[int, list[tuple[int, Item]]] = {}
        for chunk in chunks(stories):
            rows = connection.execute(
                select(items.c.id, _STORY, *ITEM_COLUMNS)
                .join(feeds, feeds.c.id == items.c.feed_id)
                .where(or_(items.c.story_id.in_(chunk), items.c.id.in_(chunk)))
                .order_by(items.c.published_at, items.c.id)
            )
            for row in rows:
                found.setdefault(row.story, []).append((row.id, item_of(row)))
        return found

    @staticmethod
    def _carried_by(connection: Connection, item_ids: Sequence[int]) -> dict[int, list[str]]:
        """The feeds that carried each item, first seen first, each once."""
        carried: dict[int, list[str]] = {}
        for chunk in chunks(item_ids):
            rows = connection.execute(
                select(sightings.c.item_id, feeds.c.name)
                .join(feeds, feeds.c.id == sightings.c.feed_id)
                .where(sightings.c.item_id.in_(chunk))
                .order_by(sightings.c.first_seen_at, sightings.c.id)
            )
            for row in rows:
                names = carried.setdefault(row.item_id, [])
                if row.name not in names:
                    names.append(row.name)
        return carried
