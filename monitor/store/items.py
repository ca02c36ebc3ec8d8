"""The items and sightings tables: one item per story, and every (feed, guid) that carried it.
A poll's intent is applied here, its entries a few hundred per transaction and the feed's row
last."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from monitor.feeds.links import canonical_link, one_story, tickers
from monitor.match.document import Document
from monitor.match.index import index_keys
from monitor.match.story import Telling, told
from monitor.models import Item, Known, Saved, Validators, content_hash
from monitor.polling.decide import Change, PollIntent
from monitor.store.engine import Database, chunks, upsert
from monitor.store.feeds import write_polls
from monitor.store.hits import Matches, save_hits
from monitor.store.schema import feeds, hits, items, sightings
from monitor.store.search import write_words
from monitor.store.stories import Stories

SAVE_BATCH = 500  # entries written per transaction: tens of milliseconds of SQLite's write lock
PRUNE_BATCH = 1000  # items deleted per transaction, with their sightings
_FEED_ID = select(feeds.c.id).where(feeds.c.name == bindparam("name"))  # built once: see feeds.py


@dataclass(frozen=True, slots=True)
class _Read:
    """What a save needs of its new and edited entries, made before its transaction so that
    SQLite's write lock is not held meanwhile: guid → search keys; for new entries, guid →
    text hash, the stories they reprint word for word (planned) and the others' tellings."""

    keys: dict[str, list[str]]
    texts: dict[str, str]
    planned: dict[str, int]
    tellings: dict[str, Telling]


def _read(
    changes: Sequence[Change], documents: Mapping[str, Document], stories: Stories, feed_id: int
) -> _Read:
    """The entries as the poller read them for matching, or read now."""
    new = [change.entry for change in changes if change.kind == "new"]
    texts = {entry.id: content_hash(entry.title, entry.summary) for entry in new}
    planned = stories.plan(feed_id, [(entry, texts[entry.id]) for entry in new])
    read = _Read({}, texts, planned, {})
    for change in changes:
        if change.kind in ("new", "edit"):
            entry = change.entry
            document = documents.get(entry.id) or Document(entry.title, entry.summary, None, entry.body)
            read.keys[entry.id] = index_keys(document)
            if change.kind == "new" and entry.id not in planned:
                read.tellings[entry.id] = told(document)
    return read


def _page_values(entry: Item) -> dict[str, str | None]:
    """An item's columns for its article page."""
    page = entry.page or Validators()
    return {"body": entry.body or None, "page_etag": page.etag, "page_modified": page.last_modified}


