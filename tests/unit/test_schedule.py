"""Durations and digest schedules: what users write, and when it fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from monitor.checks import RuntimeChecks
from monitor.config import Schedule, parse_duration, parse_schedule
from monitor.schedule import next_after, trigger

BELGRADE = ZoneInfo("Europe/Belgrade")


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1s", timedelta(seconds=1)),
        ("120m", timedelta(hours=2)),
        (" 15m ", timedelta(minutes=15)),
        ("15 m", timedelta(minutes=15)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "15", "m", "0m", "0s", "-5m", "1.5h", "15 minutes", "15min", "1w", "15M", "1h30m", "fifteen"],
)
def test_bad_duration_raises_value_error_with_an_example(text):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)

    assert f"{text!r} is not a duration" in str(caught.value)
    assert "15m" in str(caught.value)


@pytest.mark.parametrize("text", ["1000000000d", "99999999999999999999h"])
def test_absurdly_long_duration_raises_value_error_not_overflow(text):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)

    assert repr(text) in str(caught.value)


# --- schedule forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("daily 08:00", "0 8 * * *"),
        ("daily 8:05", "5 8 * * *"),
        ("daily 23:59", "59 23 * * *"),
        ("daily 00:00", "0 0 * * *"),
        ("  Daily   07:30 ", "30 7 * * *"),
        ("weekly mon 08:00", "0 8 * * mon"),
        ("weekly SUN 18:30", "30 18 * * sun"),
        ("*/15 * * * *", "*/15 * * * *"),
        ("0 8 1 * *", "0 8 1 * *"),
    ],
)
def test_parse_schedule_gives_cron_fields(text, cron):
    schedule = parse_schedule(text)

    assert schedule.cron == cron
    assert schedule.text == text


def fires(text: str, start: datetime, count: int, timezone: ZoneInfo = BELGRADE) -> list[datetime]:
    schedule = parse_schedule(text)
    moments, moment = [], start
    for _ in range(count):
        moment = next_after(schedule, moment, timezone)
        moments.append(moment)
    return moments


def weekdays(text: str) -> list[str]:
    """The weekdays of the fire times in the 14 days from Monday 1 June 2026."""
    start = datetime(2026, 6, 1, 0, 0, tzinfo=BELGRADE)
    out = []
    for moment in fires(text, start, 14):
        if moment >= start + timedelta(days=14):
            break
        out.append(moment.astimezone(BELGRADE).strftime("%a"))
    return out[:7]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("0 8 * * 1", ["Mon", "Mon"]),
        ("0 8 * * 0", ["Sun", "Sun"]),
        ("0 8 * * 7", ["Sun", "Sun"]),
        ("0 8 * * 6", ["Sat", "Sat"]),
        ("0 8 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("0 8 * * 0-6", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0 8 * * 1-7", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0 8 * * 0-2", ["Mon", "Tue", "Sun", "Mon", "Tue", "Sun"]),
        ("0 8 * * 5-7", ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 8 * * 6,0", ["Sat", "Sun", "Sat", "Sun"]),
        ("0 8 * * 1,3,5", ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri"]),
        ("0 8 * * */2", ["Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]),
        ("0 8 * * */3", ["Wed", "Sat", "Sun", "Wed", "Sat", "Sun"]),
        ("0 8 * * 1-5/2", ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri"]),
        ("0 8 * * 0-6/2", ["Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]),
        ("0 8 * * 1-7/2", ["Mon", "Wed", "Fri", "Sun", "Mon", "Wed", "Fri"]),
        ("0 8 * * 1-3,5", ["Mon", "Tue", "Wed", "Fri", "Mon", "Tue", "Wed"]),
        ("0 8 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("0 8 * * fri-sun", ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 8 * * SAT,sun", ["Sat", "Sun", "Sat", "Sun"]),
        ("0 8 * * *", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("weekly wed 08:00", ["Wed", "Wed"]),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(text, days):
    assert weekdays(text) == days


def test_day_of_month_schedule_fires_monthly():
    start = datetime(2026, 6, 2, 0, 0, tzinfo=BELGRADE)

    moments = fires("0 8 1 * *", start, 2)

    assert [m.strftime("%d %b %H:%M") for m in moments] == ["01 Jul 08:00", "01 Aug 08:00"]


@pytest.mark.parametrize("text", ["0 8 1 * 1", "0 8 1-7 * mon", "0 8 */2 * 1-5"])
def test_day_of_month_together_with_weekday_is_refused(text):
    # crontab fires when either matches, APScheduler only when both do: neither is safe to guess.
    with pytest.raises(ValueError) as caught:
        parse_schedule(text)

    assert repr(text) in str(caught.value)
    assert "not both" in str(caught.value)


def test_cron_schedule_fires_at_the_given_minute_and_hour():
    start = datetime(2026, 6, 1, 0, 0, tzinfo=BELGRADE)

    moments = fires("30 7,19 * * *", start, 3)

    assert [m.astimezone(BELGRADE).strftime("%d %H:%M") for m in moments] == [
        "01 07:30",
        "01 19:30",
        "02 07:30",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("daily 24:00", "not a time of day"),
        ("daily 08:60", "not a time of day"),
        ("weekly mon 25:00", "not a time of day"),
        ("daily 8", "'daily 08:00'"),
        ("daily", "'daily 08:00'"),
        ("weekly monday 08:00", "'weekly mon 08:00'"),
        ("weekly 08:00", "'weekly mon 08:00'"),
        ("every morning", "5-field cron"),
        ("", "5-field cron"),
        ("0 8 * *", "5-field cron"),
        ("0 8 * * * *", "5-field cron"),
        ("61 8 * * *", "not a valid cron expression"),
        ("0 25 * * *", "not a valid cron expression"),
        ("0 8 32 * *", "not a valid cron expression"),
        ("0 8 * 13 *", "not a valid cron expression"),
        ("0 8 * * 8", "weekday"),
        ("0 8 * * funday", "weekday"),
        ("0 8 * * 5-1", "low to high"),
        ("0 8 * * */0", "weekday"),
        ("0 8 * * */x", "weekday"),
        ("0 8 * * 1-", "weekday"),
    ],
)
def test_bad_schedule_raises_value_error_that_names_it_and_says_why(text, says):
    with pytest.raises(ValueError) as caught:
        parse_schedule(text)

    assert repr(text) in str(caught.value)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "*/59 * * * *",
        "*/60 * * * *",
        "*/0 * * * *",
        "5/15 * * * *",
        "59/1 * * * *",
        "70/5 * * * *",
        "0-10/20 * * * *",
        "0-10/10 * * * *",
        "5-5/1 * * * *",
        "10-5 * * * *",
        "0,15,30,45 8-18 * * *",
        "0,,30 8 * * *",
        "0 8,20 1-15/7 * *",
        "0 23/1 * * *",
        "0 24 * * *",
        "0 8 0 * *",
        "0 8 31 * *",
        "0 8 last * *",
        "0 8 * jan-mar *",
        "0 8 * mar-jan *",
        "0 8 * JAN,jul *",
        "0 8 * 0 *",
        "0 8 * 1-12/3 *",
        "0 8 * foo *",
        "x 8 * * *",
        "*-5 8 * * *",
        "0 mon * * *",
    ],
)
def test_cron_fields_are_refused_exactly_when_apscheduler_refuses_them(text):
    try:
        CronTrigger.from_crontab(text.lower())
    except ValueError:
        with pytest.raises(ValueError, match="not a valid cron expression"):
            parse_schedule(text)
    else:
        assert parse_schedule(text).cron == text.lower()


@pytest.mark.parametrize("text", ["0 8 lastday * *", "0 8 * jan-3 *", "0 8 * jan/2 *"])
def test_cron_field_that_apscheduler_would_read_only_the_start_of_is_refused(text):
    # APScheduler 3 matches these fields' start ("last", "jan") and drops the rest unread
    with pytest.raises(ValueError, match="not a valid cron expression"):
        parse_schedule(text)


def test_a_schedule_apscheduler_cannot_build_is_refused_by_the_runtime_check():
    with pytest.raises(ValueError) as caught:
        RuntimeChecks().schedule(Schedule("every minute", "*/60 * * * *"))

    assert "'every minute' is not a valid cron expression" in str(caught.value)


# --- next_after and DST ---------------------------------------------------------------------


def test_next_after_is_strictly_after_a_fire_time():
    schedule = parse_schedule("daily 08:00")
    at_eight = datetime(2026, 6, 1, 8, 0, tzinfo=BELGRADE)

    assert next_after(schedule, at_eight, BELGRADE) == datetime(2026, 6, 2, 8, 0, tzinfo=BELGRADE)


def test_next_after_just_before_fires_the_same_day():
    schedule = parse_schedule("daily 08:00")

    nxt = next_after(schedule, datetime(2026, 6, 1, 7, 59, 59, tzinfo=BELGRADE), BELGRADE)

    assert nxt == datetime(2026, 6, 1, 8, 0, tzinfo=BELGRADE)


def test_next_after_accepts_a_moment_in_another_zone():
    schedule = parse_schedule("daily 08:00")

    nxt = next_after(schedule, datetime(2026, 6, 1, 6, 30, tzinfo=UTC), BELGRADE)

    assert nxt.astimezone(UTC) == datetime(2026, 6, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "local", "utc"),
    [
        # Spring forward: 29 March 2026, 02:00 CET → 03:00 CEST
        (datetime(2026, 3, 27, 9, 0), datetime(2026, 3, 28, 8, 0), datetime(2026, 3, 28, 7, 0)),
        (datetime(2026, 3, 28, 8, 0), datetime(2026, 3, 29, 8, 0), datetime(2026, 3, 29, 6, 0)),
        (datetime(2026, 3, 29, 8, 0), datetime(2026, 3, 30, 8, 0), datetime(2026, 3, 30, 6, 0)),
        # Fall back: 25 October 2026, 03:00 CEST → 02:00 CET
        (datetime(2026, 10, 23, 9, 0), datetime(2026, 10, 24, 8, 0), datetime(2026, 10, 24, 6, 0)),
        (datetime(2026, 10, 24, 8, 0), datetime(2026, 10, 25, 8, 0), datetime(2026, 10, 25, 7, 0)),
        (datetime(2026, 10, 25, 8, 0), datetime(2026, 10, 26, 8, 0), datetime(2026, 10, 26, 7, 0)),
    ],
)
def test_daily_fires_at_local_eight_across_dst_changes(after, local, utc):
    schedule = parse_schedule("daily 08:00")

    nxt = next_after(schedule, after.replace(tzinfo=BELGRADE), BELGRADE)

    assert nxt.astimezone(BELGRADE).replace(tzinfo=None) == local
    assert nxt.astimezone(UTC) == utc.replace(tzinfo=UTC)


def test_daily_in_the_skipped_hour_still_fires_on_the_spring_forward_day():
    schedule = parse_schedule("daily 02:30")  # 02:30 does not exist on 29 March in Belgrade

    nxt = next_after(schedule, datetime(2026, 3, 28, 12, 0, tzinfo=BELGRADE), BELGRADE)

    local = nxt.astimezone(UTC).astimezone(BELGRADE)  # a real wall-clock time, not 02:30
    assert local.date() == datetime(2026, 3, 29).date()
    assert local.hour == 3  # just after the clocks jump to 03:00 CEST


def test_daily_in_the_repeated_hour_fires_once_on_the_fall_back_day():
    schedule = parse_schedule("daily 02:30")  # 02:30 happens twice on 25 October in Belgrade

    first = next_after(schedule, datetime(2026, 10, 24, 12, 0, tzinfo=BELGRADE), BELGRADE)
    second = next_after(schedule, first, BELGRADE)

    assert first.astimezone(BELGRADE).date() == datetime(2026, 10, 25).date()
    assert second.astimezone(BELGRADE).date() == datetime(2026, 10, 26).date()


def test_trigger_uses_the_given_timezone():
    built = trigger(parse_schedule("weekly mon 08:00"), BELGRADE)

    fire = built.get_next_fire_time(None, datetime(2026, 6, 2, tzinfo=UTC))

    assert fire.astimezone(BELGRADE).replace(tzinfo=None) == datetime(2026, 6, 8, 8, 0)
