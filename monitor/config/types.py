"""The values users write in the config, parsed once into typed values: durations, digest
schedules, time zones, email addresses, names, URLs.

What only the parts that run a config can tell (does the matcher read this query, does Apprise
know this URL) is asked of the ``Checks`` handed to ``load`` by ``monitor.checks``, from the
validators here, so that every problem is reported at its key path, all at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, ValidationInfo

NAME = re.compile(r"\w[\w .-]*")
_EMAIL = re.compile(r"[^@\s<>\",]+@[^@\s<>\",]+\.[^@\s<>\",]+")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})$")
_WEEKLY = re.compile(r"^weekly\s+(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}):(\d{2})$")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"^(\*|\w{1,3})(?:-(\w{1,3}))?(?:/(\d+))?$")
_CRON_PART = re.compile(r"(\*|\d+|[a-z]+)(?:-(\d+|[a-z]+))?(?:/(\d+))?")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class Checks(Protocol):
    """What only the parts that run a config can tell about it. Each raises ValueError saying
    what is wrong and how to fix it; ``load`` reports it at the value's key path."""

    def query(self, text: str) -> None: ...

    def language(self, hint: str) -> str:
        """The matcher's code for ``hint`` (``sr`` for "sr_RS", "Serbian", "srp")."""
        ...

    def channel(self, url: str) -> None: ...

    def schedule(self, schedule: Schedule) -> None: ...

    def templates(self, folder: Path) -> None: ...


def checks(info: ValidationInfo) -> Checks | None:
    """The checks ``load`` was handed, if any."""
    found: Checks | None = (info.context or {}).get("checks")
    return found


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


@dataclass(frozen=True)
class Schedule:
    """When a digest goes out: the text the user wrote and the cron fields it means
    (weekdays as names, which APScheduler and crontab read alike)."""

    text: str
    cron: str


def _weekday(token: str, text: str) -> int:
    """A crontab weekday, 0..7 with 0 and 7 both Sunday, or a name."""
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    raise ValueError(f"{text!r}: {token!r} is not a weekday; use 0-7 (0 and 7 are Sunday) or sun..sat")


def _crontab_weekdays(field: str, text: str) -> str:
    """Expand a crontab weekday field into weekday names.

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


class _CronField(NamedTuple):
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # written for low, low + 1, ...
    words: tuple[str, ...] = ()  # accepted as they are


_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day of the month", 1, 31, words=("last",)),
    _CronField("month", 1, 12, names=_MONTH_NAMES),
)


def _cron_part_problem(part: str, field: _CronField) -> str | None:
    """What APScheduler 3 would refuse in one comma-separated part of a cron field: it reads
    ``*``, ``*/s``, ``a``, ``a-b``, ``a/s``, ``a-b/s``, month names and ranges of them, and
    ``last`` (the month's last day)."""
    if part in field.words:
        return None
    where = f"the {field.name} {part!r}"
    names = " (or a name: jan-mar)" if field.names else ""
    if not (found := _CRON_PART.fullmatch(part)):
        return f"{where} is not a number, range or step; write it as 5, 1-5, */15 or 0-30/10{names}"
    first, last, step = found.groups()
    if first == "*" and not last:
        low, high = field.low, field.high
    elif first.isdigit() and (last or first).isdigit():
        low, high = int(first), int(last) if last else (field.high if step else int(first))
    elif first in field.names and (last or first) in field.names and not step:
        low, high = (field.names.index(name) + field.low for name in (first, last or first))
    else:
        return f"{where} is not a number, range or step; write it as 5, 1-5, */15 or 0-30/10{names}"
    if low < field.low or high > field.high:
        return f"{where} is outside {field.low}-{field.high}"
    if low > high:
        return f"{where} runs high to low; write it low to high, as 1-5"
    if step and not 0 < int(step) <= high - low:
        return f"{where} has a step of 0 or wider than its range"
    return None


def _crontab(fields: list[str], text: str) -> str:
    """The five crontab fields as cron fields that APScheduler reads as crontab does."""
    if fields[2] != "*" and fields[4] != "*":
        raise ValueError(
            f"{text!r}: restrict the day of the month or the weekday, not both "
            "(crontab would fire on either, which is rarely what is meant)"
        )
    for written, field in zip(fields, _CRON_FIELDS, strict=False):
        for part in written.split(","):
            if problem := _cron_part_problem(part, field):
                raise ValueError(f"{text!r} is not a valid cron expression: {problem}")
    return " ".join([*fields[:4], _crontab_weekdays(fields[4], text)])


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
        return Schedule(text, _crontab(fields, text))
    raise ValueError(
        f"{text!r} is not a schedule; write 'daily 08:00', 'weekly mon 08:00' "
        "or a 5-field cron expression such as '0 8 * * 1-5'"
    )


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('write a duration as a string such as "15m"')
    return parse_duration(value)


def _digest_schedule(value: Any) -> Schedule | None:
    if value == "none":
        return None
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        raise ValueError('write a schedule as a string such as "daily 08:00"')
    return parse_schedule(value)


def _checked_schedule(value: Schedule | None, info: ValidationInfo) -> Schedule | None:
    if value is not None and (found := checks(info)):
        found.schedule(value)
    return value


def _timezone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f'{value!r} is not an IANA time zone; write a name such as "Europe/Belgrade" or "UTC"'
        ) from None


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address; write it as name@example.org")
    return value


