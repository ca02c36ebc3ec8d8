"""What a config read again changes from the one running: what the daemon applies on a reload
(SIGHUP, or ``--watch-config``), and what its ``config.reloaded`` event says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config.models import Config


@dataclass(frozen=True, slots=True)
class Changes:
    """Names of what was added, removed or changed; ``fixed``: the settings that changed but
    keep their old values until a restart."""

    feeds_added: tuple[str, ...] = ()
    feeds_removed: tuple[str, ...] = ()
    feeds_changed: tuple[str, ...] = ()
    watchlists_added: tuple[str, ...] = ()
    watchlists_removed: tuple[str, ...] = ()
    watchlists_changed: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()


Names = tuple[str, ...]


def _compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Names, Names, Names]:
    """Added, removed and changed names, each in the order the configs list them."""
    return (
        tuple(name for name in new if name not in old),
        tuple(name for name in old if name not in new),
        tuple(name for name in new if name in old and new[name] != old[name]),
    )


def _setting(config: Config, path: str) -> object:
    value: object = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def compare(old: Config, new: Config, fixed: Iterable[str] = ()) -> Changes:
    """What ``new`` changes from ``old``; ``fixed`` are dotted settings (``storage.url``) that
    the caller cannot change while it runs."""
    feeds = _compare({f.name: f for f in old.feeds}, {f.name: f for f in new.feeds})
    watchlists = _compare({w.name: w for w in old.watchlists}, {w.name: w for w in new.watchlists})
    return Changes(
        *feeds,
        *watchlists,
        fixed=tuple(path for path in fixed if _setting(old, path) != _setting(new, path)),
    )
