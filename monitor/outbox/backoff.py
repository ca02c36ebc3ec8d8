"""When a message that some recipient still waits for is tried again, and when it is given up
on. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta


def retry_delay(tries: int, every: timedelta, most: timedelta) -> timedelta:
    """The wait after the ``tries``-th try that left a message waiting: ``every``, then twice
    as long after each further try, never more than ``most``."""
    if tries < 1:
        return timedelta(0)
    return min(most, every * (1 << min(tries - 1, 32)))


def given_up(now: datetime, recorded: datetime, tries: int, after: timedelta) -> str | None:
    """Why a recipient whose ``tries``-th try (this one) has just failed again is not tried any
    more: the message was recorded longer than ``after`` before ``now``. None while it is still
    worth trying: within ``after``, or at a first try (a message recorded long ago that nobody
    tried yet, while the daemon was down say, gets one)."""
    waited = now - recorded
    if tries < 2 or waited <= after:
        return None
    return f"gave up after {tries} tries over {_span(waited)}"


def _span(length: timedelta) -> str:
    """``length`` in its largest whole unit: "3 days", "1 hour", "40 minutes"."""
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