def _name(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError(
            f"{value!r}: a name starts with a letter or digit and uses letters, digits, space, . - _"
        )
    return value


FEED_NAME_LIMIT = 100  # characters: an outlet's name and its section


def _feed_name(value: str) -> str:
    """What outlets are called ("RTS / Vesti", "Al Jazeera: World", "Радио Слободна Европа"):
    anything printable, but for spaces around it, and not "tag:", which selects tags."""
    if not value.strip() or value != value.strip():
        raise ValueError(f"{value!r}: a feed's name may not be empty or begin or end with a space")
    if unprintable := [c for c in value if unicodedata.category(c).startswith("C")]:
        raise ValueError(f"{value!r}: a feed's name may not hold control characters ({unprintable[0]!r})")
    if value.startswith("tag:"):
        raise ValueError(
            f"{value!r}: a feed's name may not begin with tag:, which names a tag in a watchlist"
        )
    if len(value) > FEED_NAME_LIMIT:
        raise ValueError(f"{value[:40]!r}…: a feed's name is at most {FEED_NAME_LIMIT} characters")
    return value


HTTP_URL = re.compile(r"https?://[^\s/]+\S*")  # what a feed's url must be, whole


def _http_url(value: str) -> str:
    if not HTTP_URL.fullmatch(value):
        raise ValueError(f"{value!r} is not an http(s) URL; write it as https://example.org/rss")
    return value


def _query(value: str, info: ValidationInfo) -> str:
    if found := checks(info):
        found.query(value)
    return value


def _language(value: str | None, info: ValidationInfo) -> str | None:
    """The matcher's code, when checked: a hint it cannot read would cost the feed every hit
    it decides."""
    found = checks(info)
    return found.language(value) if value is not None and found else value


def _channel(value: str, info: ValidationInfo) -> str:
    if found := checks(info):
        found.channel(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(str)]
DigestSchedule = Annotated[
    Schedule | None,
    BeforeValidator(_digest_schedule),
    AfterValidator(_checked_schedule),
    PlainSerializer(lambda s: s.text if s else "none"),
]
# The digest's languages, as BCP 47 tags; "sr" alone is Serbian in Latin script, as most
# Serbian outlets write it. monitor.i18n holds a catalog for each one but English.
LOCALES = ("en", "ru", "sr-Cyrl", "sr-Latn")
_LOCALE_ALIASES = {"sr": "sr-Latn"}


def _locale(text: str) -> str:
    """A locale tag in its canonical spelling: ``sr_cyrl`` and ``SR-Cyrl`` → ``sr-Cyrl``."""
    wanted = text.strip().replace("_", "-").casefold()
    for tag in (*LOCALES, *_LOCALE_ALIASES):
        if tag.casefold() == wanted:
            return _LOCALE_ALIASES.get(tag, tag)
    accepted = ", ".join(f'"{tag}"' for tag in LOCALES)
    raise ValueError(f'{text!r} is not a locale monitor writes; use one of {accepted} ("sr" is "sr-Latn")')


_TELEGRAM_HOSTS = ("t.me", "telegram.me")
_TELEGRAM_CHANNEL = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,})/?$")


def telegram_preview(url: str) -> str | None:
    """The web preview's address of a public Telegram channel's link (``t.me/NAME`` or
    ``t.me/s/NAME``, also telegram.me), or None when ``url`` is not a channel on t.me."""
    parts = urlsplit(url.strip())
    if parts.hostname not in _TELEGRAM_HOSTS or not (found := _TELEGRAM_CHANNEL.match(parts.path)):
        return None
    return f"https://t.me/s/{found.group(1)}"


def is_telegram(url: str) -> bool:
    """Whether ``url`` is on t.me at all (a channel, a post, an invitation)."""
    return urlsplit(url.strip()).hostname in _TELEGRAM_HOSTS


def split_listen(text: str) -> tuple[str, int]:
    """``host:port`` as its host and port: ``127.0.0.1:8080``, ``[::1]:8080``, ``0.0.0.0:8080``;
    port 0 takes any free port (the daemon logs which)."""
    host, colon, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address without its brackets
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f'{text!r} is not host:port; write it as "127.0.0.1:8080", "[::1]:8080", '
            'or "0.0.0.0:8080" for every address (then a token is required)'
        )
    return host, int(port)


def _listen(value: str) -> str:
    split_listen(value)
    return value.strip()


TimeZone = Annotated[ZoneInfo, BeforeValidator(_timezone), PlainSerializer(str)]
Listen = Annotated[str, AfterValidator(_listen)]
LocaleTag = Annotated[str, AfterValidator(_locale)]
Script = Literal["cyrl", "latn"]  # Serbian's two scripts: Cyrillic and Latin
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, AfterValidator(_name)]
FeedName = Annotated[str, AfterValidator(_feed_name)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
QueryText = Annotated[str, AfterValidator(_query)]
LanguageHint = Annotated[str | None, AfterValidator(_language)]
NotifyUrl = Annotated[str, AfterValidator(_channel)]
