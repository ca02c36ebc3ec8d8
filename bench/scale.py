"""Scale benchmark (issue 16): a million stored items, on SQLite and PostgreSQL.

    python bench/scale.py build --items 1000000 [--backend both] [--keep DIR]
    python bench/scale.py statements [--backend both] [--fleet 200] [--url URL]
    python bench/scale.py ingest --workers 1,2,4 [--feeds 1000]
    python bench/scale.py search --url URL [--runs 20]        # needs `monitor search`
    python bench/scale.py backfill --url URL [--runs 3]       # needs `monitor backfill`

``--backend``: ``sqlite`` (a file in a temporary folder), ``postgresql`` (a database of its own
made on the server of ``--pg`` and dropped after unless kept: ``monitor_scale`` for build,
``monitor_scale_statements`` and so on for the others, so none drops a kept build) or ``both``.

**build** makes a database at the newest schema revision (``monitor.store.migrate``, as
``monitor db upgrade``) and fills it with ``--items`` items through SQLAlchemy Core:
``executemany`` on SQLite, ``COPY`` through psycopg on PostgreSQL. Items are made at run time from
the corpus's captures (``bench/match.py`` reads them into sentence pools): 30% English, 30%
Russian, 20% Serbian Latin, 20% Serbian Cyrillic (the Latin text transliterated), a corpus title
(often with a clause of another sentence) and 25 to 90 words of shuffled corpus sentences, in
``--feeds`` feeds of unequal size, each with its own host, guid style and links; published at
times spread over the two years before the build; each with its first sighting, and
``--hit-share`` of them with a hit; each indexed for search as a poll indexes it
(``monitor.match.index.index_keys``, ``monitor.store.search.write_words``). It prints the time
taken and the database's size, per million items: SQLite's file with its WAL after a
checkpoint; PostgreSQL's ``pg_database_size`` and each table's ``pg_total_relation_size``.

**statements** counts what polls cost the database, with SQLAlchemy's event API on the engine
the store makes (``before_cursor_execute``, ``begin``, ``commit``, ``rollback`` and the pool's
``checkout``): real polls through ``Poller.poll``, of one capture (``--capture``, a 30-entry
feed by default) served by ``bench/served.py`` under two feeds, one with an ETag and one
without, each copy with its own guids and links: first polls (every entry new), a 304, the
same body again, a body with one new entry, and a body whose every entry is new to a known
feed; then ``--fleet`` copies polled together, new and then unchanged (half of them 304), as
a worker's round polls many feeds at once and writes quiet polls together. ``--url`` polls
into a built database (``build --keep``) instead of an empty one. Round trips on PostgreSQL
are counted as statements, plus a BEGIN and a COMMIT or ROLLBACK per transaction, plus the
pool's pre-ping per checkout.

**ingest** runs 1, 2, 4 (``--workers``) real ``monitor run`` processes at once on one fresh
PostgreSQL database, which claim the due feeds through their leases, as deployed workers do,
over ``--feeds`` feeds served on loopback by ``bench/poll.py``'s server (each feed's guids and
links carry its number, so every feed brings new items), until every feed is polled (the cold
pass); then every feed is made due again and polled once more (the warm pass: 304s and
unchanged bodies). The workers start together on the empty feeds table and sync it
themselves. The clock runs from the first item stored (warm: the first poll) to the
last feed's success, read from the database, so start-up (compiling the watchlists) is left
out; the time from launch is printed beside it. Every run must store the same items: a
different count is printed as a failure. The polls each worker logged show how the feeds were
shared, and that none was polled twice. The CPU time of the PostgreSQL server's backends for
the database is read from /proc while they live (the server runs on this machine).

**search** times ``store.search.find`` in this process (as `monitor search QUERY --limit 50`
calls it, the matcher compiled outside the timing) for ten queries in English, Russian, Serbian
Latin and Cyrillic (an acronym, prefixes, phrases, NEAR, AND, NOT), over the whole history and
the last 30 days, beside two baselines of the same run: opening the store, and a ``SELECT 1``
round trip. Then ``monitor search QUERY --json`` as a process, end to end, beside the baseline
``monitor db current`` on the same database (start-up, config and one query).

**backfill** times ``monitor backfill --watchlist NAME`` as a process, its hits deleted before
each run, for two 20-query watchlists: "selective", what the tool's users watch for (the BIA,
expulsions, residence permits: rare in the corpus), and "generic", common news words (about
29% of the items). One more backfill of each in this process splits its time between reading
the candidates, the matcher and writing the hits.

Both run over a built database (``--url``; without it, one of ``--items`` is built first), and
are skipped with a message when this checkout's ``monitor`` lacks the command.

Prints figures; targets are reported as met or NOT met, never as a failure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from match import CORPUS, KINDS, Pool, cyrillic, load_pools
from poll import _cpu_seconds, feed_url, load_corpus, serve, vary
from served import serving

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261205
PG = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 20_000  # items written per transaction while building
SPREAD = timedelta(days=730)  # items' publication times: the two years before the build
SEARCH_TARGET = 0.300  # seconds, p95 of `monitor search`
WAIT_LIMIT = 900  # seconds for the workers to poll every feed once
POLLED = re.compile(r" event=poll\.(ok|failed) ")  # a feed's poll, in a worker's log
BACKFILL_TARGET = 30.0  # seconds, a 20-query watchlist over 1,000,000 items

# One watchlist for the workers and the statement counts; its digest is not due while they run.
WATCHLIST = """
[[watchlists]]
name = "desk"
recipients = ["desk@example.org"]
digest = "daily 03:00"
queries = ["BIA", "relokan*", "Vučić", "\\"Russian diaspora\\"", "санкции", "sanctions NEAR/5 Russia"]
"""

# Ten typical searches: an acronym, prefixes, inflected words, phrases, NEAR, AND, NOT, in
# English, Russian, Serbian Latin and Serbian Cyrillic.
QUERIES = (
    "BIA",
    "protest*",
    '"prime minister"',
    "sanctions NEAR/5 Russia",
    "Путин",
    "выборы AND Москва",
    "Vučić",
    "Вучић NEAR/10 влада",
    "izbor* -fudbal",
    '"European Union"',
)
# What the tool's users watch for (rare things: the BIA's security assessments, expulsions of
# relocants, residence permits), in English, Russian, Serbian Latin and Cyrillic; the corpus has
# a few of them (deport*, депорт*, пограничн*, MUP), so a backfill finds some hits.
SELECTIVE_QUERIES = (
    "BIA",
    "MUP",
    "protera*",
    '"negativna bezbednosna procena"',
    "высылк*",
    "релокант*",
    "ВНЖ",
    "boravišn* dozvol*",
    "Безбедносно-информативн*",
    "expel* NEAR/5 Serbia",
    "asylum AND Serbia",
    "deport*",
    "депорт*",
    "azil*",
    "антивоен*",
    "antiratn*",
    "residence permit*",
    '"вид на жительство"',
    "пограничн*",
    "granic* NEAR/3 zabran*",
)
# Generic news words: the ten searches and ten more, which hit about 29% of the built items.
GENERIC_QUERIES = (
    *QUERIES,
    "NATO",
    "Ukraine AND ceasefire",
    "inflation",
    "Трамп",
    "санкции",
    "Srbija NEAR/5 Kosovo",
    "opozicij*",
    "Београд",
    '"climate change"',
    "refugee* NOT football",
)
# The two backfilled watchlists: name, label, queries.
BACKFILLS = (
    ("selective", "selective (users' domain)", SELECTIVE_QUERIES),
    ("generic", "generic news words", GENERIC_QUERIES),
)


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- databases


@dataclass
class Target:
    """One backend's database: its URL, and how to drop it."""

    backend: str
    url: str
    folder: Path | None = None  # SQLite: the file's folder
    admin: str | None = None  # PostgreSQL: the server's URL, for CREATE and DROP DATABASE
    name: str | None = None

    def size(self) -> dict[str, int]:
        """Bytes on disk: SQLite's file and WAL after a checkpoint; PostgreSQL's database and
        each table with its indexes and TOAST."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.begin() as connection:
                if self.backend == "sqlite":
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                    file = Path(str(engine.url.database))
                    wal = file.with_name(file.name + "-wal")
                    return {"database": file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)}
                whole = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                tables = connection.execute(
                    text(
                        "SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class"
                        " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                    )
                )
                return {"database": int(whole), **{row.name: int(row.bytes) for row in tables}}
        finally:
            engine.dispose()


@contextmanager
def database(backend: str, pg: str, name: str, keep: Path | None = None) -> Iterator[Target]:
    """A fresh, empty database of ``backend``, dropped after unless ``keep`` (SQLite: kept in
    that folder; PostgreSQL: the database left in place)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="scale-") as folder:
            where = keep or Path(folder)
            where.mkdir(parents=True, exist_ok=True)
            file = where / f"{name}.db"
            for stale in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                stale.unlink(missing_ok=True)
            yield Target("sqlite", f"sqlite:///{file}", folder=where)
        return
    from sqlalchemy import create_engine, make_url

    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(pg).set(database=name).render_as_string(hide_password=False)
        yield Target("postgresql", url, admin=pg, name=name)
        if keep is None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def backends(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


# -------------------------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class Source:
    """A made-up outlet: its host, its guid style, and its share of the items."""

    number: int
    host: str
    permalink_guids: bool
    weight: float


@dataclass
class Texts:
    """The pools by item kind; Serbian Cyrillic transliterated once here, not per item."""

    pools: dict[str, Pool]
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, corpus: Path) -> Texts:
        pools = load_pools(corpus)
        by_kind = {
            name: Pool(
                [cyrillic(t) for t in pools[group].titles], [cyrillic(s) for s in pools[group].sentences]
            )
            if to_cyrillic
            else pools[group]
            for name, _, group, to_cyrillic, _ in KINDS
        }
        return cls(by_kind, [name for name, share, *_ in KINDS for _ in range(share)])


