"""The timings of workers sharing a database: a worker's state from its row, and the waits
before trying a database that went away again; pure, so tested with tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.leases import BEAT, GONE_AFTER, LEASE, LOOK, reconnect_wait, worker_state

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_seen", "stopped", "state"),
    [
        (NOW, None, "live"),
        (NOW - BEAT, None, "live"),  # between two beats
        (NOW - GONE_AFTER, None, "live"),
        (NOW - GONE_AFTER - timedelta(seconds=1), None, "gone"),  # killed, or its host vanished
        (NOW - timedelta(days=3), None, "gone"),
        (NOW + timedelta(seconds=2), None, "live"),  # its clock a little ahead of ours
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), "stopped"),
        (NOW, NOW, "stopped"),  # stopped cleanly a moment ago
    ],
)
def test_a_worker_is_live_while_its_beats_come_and_gone_once_they_stop_without_a_clean_stop(
    last_seen, stopped, state
):
    assert worker_state(last_seen, stopped, NOW) == state


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 30), (7, 30), (1000, 30)],
)
def test_the_wait_for_a_database_that_went_away_doubles_from_a_second_to_half_a_minute(failures, wait):
    assert reconnect_wait(failures) == timedelta(seconds=wait)


def test_a_dead_workers_leases_are_taken_within_a_minute_and_survive_a_missed_beat():
    assert timedelta(minutes=1) >= LEASE + LOOK
    assert LEASE >= 2 * BEAT
