"""Write the config file: add a feed (or an OPML file's) or remove one, keeping everything else
as the user wrote it: new tables are appended as text, and a removal goes through tomlkit,
which reads and writes TOML round trip, comments and layout kept."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from monitor.config.load import EXAMPLE_PATH, PACKAGED_EXAMPLE, read, validate
from monitor.config.models import Config, FeedConfig
from monitor.config.types import FEED_NAME_LIMIT, HTTP_URL, NAME
from monitor.errors import ConfigError


def append_feed(
    config: Config, url: str, name: str, language: str | None = None, tags: Sequence[str] = ()
) -> str:
    """Add a ``[[feeds]]`` table at the end of the config file, keeping everything else as
    written; the new file is validated before it replaces the old one. Returns the table.

    The new table holds only values the config checks on its own (``language`` is already the
    matcher's code), and the rest of the file was checked when ``config`` was loaded."""
    path = _editable(config, "add feeds")
    for index, feed in enumerate(config.feeds):
        if feed.url == url:
            raise ConfigError(f"{path}: feeds[{index}] ({feed.name!r}) already polls {url}")
        if feed.name == name:
            raise ConfigError(f"{path}: feeds[{index}] is already named {name!r}; choose another with --name")
    lines = ["[[feeds]]", f"url = {_toml(url)}", f"name = {_toml(name)}"]
    if language:
        lines.append(f"language = {_toml(language)}")
    if tags:
        lines.append(f"tags = [{', '.join(map(_toml, tags))}]")
    table = "\n".join(lines) + "\n"
    _write(path, read(path).rstrip("\n") + "\n\n" + table)
    return table


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import wrote: the new tables, and each feed left out with why."""

    tables: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def import_feeds(
    config: Config, feeds: Sequence[tuple[str, str, Sequence[str], str | None]], *, dry_run: bool = False
) -> Imported:
    """Append a ``[[feeds]]`` table for each (url, title, folders, language) not polled yet, at
    the end of the config file, keeping everything else as written: a feed listed twice is one,
    in every folder it was in; titles become unique names, folders tags."""
    path = _editable(config, "import feeds")
    polled = {feed.url: feed.name for feed in config.feeds}
    names = {feed.name for feed in config.feeds}
    merged: dict[str, tuple[str, list[str], str | None]] = {}
    skipped: list[tuple[str, str]] = []
    for url, title, folders, language in feeds:
        if url in polled:
            skipped.append((url, f"polled already, as {polled[url]!r}"))
        elif not HTTP_URL.fullmatch(url):
            skipped.append((url, "not an http(s) address"))
        elif url in merged:
            merged[url][1].extend(tag for tag in map(_as_name, folders) if tag and tag not in merged[url][1])
        else:
            merged[url] = (title, [tag for tag in dict.fromkeys(map(_as_name, folders)) if tag], language)
    tables = []
    for url, (title, tags, language) in merged.items():
        name = feed_name(title, url, names)
        names.add(name)
        lines = ["[[feeds]]", f"url = {_toml(url)}", f"name = {_toml(name)}"]
        if language:
            lines.append(f"language = {_toml(language)}")
        if tags:
            lines.append(f"tags = [{', '.join(map(_toml, tags))}]")
        tables.append("\n".join(lines) + "\n")
    if tables and not dry_run:
        _write(path, read(path).rstrip("\n") + "\n\n" + "\n".join(tables))
    return Imported(tuple(tables), tuple(skipped))


def feed_name(title: str, url: str, taken: set[str]) -> str:
    """A feed's name from its title as the outlet writes it (or its host), not in ``taken``: the
    same rule for `feeds add` and `feeds import`."""
    return _unique(_printable(title) or urlsplit(url).hostname or url, taken)


def _printable(title: str) -> str:
    """A title as a feed's name: controls dropped, spaces collapsed, at most FEED_NAME_LIMIT."""
    shown = "".join(c for c in title if not unicodedata.category(c).startswith("C") or c.isspace())
    shown = re.sub(r"\s+", " ", shown).strip().removeprefix("tag:")
    return shown[:FEED_NAME_LIMIT].strip()


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``… when a feed has it already."""
    number, unique = 1, name
    while unique in taken:
        number += 1
        suffix = f" ({number})"
        unique = name[: FEED_NAME_LIMIT - len(suffix)].rstrip() + suffix
    return unique


def _as_name(text: str) -> str:
    """``text`` as a tag's name (letters, digits, space, . - _), or "" when nothing is left."""
    name = re.sub(r"\s+", " ", re.sub(r"[^\w .-]", " ", text)).strip(" .-")
    return name if NAME.fullmatch(name) else ""


def remove_feed(config: Config, which: str) -> FeedConfig:
    """Remove the feed named ``which``, or polling the URL ``which``, from the config file,
    keeping everything else as written; returns it. What it stored stays in the database (the
    feed is disabled at the next poll) until retention prunes it."""
    path = _editable(config, "remove feeds")
    found = [index for index, feed in enumerate(config.feeds) if which in (feed.name, feed.url)]
    if not found:
        names = ", ".join(repr(feed.name) for feed in config.feeds)
        raise ConfigError(f"{path}: no feed named or at {which!r}; the feeds are: {names}")
    if len(config.feeds) == 1:
        raise ConfigError(f"{path}: {which!r} is the only feed, and a config needs one; add another first")
    # imported here: `import monitor.config` loads what reading a config needs, no more
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    index = found[0]
    try:
        document = tomlkit.parse(read(path))
        del document["feeds"][index]
    except (TOMLKitError, KeyError, IndexError, TypeError) as exc:
        raise ConfigError(f"{path}: cannot edit the feeds in it ({exc}); remove the table by hand") from exc
    feed = config.feeds[index]
    try:
        _write(path, tomlkit.dumps(document))
    except ConfigError as exc:  # most likely a watchlist names it
        raise ConfigError(
            f"{path}: without the feed {feed.name!r} the config would not load: {exc}; "
            f"remove {feed.name!r} from the watchlists that name it first"
        ) from None
    return feed


def _editable(config: Config, what: str) -> Path:
    if config.path.resolve() in (EXAMPLE_PATH.resolve(), PACKAGED_EXAMPLE):
        raise ConfigError(
            f"{config.path} is the example config; write your own with `monitor init` and {what} there"
        )
    return config.path


def _write(path: Path, text: str) -> None:
    """``text`` in place of the file at ``path`` once it validates, atomically: the daemon never
    reads half a file, and the file keeps its permissions."""
    validate(path, text, checks=None)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(path.stat().st_mode)
    os.replace(partial, path)


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)
