"""When a waiting message is tried again: pure, so tested with a table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.backoff import retry_delay

EVERY, MOST = timedelta(minutes=10), timedelta(hours=6)


@pytest.mark.parametrize(
    ("tries", "wait"),
    [
        (0, timedelta(0)),
        (1, timedelta(minutes=10)),
        (2, timedelta(minutes=20)),
        (3, timedelta(minutes=40)),
        (6, timedelta(minutes=320)),
        (7, timedelta(hours=6)),
        (40, timedelta(hours=6)),
        (10_000, timedelta(hours=6)),
    ],
)
def test_a_message_that_keeps_failing_waits_twice_as_long_each_time_up_to_the_most(tries, wait):
    assert retry_delay(tries, EVERY, MOST) == wait
