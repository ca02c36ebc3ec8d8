"""Digest schedules and durations: the strings users write, parsed once into typed values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})$")
_WEEKLY = re.compile(r"^weekly\s+(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}):(\d{2})$")


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` → timedelta. Raises ValueError with a hint."""
    found = _DURATION.match(text)
    hint = "write a positive number and a unit: 90s, 15m, 2h, 1d"
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration; {hint}")
    try:
        return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration; {hint}") from None


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


@dataclass(frozen=True)
class Schedule:
    """When a digest goes out: the text the user wrote and the cron fields it means."""

    text: str
    cron: str

    def trigger(self, timezone: ZoneInfo) -> WallClockCronTrigger:
        trigger: WallClockCronTrigger = WallClockCronTrigger.from_crontab(self.cron, timezone=timezone)
        return trigger

    def next_after(self, moment: datetime, timezone: ZoneInfo) -> datetime:
        """The first fire time strictly after ``moment`` (an aware datetime)."""
        fire = self.trigger(timezone).get_next_fire_time(moment, moment + timedelta(seconds=1))
        assert fire is not None, "a cron schedule always fires again"
        return fire


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"^(\*|\w{1,3})(?:-(\w{1,3}))?(?:/(\d+))?$")


def _weekday(token: str, text: str) -> int:
    """A crontab weekday, 0..7 with 0 and 7 both Sunday, or a name."""
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    raise ValueError(f"{text!r}: {token!r} is not a weekday; use 0-7 (0 and 7 are Sunday) or sun..sat")


def _crontab_weekdays(field: str, text: str) -> str:
    """Expand a crontab weekday field into APScheduler weekday names.

    APScheduler 3.x numbers weekdays from Monday = 0 and ignores steps on weekday ranges, so
    the field is expanded here, as crontab reads it, into an explicit list of names.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        found = _WEEKDAY_PART.match(part)
        if not found:
            raise ValueError(f"{text!r}: {part!r} is not a weekday, range or step such as 1-5 or */2")
        first, last, step = found.groups()
        low = 0 if first == "*" else _weekday(first, text)
        high = 6 if first == "*" or (step and not last) else _weekday(last or first, text)
        if last == "sun":
            high = 7
        if high < low or (step and int(step) == 0):
            raise ValueError(f"{text!r}: {part!r} is not a valid weekday range; write it low to high, as 1-5")
        days.update(day % 7 for day in range(low, high + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _clock(hour: str, minute: str, text: str) -> tuple[int, int]:
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"{text!r}: {hour}:{minute} is not a time of day; use HH:MM from 00:00 to 23:59")
    return int(hour), int(minute)


def parse_schedule(text: str) -> Schedule:
    """``daily HH:MM`` | ``weekly mon HH:MM`` | a 5-field cron expression."""
    normal = " ".join(text.lower().split())
    if daily := _DAILY.match(normal):
        hour, minute = _clock(daily.group(1), daily.group(2), text)
        return Schedule(text, f"{minute} {hour} * * *")
    if weekly := _WEEKLY.match(normal):
        hour, minute = _clock(weekly.group(2), weekly.group(3), text)
        return Schedule(text, f"{minute} {hour} * * {weekly.group(1)}")
    if len(fields := normal.split()) == 5:
        if fields[2] != "*" and fields[4] != "*":
            raise ValueError(
                f"{text!r}: restrict the day of the month or the weekday, not both "
                "(crontab would fire on either, which is rarely what is meant)"
            )
        cron = " ".join([*fields[:4], _crontab_weekdays(fields[4], text)])
        try:
            CronTrigger.from_crontab(cron)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from exc
        return Schedule(text, cron)
    raise ValueError(
        f"{text!r} is not a schedule; write 'daily 08:00', 'weekly mon 08:00' "
        "or a 5-field cron expression such as '0 8 * * 1-5'"
    )
