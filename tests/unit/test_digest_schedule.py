"""When scheduled work is due, and the moment each run is claimed by: pure functions of times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.config.types import parse_schedule
from monitor.schedule import due_run, last_fire, slot

DAILY_0800 = parse_schedule("daily 08:00")
BELGRADE = ZoneInfo("Europe/Belgrade")
EVERY_MINUTE = parse_schedule("* * * * *")


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_run", "now", "due"),
    [
        # last run 07:00 UTC = 08:00 CET; the next is tomorrow 07:00 UTC
        (at(21, 7), at(22, 6, 59), None),
        (at(21, 7), at(22, 7), at(22, 7)),
        (at(21, 7, 0, 4), at(22, 7, 0, 1), at(22, 7)),  # a run takes a few seconds
        (at(22, 7, 0, 4), at(22, 7, 0, 5), None),  # another worker has just made today's
        (at(18, 7), at(22, 12), at(19, 7)),  # down for days: the first missed run, once
        # across the spring DST change 08:00 local is 06:00 UTC on 2026-03-29
        (at(28, 7, month=3), at(29, 5, 59, month=3), None),
        (at(28, 7, month=3), at(29, 6, month=3), at(29, 6, month=3)),
    ],
)
def test_the_run_due_is_the_first_fire_after_the_last_run(last_run, now, due):
    assert due_run(DAILY_0800, BELGRADE, last_run, now) == due


@pytest.mark.parametrize(
    ("schedule", "now", "lookback", "fire"),
    [
        (DAILY_0800, at(22, 7), timedelta(hours=6), at(22, 7)),
        (DAILY_0800, at(22, 12, 59), timedelta(hours=6), at(22, 7)),
        (DAILY_0800, at(22, 13, 1), timedelta(hours=6), None),  # outside the grace
        (DAILY_0800, at(22, 6, 59), timedelta(hours=6), None),
        (EVERY_MINUTE, at(22, 7, 3, 2), timedelta(hours=6), at(22, 7, 3)),
    ],
)
def test_the_last_fire_is_the_latest_within_the_lookback(schedule, now, lookback, fire):
    assert last_fire(schedule, BELGRADE, now, lookback) == fire


@pytest.mark.parametrize(
    ("now", "every", "start"),
    [
        (at(22, 7, 3, 2), timedelta(minutes=10), at(22, 7, 0)),
        (at(22, 7, 10), timedelta(minutes=10), at(22, 7, 10)),
        (at(22, 7, 19, 59), timedelta(minutes=10), at(22, 7, 10)),
        (at(22, 7, 0, 19), timedelta(seconds=10), at(22, 7, 0, 10)),
        (datetime(2026, 11, 22, 8, 3, tzinfo=BELGRADE), timedelta(minutes=10), at(22, 7, 0)),
    ],
)
def test_a_slot_is_the_same_for_every_worker_within_its_period(now, every, start):
    assert slot(now, every) == start
