"""Full-text search of stored items: each item's word keys kept in the database's own index
(FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL), and the candidates a query's
condition (monitor.match.index) picks from it, newest first. The matcher confirms each one.

Both indexes are given the keys whole, never a text to parse: FTS5's ascii tokenizer keeps each
key one token, and PostgreSQL's tsvector is made by ``array_to_tsvector`` and its query written
as quoted lexemes, so neither backend's parser or dictionary changes a key.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    bindparam,
    cast,
    column,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from monitor.log import event
from monitor.match import Matcher
from monitor.match.index import AllOf, Condition, Key, condition
from monitor.models import Item, Span, StoredItem
from monitor.store.engine import Database
from monitor.store.rows import ITEM_COLUMNS, item_of
from monitor.store.schema import feeds, item_words, items

log = logging.getLogger(__name__)
BATCH = 500  # candidates handed over at a time

_FTS5 = table("item_words", column("rowid"))
MANY_CANDIDATES = 2000  # more than this are read newest first, not looked up by id and sorted


def write_words(
    connection: Connection, words: Sequence[tuple[int, Sequence[str]]], *, replace: bool = False
) -> None:
    """Index items' keys (monitor.match.index.index_keys); ``replace``: what was indexed of
    them (edited items) goes."""
    if not words:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "INSERT INTO item_words (item_id, words)"
                " VALUES (:id, array_to_tsvector(CAST(:keys AS text[])))"
                " ON CONFLICT (item_id) DO UPDATE SET words = excluded.words"
            ),
            [{"id": item_id, "keys": list(keys)} for item_id, keys in words],
        )
        return
    if replace:
        connection.execute(
            text("DELETE FROM item_words WHERE rowid = :id"), [{"id": item_id} for item_id, _ in words]
        )
    connection.execute(
        text("INSERT INTO item_words (rowid, words) VALUES (:id, :words)"),
        [{"id": item_id, "words": " ".join(keys)} for item_id, keys in words],
    )


def fts5_query(found: Condition) -> str:
    """The condition as an FTS5 query: keys as strings, prefixes as ``"key"*``."""
    if isinstance(found, Key):
        return f'"{found.text}"*' if found.prefix else f'"{found.text}"'
    joiner = " AND " if isinstance(found, AllOf) else " OR "
    return "(" + joiner.join(fts5_query(child) for child in found.children) + ")"


def tsquery(found: Condition) -> str:
    """The condition as a tsquery: keys as quoted lexemes, prefixes as ``'key':*``."""
    if isinstance(found, Key):
        lexeme = "'" + found.text.replace("\\", "\\\\").replace("'", "''") + "'"
        return f"{lexeme}:*" if found.prefix else lexeme
    joiner = " & " if isinstance(found, AllOf) else " | "
    return "(" + joiner.join(tsquery(child) for child in found.children) + ")"


class SearchStore:
    """Stored items that queries may match, picked by the full-text index."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def candidates(
        self,
        queries: Sequence[str],
        matcher: Matcher,
        since: datetime | None = None,
        feed: str | None = None,
        limit: int | None = None,
        batch: int = BATCH,
        before: tuple[datetime, int] | None = None,
    ) -> Generator[list[StoredItem]]:
        """Items any of ``queries`` may match, newest first, ``batch`` at a time: every item the
        matcher (which compiled the queries, or knows their words) would accept, and others it
        will turn down. A query the index cannot narrow ("-a OR b") makes every item since
        ``since`` a candidate, and says so in the log. Raises QueryError for a bad query.

        ``limit`` bounds the candidates (a LIMIT lets PostgreSQL walk published_at newest first
        when they are many); ``before`` (published, id) continues after the last one seen."""
        wanted = condition(queries, matcher.patterns_of)
        chosen = (
            select(items.c.id, *ITEM_COLUMNS)
            .join_from(items, feeds, items.c.feed_id == feeds.c.id)
            .order_by(items.c.published_at.desc(), items.c.id.desc())
            .limit(limit)
        )
        if since is not None:
            chosen = chosen.where(items.c.published_at >= since)
        if feed is not None:
            chosen = chosen.where(feeds.c.name == feed)
        if before is not None:
            published, item_id = before
            chosen = chosen.where(
                items.c.published_at <= published,
                or_(items.c.published_at < published, items.c.id < item_id),
            )
        with self.database.tx() as connection:
            if wanted is None:
                event(log, "search.scan", queries=" | ".join(queries), since=since, feed=feed)
            else:
                chosen = chosen.where(self._picked(connection, wanted))
            rows = connection.execution_options(stream_results=True).execute(chosen)
            for part in rows.partitions(batch):
                yield [StoredItem(row.id, item_of(row)) for row in part]

    @staticmethod
    def _picked(connection: Connection, wanted: Condition) -> ColumnElement[bool]:
        """The condition on items.id. A few candidates are read by id, first: then each is looked
        up and they are sorted, which either planner may not foresee (PostgreSQL, asked for the
        newest 200 of none, walked all 100,000 items along published_at). Many are left in a
        subquery, and read newest first along published_at: on SQLite, "+" keeps them from being
        looked up by id and sorted, ten times slower at 16,000 of 100,000 (docs/benchmarks.md)."""
        listed: ColumnElement[int]
        if connection.dialect.name == "postgresql":
            matching = item_words.c.words.bool_op("@@")(cast(bindparam("q", tsquery(wanted)), TSQUERY))
            ids, listed = select(item_words.c.item_id).where(matching), items.c.id
        else:
            matching = literal_column("item_words").op("MATCH")(bindparam("q", fts5_query(wanted)))
            ids, listed = select(_FTS5.c.rowid).where(matching), literal_column("+items.id", Integer)
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:  # given a LIMIT, its planner tests each tsvector in turn (~1 µs a row)
            connection.execute(text("SET LOCAL enable_seqscan = off"))  # rather than read the GIN index
        few = connection.execute(ids.limit(MANY_CANDIDATES + 1)).scalars().all()
        if postgresql:
            connection.execute(text("RESET enable_seqscan"))
        return items.c.id.in_(few) if len(few) <= MANY_CANDIDATES else listed.in_(ids)

    def find(
        self,
        query: str,
        matcher: Matcher,
        languages: Mapping[str, str | None],
        since: datetime | None = None,
        feed: str | None = None,
        limit: int = 50,
    ) -> list[tuple[Item, list[Span]]]:
        """The newest ``limit`` items since ``since`` that ``query`` matches, with its spans:
        the candidates, each confirmed by ``matcher`` (which compiled the query) with its
        feed's language hint from ``languages``, as a poll would have matched it."""
        found: list[tuple[Item, list[Span]]] = []
        last: tuple[datetime, int] | None = None
        size = limit * 4  # candidates asked for at once, more each time the matcher turns most down
        while True:
            read = 0
            with closing(self.candidates([query], matcher, since, feed, size, size, last)) as batches:
                for batch in batches:
                    for stored in batch:
                        read += 1
                        item = stored.item
                        last = (item.published, stored.id)
                        matches = matcher.match(
                            item.title, item.summary, languages.get(item.feed), body=item.body
                        )
                        spans = [
                            s
                            for listed in matches.values()
                            for m in listed
                            if m.query == query
                            for s in m.spans
                        ]
                        if spans:
                            found.append((item, spans))
                            if len(found) == limit:
                                return found
            if read < size:
                return found
            size *= 8
