"""The matcher's lexicon kept on disk, so that a restart compiles without loading dictionaries.

Loading simplemma's and pymorphy3's dictionaries takes about a second before the first query is
compiled, in the daemon at start and in every ``monitor match`` a user tries on a watchlist.
What they yield for a word (its forms; and its frequency, from the shipped word lists) depends
only on the word and on the libraries, so it is kept in one msgpack file per fingerprint of
those: the libraries' versions, the word lists' hash, Python's Unicode tables, monitor's
version and the source of the modules that make forms and keys. Only the words of compiled
queries are learned (of the config's watchlists: never the text being matched).

The file must stay small, since every start reads all of it (its cost per word is in
docs/benchmarks.md): it keeps the words the last compile used, and of the others only those used in
the last ``MAX_AGE_DAYS``, at most ``KEEP`` of them, the most recently used. A file of other
versions is not looked at, and is removed only when unused for ``MAX_AGE_DAYS`` (installs of
several versions may share the folder); a damaged one is ignored and replaced; a directory
that cannot be written costs only the speed-up. Both are logged.

The directory: ``$MONITOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/monitor``, else
``~/.cache/monitor``; ``MONITOR_CACHE_DIR=""`` keeps nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import os
import tempfile
import time
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

import msgpack

from monitor import __version__
from monitor.log import event
from monitor.match import Lexicon, Matcher, forms, frequency, text
from monitor.match.forms import Forms

log = logging.getLogger("monitor")

CACHE_ENV = "MONITOR_CACHE_DIR"
# Words kept beside the compile's own (of queries since removed, of another config sharing the
# folder): room for a few thousand queries' words, cheap to read at each start, where the
# 100,000 one odd `monitor match` once left made every start slow and large.
KEEP = 5_000
MAX_AGE_DAYS = 30  # a word, or another version's file, unused this long is dropped
DAY = 86_400  # seconds
FORMAT = 2  # of the file: 2 added each word's day
_LIBRARIES = ("simplemma", "pymorphy3", "pymorphy3-dicts-ru", "PyStemmer")
_MODULES = (forms, frequency, text)  # the code whose answers are kept


def cache_directory() -> Path | None:
    if (chosen := os.environ.get(CACHE_ENV)) is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "monitor")


def compile_matcher(
    watchlists: Mapping[str, Sequence[str]], folder: Path | None, now: float | None = None
) -> Matcher:
    """``Matcher(watchlists)``, with the lexicon kept in ``folder`` (None: none kept); ``now``
    (seconds since 1970, default the clock's) dates the words it uses."""
    if folder is None:
        return Matcher(watchlists)
    now = time.time() if now is None else now
    lexicon = load(folder)
    matcher = Matcher(watchlists, lexicon)
    if kept(lexicon.days, lexicon.used, int(now // DAY)) != lexicon.days:
        save(folder, lexicon, now)  # a word learned, used on a new day, or dropped: once a day at most
    return matcher


def kept(days: Mapping[str, int], used: Collection[str], today: int) -> dict[str, int]:
    """The words to keep, oldest first, with the day each was last used: ``used`` (today), and
    up to ``KEEP`` others used in the last ``MAX_AGE_DAYS``, the most recent."""
    others = [(word, day) for word, day in days.items() if word not in used and today - day < MAX_AGE_DAYS]
    others.sort(key=lambda entry: entry[1])  # stable: the file's order within a day
    return dict(others[max(0, len(others) - KEEP) :]) | dict.fromkeys(used, today)


@cache  # read once per process: three source files, three word lists, four packages' metadata
def fingerprint() -> str:
    digest = hashlib.sha256(f"unicode {unicodedata.unidata_version}\n".encode())  # case, NFKC
    digest.update(f"file {FORMAT}\n".encode())
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    for path in frequency.LIST_FILES:  # small: hashing them costs next to nothing
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(f"monitor {__version__}\n".encode())
    for module in _MODULES:  # edits between releases too; an install without sources has the version
        with contextlib.suppress(OSError, TypeError):
            digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:16]


def _path(folder: Path) -> Path:
    return folder / f"lexicon-{fingerprint()}.msgpack"


def load(folder: Path) -> Lexicon:
    """The lexicon kept in ``folder``, or an empty one when there is none or it is unreadable."""
    path = _path(folder)
    try:
        packed = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # none kept yet; a save will say what is wrong
        return Lexicon()
    except OSError as error:
        event(log, "lexicon.unreadable", logging.WARNING, path=str(path), error=str(error))
        return Lexicon()
    try:
        kept = msgpack.unpackb(packed, use_list=False)
        lexicon = Lexicon(
            {word: Forms(exact, prefixes) for word, (exact, prefixes) in kept["forms"].items()},
            {(word, prefix): share for word, prefix, share in kept["frequencies"]},
            {word: int(day) for word, day in kept["days"].items()},
        )
    except (ValueError, TypeError, KeyError, AttributeError, msgpack.UnpackException) as error:
        event(log, "lexicon.unreadable", logging.WARNING, path=str(path), error=f"damaged: {error!r}")
        return Lexicon()
    event(log, "lexicon.loaded", logging.DEBUG, path=str(path), words=len(lexicon.days))
    return lexicon


def save(folder: Path, lexicon: Lexicon, now: float) -> None:
    """Write the words to keep (see ``kept``), with their days (atomically: a reader sees the old
    file or the new one), and remove files of other versions unused for ``MAX_AGE_DAYS``."""
    path = _path(folder)
    days = kept(lexicon.days, lexicon.used, int(now // DAY))
    packed = msgpack.packb(
        {
            "forms": {
                word: (found.exact, found.prefixes) for word, found in lexicon.forms.items() if word in days
            },
            "frequencies": [
                (word, prefix, share) for (word, prefix), share in lexicon.frequencies.items() if word in days
            ],
            "days": days,
        }
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".lexicon-", delete=False) as file:
            try:
                file.write(packed)
                file.close()
                os.replace(file.name, path)
            finally:
                Path(file.name).unlink(missing_ok=True)  # left only when the write failed
        for other in [*folder.glob("lexicon-*.msgpack"), *folder.glob(".lexicon-*")]:
            with contextlib.suppress(FileNotFoundError):  # another process removed it first
                if other != path and other.stat().st_mtime < now - MAX_AGE_DAYS * DAY:
                    other.unlink()
    except OSError as error:
        event(log, "lexicon.unwritable", logging.WARNING, path=str(path), error=str(error))
        return
    event(log, "lexicon.saved", logging.DEBUG, path=str(path), words=len(days))