_SLUG = re.compile(r"[a-z0-9]+")


def sources(count: int, rng: random.Random) -> list[Source]:
    """``count`` outlets; a few large ones and a long tail, as real feed lists have."""
    return [
        Source(n, f"news{n}.example.{rng.choice(['com', 'rs', 'ru', 'org'])}", n % 2 == 0, 1 / (1 + n % 50))
        for n in range(count)
    ]


def generated(
    texts: Texts, outlets: Sequence[Source], count: int, hit_share: float, now: datetime
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]]:
    """``count`` (item, sighting, hit or None) rows, with ids from 1: distinct guids and links,
    titles often extended by a clause of another sentence, dates over the two years to ``now``."""
    from monitor.feeds.links import canonical_link
    from monitor.models import content_hash

    rng = random.Random(SEED)
    weights = [outlet.weight for outlet in outlets]
    for number in range(1, count + 1):
        kind = texts.kinds[number % len(texts.kinds)]
        pool = texts.pools[kind]
        outlet = rng.choices(outlets, weights)[0]
        title = rng.choice(pool.titles)
        if rng.random() < 0.6:
            clause = rng.choice(pool.sentences).split()
            title = f"{title}: {' '.join(clause[: rng.randint(3, 8)])}"
        words, parts = 0, []
        target = rng.randint(25, 90)
        while words < target:
            sentence = rng.choice(pool.sentences)
            parts.append(sentence)
            words += len(sentence.split())
        summary = " ".join(parts)
        published = now - SPREAD * rng.random()
        slug = "-".join(_SLUG.findall(title.lower())[:6]) or "vest"
        link = f"https://{outlet.host}/{published:%Y/%m/%d}/{slug}-{number}"
        guid = link if outlet.permalink_guids else f"{outlet.host}:{number}"
        seen = published + timedelta(minutes=rng.randint(1, 90))
        item = {
            "id": number,
            "feed_id": outlet.number + 1,
            "guid": guid,
            "title": title,
            "summary": summary,
            "link": link,
            "published_at": published,
            "first_seen_at": seen,
            "canonical_link": canonical_link(link),
        }
        sighting = {
            "id": number,
            "item_id": number,
            "feed_id": outlet.number + 1,
            "guid": guid,
            "first_seen_at": seen,
            "content_hash": content_hash(title, summary),
        }
        hit = None
        if rng.random() < hit_share and (term := max(title.split(), key=len)):
            start = title.index(term)
            span = {"field": "title", "start": start, "end": start + len(term)}
            hit = {
                "item_id": number,
                "watchlist": f"desk-{number % 5}",
                "matches": [{"query": term, "terms": [term], "spans": [span]}],
                "created_at": seen,
                "delivered_at": seen + timedelta(hours=12),
            }
        yield item, sighting, hit


