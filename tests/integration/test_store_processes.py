"""The store shared by processes that start together, die, or write beside each other."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from monitor.models import Item, Match, PollRecord, Saved, Span, Validators
from monitor.polling.decide import PollIntent, changes
from monitor.store import Store
from monitor.store.migrate import MIGRATIONS
from tests.support.processes import go, race, ready

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
MATCH = Match("BIA", ("BIA",), (Span("title", 9, 12, "BIA"),))
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
    return ready(OPENER, engine_url(url), count=count)


def revision(url: str) -> str | None:
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_processes_opening_a_fresh_database_at_once_all_migrate_it_once(database_url):
    started = openers(database_url, 4)
    results = race(started)

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


def news(count: int) -> tuple[list[Item], dict[str, dict[str, list[Match]]]]:
    """``count`` entries of N1's, every tenth a hit."""
    entries = [
        Item("N1", f"n1-{n}", f"Vest {n}: BIA", "Tekst " * 40, f"https://n1info.rs/{n}/", NOW)
        for n in range(count)
    ]
    return entries, {entry.id: {"relocants": [MATCH]} for entry in entries[::10]}


# Commands beside the daemon: a read and a small write every 10 ms, as long as its stdin stays
# open, each with a busy timeout of 3 s (the store's is 10 s; one poll held the lock for 6 s
# before its writes were split); prints each "database is locked" it meets. SQLite's busy
# handler looks for a gap between the saver's transactions only every 100 ms, so one second
# was sometimes missed on a loaded machine.
NEIGHBOUR = """
import sqlite3, sys, threading, time
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
database = sqlite3.connect(sys.argv[1], timeout=3, isolation_level=None)
print("ready", flush=True)
rounds = 0
while not done.is_set():
    try:
        database.execute("SELECT count(*) FROM items").fetchone()
        database.execute("UPDATE feeds SET warning = ? WHERE name = 'Danas'", (str(rounds),))
        rounds += 1
        time.sleep(0.01)
    except sqlite3.OperationalError as exc:
        print(exc, flush=True)
print(f"rounds {rounds}", flush=True)
"""


def test_a_huge_poll_is_saved_without_locking_out_a_command_beside_it(tmp_path: Path):
    database = tmp_path / "monitor.db"
    store = Store(f"sqlite:///{database}")
    store.feeds.sync([("N1", "https://n1info.rs/", True), ("Danas", "https://danas.rs/", True)], NOW)
    entries, matches = news(100_000)
    [neighbour] = ready(NEIGHBOUR, str(database))

    began = time.monotonic()
    saved = store.items.save(
        PollIntent("N1", PollRecord(Validators('"v2"'), NOW), changes(entries, {})), matches, NOW
    )
    took = time.monotonic() - began
    said, _ = neighbour.communicate("", timeout=60)

    assert saved == Saved(100_000, 0, 10_000)
    assert said.startswith("rounds ") and int(said.split()[1]) > 0, f"{said!r} after {took:.1f} s"
    assert store.feeds.state("N1", NOW).validators.etag == '"v2"'
    store.close()


SAVER = """
import sys
from tests.integration.test_store_processes import NOW, news, poll_again
from monitor.store import Store
store = Store(sys.argv[1])
entries, matches = news(int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
poll_again(store, entries, matches)
print("saved", flush=True)
"""


def poll_again(store: Store, entries: list[Item], matches: dict[str, dict[str, list[Match]]]) -> None:
    """A poll of N1 as the poller makes it: what is known is looked up, the rest saved."""
    known = store.items.lookup("N1", entries)
    store.items.save(
        PollIntent("N1", PollRecord(Validators('"v2"'), NOW), changes(entries, known)), matches, NOW
    )


def test_a_process_killed_while_saving_a_huge_poll_loses_and_repeats_nothing(database_url, tmp_path: Path):
    """The entries go in a few hundred at a time and the feed's validators last: a kill in
    between leaves the old validators, so the next poll fetches the feed again and stores
    exactly what is missing."""
    count = 10_000
    entries, matches = news(count)
    for attempt in range(4):
        fresh = engine_url(_emptied(database_url, tmp_path / f"{attempt}.db"))
        Store(fresh).feeds.sync([("N1", "https://n1info.rs/feed/", True)], NOW)
        [saver] = ready(SAVER, fresh, str(count))
        go(saver)
        time.sleep(0.05 + 0.1 * attempt)
        saver.kill()
        saver.wait()
        store = Store(fresh)
        stored = len(store.items.lookup("N1", entries))
        state = store.feeds.state("N1", NOW)

        # the validators only after every entry; a kill between the two leaves all stored
        # and the old validators, which the next poll mends like any other gap
        assert state.validators.etag in ((None, '"v2"') if stored == count else (None,)), (stored, state)
        poll_again(store, entries, matches)
        assert len(store.items.lookup("N1", entries)) == count
        assert len(store.hits.find()) == count // 10
        assert store.feeds.state("N1", NOW).validators.etag == '"v2"'
        store.close()


# A process that claims every due feed and holds a digest, as the daemon and a sender do, then
# is killed: its claims stay behind with their leases running.
CLAIMER = """
import os, signal, sys
from datetime import timedelta
from tests.integration.test_store_processes import NOW
from monitor.models import Message, Recipient
from monitor.store import Store
store = Store(sys.argv[1])
store.feeds.claim_due(str(store.database.owner), NOW, 100, timedelta(minutes=5))
store.messages.record(
    watchlist="relocants", recipients=[Recipient("desk@example.org", "email")],
    message=Message("digest", "<1@monitor>", b"x"),
    hit_ids=[], now=NOW, lease=timedelta(minutes=24),
)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_what_a_killed_process_on_this_host_held_is_taken_back_at_once(database_url):
    url = engine_url(database_url)
    store = Store(url)
    store.feeds.sync([(name, f"https://{name.lower()}.example/", True) for name in ("N1", "Danas")], NOW)
    killed = subprocess.run([sys.executable, "-c", CLAIMER, url], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    [held] = store.messages.waiting("relocants")

    claimed = store.feeds.claim_due(str(store.database.owner), NOW, 100, timedelta(minutes=5))
    taken = store.messages.claim(held.id, NOW, timedelta(minutes=24))

    assert claimed == ["Danas", "N1"]
    assert taken is not None and taken.message.message_id == "<1@monitor>"
    # this process is alive: what it holds now stays held
    assert store.feeds.claim_due("another", NOW, 100, timedelta(minutes=5)) == []
    assert store.messages.claim(held.id, NOW, timedelta(minutes=24)) is None
    store.close()
