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
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration; write a positive number and a unit: 90s, 15m, 2h, 1d")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@dataclass(frozen=True)
class Schedule:
    """When a digest goes out: the text the user wrote and the cron fields it means."""

    text: str
    cron: str

    def trigger(self, timezone: ZoneInfo) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=timezone)

    def next_after(self, moment: datetime, timezone: ZoneInfo) -> datetime:
        """The first fire time strictly after ``moment`` (an aware datetime)."""
        fire: datetime = self.trigger(timezone).get_next_fire_time(None, moment + timedelta(seconds=1))
        return fire


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_weekdays(field: str) -> str:
    """Rewrite crontab weekday numbers (0 or 7 = Sunday) as names.

    APScheduler 3.x numbers weekdays from Monday = 0, unlike crontab; names mean the same to both.
    """
    parts = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        if step and span == "*":
            days = range(0, 7, int(step))
            parts.append(",".join(_DAY_NAMES[day] for day in days))
            continue
        if span.startswith("0-"):  # "sun-sat" is a backwards range to APScheduler
            span = f"0,1-{span[2:]}"
        named = re.sub(
            r"\d+", lambda n: _DAY_NAMES[int(n.group())] if int(n.group()) < 8 else n.group(), span
        )
        parts.append(f"{named}/{step}" if step else named)
    return ",".join(parts)


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
        cron = " ".join([*fields[:4], _crontab_weekdays(fields[4])])
        try:
            CronTrigger.from_crontab(cron)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from exc
        return Schedule(text, cron)
    raise ValueError(
        f"{text!r} is not a schedule; write 'daily 08:00', 'weekly mon 08:00' "
        "or a 5-field cron expression such as '0 8 * * 1-5'"
    )
