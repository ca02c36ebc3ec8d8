"""Search benchmark (issue 16): `monitor search` latency over many stored items, on both backends.

    python bench/search.py [--items 100000] [--runs 5] [--postgresql URL] [--keep DIR]

Items are built as bench/match.py builds them (~100 words of real corpus sentences: 30% English,
30% Russian, 20% Serbian Latin, 20% Serbian Cyrillic), spread over a year in 100 feeds, and
written straight into a fresh database at the newest schema: items, then their index rows, as
a poll would store them (``monitor.match.index.index_keys``, ``monitor.store.search.write_words``);
PostgreSQL's tables are then vacuumed and analysed, as autovacuum would leave them.
PostgreSQL (``--postgresql``, default ``$MONITOR_TEST_DATABASE_URL``) gets a schema of its own,
dropped at the end; SQLite a file in a temporary folder (or ``--keep DIR``).

Each of ten typical queries is then searched ``--runs`` times as `monitor search QUERY --limit 50`
does it (``SearchStore.find``: index candidates, newest first, each confirmed by the matcher),
over the whole year and over the last 30 days. The matcher is compiled once per query, outside
the timing (the CLI compiles it from the word cache). Latency is wall time in this process; p50
and p95 are over every run of every query. Nothing is committed: the corpus stays in
../shared/corpus. Prints figures, never fails on timing; the target (p95 under 300 ms) is
reported as met or NOT met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from match import CORPUS, build_items, load_pools
from sqlalchemy import create_engine, insert, text

from monitor.match import Matcher
from monitor.match.document import Document
from monitor.match.index import index_keys
from monitor.store import Store
from monitor.store.schema import feeds, items
from monitor.store.search import write_words

QUERIES = [
    "NATO",
    "Trump",
    "Украина",
    "Rusija",
    "sanctions OR санкции OR sankcije",
    "Srebrenica",
    '"Prime Minister"',
    "Moskva NEAR/10 (Kijev OR Ukrajina)",
    "protest* -police",
    "BIA",
]
FEEDS = 100
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 2000


def fill(url: str, count: int, corpus: Path) -> float:
    """``count`` items in a fresh database at ``url``; the seconds indexing took."""
    pools = load_pools(corpus)
    built = build_items(pools, count)
    store = Store(url)
    store.close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(feeds),
            [
                {"id": n + 1, "name": f"feed-{n}", "url": f"http://127.0.0.1/{n}", "created_at": NOW}
                for n in range(FEEDS)
            ],
        )
    indexing = 0.0
    for start in range(0, count, BATCH):
        rows = []
        words = []
        for number in range(start, min(count, start + BATCH)):
            item = built[number]
            feed = number % FEEDS
            rows.append(
                {
                    "id": number + 1,
                    "feed_id": feed + 1,
                    "guid": f"g{number}",
                    "title": item.title,
                    "summary": item.summary,
                    "link": f"http://127.0.0.1/{feed}/{number}",
                    "published_at": NOW - timedelta(seconds=number * 365 * 86400 // count),
                    "first_seen_at": NOW,
                }
            )
            began = time.perf_counter()
            words.append((number + 1, index_keys(Document(item.title, item.summary, None))))
            indexing += time.perf_counter() - began
        with engine.begin() as connection:
            connection.execute(insert(items), rows)
            began = time.perf_counter()
            write_words(connection, words)
            indexing += time.perf_counter() - began
        print(f"  {start + len(rows):,} items", end="\r", file=sys.stderr)
    if engine.dialect.name == "postgresql":  # as autovacuum leaves a table: visibility map, statistics
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return indexing


def size(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            total, index = connection.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)), pg_total_relation_size('item_words')"
                    " FROM pg_class c"
                    " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
                )
            ).one()
        else:
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()
            page = connection.execute(text("PRAGMA page_size")).scalar_one()
            total = pages * page
            index = connection.execute(
                text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'item_words%'")
            ).scalar_one()
    engine.dispose()
    return f"{total / 2**20:,.0f} MB, of which the search index {index / 2**20:,.0f} MB"


def measure(url: str, runs: int) -> list[tuple[str, str, list[float], int]]:
    """Each query's latencies over the year and the last 30 days, and how many it found."""
    store = Store(url)
    languages: dict[str, str | None] = {f"feed-{n}": None for n in range(FEEDS)}
    results = []
    for query in QUERIES:
        matcher = Matcher({"search": [query]})
        for window, since in (("year", None), ("30d", NOW - timedelta(days=30))):
            times = []
            found = 0
            for _ in range(runs):
                began = time.perf_counter()
                found = len(store.search.find(query, matcher, languages, since, None, 50))
                times.append(time.perf_counter() - began)
            results.append((query, window, times, found))
    store.close()
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def sqlite_url(keep: Path | None) -> Iterator[str]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{keep / 'search.db'}"
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/search.db"


@contextmanager
def postgresql_url(base: str) -> Iterator[str]:
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(name: str, url: str, arguments: argparse.Namespace) -> None:
    began = time.perf_counter()
    indexing = fill(url, arguments.items, arguments.corpus)
    built = time.perf_counter() - began
    print(f"\n{name}: {arguments.items:,} items stored in {built:.0f} s, {indexing:.1f} s of it indexing")
    print(f"  size: {size(url)}")
    results = measure(url, arguments.runs)
    print("\n| query | window | found | median ms | max ms |\n|---|---|---:|---:|---:|")
    for query, window, times, found in results:
        median, most = statistics.median(times) * 1000, max(times) * 1000
        print(f"| `{query}` | {window} | {found} | {median:.1f} | {most:.1f} |")
    every = [t for _, _, times, _ in results for t in times]
    p50, p95 = percentile(every, 0.5) * 1000, percentile(every, 0.95) * 1000
    verdict = "met" if p95 < 300 else "NOT met"
    print(f"\n{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(every)} searches;", end=" ")
    print(f"p95 under 300 ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="searches of each query in each window")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--postgresql", default=os.environ.get("MONITOR_TEST_DATABASE_URL"))
    parser.add_argument("--keep", type=Path, help="keep the SQLite database in this folder")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    arguments = parser.parse_args()
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = []
    if arguments.only != "postgresql":
        backends.append(("SQLite", lambda: sqlite_url(arguments.keep)))
    if arguments.only != "sqlite" and arguments.postgresql:
        backends.append(("PostgreSQL", lambda: postgresql_url(arguments.postgresql)))
    for name, opened in backends:
        with opened() as url:
            run(name, url, arguments)


if __name__ == "__main__":
    main()
