"""Find, read and validate the TOML config file.

Errors name the file and the key path (``watchlists[2].queries[0]``), say what is wrong and
how to fix it, and are raised as one ConfigError that lists every problem.
"""

from __future__ import annotations

import difflib
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import platformdirs
from pydantic import ValidationError

from monitor.config.models import (
    Config,
    FeedConfig,
    LoggingConfig,
    OutboxConfig,
    PollingConfig,
    SmtpConfig,
    StorageConfig,
    WatchlistConfig,
)
from monitor.config.types import Checks
from monitor.errors import ConfigError

DEFAULT_PATH = Path("config/monitor.toml")
EXAMPLE_PATH = Path("config/monitor.example.toml")  # in a checkout: a link to PACKAGED_EXAMPLE
PACKAGED_EXAMPLE = Path(__file__).resolve().parents[1] / "example.toml"
STORAGE_URL_ENV = "MONITOR_STORAGE_URL"


def resolve_path(option: str | None) -> Path:
    """The config file to use: the option, else $MONITOR_CONFIG, else the default, else the
    example beside it (in a checkout), else the example inside the package."""
    chosen = option or os.environ.get("MONITOR_CONFIG")
    if chosen:
        return Path(chosen)
    if DEFAULT_PATH.exists():
        return DEFAULT_PATH
    example = EXAMPLE_PATH if EXAMPLE_PATH.exists() else PACKAGED_EXAMPLE
    shown = EXAMPLE_PATH if example == EXAMPLE_PATH else "the example config"
    where = "" if example == EXAMPLE_PATH else f", its database in {user_data_dir()}"
    print(
        f"note: {DEFAULT_PATH} not found; using {shown}{where}. "
        f"Write your own with `monitor init`, or pass -c FILE.",
        file=sys.stderr,
    )
    return example


def user_data_dir() -> Path:
    """Where the packaged example keeps its database: the user's data folder (platformdirs)."""
    return platformdirs.user_data_path("monitor")


def load(path: Path, checks: Checks | None = None) -> Config:
    """Read, parse and validate ``path``, asking ``checks`` what only the runtime can tell
    (``monitor.checks.load`` hands them); every problem becomes one ConfigError."""
    return validate(path, read(path), checks)


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file; write one there with `monitor init {path.parent}`, "
            "or pass -c FILE (also $MONITOR_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc


def validate(path: Path, text: str, checks: Checks | None) -> Config:
    """The config in ``text``, which is (or will be) the file at ``path``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if "path" in raw:
        raise ConfigError(f"{path}: path: unknown key; remove it")
    if url := os.environ.get(STORAGE_URL_ENV):
        raw.setdefault("storage", {})["url"] = url
    # the packaged example's relative paths (its database) are in the user's data folder
    base_dir = user_data_dir() if path == PACKAGED_EXAMPLE else path.absolute().parent
    try:
        config = Config.model_validate(
            {**raw, "path": path}, context={"base_dir": base_dir, "checks": checks}
        )
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    problems = list(_reference_problems(config))
    if problems:
        raise ConfigError("\n".join(f"{path}: {where}: {what}" for where, what in problems))
    return config


def _reference_problems(config: Config) -> Iterator[tuple[str, str]]:
    """Duplicate names and watchlist feed references that point nowhere."""
    feed_names = [feed.name for feed in config.feeds]
    watchlist_names = [watchlist.name for watchlist in config.watchlists]
    for kind, names_in_order in (("feeds", feed_names), ("watchlists", watchlist_names)):
        seen: set[str] = set()
        for index, name in enumerate(names_in_order):
            if name in seen:
                yield f"{kind}[{index}].name", f"{name!r} is used twice; names must be unique"
            seen.add(name)
    names = set(feed_names)
    tags = {tag for feed in config.feeds for tag in feed.tags}
    for index, watchlist in enumerate(config.watchlists):
        for position, ref in enumerate(watchlist.feeds or []):
            tag = ref.removeprefix("tag:")
            if (ref.startswith("tag:") and tag not in tags) or (ref == tag and ref not in names):
                kind = "tag" if ref.startswith("tag:") else "feed name"
                known = ", ".join(sorted(tags if ref.startswith("tag:") else names))
                yield (
                    f"watchlists[{index}].feeds[{position}]",
                    f"no feed has the {kind} {tag!r}; known: {known}",
                )


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _known_keys() -> set[str]:
    models = (
        Config,
        StorageConfig,
        SmtpConfig,
        OutboxConfig,
        PollingConfig,
        LoggingConfig,
        FeedConfig,
        WatchlistConfig,
    )
    return {f.alias or name for model in models for name, f in model.model_fields.items()} - {"path"}


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = _key_path(loc)
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _known_keys(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "check its spelling or remove it"
            what = f"unknown key {str(loc[-1])!r}; {hint}"
        elif error["type"] == "missing":
            what = "required key is missing; add it"
        else:
            what = error["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {what}")
    return "\n".join(lines)
