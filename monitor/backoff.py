"""When a message that some recipient still waits for is tried again. Pure."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(tries: int, every: timedelta, most: timedelta) -> timedelta:
    """The wait after the ``tries``-th try that left a message waiting: ``every``, then twice
    as long after each further try, never more than ``most``."""
    if tries < 1:
        return timedelta(0)
    return min(most, every * (1 << min(tries - 1, 32)))
