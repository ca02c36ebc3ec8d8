"""When a waiting message is tried again, and when it is given up on: pure, so tested with tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.outbox.backoff import given_up, retry_delay

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


RECORDED = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
AFTER = timedelta(days=3)


@pytest.mark.parametrize(
    ("waited", "tries", "reason"),
    [
        (timedelta(0), 2, None),
        (timedelta(days=2, hours=23), 12, None),
        (timedelta(days=3), 12, None),  # longer than give_up_after, not as long
        (timedelta(days=3, seconds=1), 13, "gave up after 13 tries over 3 days"),
        (timedelta(days=9, hours=23), 40, "gave up after 40 tries over 9 days"),
        (timedelta(days=4), 1, None),  # recorded long ago but never tried: one try first
        (timedelta(days=4), 2, "gave up after 2 tries over 4 days"),
    ],
)
def test_a_recipient_failing_again_longer_than_give_up_after_after_it_was_recorded_is_given_up_on(
    waited, tries, reason
):
    assert given_up(RECORDED + waited, RECORDED, tries, AFTER) == reason


@pytest.mark.parametrize(
    ("after", "waited", "reason"),
    [
        (timedelta(days=1), timedelta(days=1, hours=1), "gave up after 5 tries over 1 day"),
        (timedelta(hours=6), timedelta(hours=7, minutes=59), "gave up after 5 tries over 7 hours"),
        (timedelta(hours=1), timedelta(hours=1, minutes=1), "gave up after 5 tries over 1 hour"),
        (timedelta(minutes=30), timedelta(minutes=45), "gave up after 5 tries over 45 minutes"),
        (timedelta(seconds=1), timedelta(seconds=2), "gave up after 5 tries over 2 seconds"),
    ],
)
def test_the_reason_says_how_long_in_its_largest_whole_unit(after, waited, reason):
    assert given_up(RECORDED + waited, RECORDED, 5, after) == reason
