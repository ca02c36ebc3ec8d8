"""Whether a monitor is healthy, from its vitals: a pure decider handed ``now``.

Failing (503) when the database does not answer, the scheduler has stopped, no `monitor run`
beats on the database (for `monitor serve` alone), no feed was polled for longer than the
slowest feed's interval allows, or every feed fails. Degraded (still 200) when some feeds
fail or a message has waited too long for a recipient: worth a look, not a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from monitor.models import Vitals

STALE_MARGIN = timedelta(minutes=30)  # beyond [polling] max_interval, before polls count as stopped
OUTBOX_LATE = timedelta(hours=1)  # a message waiting longer makes the monitor degraded

Status = Literal["ok", "degraded", "failing"]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    body: dict[str, Any]  # the JSON /healthz answers, the same whatever the status

    @property
    def code(self) -> int:
        return 503 if self.status == "failing" else 200


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _age(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def judge(
    vitals: Vitals | None,
    now: datetime,
    *,
    stale_after: timedelta,
    database_error: str | None = None,
    scheduler: bool | None = None,
) -> Verdict:
    """``vitals`` None: the database did not answer (``database_error`` says how).
    ``scheduler``: whether this process's scheduler runs; None when it runs none (`monitor
    serve`), and then a live `monitor run` on the database is asked for instead."""
    problems: list[str] = []
    warnings: list[str] = []
    body: dict[str, Any] = {
        "checked_at": _iso(now),
        "scheduler": None if scheduler is None else {"alive": scheduler},
        "database": {"reachable": vitals is not None, "error": database_error},
        **dict.fromkeys(("polls", "outbox", "feeds", "workers")),  # what the database tells
    }
    if scheduler is False:
        problems.append("the scheduler has stopped: nothing is polled or sent")
    if vitals is None:
        problems.append(f"the database failed: {database_error}")
    else:
        _judge_vitals(vitals, now, stale_after, scheduler, problems, warnings, body)
    status: Status = "failing" if problems else "degraded" if warnings else "ok"
    return Verdict(status, {"status": status, "problems": problems, "warnings": warnings, **body})


def _judge_vitals(
    vitals: Vitals,
    now: datetime,
    stale_after: timedelta,
    scheduler: bool | None,
    problems: list[str],
    warnings: list[str],
    body: dict[str, Any],
) -> None:
    if scheduler is None and not vitals.live_workers:
        problems.append("no `monitor run` is alive on this database: nothing is polled or sent")
    if vitals.last_poll is not None and now - vitals.last_poll > stale_after:
        problems.append(
            f"no feed polled for {_minutes(now - vitals.last_poll)} (limit {_minutes(stale_after)})"
        )
    feeds = vitals.feeds
    polled = feeds["ok"] + feeds["new"]
    broken = feeds["failing"] + feeds["gone"]
    if broken and not polled:
        problems.append(f"every feed is failing ({broken})")
    elif broken:
        warnings.append(f"{broken} of {polled + broken} feeds failing: {', '.join(vitals.failing)}")
    oldest = vitals.oldest_waiting
    if oldest is not None and now - oldest > OUTBOX_LATE:
        warnings.append(f"a message has waited {_minutes(now - oldest)} for a recipient")
    body |= {
        "polls": {
            "last": _iso(vitals.last_poll),
            "age_seconds": _age(vitals.last_poll, now),
            "last_success": _iso(vitals.last_success),
            "lag_seconds": _age(vitals.overdue_since, now) or 0,
        },
        "outbox": {
            "waiting": dict(vitals.waiting),
            "oldest_waiting": _iso(oldest),
            "oldest_age_seconds": _age(oldest, now),
        },
        "feeds": {
            **{str(health): count for health, count in feeds.items()},
            "failing_names": list(vitals.failing),
        },
        "workers": {"live": vitals.live_workers},
    }
