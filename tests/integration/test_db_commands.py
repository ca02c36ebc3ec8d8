"""`monitor db current` and `monitor db upgrade`, on both backends."""

from __future__ import annotations

from monitor.store.migrate import newest_revision
from tests.support.cli import monitor


def test_db_current_says_what_upgrade_does_and_upgrade_is_done_once(database_url, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url=database_url, smtp_port=25)
    newest = newest_revision()

    before = monitor(config, "db", "current")
    first = monitor(config, "db", "upgrade")
    again = monitor(config, "db", "upgrade")
    after = monitor(config, "db", "current")

    assert before[0] == 1 and f"no schema yet; `monitor db upgrade` makes it (revision {newest})" in before[1]
    assert first[0] == 0 and f"schema upgraded from nothing to revision {newest}" in first[1]
    assert again[0] == 0 and f"schema already at revision {newest}, the newest" in again[1]
    assert after[0] == 0 and f"schema at revision {newest}, the newest" in after[1]
    assert all("Traceback" not in out + err for _, out, err in (before, first, again, after))
