"""When the daemon decides a digest was missed while it was down: a pure function of times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config import WatchlistConfig
from monitor.daemon import digest_missed

DAILY_0800_BELGRADE = WatchlistConfig.model_validate(
    {"name": "w", "queries": ["BIA"], "recipients": ["a@example.org"], "timezone": "Europe/Belgrade"}
)


@pytest.mark.parametrize(
    ("due_since", "now", "missed"),
    [
        (None, datetime(2026, 11, 22, 12, 0, tzinfo=UTC), False),
        # last run 07:00 UTC = 08:00 CET; next is tomorrow 07:00 UTC
        (datetime(2026, 11, 21, 7, 0, tzinfo=UTC), datetime(2026, 11, 22, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 21, 7, 0, tzinfo=UTC), datetime(2026, 11, 22, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 18, 7, 0, tzinfo=UTC), datetime(2026, 11, 22, 12, 0, tzinfo=UTC), True),
        # across the spring DST change 08:00 local is 06:00 UTC on 2026-03-29
        (datetime(2026, 3, 28, 7, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 28, 7, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC), True),
    ],
)
def test_digest_is_missed_only_when_a_fire_time_passed(due_since, now, missed):
    assert digest_missed(DAILY_0800_BELGRADE, due_since, now) is missed
