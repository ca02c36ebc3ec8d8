"""When a digest schedule fires: the config's Schedule as an APScheduler trigger."""

from __future__ import annotations

from datetime import datetime, timedelta
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
