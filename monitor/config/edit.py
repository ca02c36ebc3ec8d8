"""Write the config file: add a feed, keeping everything else as the user wrote it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence

from monitor.config.load import EXAMPLE_PATH, PACKAGED_EXAMPLE, read, validate
from monitor.config.models import Config
from monitor.config.types import NAME
from monitor.errors import ConfigError


def append_feed(
    config: Config, url: str, name: str, language: str | None = None, tags: Sequence[str] = ()
) -> str:
    """Add a ``[[feeds]]`` table at the end of the config file, keeping everything else as
    written; the new file is validated before it replaces the old one. Returns the table.

    The new table holds only values the config checks on its own (``language`` is already the
    matcher's code), and the rest of the file was checked when ``config`` was loaded."""
    path = config.path
    if path.resolve() in (EXAMPLE_PATH.resolve(), PACKAGED_EXAMPLE):
        raise ConfigError(
            f"{path} is the example config; write your own with `monitor init` and add feeds there"
        )
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
    text = read(path).rstrip("\n") + "\n\n" + table
    validate(path, text, checks=None)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(path.stat().st_mode)  # the file keeps its permissions
    os.replace(partial, path)  # atomic: the daemon never reads half a file
    return table


def feed_name(title: str, fallback: str) -> str:
    """A valid feed name from a feed's title (or ``fallback``, its host)."""
    name = re.sub(r"\s+", " ", re.sub(r"[^\w .-]", " ", title)).strip(" .-")[:60].strip()
    return name if name and NAME.fullmatch(name) else fallback


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)
