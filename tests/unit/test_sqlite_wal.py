"""Switching a new SQLite file to WAL retries while another process holds the file
(the fresh-database race in tests/integration/test_store_processes.py)."""

from __future__ import annotations

import sqlite3

import pytest

from monitor.store.engine import _switch_to_wal


class Cursor:
    """Answers the pragma with the given errors in turn, then succeeds."""

    def __init__(self, *errors: str) -> None:
        self.errors = list(errors)
        self.calls = 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.errors:
            raise sqlite3.OperationalError(self.errors.pop(0))


def test_locked_is_retried_until_the_switch_succeeds() -> None:
    cursor = Cursor("database is locked", "database is locked")
    _switch_to_wal(cursor)
    assert cursor.calls == 3


def test_another_error_is_raised_at_once() -> None:
    cursor = Cursor("disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _switch_to_wal(cursor)
    assert cursor.calls == 1


def test_a_lock_that_outlasts_the_patience_is_raised() -> None:
    cursor = Cursor(*["database is locked"] * 1000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(cursor, patience=0.1)
    assert 1 < cursor.calls < 1000


def test_a_real_file_ends_in_wal(tmp_path) -> None:
    connection = sqlite3.connect(tmp_path / "new.db")
    _switch_to_wal(connection.cursor())
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
