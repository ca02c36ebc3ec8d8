"""When scheduled work is due: a digest schedule as an APScheduler trigger, and the moment each
run is scheduled for, by which the workers sharing a database claim it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor.config import Schedule


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires once per wall-clock time.

    On the night clocks go back, APScheduler 3 fires a time inside the repeated hour twice
    (02:30 summer time, then 02:30 winter time) and can then return the same time again; this
    skips past the repeated hour instead.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if fire is None or previous_fire_time is None:
            return fire
        previous_wall = previous_fire_time.astimezone(fire.tzinfo).replace(tzinfo=None)
        if fire <= previous_fire_time or fire.replace(tzinfo=None) == previous_wall:
            past_repeat = max(fire, previous_fire_time) + timedelta(hours=1, seconds=1)
            fire = super().get_next_fire_time(None, past_repeat)
        return fire


def trigger(schedule: Schedule, timezone: ZoneInfo) -> WallClockCronTrigger:
    """The trigger for ``schedule``; a ValueError if APScheduler refuses its cron fields."""
    built: WallClockCronTrigger = WallClockCronTrigger.from_crontab(schedule.cron, timezone=timezone)
    return built


def next_after(schedule: Schedule, moment: datetime, timezone: ZoneInfo) -> datetime:
    """The first fire time strictly after ``moment`` (an aware datetime)."""
    fire = trigger(schedule, timezone).get_next_fire_time(moment, moment + timedelta(seconds=1))
    assert fire is not None, "a cron schedule always fires again"
    return fire


def due_run(schedule: Schedule, timezone: ZoneInfo, last_run: datetime, now: datetime) -> datetime | None:
    """The scheduled time of the run that is due at ``now``: the first fire after
    ``last_run``; None while that is still ahead. Every worker that asks before the run is
    made gets the same time, which is what they claim it by."""
    fire = next_after(schedule, last_run, timezone)
    return fire if fire <= now else None


def last_fire(schedule: Schedule, timezone: ZoneInfo, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest fire time at or before ``now`` and after ``now - lookback``; None if none."""
    latest = None
    fire = next_after(schedule, now - lookback, timezone)
    while fire <= now:
        latest, fire = fire, next_after(schedule, fire, timezone)
    return latest


def slot(now: datetime, every: timedelta) -> datetime:
    """The start of the period of length ``every`` that holds ``now``, counted from the Unix
    epoch: the same on every worker whatever its scheduler's phase, so a periodic job run by
    several claims one run per period."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return now - (now - epoch) % every
