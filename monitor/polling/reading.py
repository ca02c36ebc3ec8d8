"""What a parse worker runs: a feed read, and the story each entry it parsed tells. A module
of its own, light to import: each worker imports what it runs, and the poller's imports (the
store, the HTTP client, the matcher) would cost every worker tens of megabytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from monitor.feeds.prescan import Reading
from monitor.match.story import Telling, telling

Tellings = Mapping[str, Telling]  # guid → the story an entry tells, as match.story reads it


def told(read: Callable[..., Reading], *args: Any, **options: Any) -> tuple[Reading, Tellings]:
    """``read(*args, **options)``, and the telling of each entry it parsed: made in the parse
    worker, beside the parse, rather than by the process that stores the entries."""
    reading = read(*args, **options)
    entries = reading.parsed.items if reading.parsed else ()
    return reading, {entry.id: telling(entry.title, entry.summary) for entry in entries}