def build(target: Target, texts: Texts, items: int, feed_count: int, hit_share: float) -> dict[str, Any]:
    """The schema at head, then the items, a transaction per BATCH; the figures of the build."""
    from sqlalchemy import insert, text

    from monitor.match.document import Document
    from monitor.match.index import index_keys
    from monitor.store.engine import Database
    from monitor.store.migrate import migrate
    from monitor.store.schema import feeds, hits, sightings
    from monitor.store.schema import items as items_table
    from monitor.store.search import write_words

    started = time.perf_counter()
    store = Database(target.url)
    try:
        migrate(store)
        migrated = time.perf_counter() - started
        now = datetime.now(UTC).replace(microsecond=0)
        outlets = sources(feed_count, random.Random(SEED))
        with store.tx() as connection:
            connection.execute(
                insert(feeds),
                [
                    {
                        "id": o.number + 1,
                        "name": f"bench-{o.number}",
                        "url": f"https://{o.host}/rss",
                        "created_at": now - SPREAD,
                        "last_success_at": now,
                        "next_poll_at": now + timedelta(minutes=30),
                        "failures": 0,
                        "enabled": True,
                    }
                    for o in outlets
                ],
            )
        rows = generated(texts, outlets, items, hit_share, now)
        stored, hit_count, hit_id = 0, 0, 0
        while stored < items:
            batch = [next(rows) for _ in range(min(BATCH, items - stored))]
            made = [hit for _, _, hit in batch if hit is not None]
            for hit in made:
                hit_id += 1
                hit["id"] = hit_id
            with store.tx() as connection:
                if target.backend == "postgresql":
                    _copy(connection, items_table.name, [item for item, _, _ in batch])
                    _copy(connection, sightings.name, [sighting for _, sighting, _ in batch])
                    _copy(connection, hits.name, made)
                else:
                    connection.execute(insert(items_table), [item for item, _, _ in batch])
                    connection.execute(insert(sightings), [sighting for _, sighting, _ in batch])
                    if made:
                        connection.execute(insert(hits), made)
                write_words(
                    connection,
                    [
                        (item["id"], index_keys(Document(item["title"], item["summary"], None)))
                        for item, _, _ in batch
                    ],
                )
            stored += len(batch)
            hit_count += len(made)
            if stored % (10 * BATCH) == 0 or stored == items:
                log(f"{target.backend}: {stored:,} items, {time.perf_counter() - started:.0f} s")
        with store.tx() as connection:
            if target.backend == "postgresql":
                for table in ("feeds", "items", "sightings", "hits"):
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
                    )
        filled = time.perf_counter() - started
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        store.close()
    return {
        "backend": target.backend,
        "items": items,
        "feeds": feed_count,
        "hits": hit_count,
        "migrate_s": migrated,
        "fill_s": filled - migrated,
        "total_s": time.perf_counter() - started,
        "size": target.size(),
    }


