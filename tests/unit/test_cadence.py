"""When a feed is polled next: ``cadence.next_delay``, as a table."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from monitor.polling.cadence import Cadence, LastPoll, next_delay

M = timedelta(minutes=1)
CADENCE = Cadence(min_interval=5 * M, max_interval=120 * M)


class Fixed(random.Random):
    """A jitter that always draws ``factor``."""

    def __init__(self, factor: float) -> None:
        super().__init__(0)
        self.factor = factor

    def uniform(self, a: float, b: float) -> float:
        assert (a, b) == (0.9, 1.1)
        return self.factor


@pytest.mark.parametrize(
    ("explicit", "items_per_day", "last", "jitter", "expected"),
    [
        # a working feed: about two polls per new item, between the bounds
        (None, None, LastPoll(), 1.0, 5 * M),  # nothing known yet: look often
        (None, 0.0, LastPoll(), 1.0, 120 * M),  # a quiet week
        (None, 48.0, LastPoll(), 1.0, 15 * M),  # 24 h / (48 × 2)
        (None, 1000.0, LastPoll(), 1.0, 5 * M),  # never more often than min_interval
        (None, 0.5, LastPoll(), 1.0, 120 * M),  # never more rarely than max_interval
        (30 * M, 1000.0, LastPoll(), 1.0, 30 * M),  # the feed's own interval wins
        (600 * M, None, LastPoll(), 1.0, 600 * M),  # also beyond max_interval
        # jitter: ±10%
        (None, 48.0, LastPoll(), 0.9, 13.5 * M),
        (None, 48.0, LastPoll(), 1.1, 16.5 * M),
        # failures double the delay, up to max_interval (or the feed's own, if longer)
        (None, 48.0, LastPoll(failures=1), 1.0, 15 * M),
        (None, 48.0, LastPoll(failures=3), 1.0, 60 * M),
        (None, 48.0, LastPoll(failures=10), 1.0, 120 * M),
        (None, 48.0, LastPoll(failures=10_000), 1.0, 120 * M),  # no overflow
        (600 * M, None, LastPoll(failures=5), 1.0, 600 * M),
        # the server's wishes are lower bounds, and jitter does not undercut them
        (None, 48.0, LastPoll(retry_after=180 * M), 0.9, 180 * M),  # Retry-After beyond max
        (None, 48.0, LastPoll(retry_after=1 * M), 1.0, 15 * M),
        (None, 48.0, LastPoll(max_age=60 * M), 0.9, 60 * M),
        (None, 48.0, LastPoll(max_age=timedelta(days=1)), 1.0, 120 * M),  # max-age counts to max
        (None, 48.0, LastPoll(failures=2, retry_after=10 * M), 1.0, 30 * M),
    ],
)
def test_next_delay(explicit, items_per_day, last, jitter, expected):
    assert next_delay(CADENCE, explicit, items_per_day, last, Fixed(jitter)) == expected
