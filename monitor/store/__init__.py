"""All SQL lives here. Callers see plain models and StorageError, never SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from monitor.errors import ClaimedError
from monitor.feeds.links import canonical_link, one_story, tickers
from monitor.models import (
    WAITING,
    Delivery,
    DeliveryState,
    DigestRun,
    FeedState,
    FeedStatus,
    Health,
    Hit,
    Item,
    Kind,
    Known,
    Match,
    Outgoing,
    PollRecord,
    Saved,
    Span,
    Validators,
    content_hash,
    digest_error,
    digest_state,
)
from monitor.store.engine import Database, chunks, upsert
from monitor.store.holders import Holder, dead, running
from monitor.store.migrate import migrate
from monitor.store.schema import (
    alert_hits,
    deliveries,
    digest_hits,
    digests,
    feeds,
    hits,
    items,
    sightings,
)

SAVE_BATCH = 500  # entries written per transaction: tens of milliseconds of SQLite's write lock
RATE_WINDOW = timedelta(days=7)
RATE_MIN_SPAN = timedelta(hours=6)
HEALTH_ORDER: tuple[Health, ...] = get_args(Health)


def _health(enabled: bool, gone_at: datetime | None, failures: int, last_success: datetime | None) -> Health:
    if not enabled:
        return "disabled"
    if gone_at is not None:
        return "gone"
    if failures:
        return "failing"
    return "ok" if last_success else "new"


def _match_to_json(match: Match) -> dict[str, Any]:
    return {"query": match.query, "terms": match.terms, "spans": [span._asdict() for span in match.spans]}


def _match_from_json(data: Mapping[str, Any]) -> Match:
    spans = tuple(Span(**span) for span in data["spans"])
    return Match(data["query"], tuple(data["terms"]), spans)


# Built once: a statement made per call cost more CPU in SQLAlchemy than the database's work.
_FEED_ID = select(feeds.c.id).where(feeds.c.name == bindparam("name"))
_RUN_COLUMNS = [column for column in digests.c if column.name not in ("message", "notice")]
_CLAIMS = {"digest": digest_hits, "alert": alert_hits}  # where each kind claims its hits
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


class Store:
    """The database of one monitor: feeds and their state, items, hits, digest runs."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        migrate(self.database)

    def close(self) -> None:
        self.database.close()

    # feeds

    def sync_feeds(self, configured: Sequence[tuple[str, str, bool]], now: datetime) -> None:
        """Make the feeds table match the config: (name, url, enabled) for each configured feed.

        A new feed is due at once. A changed URL starts afresh (validators, moves, hash, gone).
        Feeds no longer configured are disabled, so they keep their items but are not polled.
        """
        wanted = {name: (url, enabled) for name, url, enabled in configured}
        with self.database.tx() as connection:
            known = dict(connection.execute(select(feeds.c.name, feeds.c.url)).all())
            for name, (url, enabled) in wanted.items():
                if name not in known:
                    connection.execute(
                        insert(feeds).values(
                            name=name, url=url, enabled=enabled, created_at=now, next_poll_at=now
                        )
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

    def feed_state(self, feed: str, now: datetime) -> FeedState:
        return self.feed_states([feed], now)[feed]

    def feed_states(self, names: Sequence[str], now: datetime) -> dict[str, FeedState]:
        """What polling needs to know about each named feed, read in one go per few hundred."""
        states: dict[str, FeedState] = {}
        with self.database.tx() as connection:
            for chunk in chunks(names):
                rows = connection.execute(
                    select(
                        feeds.c.id,
                        feeds.c.name,
                        func.coalesce(feeds.c.fetch_url, feeds.c.url),
                        feeds.c.etag,
                        feeds.c.last_modified,
                        feeds.c.body_hash,
                        feeds.c.entry_hashes,
                        feeds.c.moved_to,
                        feeds.c.failures,
                        feeds.c.warning,
                    ).where(feeds.c.name.in_(chunk))
                ).all()
                rates = self._items_per_day(connection, now, [row[0] for row in rows])
                for (
                    feed_id,
                    name,
                    url,
                    etag,
                    modified,
                    body_hash,
                    entries,
                    moved_to,
                    failures,
                    warning,
                ) in rows:
                    states[name] = FeedState(
                        name=name,
                        url=url,
                        validators=Validators(etag, modified),
                        body_hash=body_hash,
                        fingerprints=frozenset((entries or "").split()),
                        moved_to=moved_to,
                        failures=failures,
                        warning=warning,
                        items_per_day=rates.get(feed_id),
                    )
        return states

    def _items_per_day(
        self, connection: Connection, now: datetime, feed_ids: Sequence[int] | None = None
    ) -> dict[int, float]:
        """Items published per day over the last week, per feed id: counted over the span they
        cover, at least six hours, so a first poll of a busy feed does not read as a quiet week."""
        window = now - RATE_WINDOW
        query = (
            select(items.c.feed_id, func.count(), func.min(items.c.published_at))
            .where(items.c.published_at >= window, items.c.published_at <= now)
            .group_by(items.c.feed_id)
        )
        if feed_ids is not None:
            query = query.where(items.c.feed_id.in_(feed_ids))
        rates = {}
        for found_id, count, oldest in connection.execute(query):
            span = max(now - oldest, RATE_MIN_SPAN)
            rates[found_id] = count / (span / timedelta(days=1))
        return rates

    def claim_due(self, owner: str, now: datetime, limit: int, lease: timedelta) -> list[str]:
        """Lease up to ``limit`` enabled feeds that are due and not leased, soonest due first, as
        ``owner`` (``str(self.database.owner)`` for a process's own). A crashed worker's feeds come back
        when their lease runs out, or at once when it ran on this host (see ``holders.dead``).
        Safe under concurrency: PostgreSQL skips rows another worker is claiming; SQLite has
        one writer at a time."""
        with self.database.tx() as connection:
            gone = self._dead_holders(connection, feeds.c.lease_owner, feeds.c.lease_until, now)
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

    def _dead_holders(self, connection: Connection, holder: Any, until: Any, now: datetime) -> list[str]:
        """The holders of claims still running (``until`` ahead of ``now``) that are processes
        of this host known to be dead. This process is not asked about: it is alive, and the
        daemon claims every second while it is busy."""
        held = connection.execute(
            select(holder)
            .distinct()
            .where(until >= now, holder.is_not(None), holder != str(self.database.owner))
        )
        found = [(name, Holder.parse(name)) for name in held.scalars()]
        return [
            name
            for name, parsed in found
            if parsed is not None
            and parsed.host == self.database.owner.host
            and dead(parsed, self.database.owner.host, running(parsed.pid))
        ]

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

    def lookup(self, feed: str, entries: Sequence[Item]) -> dict[str, Known]:
        """Which of a feed's parsed entries the store holds, by guid: under this feed and guid,
        or as the same story (canonical link) under another guid or from another feed. Under a
        link where this feed tells several stories, or whose story it carried under another
        guid, only an entry with a title like the stored one's is that story."""
        known: dict[str, Known] = {}
        with self.database.tx() as connection:
            feed_id = connection.execute(select(feeds.c.id).where(feeds.c.name == feed)).scalar_one()
            guids = [entry.id for entry in entries]
            for chunk in chunks(guids):
                rows = connection.execute(
                    select(sightings.c.guid, sightings.c.item_id, sightings.c.content_hash).where(
                        sightings.c.feed_id == feed_id, sightings.c.guid.in_(chunk)
                    )
                )
                known.update({guid: Known(item_id, content, True) for guid, item_id, content in rows})
            several = tickers((entry.link, entry.title) for entry in entries)
            by_link: dict[str, list[Item]] = {}
            for entry in entries:
                if entry.id not in known and (link := canonical_link(entry.link)):
                    by_link.setdefault(link, []).append(entry)
            for chunk in chunks(list(by_link)):
                linked = connection.execute(
                    select(items.c.canonical_link, items.c.id, items.c.title).where(
                        items.c.canonical_link.in_(chunk)
                    )
                ).all()
                if not linked:
                    continue
                here = select(sightings.c.item_id).where(
                    sightings.c.feed_id == feed_id, sightings.c.item_id.in_([row.id for row in linked])
                )
                sighted = set(connection.execute(here).scalars())
                for row in linked:
                    told_apart = row.canonical_link in several or row.id in sighted
                    known.update(
                        {
                            entry.id: Known(row.id, None, False)
                            for entry in by_link[row.canonical_link]
                            if not told_apart or one_story(row.title, entry.title)
                        }
                    )
        return known

    def save_poll(
        self,
        feed: str,
        record: PollRecord,
        entries: Sequence[Item],
        known: Mapping[str, Known],
        matches: Mapping[str, Mapping[str, Sequence[Match]]],
        now: datetime,
    ) -> Saved:
        """Record a successful poll: its entries, then the feed's state.

        Entries are written a few hundred per transaction, each with its sightings and hits, so
        a huge feed never holds SQLite's write lock for long; the feed's state (validators,
        hashes, next poll, lease) comes last, so a process that dies in between polls the feed
        again and finds what it had stored as known. An entry not ``known`` is a new item; a
        known one is sighted under this feed and guid (once), and updated when its text
        changed. ``matches`` maps guid → watchlist → matches; a hit is made once per item and
        watchlist, so an edit makes one only if the item did not match before, and saving the
        same poll twice stores nothing twice.
        """
        made = []
        for chunk in chunks(entries, SAVE_BATCH):
            with self.database.tx() as connection:
                made.append(self._save_entries(connection, feed, chunk, known, matches, now))
        with self.database.tx() as connection:
            self._update_feeds(connection, [(feed, record, now)])
        return Saved(*(sum(getattr(part, count) for part in made) for count in ("items", "edited", "hits")))

    def _save_entries(
        self,
        connection: Connection,
        feed: str,
        entries: Sequence[Item],
        known: Mapping[str, Known],
        matches: Mapping[str, Mapping[str, Sequence[Match]]],
        now: datetime,
    ) -> Saved:
        edited = 0
        feed_id = connection.execute(_FEED_ID, {"name": feed}).scalar_one()
        inserted = self._insert_items(connection, feed_id, [e for e in entries if e.id not in known], now)
        targets = {guid: (item_id, False) for guid, item_id in inserted.items()}  # guid → (item, edited)
        for entry in entries:
            if entry.id in inserted:
                continue
            found = known.get(entry.id) or self._same_story(connection, feed_id, entry)
            if found is None:
                continue
            text = content_hash(entry.title, entry.summary)
            changed = found.sighted and found.content_hash != text
            if changed:
                self._update_text(connection, found.item_id, feed_id, entry)
                edited += 1
            if not found.sighted:
                connection.execute(
                    upsert(connection)(sightings)
                    .values(
                        item_id=found.item_id,
                        feed_id=feed_id,
                        guid=entry.id,
                        first_seen_at=now,
                        content_hash=text,
                    )
                    .on_conflict_do_nothing()
                )
            targets[entry.id] = (found.item_id, changed)
        new_hits = self._save_hits(connection, targets, matches, now)
        return Saved(len(inserted), edited, new_hits)

    def save_quiet_polls(self, polls: Sequence[tuple[str, PollRecord, datetime]]) -> None:
        """Record many successful polls that brought no entries (feed, record, when), in one
        transaction."""
        with self.database.tx() as connection:
            self._update_feeds(connection, polls)

    @staticmethod
    def _update_feeds(connection: Connection, polls: Sequence[tuple[str, PollRecord, datetime]]) -> None:
        """One executemany for the feeds that stay where they are; one UPDATE each for a move."""
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

    def _insert_items(
        self, connection: Connection, feed_id: int, entries: Sequence[Item], now: datetime
    ) -> dict[str, int]:
        """New items and their first sightings; guid → item id. An entry whose story is
        already stored (a race, or two guids with one link and one title) is left out; one whose
        link another story holds (a ticker's posts share the page's link) is stored without a
        canonical link."""
        if not entries:
            return {}
        inserted = self._insert_rows(connection, feed_id, entries, now, linked=True)
        left = [
            (link, entry)
            for entry in entries
            if entry.id not in inserted and (link := canonical_link(entry.link))
        ]
        holders: dict[str, str] = {}  # canonical link → the title of the story stored under it
        if left:
            held = select(items.c.canonical_link, items.c.title)
            rows = connection.execute(held.where(items.c.canonical_link.in_({link for link, _ in left})))
            holders = {row.canonical_link: row.title for row in rows}
        others = [entry for link, entry in left if not one_story(holders.get(link, entry.title), entry.title)]
        inserted |= self._insert_rows(connection, feed_id, others, now, linked=False)
        texts = {entry.id: content_hash(entry.title, entry.summary) for entry in entries}
        if inserted:
            connection.execute(
                insert(sightings),
                [
                    {
                        "item_id": item_id,
                        "feed_id": feed_id,
                        "guid": guid,
                        "first_seen_at": now,
                        "content_hash": texts[guid],
                    }
                    for guid, item_id in inserted.items()
                ],
            )
        return inserted

    def _insert_rows(
        self, connection: Connection, feed_id: int, entries: Sequence[Item], now: datetime, *, linked: bool
    ) -> dict[str, int]:
        """``entries`` as items, with their canonical links if ``linked``; guid → item id of
        those not already stored."""
        if not entries:
            return {}
        rows = connection.execute(
            upsert(connection)(items).on_conflict_do_nothing().returning(items.c.guid, items.c.id),
            [
                {
                    "feed_id": feed_id,
                    "guid": entry.id,
                    "title": entry.title,
                    "summary": entry.summary,
                    "link": entry.link,
                    "published_at": entry.published,
                    "first_seen_at": now,
                    "canonical_link": canonical_link(entry.link) if linked else None,
                }
                for entry in entries
            ],
        )
        return {guid: item_id for guid, item_id in rows}

    def _same_story(self, connection: Connection, feed_id: int, entry: Item) -> Known | None:
        """The item another worker stored a moment ago under this guid or canonical link."""
        same = and_(items.c.feed_id == feed_id, items.c.guid == entry.id)
        if canonical := canonical_link(entry.link):
            same = or_(same, items.c.canonical_link == canonical)
        item_id = connection.execute(select(items.c.id).where(same).limit(1)).scalar()
        return None if item_id is None else Known(item_id, None, sighted=False)

    def _update_text(self, connection: Connection, item_id: int, feed_id: int, entry: Item) -> None:
        """The item takes the feed's new wording; the feed's sighting remembers it."""
        connection.execute(
            update(items).where(items.c.id == item_id).values(title=entry.title, summary=entry.summary)
        )
        connection.execute(
            update(sightings)
            .where(sightings.c.feed_id == feed_id, sightings.c.guid == entry.id)
            .values(content_hash=content_hash(entry.title, entry.summary))
        )

    def _save_hits(
        self,
        connection: Connection,
        targets: Mapping[str, tuple[int, bool]],
        matches: Mapping[str, Mapping[str, Sequence[Match]]],
        now: datetime,
    ) -> int:
        """A hit per item and watchlist that matches and has none yet, in one statement; after
        an edit, the waiting hits' spans follow the new text. Returns the hits made."""
        wanted = [
            (item_id, edited, watchlist, [_match_to_json(match) for match in found])
            for guid, (item_id, edited) in targets.items()
            for watchlist, found in matches.get(guid, {}).items()
        ]
        if not wanted:
            return 0
        rows = connection.execute(
            upsert(connection)(hits).on_conflict_do_nothing().returning(hits.c.item_id, hits.c.watchlist),
            [
                {"item_id": item_id, "watchlist": watchlist, "matches": stored, "created_at": now}
                for item_id, _, watchlist, stored in wanted
            ],
        )
        made = {(item_id, watchlist) for item_id, watchlist in rows}
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
        return len(made)

    def feed_statuses(self, now: datetime) -> list[FeedStatus]:
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
                func.coalesce(feeds.c.fetch_url, feeds.c.url),
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
                func.coalesce(item_counts.c.n, 0),
                func.coalesce(hit_counts.c.n, 0),
            )
            .outerjoin(item_counts, item_counts.c.feed_id == feeds.c.id)
            .outerjoin(hit_counts, hit_counts.c.feed_id == feeds.c.id)
        )
        with self.database.tx() as connection:
            rows = connection.execute(query).all()
            rates = self._items_per_day(connection, now)
        statuses = [
            FeedStatus(
                name=name,
                url=url,
                health=_health(enabled, gone_at, failures, last_success),
                last_success=last_success,
                last_error_kind=kind,
                last_error=error,
                last_error_at=error_at,
                failing_since=failing_since,
                failures=failures,
                warning=warning,
                items_per_day=rates.get(feed_id),
                next_poll=None if gone_at or not enabled else next_poll,
                items=item_count,
                hits=hit_count,
            )
            for (
                feed_id,
                name,
                url,
                enabled,
                gone_at,
                last_success,
                kind,
                error,
                error_at,
                failing_since,
                failures,
                warning,
                next_poll,
                item_count,
                hit_count,
            ) in rows
        ]
        return sorted(statuses, key=lambda s: (HEALTH_ORDER.index(s.health), -s.failures, s.name))

    # hits

    def hits(
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
            for claims in {digest_hits, _CLAIMS[waiting]}:
                conditions.append(~select(claims.c.hit_id).where(claims.c.hit_id == hits.c.id).exists())
        query = (
            select(
                hits.c.id,
                hits.c.watchlist,
                hits.c.matches,
                hits.c.created_at,
                hits.c.delivered_at,
                hits.c.alerted_at,
                items.c.id,
                feeds.c.name,
                items.c.guid,
                items.c.title,
                items.c.summary,
                items.c.link,
                items.c.published_at,
            )
            .join(items, items.c.id == hits.c.item_id)
            .join(feeds, feeds.c.id == items.c.feed_id)
            .where(*conditions)
            .order_by(items.c.published_at.desc(), hits.c.id.desc())
        )
        with self.database.tx() as connection:
            rows = connection.execute(query).all()
            carried = self._carried_by(connection, list({row[6] for row in rows}))
        return [
            Hit(
                id=hit_id,
                watchlist=watchlist_name,
                item=Item(feed_name, guid, title, summary, link, published),
                matches=tuple(_match_from_json(match) for match in found),
                created=created,
                delivered=delivered,
                also_in=tuple(name for name in carried.get(item_id, ()) if name != feed_name),
                alerted=alerted,
            )
            for (
                hit_id,
                watchlist_name,
                found,
                created,
                delivered,
                alerted,
                item_id,
                feed_name,
                guid,
                title,
                summary,
                link,
                published,
            ) in rows
        ]

    def _carried_by(self, connection: Connection, item_ids: Sequence[int]) -> dict[int, list[str]]:
        """The feeds that carried each item, first seen first, each once."""
        carried: dict[int, list[str]] = {}
        for chunk in chunks(item_ids):
            rows = connection.execute(
                select(sightings.c.item_id, feeds.c.name)
                .join(feeds, feeds.c.id == sightings.c.feed_id)
                .where(sightings.c.item_id.in_(chunk))
                .order_by(sightings.c.first_seen_at, sightings.c.id)
            )
            for item_id, name in rows:
                names = carried.setdefault(item_id, [])
                if name not in names:
                    names.append(name)
        return carried

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
                        insert(_CLAIMS[kind]),
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
            gone = self._dead_holders(connection, digests.c.sending_owner, digests.c.sending_until, now)
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
                claims, mark = _CLAIMS[kind], hits.c[_MARKS[kind]]
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