def _copy(connection: Any, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` into ``table`` by COPY, through psycopg's own connection under SQLAlchemy's
    transaction (``Connection.connection.driver_connection``, SQLAlchemy's public way to it)."""
    if not rows:
        return
    names = list(rows[0])
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in row.values()])


def build_report(figures: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| backend | items | feeds | hits | build s | items/s | size MB | MB per million items |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        mb = f["size"]["database"] / 2**20
        lines.append(
            f"| {f['backend']} | {f['items']:,} | {f['feeds']:,} | {f['hits']:,} | {f['total_s']:.0f} "
            f"| {f['items'] / f['fill_s']:,.0f} | {mb:,.0f} | {mb * 1e6 / f['items']:,.0f} |"
        )
    for f in figures:
        tables = {name: size for name, size in f["size"].items() if name != "database"}
        if tables:
            lines.append("")
            lines.append(
                f"{f['backend']}, pg_total_relation_size per million items: "
                + ", ".join(
                    f"{name} {size / 2**20 * 1e6 / f['items']:,.0f} MB"
                    for name, size in sorted(tables.items(), key=lambda kv: -kv[1])
                    if size > 1 << 20
                )
            )
    return lines


# ---------------------------------------------------------------------------------- statements


@dataclass
class Counter:
    """What the engine sent: cursor executions, transactions, checkouts, and the time spent
    inside execute, summed over the store's threads (each on its own connection)."""

    statements: int = 0
    begins: int = 0
    ends: int = 0
    checkouts: int = 0
    seconds: float = 0.0
    texts: list[str] = field(default_factory=list)  # each statement's first words
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def listen(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "begin", lambda _c: self._add("begins"))
        event.listen(engine, "commit", lambda _c: self._add("ends"))
        event.listen(engine, "rollback", lambda _c: self._add("ends"))
        event.listen(engine, "checkout", lambda *_a: self._add("checkouts"))

    def _add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def _before(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._add("statements")
        self.texts.append(" ".join(statement.split()[:6]))
        connection.info["scale_started"] = time.perf_counter()

    def _after(self, connection: Any, *_args: Any) -> None:
        with self._lock:
            self.seconds += time.perf_counter() - connection.info.pop("scale_started")

    def snapshot(self) -> tuple[int, int, int, int, float]:
        with self._lock:
            return self.statements, self.begins, self.ends, self.checkouts, self.seconds


def statements(target: Target, capture: Path, fleet: int) -> list[dict[str, Any]]:
    """Real polls of ``capture`` under two feeds, one with an ETag, then under ``fleet`` feeds
    polled together (half with an ETag), each copy with its own guids and links, as
    bench/poll.py varies them: the statements each poll sent, its transactions, round trips."""
    from monitor import checks
    from monitor.app import App
    from monitor.http.fetch import Fetcher, Limits
    from monitor.loop import run

    original = capture.read_bytes()
    copies = [f"copy-{n}" for n in range(fleet)]
    bodies = {"plain": vary(original, 1), "tagged": vary(original, 2)}
    bodies.update({name: vary(original, 10 + n) for n, name in enumerate(copies)})
    results = []
    with serving(bodies, tagged={"tagged", *copies[::2]}) as port, tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "monitor.toml"
        feeds_toml = "".join(
            f'[[feeds]]\nname = "{name}"\nurl = "http://127.0.0.1:{port}/{name}"\n\n' for name in bodies
        )
        config_file.write_text(
            f'[storage]\nurl = "{target.url}"\n\n{feeds_toml}{WATCHLIST}', encoding="utf-8"
        )
        os.environ["MONITOR_CACHE_DIR"] = str(Path(folder) / "cache")
        monitor = App(checks.load(config_file))
        counter = Counter()
        counter.listen(monitor.store.database.engine)
        monitor.poller.sync_feeds()
        assert monitor.matcher
        configured = {feed.name: feed for feed in monitor.config.feeds}

        async def poll(names: Sequence[str]) -> Any:
            async with Fetcher(Limits.from_config(monitor.config.polling)) as fetcher:
                return await monitor.poller.poll([configured[name] for name in names], fetcher)

        def measured(case: str, *names: str) -> None:
            before = counter.snapshot()
            counter.texts.clear()
            started = time.perf_counter()
            summary = run(poll(names))
            wall = time.perf_counter() - started
            count, begins, ends, checkouts, seconds = (
                after - earlier for after, earlier in zip(counter.snapshot(), before, strict=True)
            )
            pinged = checkouts if target.backend == "postgresql" else 0  # pool_pre_ping: SELECT 1
            results.append(
                {
                    "backend": target.backend,
                    "case": case,
                    "feeds": len(names),
                    "new_items": summary.new_items,
                    "new_hits": summary.new_hits,
                    "statements": count,
                    "transactions": begins,
                    "round_trips": count + begins + ends + pinged,
                    "db_ms": seconds * 1000,
                    "wall_ms": wall * 1000,
                }
            )
            log(str(results[-1]))
            if len(names) == 1:
                log("  " + " | ".join(counter.texts))

        try:
            measured("first poll of a new feed", "plain")
            measured("first poll of a new feed (ETag)", "tagged")
            measured("304 Not Modified", "tagged")
            measured("same body, no ETag", "plain")
            bodies["plain"] = _with_new_entry(bodies["plain"])
            measured("one new entry", "plain")
            bodies["plain"] = vary(original, 3)
            measured("every entry new, known feed", "plain")
            if copies:
                measured(f"{fleet} new feeds together", *copies)
                measured(f"{fleet} feeds together, no change (half 304)", *copies)
        finally:
            monitor.close()
    return results


def _with_new_entry(body: bytes) -> bytes:
    opening = re.search(rb"<channel\b[^>]*>", body)
    assert opening is not None, "the statements capture is RSS"
    entry = (
        b"<item><title>Nova vest: BIA i relokanti</title><link>https://bench.example/new/1</link>"
        b'<guid isPermaLink="false">bench-new-1</guid><description>Nova vest.</description></item>'
    )
    return body[: opening.end()] + entry + body[opening.end() :]


def statements_report(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| backend | poll | feeds | new items | statements | transactions | round trips "
        "| per feed (statements / round trips) | per new item (statements / round trips) "
        "| ms inside execute (summed over threads; lock and GIL waits included) | poll ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per = (
            f"{r['statements'] / r['new_items']:.2f} / {r['round_trips'] / r['new_items']:.2f}"
            if r["new_items"]
            else "—"
        )
        trips = r["round_trips"] if r["backend"] == "postgresql" else "— (in process)"
        feeds = r["feeds"]
        per_feed = f"{r['statements'] / feeds:.2f} / {r['round_trips'] / feeds:.2f}"
        lines.append(
            f"| {r['backend']} | {r['case']} | {feeds} | {r['new_items']:,} | {r['statements']:,} "
            f"| {r['transactions']:,} | {trips} | {per_feed} | {per} | {r['db_ms']:.1f} "
            f"| {r['wall_ms']:.1f} |"
        )
    return lines


# -------------------------------------------------------------------------------------- ingest


def monitor_command(config: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "-c", str(config), *arguments]


def ingest(target: Target, urls: Sequence[str], workers: int, folder: Path) -> list[dict[str, Any]]:
    """``workers`` `monitor run` processes on one fresh database: every feed polled once (cold),
    then every feed made due again and polled once more (warm: 304s and unchanged bodies)."""
    from sqlalchemy import create_engine, text

    config = folder / f"ingest-{workers}.toml"
    feeds_toml = "".join(f'[[feeds]]\nname = "feed-{n}"\nurl = "{url}"\n\n' for n, url in enumerate(urls))
    config.write_text(f'[storage]\nurl = "{target.url}"\n\n{feeds_toml}{WATCHLIST}', encoding="utf-8")
    environment = {**os.environ, "MONITOR_CACHE_DIR": str(folder / "cache")}
    subprocess.run(monitor_command(config, "db", "upgrade"), env=environment, check=True, capture_output=True)
    engine = create_engine(target.url)
    logs = [folder / f"worker-{workers}-{n}.log" for n in range(workers)]
    load = os.getloadavg()[0]
    launched = time.perf_counter()
    processes = [
        subprocess.Popen(
            monitor_command(config, "run"), env=environment, stdout=subprocess.DEVNULL, stderr=log.open("w")
        )
        for log in logs
    ]
    backends: dict[int, float] = {}  # the database's server processes: CPU seconds last seen
    phases = []
    try:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        for phase in ("cold", "warm"):
            if phase == "warm":
                with engine.begin() as connection:
                    since = connection.execute(text("SELECT now()")).scalar_one()
                    connection.execute(text("UPDATE feeds SET next_poll_at = now()"))
            server_before = sum(backends.values())
            polls_before = _polls(logs)
            _wait_polled(engine, since, len(urls), processes, logs, backends)
            from_launch = time.perf_counter() - launched
            with engine.connect() as connection:
                row = connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM hits) AS hits,"
                        " (SELECT count(*) FROM feeds WHERE last_error IS NOT NULL) AS failed,"
                        " (SELECT min(first_seen_at) FROM items) AS first_item,"
                        " (SELECT min(last_success_at) FROM feeds) AS first_poll,"
                        " (SELECT max(last_success_at) FROM feeds) AS last_poll"
                    )
                ).one()
            first = row.first_item if phase == "cold" else row.first_poll
            phases.append(
                {
                    "phase": phase,
                    "workers": workers,
                    "feeds": len(urls),
                    "items": row.items,
                    "hits": row.hits,
                    "failed": row.failed,
                    "window_s": (row.last_poll - first).total_seconds(),
                    "launch_s": from_launch,
                    "polls": [now - before for now, before in zip(_polls(logs), polls_before, strict=True)],
                    "server_cpu_s": sum(backends.values()) - server_before,
                    "load": load if phase == "cold" else os.getloadavg()[0],
                }
            )
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
        engine.dispose()
    return phases


def _wait_polled(
    engine: Any,
    since: datetime,
    count: int,
    processes: Sequence[subprocess.Popen[bytes]],
    logs: Sequence[Path],
    backends: dict[int, float],
) -> None:
    """Until ``count`` feeds have been polled (a success or an error) after ``since``; at most
    WAIT_LIMIT seconds."""
    from sqlalchemy import text

    polled = text("SELECT count(*) FROM feeds WHERE last_success_at >= :since OR last_error_at >= :since")
    started = time.monotonic()
    while time.monotonic() - started < WAIT_LIMIT:
        time.sleep(0.5)
        _backend_cpu(engine.url.database, backends)
        with engine.connect() as connection:
            if connection.execute(polled, {"since": since}).scalar_one() >= count:
                return
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a worker exited early:\n" + "\n".join(log.read_text()[-3000:] for log in logs))
    raise SystemExit(f"the feeds were not all polled within {WAIT_LIMIT} s")


def _polls(logs: Sequence[Path]) -> list[int]:
    """The feed polls each worker has logged so far."""
    return [sum(bool(POLLED.search(line)) for line in log.open()) for log in logs]


def _backend_cpu(database: str, seen: dict[int, float]) -> None:
    """The CPU seconds of each PostgreSQL backend serving ``database`` on this machine, by pid
    (read from /proc while they live: a backend's time goes with it)."""
    mark = f" {database} ".encode()
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres: ") and mark in command:
            seen[pid] = max(seen.get(pid, 0.0), _cpu_seconds(pid))


def ingest_report(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| workers | pass | load at start | feeds | items stored | hits | failed | s (first poll → last) "
        "| items/s | feeds/s | s from launch | PostgreSQL backends' CPU s | polls logged by each worker |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        rate = f"{r['items'] / r['window_s']:,.0f}" if r["phase"] == "cold" else "—"
        lines.append(
            f"| {r['workers']} | {r['phase']} | {r['load']:.1f} | {r['feeds']:,} | {r['items']:,} "
            f"| {r['hits']:,} | {r['failed']} | {r['window_s']:.1f} | {rate} "
            f"| {r['feeds'] / r['window_s']:,.1f} | {r['launch_s']:.1f} | {r['server_cpu_s']:.1f} "
            f"| {' + '.join(map(str, r['polls']))} |"
        )
    if len({r["items"] for r in rows}) > 1:
        lines.append("\nFAILED: the runs stored different numbers of items (lost or doubled)")
    return lines


# ---------------------------------------------------------------------------- search, backfill


def has_command(name: str) -> bool:
    done = subprocess.run([sys.executable, "-m", "monitor", name, "--help"], capture_output=True)
    return done.returncode == 0


def history_config(url: str, folder: Path) -> Path:
    """A config over the built database: its feeds, and the two 20-query backfill watchlists."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, url FROM feeds ORDER BY id")).all()
    engine.dispose()
    feeds_toml = "".join(f'[[feeds]]\nname = "{row.name}"\nurl = "{row.url}"\n\n' for row in rows)
    watchlists = "".join(
        WATCHLIST.replace('name = "desk"', f'name = "{name}"').split("queries =")[0]
        + f"queries = {json.dumps(list(queries), ensure_ascii=False)}\n"
        for name, _, queries in BACKFILLS
    )
    config = folder / "history.toml"
    config.write_text(f'[storage]\nurl = "{url}"\n\n{feeds_toml}{watchlists}', encoding="utf-8")
    return config


def timed_runs(command: Sequence[str], runs: int, before: Any = None) -> tuple[list[float], str]:
    """Wall seconds of ``runs`` runs of ``command``, and the last run's output."""
    times, output = [], ""
    environment = {**os.environ, "MONITOR_CACHE_DIR": str(Path(tempfile.gettempdir()) / "scale-cache")}
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        output = done.stdout
    return times, output


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def in_process_search(url: str, runs: int) -> list[str]:
    """``store.search.find`` timed in this process, as `monitor search QUERY --limit 50` calls
    it, over the whole history and the last 30 days; the matcher compiled outside the timing.
    Baselines, same run: opening the store, and a ``SELECT 1`` round trip in a transaction."""
    from sqlalchemy import text

    from monitor.match import Matcher
    from monitor.store import Store

    opening, round_trip = [], []
    for _ in range(runs):
        began = time.perf_counter()
        store = Store(url)
        opening.append(time.perf_counter() - began)
        store.close()
    store = Store(url)
    for _ in range(runs):
        began = time.perf_counter()
        with store.database.tx() as connection:
            connection.execute(text("SELECT 1"))
        round_trip.append(time.perf_counter() - began)
    with store.database.tx() as connection:
        names = connection.execute(text("SELECT name FROM feeds")).scalars().all()
    languages: dict[str, str | None] = dict.fromkeys(names)
    month = datetime.now(UTC) - timedelta(days=30)
    lines = [
        f"In process (`store.search.find`, limit 50), {runs} runs of each query in each window; "
        f"baselines: opening the store p50 {statistics.median(opening) * 1000:.1f} ms, "
        f"`SELECT 1` in a transaction p50 {statistics.median(round_trip) * 1000:.2f} ms",
        "",
        "| query | window | found | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|",
    ]
    every: dict[str, list[float]] = {"whole": [], "30 days": []}
    for query in QUERIES:
        matcher = Matcher({"search": [query]})
        for window, since in (("whole", None), ("30 days", month)):
            times, found = [], 0
            for _ in range(runs):
                began = time.perf_counter()
                found = len(store.search.find(query, matcher, languages, since, None, 50))
                times.append(time.perf_counter() - began)
            every[window] += times
            lines.append(
                f"| `{query}` | {window} | {found} | {statistics.median(times) * 1000:.0f} "
                f"| {percentile(times, 0.95) * 1000:.0f} |"
            )
    store.close()
    lines.append("")
    for window, times in (*every.items(), ("both", every["whole"] + every["30 days"])):
        p95 = percentile(times, 0.95)
        lines.append(
            f"- {window}: p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
            f"p95 under {SEARCH_TARGET * 1000:.0f} ms: {'met' if p95 < SEARCH_TARGET else 'NOT met'}"
        )
    return lines


def search_timings(config: Path, runs: int, since: str) -> list[str]:
    base, _ = timed_runs(monitor_command(config, "db", "current"), runs)
    floor = statistics.median(base)
    lines = [
        f"Baseline `monitor db current` (start-up, config, one query): p50 {floor * 1000:.0f} ms",
        "",
        "| query | results | p50 ms | p95 ms | p95 minus baseline p50, ms |",
        "|---|---:|---:|---:|---:|",
    ]
    every = []
    for query in QUERIES:
        command = monitor_command(config, "search", query, "--json", "--since", since)
        times, output = timed_runs(command, runs)
        every += times
        results = sum(1 for line in output.splitlines() if line.strip())
        lines.append(
            f"| `{query}` | {results} | {statistics.median(times) * 1000:.0f} "
            f"| {percentile(times, 0.95) * 1000:.0f} | {(percentile(times, 0.95) - floor) * 1000:.0f} |"
        )
    p95 = percentile(every, 0.95)
    lines += [
        "",
        f"All queries: p50 {statistics.median(every) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
        f"({(p95 - floor) * 1000:.0f} ms above the baseline).",
        f"- search p95 under {SEARCH_TARGET * 1000:.0f} ms, start-up included: "
        f"{'met' if p95 < SEARCH_TARGET else 'NOT met'}; start-up left out: "
        f"{'met' if p95 - floor < SEARCH_TARGET else 'NOT met'}",
    ]
    return lines


def backfill_timings(url: str, config: Path, runs: int, since: str) -> list[str]:
    """Each watchlist of BACKFILLS: ``runs`` runs of `monitor backfill`, its hits deleted before
    each, then one in process whose time is split between reading candidates, the matcher
    and writing hits."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM items")).scalar_one()
    lines = [
        "| watchlist | runs, s | p50 s | candidates | hits | hit share | read s | matcher s | writes s "
        f"| under {BACKFILL_TARGET:.0f} s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, label, _ in BACKFILLS:

        def forget(name: str = name) -> None:
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM hits WHERE watchlist = :name"), {"name": name})

        command = monitor_command(config, "backfill", "--watchlist", name, "--since", since)
        times, output = timed_runs(command, runs, before=forget)
        log(output.strip())
        forget()
        split = backfill_split(config, name, since)
        forget()
        worst = max(times)
        lines.append(
            f"| {label} | {', '.join(f'{t:.1f}' for t in times)} | {statistics.median(times):.1f} "
            f"| {split['candidates']:,} | {split['hits']:,} | {split['hits'] / total:.2%} "
            f"| {split['read']:.1f} | {split['matcher']:.1f} | {split['writes']:.1f} "
            f"| {'met' if worst < BACKFILL_TARGET else 'NOT met'} |"
        )
    engine.dispose()
    return [*lines, "", "(read, matcher, writes: one backfill in this process, start-up left out)"]


def backfill_split(config_path: Path, name: str, since: str) -> dict[str, Any]:
    """One ``monitor.history.backfill`` in this process, the seconds spent reading candidates
    (the generator's batches), in ``matcher.match`` and in ``store.hits.backfill`` summed."""
    from monitor.config import parse_duration
    from monitor.config.load import load
    from monitor.history import backfill
    from monitor.match.cache import compile_matcher
    from monitor.models import utcnow
    from monitor.store import Store

    config = load(config_path)
    spent = dict.fromkeys(("read", "matcher", "writes"), 0.0)

    def timed(part: str, call: Any) -> Any:
        def timing(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - began

        return timing

    def read(*args: Any, **kwargs: Any) -> Iterator[Any]:
        batches = reading(*args, **kwargs)
        while (batch := timed("read", lambda: next(batches, None))()) is not None:
            yield batch

    store = Store(config.storage.url)
    matcher = compile_matcher({w.name: w.queries for w in config.watchlists}, None)
    reading = store.search.candidates
    store.search.candidates = read  # type: ignore[method-assign]
    matcher.match = timed("matcher", matcher.match)  # type: ignore[method-assign]
    store.hits.backfill = timed("writes", store.hits.backfill)  # type: ignore[method-assign]
    now = utcnow()
    watchlist = config.watchlist(name)
    found = backfill(store, matcher, config, watchlist, now - parse_duration(since), now, deliver=False)
    store.close()
    return {**spent, "candidates": found.items, "hits": found.hits}


# ---------------------------------------------------------------------------------------- main


def header(command: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"Scale benchmark `{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit "
        f"{done.stdout.strip() or 'unknown'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load} at the start."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    common.add_argument("--pg", default=PG, help="PostgreSQL server URL (its databases are not touched)")
    common.add_argument(
        "--name",
        default="monitor_scale",
        help="the PostgreSQL database that build makes; the other commands add _COMMAND to it",
    )
    sized = argparse.ArgumentParser(add_help=False)
    sized.add_argument("--items", type=int, default=1_000_000)
    sized.add_argument("--feeds", type=int, default=500)
    sized.add_argument("--hit-share", type=float, default=0.005)
    sized.add_argument("--corpus", type=Path, default=CORPUS)
    building = commands.add_parser("build", parents=[common, sized], help="a database of --items items")
    building.add_argument("--keep", type=Path, help="keep the database (SQLite: in this folder)")
    counting = commands.add_parser("statements", parents=[common], help="statements and round trips per poll")
    counting.add_argument("--capture", type=Path, default=CORPUS / "feeds" / "meduza-ru-2020.xml")
    counting.add_argument("--fleet", type=int, default=200, help="copies of it polled together")
    counting.add_argument("--url", help="poll into this built database (build --keep) instead")
    ingesting = commands.add_parser("ingest", parents=[common], help="items/s with N `monitor run` workers")
    ingesting.add_argument("--workers", default="1,2,4")
    ingesting.add_argument("--feeds", type=int, default=1_000)
    for name in ("search", "backfill"):
        timing = commands.add_parser(name, parents=[common, sized], help=f"time `monitor {name}`")
        timing.add_argument("--url", help="a built database (build --keep); else one is built")
        timing.add_argument("--runs", type=int, default=20 if name == "search" else 3)
        timing.add_argument("--since", default="800d", help="passed on: the whole history by default")
    args = parser.parse_args(argv)
    from sqlalchemy import make_url

    print(header(args.command))
    started = time.perf_counter()

    if args.command == "build":
        texts = Texts.load(args.corpus)
        figures = []
        for backend in backends(args.backend):
            with database(backend, args.pg, args.name, args.keep) as target:
                figures.append(build(target, texts, args.items, args.feeds, args.hit_share))
                log(str(figures[-1]))
                if args.keep:
                    print(f"kept: {target.url}")
        print("\n".join(build_report(figures)))
    elif args.command == "statements":
        rows = []
        if args.url is not None:
            rows += statements(
                Target(make_url(args.url).get_backend_name(), args.url), args.capture, args.fleet
            )
        for backend in backends(args.backend) if args.url is None else []:
            with database(backend, args.pg, f"{args.name}_statements") as target:
                rows += statements(target, args.capture, args.fleet)
        print("\n".join(statements_report(rows)))
    elif args.command == "ingest":
        bases = load_corpus(CORPUS)
        context = multiprocessing.get_context("spawn")
        port, ready = context.Value("i", 0), context.Event()
        server = context.Process(target=serve, args=(bases, args.feeds, port, ready), daemon=True)
        server.start()
        ready.wait(120)
        urls = [feed_url(port.value, n) for n in range(args.feeds)]
        rows = []
        try:
            with tempfile.TemporaryDirectory(prefix="scale-ingest-") as folder:
                for workers in (int(n) for n in args.workers.split(",")):
                    with database("postgresql", args.pg, f"{args.name}_ingest") as target:
                        rows += ingest(target, urls, workers, Path(folder))
                        log(str(rows[-2:]))
        finally:
            server.terminate()
        print(
            "`monitor run` workers on one PostgreSQL database, claiming feeds by lease; "
            "the feed server is a process on the same 2 cores.\n"
        )
        print("\n".join(ingest_report(rows)))
    else:
        if not has_command(args.command):
            print(f"skipped: this checkout's monitor has no `monitor {args.command}` command")
            return
        for backend in backends(args.backend) if args.url is None else ["given"]:
            with tempfile.TemporaryDirectory(prefix="scale-history-") as folder:
                if args.url is not None:
                    _history(args, args.url, Path(folder))
                    continue
                with database(backend, args.pg, f"{args.name}_{args.command}") as target:
                    figures = build(target, Texts.load(args.corpus), args.items, args.feeds, args.hit_share)
                    print("\n".join(build_report([figures])))
                    _history(args, target.url, Path(folder))
    print(f"\nThe run took {(time.perf_counter() - started) / 60:.1f} min.")


def _history(args: argparse.Namespace, url: str, folder: Path) -> None:
    from sqlalchemy import make_url

    print(f"\n{make_url(url).get_backend_name()}:")
    config = history_config(url, folder)
    if args.command == "search":
        print("\n".join(in_process_search(url, args.runs)))
        print("\nEnd to end, `monitor search` as a process:")
        print("\n".join(search_timings(config, args.runs, args.since)))
    else:
        print("\n".join(backfill_timings(url, config, args.runs, args.since)))


if __name__ == "__main__":
    main()