class ItemStore:
    """What polls bring: the stories, who carried them, and their hits."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.stories = Stories()
        self._feed_ids: dict[str, int] = {}  # name → id, read once (see _feed_id)

    def lookup(self, feed: str, entries: Sequence[Item]) -> dict[str, Known]:
        """Which of a feed's parsed entries the store holds, by guid: under this feed and guid,
        or as the same story (canonical link) under another guid or from another feed. Under a
        link where this feed tells several stories, or whose story it carried under another
        guid, only an entry with a title like the stored one's is that story."""
        known: dict[str, Known] = {}
        with self.database.tx() as connection:
            feed_id = self._feed_id(feed, connection)
            guids = [entry.id for entry in entries]
            for chunk in chunks(guids):
                rows = connection.execute(
                    select(sightings.c.guid, sightings.c.item_id, sightings.c.content_hash).where(
                        sightings.c.feed_id == feed_id, sightings.c.guid.in_(chunk)
                    )
                )
                known.update({row.guid: Known(row.item_id, row.content_hash, True) for row in rows})
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

    def pages(self, item_ids: Sequence[int]) -> dict[int, tuple[str, Validators]]:
        """The stored article text of these items, with their pages' validators: what an
        edit is matched on, and asks its page again with."""
        found = {}
        with self.database.tx() as connection:
            for chunk in chunks(item_ids):
                rows = connection.execute(
                    select(items.c.id, items.c.body, items.c.page_etag, items.c.page_modified).where(
                        items.c.id.in_(chunk), items.c.body.is_not(None)
                    )
                )
                found.update(
                    {row.id: (row.body, Validators(row.page_etag, row.page_modified)) for row in rows}
                )
        return found

    def prune(self, before: datetime, batch: int = PRUNE_BATCH, *, dry_run: bool = False) -> int:
        """Delete the items first seen before ``before`` that no watchlist hit (their sightings
        go with them), ``batch`` per transaction, so that neither backend holds a long write
        lock; with ``dry_run``, only count them. Returns how many."""
        unhit = and_(
            items.c.first_seen_at < before,
            ~select(hits.c.id).where(hits.c.item_id == items.c.id).exists(),
        )
        if dry_run:
            with self.database.tx() as connection:
                return int(connection.execute(select(func.count()).where(unhit)).scalar_one())
        oldest = select(items.c.id).where(unhit).order_by(items.c.id).limit(batch)
        removed = 0
        while True:
            with self.database.tx() as connection:
                # the condition again: a hit made meanwhile keeps its item
                done = connection.execute(
                    delete(items).where(items.c.id.in_(oldest.scalar_subquery()), unhit)
                )
            removed += done.rowcount
            if done.rowcount < batch:
                return removed

    def save(
        self,
        intent: PollIntent,
        matches: Matches,
        now: datetime,
        documents: Mapping[str, Document] | None = None,
    ) -> Saved:
        """Apply a successful poll: its changes, then the feed's row.

        Changes are written a few hundred per transaction, each with its sightings and hits, so
        a huge feed never holds SQLite's write lock for long; the feed's row (validators,
        hashes, next poll, lease) comes last, so a process that dies in between polls the feed
        again and finds what it had stored as known. ``matches`` maps guid → watchlist →
        matches; a hit is made once per item and watchlist, so an edit makes one only if the
        item did not match before, and saving the same poll twice stores nothing twice.
        New and edited items are indexed for search, and each new item is given its story
        (monitor.store.stories), from ``documents``: guid → the entry as the matcher read it,
        read here for the entries it lacks.
        """
        made = []
        for chunk in chunks(intent.changes, SAVE_BATCH):
            read = _read(chunk, documents or {}, self.stories, self._feed_id(intent.feed))
            with self.database.tx() as connection:
                made.append(self._save_changes(connection, intent.feed, chunk, matches, now, read))
        with self.database.tx() as connection:
            write_polls(connection, [(intent.feed, intent.record, now)])
        return Saved(
            items=sum(part.items for part in made),
            edited=sum(part.edited for part in made),
            hits=sum(part.hits for part in made),
            by_watchlist=sum((Counter(part.by_watchlist) for part in made), Counter[str]()),
        )

    def _feed_id(self, feed: str, connection: Connection | None = None) -> int:
        """A feed's id, read once (in a transaction of its own without ``connection``): a
        feed's row is never deleted, so its id never changes."""
        if (known := self._feed_ids.get(feed)) is None:
            if connection is None:
                with self.database.tx() as own:
                    return self._feed_id(feed, own)
            known = self._feed_ids[feed] = connection.execute(_FEED_ID, {"name": feed}).scalar_one()
        return known

    def _save_changes(
        self,
        connection: Connection,
        feed: str,
        changes: Sequence[Change],
        matches: Matches,
        now: datetime,
        read: _Read,
    ) -> Saved:
        feed_id = self._feed_id(feed, connection)
        new_entries = [c.entry for c in changes if c.kind == "new"]
        inserted = self._insert_items(connection, feed_id, new_entries, now, read)
        targets = {guid: (item_id, False) for guid, item_id in inserted.items()}  # guid → (item, edited)
        edited = 0
        for found in changes:
            entry = found.entry
            if entry.id in inserted:
                continue
            known = found.known or self._same_story(connection, feed_id, entry)
            if known is None:
                continue
            if found.kind == "edit":
                self._update_text(connection, known.item_id, feed_id, entry)
                edited += 1
            if not known.sighted:
                connection.execute(
                    upsert(connection)(sightings)
                    .values(
                        item_id=known.item_id,
                        feed_id=feed_id,
                        guid=entry.id,
                        first_seen_at=now,
                        content_hash=content_hash(entry.title, entry.summary),
                    )
                    .on_conflict_do_nothing()
                )
            targets[entry.id] = (known.item_id, found.kind == "edit")

        new = [(inserted[c.entry.id], c.entry) for c in changes if c.entry.id in inserted]
        write_words(connection, [(item_id, read.keys[entry.id]) for item_id, entry in new])
        self.stories.tell(
            connection,
            feed_id,
            [(item_id, entry, read.tellings.get(entry.id), read.texts[entry.id]) for item_id, entry in new],
            read.planned,
            now,
        )
        edits = [c.entry for c in changes if c.kind == "edit" and c.entry.id in targets]
        write_words(connection, [(targets[e.id][0], read.keys[e.id]) for e in edits], replace=True)
        new_hits = save_hits(connection, targets, matches, now)
        return Saved(len(inserted), edited, new_hits.total(), new_hits)

    def _insert_items(
        self, connection: Connection, feed_id: int, entries: Sequence[Item], now: datetime, read: _Read
    ) -> dict[str, int]:
        """New items, with the stories they were planned to join, and their first sightings;
        guid → item id. An entry whose story is already stored (a race, or two guids with one
        link and one title) is left out; one whose link another story holds (a ticker's posts
        share the page's link) is stored without a canonical link."""
        if not entries:
            return {}
        inserted = self._insert_rows(connection, feed_id, entries, now, read.planned, linked=True)
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
        inserted |= self._insert_rows(connection, feed_id, others, now, read.planned, linked=False)
        if inserted:
            connection.execute(
                insert(sightings),
                [
                    {
                        "item_id": item_id,
                        "feed_id": feed_id,
                        "guid": guid,
                        "first_seen_at": now,
                        "content_hash": read.texts[guid],
                    }
                    for guid, item_id in inserted.items()
                ],
            )
        return inserted

    @staticmethod
    def _insert_rows(
        connection: Connection,
        feed_id: int,
        entries: Sequence[Item],
        now: datetime,
        planned: Mapping[str, int],
        *,
        linked: bool,
    ) -> dict[str, int]:
        """``entries`` as items, with their canonical links if ``linked`` and their planned
        stories; guid → item id of those not already stored."""
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
                    "story_id": planned.get(entry.id),
                    **_page_values(entry),
                }
                for entry in entries
            ],
        )
        return {row.guid: row.id for row in rows}

    @staticmethod
    def _same_story(connection: Connection, feed_id: int, entry: Item) -> Known | None:
        """The item another worker stored a moment ago under this guid or canonical link."""
        same = and_(items.c.feed_id == feed_id, items.c.guid == entry.id)
        if canonical := canonical_link(entry.link):
            same = or_(same, items.c.canonical_link == canonical)
        item_id = connection.execute(select(items.c.id).where(same).limit(1)).scalar()
        return None if item_id is None else Known(item_id, None, sighted=False)

    @staticmethod
    def _update_text(connection: Connection, item_id: int, feed_id: int, entry: Item) -> None:
        """The item takes the feed's new wording (and its page's text, when read again); the
        feed's sighting remembers it."""
        page = _page_values(entry) if entry.page else {}
        connection.execute(
            update(items)
            .where(items.c.id == item_id)
            .values(title=entry.title, summary=entry.summary, **page)
        )
        connection.execute(
            update(sightings)
            .where(sightings.c.feed_id == feed_id, sightings.c.guid == entry.id)
            .values(content_hash=content_hash(entry.title, entry.summary))
        )
