"""The database: its engine, transactions that translate SQLAlchemy's errors, and the few
helpers every area of the store shares."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from monitor.errors import DatabaseAway, StorageError
from monitor.log import hide_passwords
from monitor.store.holders import Holder, this_process

T = TypeVar("T")
BUSY_TIMEOUT = 10.0  # seconds a SQLite statement waits for another connection's lock


def _switch_to_wal(cursor: Any, patience: float = BUSY_TIMEOUT) -> None:
    """Turning a new file's journal to WAL needs the file alone, and SQLite answers "locked" at
    once rather than through the busy timeout while another process opens it too: retry."""
    deadline = time.monotonic() + patience
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers (the CLI) run beside the daemon; a busy timeout absorbs short locks."""
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_driver_leaves_transactions_to_us(connection: Any, _record: Any) -> None:
    """pysqlite begins a transaction only before DML, so DDL would commit statement by
    statement; with no isolation level it begins none, and the engine's "begin" does."""
    connection.isolation_level = None


def _begin_exclusive(connection: Connection) -> None:
    """One migrating process at a time; readers go on (WAL)."""
    connection.exec_driver_sql("BEGIN EXCLUSIVE")


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database; None for another backend, or a database in memory."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def open_engine(url: str, migrating: bool = False, name: str = "monitor") -> Engine:
    """The store's engine; ``migrating``: a SQLite engine of one connection whose transactions
    are exclusive and take in DDL (SQLAlchemy's recipe for transactional DDL on pysqlite).
    ``name`` is the PostgreSQL connections' application_name (pg_stat_activity shows it),
    unless the URL sets one."""
    try:
        parsed = make_url(url)
        if (file := sqlite_file(parsed)) is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        # A server's connection can drop between polls; a SQLite file's cannot.
        options: dict[str, Any] = {"pool_pre_ping": parsed.get_backend_name() != "sqlite"}
        if migrating:
            options["poolclass"] = NullPool
        if parsed.get_backend_name() == "postgresql" and "application_name" not in parsed.query:
            options["connect_args"] = {"application_name": name[:63]}
        engine = create_engine(parsed, **options)
    except (ArgumentError, ImportError, OSError, ValueError) as exc:  # ValueError: a port that is no number
        if isinstance(exc, ImportError) and parsed.get_driver_name() == "psycopg":
            # psycopg is the extra monitor[postgres]: SQLite users need not carry its libpq.
            why = "is not installed" if exc.name == "psycopg" else f"cannot be loaded ({exc})"
            raise StorageError(
                f"the storage URL is PostgreSQL, but psycopg {why}: pip install 'monitor[postgres]'"
            ) from exc
        raise StorageError(f"cannot use the database {hide_passwords(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if migrating:
            event.listen(engine, "connect", _sqlite_driver_leaves_transactions_to_us)
            event.listen(engine, "begin", _begin_exclusive)
    return engine


def chunks(values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices small enough for an IN (...) on every backend."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert(connection: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING on both backends."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def away(error: SQLAlchemyError) -> bool:
    """Whether ``error`` says the database is away rather than refusing what was asked: the
    driver's OperationalError (no connection, a connection cut, the server shutting down, a
    lock or deadlock timed out) or InterfaceError (a connection already closed), or any error
    on which SQLAlchemy found the connection dead."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    """One engine, and the process that this store's claims name as their holder."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.owner: Holder = this_process()
        self.engine = open_engine(url, name=f"monitor {self.owner}")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tx(self, engine: Engine | None = None) -> Iterator[Connection]:
        """A transaction; any SQLAlchemy error leaves as StorageError, without the password: as
        DatabaseAway when the connection failed or was cut (see ``away``)."""
        try:
            with (engine or self.engine).begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            safe_url = make_url(self.url).render_as_string(hide_password=True)
            error = DatabaseAway if away(exc) else StorageError
            raise error(f"database error on {safe_url}: {exc.__class__.__name__}: {exc}") from exc
