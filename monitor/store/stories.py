"""Which story each new item tells, decided as it is stored (items.story_id), from an index of
the recent stories that each process keeps in memory (monitor.match.story.StoryIndex).

The index is read from the database when a process first stores items, and caught up before
each batch with what other processes stored since (their items by id, above the highest seen):
workers polling one PostgreSQL database then join each other's stories. Two reports of one
story stored at the same moment by two processes, neither yet committed, begin two stories."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, func, select

from monitor.match.story import KEPT, StoryIndex, Telling, telling
from monitor.models import Item
from monitor.store.engine import chunks
from monitor.store.schema import items

FORGET_EVERY = 3600.0  # seconds between two sweeps of the index for stories past KEPT


class Stories:
    """This process's view of the recent stories; made empty, read when first needed."""

    def __init__(self) -> None:
        self._index: StoryIndex | None = None
        self._seen = 0  # the highest item id read from the database
        self._mine: set[int] = set()  # items this process indexed above it
        self._forgotten: datetime | None = None
        self._lock = threading.Lock()  # polls store from several threads

    def decide(
        self, connection: Connection, feed_id: int, new: Sequence[tuple[Item, Telling]], now: datetime
    ) -> list[int | None]:
        """The story each new entry of a feed tells, before it is stored: one an earlier item
        began (its id, stored with the entry), or None, its own (see ``stored``). No entry can
        join a story another entry of the same batch begins: one feed never tells a story twice."""
        if not new:
            return []
        with self._lock:
            index = self._caught_up(connection, now)
            stories = []
            for entry, told in new:
                story = index.find(told, feed_id, entry.published)
                if story is not None:
                    index.add(story, told, feed_id, entry.published)
                stories.append(story)
            return stories

    def stored(self, feed_id: int, new: Sequence[tuple[int, Item, Telling, int | None]]) -> None:
        """The entries ``decide`` was asked of, as stored (item id, entry, telling, story):
        those that begin a story are indexed under their ids; none is read back."""
        with self._lock:
            self._mine.update(item_id for item_id, _, _, _ in new)
            if self._index is not None:
                for item_id, entry, told, story in new:
                    if story is None:
                        self._index.add(item_id, told, feed_id, entry.published)

    def _caught_up(self, connection: Connection, now: datetime) -> StoryIndex:
        if self._index is None:
            self._index = StoryIndex()
            self._seen = connection.execute(select(func.max(items.c.id))).scalar() or 0
            self._read(connection, items.c.published_at >= now - KEPT)
            self._forgotten = now
            return self._index
        if self._forgotten is None or (now - self._forgotten).total_seconds() > FORGET_EVERY:
            self._index.forget(now)
            self._forgotten = now
        newer = connection.execute(select(items.c.id).where(items.c.id > self._seen)).scalars().all()
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
        for row in rows:
            self._index.add(
                row.story_id or row.id, telling(row.title, row.summary), row.feed_id, row.published_at
            )
