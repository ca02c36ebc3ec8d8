"""Dates and times as the reader's locale writes them, from Babel's CLDR patterns: the caller
hands in a moment already in the reader's time zone."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime, format_skeleton, format_time

from monitor.i18n.locales import babel_locale


def date_time(moment: datetime, tag: str) -> str:
    """Weekday, day, month and year, then hours and minutes ("пет, 4. дец 2026. 08:00",
    "пт, 4 дек. 2026 г., 08:00"): the locale's yMMMEd skeleton and short time, joined by its
    medium date-time pattern, as Babel's format_datetime joins its own."""
    found = babel_locale(tag)
    date = format_skeleton("yMMMEd", moment, locale=found)
    glue = str(found.datetime_formats["medium"]).replace("'", "")
    return glue.replace("{1}", date).replace("{0}", time_of_day(moment, tag))


def time_of_day(moment: datetime, tag: str) -> str:
    return format_time(moment, "short", locale=babel_locale(tag))


def zone(moment: datetime, tag: str) -> str:
    """The time zone's short name ("CET", "UTC"), or its offset where the locale has none."""
    return format_datetime(moment, "z", locale=babel_locale(tag))
