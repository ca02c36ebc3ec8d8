"""The store shared by processes that start together, die, or write beside each other."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from monitor.store import MIGRATIONS, Store

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
# A process that opens the store when it reads a line: imports are done by then, so several
# start their migrations within a millisecond of each other, or one is killed inside its own.
OPENER = """
import sys
from monitor.store import Store
print("ready", flush=True)
sys.stdin.readline()
Store(sys.argv[1]).close()
print("opened", flush=True)
"""


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def openers(url: str, count: int) -> list[subprocess.Popen[str]]:
    """``count`` processes ready to open the store at ``url``, waiting for a line to go."""
    started = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, engine_url(url)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for process in started:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return started


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def revision(url: str) -> str | None:
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_processes_opening_a_fresh_database_at_once_all_migrate_it_once(database_url):
    started = openers(database_url, 4)
    for process in started:
        go(process)
    results = [process.communicate(timeout=60) for process in started]

    assert [process.returncode for process in started] == [0, 0, 0, 0], [err for _, err in results]
    assert revision(database_url) == HEAD


def test_a_process_killed_during_the_first_migration_leaves_a_database_the_next_one_migrates(
    database_url, tmp_path: Path
):
    """Kills at moments spread over one whole migration's time, each on a fresh database: a
    SQLite file, or a PostgreSQL schema emptied again."""
    [timed] = openers(database_url, 1)
    began = time.monotonic()
    go(timed)
    timed.communicate(timeout=60)
    took = time.monotonic() - began
    assert timed.returncode == 0 and revision(database_url) == HEAD

    for attempt in range(20):
        fresh = _emptied(database_url, tmp_path / f"{attempt}.db")
        [victim] = openers(fresh, 1)
        go(victim)
        time.sleep(took * attempt / 20)
        victim.kill()
        victim.wait()
        Store(engine_url(fresh)).close()  # the next start
        assert revision(fresh) == HEAD, f"after a kill at {took * attempt / 20:.3f} s"


def _emptied(database_url: str, fresh_file: Path) -> str:
    """A database with nothing in it, at ``database_url``'s place."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{fresh_file}"
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return database_url
