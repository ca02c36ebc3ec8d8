"""The health decider: vitals and ``now`` in, a status and the reasons out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import Vitals
from monitor.web.health import judge

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
STALE = timedelta(hours=2, minutes=30)
HEALTHY = Vitals(
    feeds={"gone": 0, "failing": 0, "new": 1, "ok": 9, "disabled": 2},
    failing=(),
    last_poll=NOW - timedelta(minutes=3),
    last_success=NOW - timedelta(minutes=3),
    overdue_since=None,
    waiting={"digest": 0, "alert": 0},
    oldest_waiting=None,
    live_workers=1,
)
FAILING_TWO = {"gone": 1, "failing": 1, "new": 0, "ok": 8, "disabled": 0}


@pytest.mark.parametrize(
    ("vitals", "scheduler", "status", "said"),
    [
        (HEALTHY, True, "ok", []),
        (HEALTHY, None, "ok", []),  # monitor serve beside a live daemon
        (replace(HEALTHY, last_poll=None, last_success=None), True, "ok", []),  # nothing polled yet
        (replace(HEALTHY, live_workers=0), True, "ok", []),  # the daemon itself: its scheduler says
        (HEALTHY, False, "failing", ["the scheduler has stopped: nothing is polled or sent"]),
        (
            replace(HEALTHY, live_workers=0),
            None,
            "failing",
            ["no `monitor run` is alive on this database: nothing is polled or sent"],
        ),
        (
            replace(HEALTHY, last_poll=NOW - timedelta(hours=3)),
            True,
            "failing",
            ["no feed polled for 3 h 0 min (limit 2 h 30 min)"],
        ),
        (replace(HEALTHY, last_poll=NOW - STALE), True, "ok", []),  # at the limit, not past it
        (
            replace(HEALTHY, feeds={"gone": 0, "failing": 3, "new": 0, "ok": 0, "disabled": 5}),
            True,
            "failing",
            ["every feed is failing (3)"],
        ),
        (
            replace(HEALTHY, feeds=FAILING_TWO, failing=("Gone", "Broken")),
            True,
            "degraded",
            ["2 of 10 feeds failing: Gone, Broken"],
        ),
        (
            replace(HEALTHY, waiting={"digest": 1, "alert": 0}, oldest_waiting=NOW - timedelta(minutes=61)),
            True,
            "degraded",
            ["a message has waited 1 h 1 min for a recipient"],
        ),
        (  # waiting, but not for long: a retry under way
            replace(HEALTHY, waiting={"digest": 1, "alert": 0}, oldest_waiting=NOW - timedelta(minutes=20)),
            True,
            "ok",
            [],
        ),
    ],
)
def test_judge(vitals, scheduler, status, said):
    verdict = judge(vitals, NOW, stale_after=STALE, scheduler=scheduler)

    assert verdict.status == status
    assert verdict.code == (503 if status == "failing" else 200)
    assert verdict.body["problems" if status == "failing" else "warnings"] == said
    assert verdict.body["status"] == status


def test_a_database_that_fails_is_a_failing_monitor_with_every_part_of_the_body_present():
    verdict = judge(None, NOW, stale_after=STALE, database_error="no answer within 5 s", scheduler=True)
    healthy = judge(HEALTHY, NOW, stale_after=STALE, scheduler=True)

    assert (verdict.status, verdict.code) == ("failing", 503)
    assert verdict.body["problems"] == ["the database failed: no answer within 5 s"]
    assert verdict.body["database"] == {"reachable": False, "error": "no answer within 5 s"}
    assert verdict.body.keys() == healthy.body.keys()
    assert verdict.body["feeds"] is None and verdict.body["scheduler"] == {"alive": True}


def test_the_body_tells_ages_in_seconds_and_times_in_iso():
    vitals = replace(
        HEALTHY,
        overdue_since=NOW - timedelta(seconds=42),
        waiting={"digest": 2, "alert": 1},
        oldest_waiting=NOW - timedelta(minutes=5),
    )

    body = judge(vitals, NOW, stale_after=STALE, scheduler=True).body

    assert body["polls"] == {
        "last": "2026-12-06T07:57:00+00:00",
        "age_seconds": 180,
        "last_success": "2026-12-06T07:57:00+00:00",
        "lag_seconds": 42,
    }
    assert body["outbox"] == {
        "waiting": {"digest": 2, "alert": 1},
        "oldest_waiting": "2026-12-06T07:55:00+00:00",
        "oldest_age_seconds": 300,
    }
    assert body["feeds"] == {"gone": 0, "failing": 0, "new": 1, "ok": 9, "disabled": 2, "failing_names": []}
