"""One daemon per SQLite file. SQLite has one writer at a time and its claims name processes of
one host, so a second daemon on the same file would only queue behind the first for its write
lock; several workers are for PostgreSQL. The lock is the kernel's (flock) on a file beside the
database: it goes with the process, however the process ends."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import StorageError
from monitor.store.engine import sqlite_file


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite database file; None for another backend, or a database in memory."""
    try:
        file = sqlite_file(make_url(url))
    except ArgumentError:
        return None  # opening the store says what is wrong with the URL
    return None if file is None else file.with_name(f"{file.name}.daemon-lock")


@contextmanager
def sole_daemon(url: str) -> Iterator[None]:
    """Held while this process is the daemon of the database at ``url``; a second daemon on the
    same SQLite file is refused with a StorageError naming the first."""
    path = lock_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StorageError(
                f"another `monitor run` ({holder}) is the daemon of {path.with_suffix('')}: SQLite "
                "takes one daemon per database file; stop that one first, or use PostgreSQL "
                "for several workers"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield
