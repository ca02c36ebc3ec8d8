"""When to poll a feed next. Pure: the pipeline gives the facts, this gives the delay.

Feeds that publish often are polled often, quiet ones rarely: about twice per new item, between
``min_interval`` and ``max_interval``. A feed's explicit ``interval`` wins. Failures back off
exponentially up to ``max_interval``; the server's Retry-After and Cache-Control max-age are
lower bounds (max-age counts up to ``max_interval``: a CDN default must not silence a source for
days). Every delay gets ±10% jitter, so polls do not align, before those bounds apply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from monitor.config import PollingConfig

JITTER = 0.1
POLLS_PER_ITEM = 2
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cadence:
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=2)

    @classmethod
    def from_config(cls, polling: PollingConfig) -> Cadence:
        return cls(polling.min_interval, polling.max_interval)


@dataclass(frozen=True, slots=True)
class LastPoll:
    """The facts about one poll that decide the next."""

    failures: int = 0  # consecutive, including this poll
    retry_after: timedelta | None = None
    max_age: timedelta | None = None


def interval(cadence: Cadence, explicit: timedelta | None, items_per_day: float | None) -> timedelta:
    """The usual time between polls of a feed that works."""
    if explicit is not None:
        return explicit
    if items_per_day is None:  # nothing known yet: look often until we know better
        return cadence.min_interval
    if items_per_day <= 0:
        return cadence.max_interval
    return _clamp(_DAY / (items_per_day * POLLS_PER_ITEM), cadence)


def next_delay(
    cadence: Cadence,
    explicit: timedelta | None,
    items_per_day: float | None,
    last: LastPoll,
    rng: random.Random | None = None,
) -> timedelta:
    """How long to wait before polling again after ``last``."""
    delay = interval(cadence, explicit, items_per_day)
    if last.failures:
        ceiling = max(cadence.max_interval, delay)
        delay = min(ceiling, delay * 2 ** min(last.failures - 1, 30))
    delay *= (rng or random).uniform(1 - JITTER, 1 + JITTER)
    # the server's wishes are lower bounds that jitter must not undercut
    if last.retry_after is not None:
        delay = max(delay, last.retry_after)
    if last.max_age is not None:
        delay = max(delay, min(last.max_age, cadence.max_interval))
    return delay


def _clamp(value: timedelta, cadence: Cadence) -> timedelta:
    return max(cadence.min_interval, min(cadence.max_interval, value))
