"""`[storage] keep_items`: old items that no watchlist hit are pruned, by `monitor db prune` and
once a day by one worker of the daemon; items with hits, and their hits, are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy import create_engine, func, select, update

from monitor.models import utcnow
from monitor.store import Store
from monitor.store.schema import hits, items, sightings
from tests.integration.test_store_processes import engine_url
from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.processes import start_daemon, wait_until

ELEVEN = [(f"n1-{number}", f"Vesti dana {number}", "Vreme i saobraćaj.") for number in range(10)]


def polled_long_ago(n1_config, database_url, entries=SERBIAN_NEWS, keep="30d"):
    """N1 polled with ``keep_items = keep``, its items then made 400 days old: with
    SERBIAN_NEWS, three of them, one with a hit."""
    config = n1_config(database_url, entries)
    config.write_text(config.read_text().replace("[storage]\n", f'[storage]\nkeep_items = "{keep}"\n'))
    code, polled, _ = monitor(config, "poll", "--all")
    assert code == 0, polled
    age(database_url, timedelta(days=400))
    return config


def age(database_url, by):
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        connection.execute(update(items).values(first_seen_at=utcnow() - by))
    engine.dispose()


def counts(database_url):
    """(items, sightings, hits) stored."""
    engine = create_engine(engine_url(database_url))
    with engine.connect() as connection:
        found = tuple(
            connection.execute(select(func.count()).select_from(table)).scalar()
            for table in (items, sightings, hits)
        )
    engine.dispose()
    return found


def test_db_prune_removes_old_items_without_hits_with_their_sightings_and_keeps_hits(database_url, n1_config):
    config = polled_long_ago(n1_config, database_url)

    dry = monitor(config, "db", "prune", "--dry-run")
    after_dry = counts(database_url)
    pruned = monitor(config, "db", "prune")
    after = counts(database_url)
    again = monitor(config, "db", "prune")
    _, kept, _ = monitor(config, "hits", "--json", "--since", "1d")

    assert dry[0] == 0 and dry[1].startswith("would remove 2 items first seen before ")
    assert after_dry == (3, 3, 1)
    assert pruned[0] == 0 and pruned[1].startswith("removed 2 items first seen before ")
    assert after == (1, 1, 1)
    assert again[1].startswith("removed 0 items")
    assert '"title": "BIA: Ruski aktivista proglašen bezbednosnim rizikom"' in kept


def test_prune_deletes_in_batches_and_spares_items_seen_more_recently(database_url, n1_config):
    config = polled_long_ago(n1_config, database_url, ELEVEN)
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:  # the last three seen only a week ago
        newest = select(items.c.id).order_by(items.c.id.desc()).limit(3).scalar_subquery()
        connection.execute(
            update(items).where(items.c.id.in_(newest)).values(first_seen_at=utcnow() - timedelta(days=7))
        )
    engine.dispose()
    store = Store(engine_url(database_url))

    try:
        removed = store.items.prune(utcnow() - timedelta(days=30), batch=3)
    finally:
        store.close()

    assert removed == 7 and counts(database_url) == (3, 3, 0)
    assert monitor(config, "db", "prune")[1].startswith("removed 0 items")


def test_db_prune_without_keep_items_says_how_to_set_it(tmp_path, n1_config):
    config = n1_config(f"sqlite:///{tmp_path / 'm.db'}")

    code, _, stderr = monitor(config, "db", "prune")

    assert (
        code == 2
        and 'keep_items is not set, so every item is kept; set it (say, keep_items = "365d")'
        in " ".join(stderr.split())
    )
    assert "Traceback" not in stderr


def test_the_daemon_prunes_once_a_day_whoever_starts(database_url, n1_config, feed_server):
    config = polled_long_ago(n1_config, database_url)

    first = start_daemon(config)
    try:
        wait_until(lambda: counts(database_url)[0] == 1, 60, "the daemon pruned")
        first.send_signal(signal.SIGTERM)
        _, log = first.communicate(timeout=30)
    finally:
        first.kill()
    later_news = [*SERBIAN_NEWS, ("n1-1004", "Vreme: sneg u Beogradu", "")]
    feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", later_news))
    monitor(config, "poll", "--all")  # a new item, then aged as the others
    age(database_url, timedelta(days=400))
    waiting = counts(database_url)
    second = subprocess.Popen(  # -v: it logs that the day's prune was taken
        [sys.executable, "-m", "monitor", "-v", "-c", str(config), "run"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    later: list[str] = []
    reader = threading.Thread(target=lambda: later.extend(second.stderr), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("event=job.taken job=prune" in line for line in later), 60, "prune looked at")
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    finally:
        second.kill()
    reader.join(timeout=30)

    assert "event=prune.done removed=2" in log, log
    assert waiting[0] > 1 and counts(database_url) == waiting
    assert not any("prune.done" in line for line in later), later
