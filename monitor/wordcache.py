"""The matcher's lexicon kept on disk, so that a restart compiles without loading dictionaries.

Loading simplemma's and pymorphy3's dictionaries takes about a second before the first query is
compiled, in the daemon at start and in every ``monitor match`` a user tries on a watchlist.
What they yield for a word (its forms; and its frequency, from the shipped word lists) depends
only on the word and on the libraries, so it is kept in one msgpack file per fingerprint of
those: the libraries' versions, the word lists' hash, Python's Unicode tables, monitor's
version and the source of the modules that make forms and keys. A file of other versions is
not looked at (and is removed at the next save); a damaged one is ignored and replaced; a
directory that cannot be written costs only the speed-up. Both are logged.

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
import unicodedata
from collections.abc import Mapping, Sequence
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
KEEP = 100_000  # words kept in the file: the most recently used
_LIBRARIES = ("simplemma", "pymorphy3", "pymorphy3-dicts-ru", "PyStemmer")
_MODULES = (forms, frequency, text)  # the code whose answers are kept


def cache_directory() -> Path | None:
    if (chosen := os.environ.get(CACHE_ENV)) is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "monitor")


def compile_matcher(watchlists: Mapping[str, Sequence[str]], folder: Path | None) -> Matcher:
    """``Matcher(watchlists)``, with the lexicon kept in ``folder`` (None: none kept)."""
    if folder is None:
        return Matcher(watchlists)
    lexicon = load(folder)
    matcher = Matcher(watchlists, lexicon)
    if lexicon.learned:
        save(folder, lexicon)
    return matcher


@cache  # read once per process: three source files, three word lists, four packages' metadata
def fingerprint() -> str:
    digest = hashlib.sha256(f"unicode {unicodedata.unidata_version}\n".encode())  # case, NFKC
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    for path in frequency.LIST_FILES:  # 0.6 MB: hashed in about a millisecond
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
        )
    except (ValueError, TypeError, KeyError, AttributeError, msgpack.UnpackException) as error:
        event(log, "lexicon.unreadable", logging.WARNING, path=str(path), error=f"damaged: {error!r}")
        return Lexicon()
    event(log, "lexicon.loaded", logging.DEBUG, path=str(path), words=len(lexicon.forms))
    return lexicon


def save(folder: Path, lexicon: Lexicon) -> None:
    """Write the lexicon's most recently used words (atomically: a reader sees the old file or
    the new one), and remove files of other versions."""
    path = _path(folder)
    kept = list(lexicon.forms.items())[-KEEP:]
    weighed = list(lexicon.frequencies.items())[-KEEP:]
    packed = msgpack.packb(
        {
            "forms": {word: (found.exact, found.prefixes) for word, found in kept},
            "frequencies": [(word, prefix, share) for (word, prefix), share in weighed],
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
        for other in folder.glob("lexicon-*.msgpack"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as error:
        event(log, "lexicon.unwritable", logging.WARNING, path=str(path), error=str(error))
        return
    event(log, "lexicon.saved", logging.DEBUG, path=str(path), words=len(kept))
