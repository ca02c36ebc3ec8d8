"""logfmt and JSON lines: one line per event whatever the values hold, and no URL's password
in them."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.log import JsonFormatter, LogfmtFormatter, chosen_level, hide_passwords


def line(**fields: object) -> str:
    record = logging.LogRecord("monitor", logging.INFO, __file__, 1, "feed.x", None, None)
    record.fields = fields
    return LogfmtFormatter().format(record)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("", '""'),
        ("two words", '"two words"'),
        ('say "hi"', r'"say \"hi\""'),
        ("a=b", '"a=b"'),
        ("one\ntwo", r'"one\ntwo"'),
        ("one\rtwo", r'"one\rtwo"'),
        ("tab\there", r'"tab\there"'),
        ("back\\slash\n", r'"back\\slash\n"'),
        ("nul\x00", r'"nul\x00"'),
        ("esc\x1b[31m", r'"esc\x1b[31m"'),
        ("del\x7f", r'"del\x7f"'),
        ("nel\x85", r'"nel\x85"'),
        ("line\u2028sep\u2029", r'"line\u2028sep\u2029"'),
        ("Beograd – Moskva", '"Beograd – Moskva"'),
    ],
)
def test_every_control_character_is_escaped_so_an_event_is_one_line(value, written):
    text = line(value=value)

    assert text.endswith(f" value={written}")
    assert len(text.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://user:secret@db:5432/m", "postgresql://user:***@db:5432/m"),
        ("postgresql+psycopg://u:p%40ss@db/m?x=1", "postgresql+psycopg://u:***@db/m?x=1"),
        ("sqlite:///data/monitor.db", "sqlite:///data/monitor.db"),
        ("https://reader:pa:ss@example.org/feed", "https://reader:***@example.org/feed"),
        ("https://a:b@c@example.org/feed", "https://a:***@example.org/feed"),
        ("https://token@example.org/feed", "https://token@example.org/feed"),
        ("https://example.org:8443/a@b", "https://example.org:8443/a@b"),
        ("failed: 'https://u:p@h/x' and http://v:q@k/", "failed: 'https://u:***@h/x' and http://v:***@k/"),
    ],
)
def test_a_url_password_is_masked(text, shown):
    assert hide_passwords(text) == shown


def test_a_logged_url_has_no_password():
    assert line(url="https://reader:hunter2@example.org/rss") == line(
        url="https://reader:***@example.org/rss"
    )


def json_line(**fields: object) -> str:
    record = logging.LogRecord("monitor", logging.WARNING, __file__, 1, "poll.failed", None, None)
    record.fields = fields
    return JsonFormatter().format(record)


def test_a_json_line_is_one_object_on_one_line_with_typed_values_and_no_password():
    written = json_line(
        feed="N1\nforged=1",
        url="https://user:s3cret@example.org/feed",
        failures=3,
        ms=12.5,
        unchanged=False,
        next_poll=None,
        title="line\u2028sep\u2029 Београд",
        level="not the level",
    )

    [only] = written.splitlines()
    assert "\u2028" not in only and "\u2029" not in only and "s3cret" not in only
    event = json.loads(only)
    assert (event["level"], event["event"]) == ("warning", "poll.failed")  # a field cannot replace them
    assert event["feed"] == "N1\nforged=1" and event["url"] == "https://user:***@example.org/feed"
    assert (event["failures"], event["ms"], event["unchanged"], event["next_poll"]) == (3, 12.5, False, None)
    assert event["title"] == "line\u2028sep\u2029 Београд"
    assert event["time"].endswith("Z")


@pytest.mark.parametrize(
    ("verbose", "asked", "configured", "level"),
    [
        (0, None, None, logging.INFO),  # nothing said
        (0, None, "warning", logging.WARNING),  # the config's [logging] level
        (0, "error", "warning", logging.ERROR),  # --log-level or $MONITOR_LOG_LEVEL over the config
        (0, "debug", None, logging.DEBUG),
        (1, "error", "warning", logging.DEBUG),  # -v over both
        (2, None, "error", logging.DEBUG),
    ],
)
def test_the_log_level_is_v_then_the_environment_then_the_config_then_info(verbose, asked, configured, level):
    assert chosen_level(verbose, asked, configured) == level
