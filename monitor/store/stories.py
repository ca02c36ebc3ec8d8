"""Which story each new item tells, decided as it is stored (items.story_id), from an index of
the recent stories that each process keeps in memory (monitor.match.story.StoryIndex).

The index is read from the database when a process first stores items, and caught up before
each batch with what other processes stored since (their items by id, above the highest seen):
workers polling one PostgreSQL database then join each other's stories. Two reports of one
story stored at the same moment by two processes, neither yet committed, begin two stories.

A word-for-word reprint of a story the index holds (an agency's report, carried by many
outlets) is planned before it is stored, by its text's hash, and inserted with its story: it is
neither told nor updated after. Any other report's story is decided after its insert, under
the lock, so two threads storing two reports of one new story do not begin two."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, select, update

from monitor.match.story import KEPT, StoryIndex, Telling, telling
from monitor.models import Item, content_hash
from monitor.store.engine import chunks
from monitor.store.schema import items

FORGET_EVERY = 3600.0  # seconds between two sweeps of the index for stories past KEPT
_JOIN = update(items).where(items.c.id == bindparam("item")).values(story_id=bindparam("story"))
# built once, as each batch asks it: a statement built at each call cost more than its query
_NEWER = select(items.c.id).where(items.c.id > bindparam("seen"))


class Stories:
    """This process's view of the recent stories; made empty, read when first needed."""

    def __init__(self) -> None:
        self._index: StoryIndex | None = None
        self._seen = 0  # the highest item id read from the database
        self._mine: set[int] = set()  # items this process indexed above it
        self._forgotten: datetime | None = None
        self._lock = threading.Lock()  # polls store from several threads

    def plan(self, feed_id: int, entries: Sequence[tuple[Item, str]]) -> dict[str, int]:
        """The held stories that these entries (each with its text's hash) reprint word for
        word, by guid: their items are inserted with them. The index as it stands, not caught
        up: what it misses is decided after the insert."""
        if self._index is None:
            return {}
        planned: dict[str, int] = {}
        taken: set[int] = set()
        with self._lock:
            for entry, text in entries:
                story = self._index.reprint(text, feed_id, entry.published)
                if story is not None and story not in taken:  # no feed tells one story twice
                    planned[entry.id] = story
                    taken.add(story)
        return planned

    def tell(
        self,
        connection: Connection,
        feed_id: int,
        new: Sequence[tuple[int, Item, Telling | None, str]],
        planned: Mapping[str, int],
        now: datetime,
    ) -> None:
        """Give each new item (id, entry, its telling, its text's hash), in the order stored,
        the story it tells: one an earlier item began, recorded in its row, or its own. The
        ``planned`` ones were inserted with theirs, and are told only if the index let their
        story go meanwhile."""
        if not new:
            return
        with self._lock:
            self._mine.update(item_id for item_id, _, _, _ in new)  # inserted already: not read back
            index = self._caught_up(connection, now)
            joined: list[dict[str, int]] = []
            for item_id, entry, told, text in new:
                if (story := planned.get(entry.id)) is not None:
                    kept = index.holds(story)
                    index.add(
                        story,
                        None if kept else told or telling(entry.title, entry.summary),
                        feed_id,
                        entry.published,
                    )
                    continue
                told = told or telling(entry.title, entry.summary)
                story = index.find(told, feed_id, entry.published)
                index.add(item_id if story is None else story, told, feed_id, entry.published, text)
                if story is not None:
                    joined.append({"item": item_id, "story": story})
        if joined:
            connection.execute(_JOIN, joined)

    def _caught_up(self, connection: Connection, now: datetime) -> StoryIndex:
        if self._index is None:
            self._index = StoryIndex()
            self._seen = connection.execute(select(func.max(items.c.id))).scalar() or 0
            self._read(connection, and_(items.c.published_at >= now - KEPT, items.c.id.not_in(self._mine)))
            self._forgotten = now
            return self._index
        if self._forgotten is None or (now - self._forgotten).total_seconds() > FORGET_EVERY:
            self._index.forget(now)
            self._forgotten = now
        newer = connection.execute(_NEWER, {"seen": self._seen}).scalars().all()
        if newer:
            others = [item_id for item_id in newer if item_id not in self._mine]
            for chunk in chunks(others):
                self._read(connection, items.c.id.in_(chunk))
            self._seen = max(newer)
            self._mine = {item_id for item_id in self._mine if item_id > self._seen}
        return self._index

    def _read(self, connection: Connection, condition: ColumnElement[bool]) -> None:
        """Index the stored items that ``condition`` selects, in the order they were stored."""
        assert self._index is not None
        rows = connection.execute(
            select(
                items.c.id,
                items.c.story_id,
                items.c.feed_id,
                items.c.title,
                items.c.summary,
                items.c.published_at,
            )
            .where(condition)
            .order_by(items.c.id)
        )
        index = self._index
        for row in rows:
            story = row.story_id or row.id
            if index.holds(story):  # a report of a held story: nothing of it to tell
                index.add(story, None, row.feed_id, row.published_at)
            else:
                text = None if row.story_id else content_hash(row.title, row.summary)
                index.add(story, telling(row.title, row.summary), row.feed_id, row.published_at, text)
