"""The schema's revisions, and the upgrade every process may need, taken under a lock."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StorageError
from monitor.store.engine import Database, open_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6D6F6E69746F72  # "monitor": the PostgreSQL advisory lock key migrations hold


def newest_revision() -> str:
    """The newest schema revision this monitor has (its last migration)."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()  # type: ignore[return-value]


def revision(connection: Connection) -> str | None:
    """The schema revision of the database ``connection`` reaches; None before any."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_revisions(url: str) -> tuple[str | None, str] | None:
    """The database's schema revision and the newest this monitor has, read without changing
    anything; None for a SQLite file not made yet (opening it would make it)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
            return None
        engine = open_engine(url)
        try:
            with engine.connect() as connection:
                current = revision(connection)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError) as exc:
        raise StorageError(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    return current, newest_revision()


def migrate(database: Database) -> None:
    """Create or upgrade the schema to the newest Alembic revision, in one transaction under
    a lock, so processes starting together migrate once and a killed one leaves the
    revision it started from: a PostgreSQL advisory lock, or SQLite's exclusive transaction.
    A database already at the newest revision is only read."""
    with database.tx() as connection:
        if revision(connection) == newest_revision():
            return
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite_file = database.engine.dialect.name == "sqlite"
    engine = open_engine(database.url, migrating=True) if sqlite_file else database.engine
    try:
        with database.tx(engine) as connection:
            if not sqlite_file:
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")  # from the revision read under the lock
    finally:
        if sqlite_file:
            engine.dispose()
