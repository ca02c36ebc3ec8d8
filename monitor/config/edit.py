"""Write the config file: add a feed or remove one, keeping everything else as the user wrote
it (its comments and layout: tomlkit reads and writes TOML round trip)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from monitor.config.load import EXAMPLE_PATH, PACKAGED_EXAMPLE, read, validate
from monitor.config.models import Config, FeedConfig
from monitor.config.types import NAME
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


def feed_name(title: str, fallback: str) -> str:
    """A valid feed name from a feed's title (or ``fallback``, its host)."""
    name = re.sub(r"\s+", " ", re.sub(r"[^\w .-]", " ", title)).strip(" .-")[:60].strip()
    return name if name and NAME.fullmatch(name) else fallback


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)
