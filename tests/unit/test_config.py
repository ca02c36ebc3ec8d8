"""monitor.checks.load: TOML files written to tmp_path; every problem is one ConfigError."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import monitor.config
from monitor.checks import load
from monitor.config import STORAGE_URL_ENV, Config
from monitor.config.changes import Changes, compare
from monitor.errors import ConfigError, MonitorError
from monitor.http.fetch import Limits
from monitor.polling.cadence import Cadence

VALID = """\
[storage]
url = "sqlite:///data/monitor.db"

[smtp]
host = "mail.example.org"
port = 587
security = "starttls"
username = "monitor"
from = "monitor@example.org"
timeout = "45s"

[[feeds]]
url = "https://n1info.rs/feed/"
name = "N1 Srbija"
language = "sr"
interval = "15m"
tags = ["serbia"]

[[feeds]]
url = "https://www.rts.rs/vesti/rss.html"
name = "RTS Vesti"
interval = "1h"
tags = ["serbia", "public"]

[[feeds]]
url = "https://meduza.io/rss/all"
name = "Meduza"
language = "ru"
tags = ["russian"]

[[watchlists]]
name = "relocants"
recipients = ["desk@example.org"]
queries = ['relokant*', '"Rusi u Srbiji"', 'релокант*']

[[watchlists]]
name = "bia"
recipients = ["research@example.org", "legal@example.org"]
digest = "weekly mon 08:00"
timezone = "Europe/Belgrade"
feeds = ["tag:serbia", "Meduza"]
queries = ['BIA', 'БИА']
"""


@pytest.fixture(autouse=True)
def no_storage_override(monkeypatch):
    """The developer's own $MONITOR_STORAGE_URL must not leak into these tests."""
    monkeypatch.delenv(STORAGE_URL_ENV, raising=False)


@pytest.fixture
def write(tmp_path):
    """Write TOML text to a config file in its own folder and return the path."""

    def write(text: str, name: str = "monitor.toml") -> Path:
        path = tmp_path / "conf" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value)


def edited(old: str, new: str) -> str:
    assert old in VALID, f"test setup: {old!r} is not in VALID"
    return VALID.replace(old, new, 1)


# --- a valid file ---------------------------------------------------------------------------


def test_valid_file_loads_into_typed_values(write):
    config = load(write(VALID))

    assert [feed.name for feed in config.feeds] == ["N1 Srbija", "RTS Vesti", "Meduza"]
    assert config.feeds[0].interval == timedelta(minutes=15)
    assert config.feeds[1].interval == timedelta(hours=1)
    assert config.feeds[2].interval is None  # the default: adaptive
    assert config.feeds[0].tags == ["serbia"]
    assert config.smtp.sender == "monitor@example.org"
    assert config.smtp.port == 587
    assert config.smtp.security == "starttls"
    assert config.smtp.timeout == timedelta(seconds=45)
    relocants, bia = config.watchlists
    assert relocants.queries == ["relokant*", '"Rusi u Srbiji"', "релокант*"]
    assert relocants.digest.cron == "0 8 * * *"  # default: daily 08:00
    assert relocants.timezone == ZoneInfo("UTC")
    assert relocants.feeds is None
    assert bia.digest.text == "weekly mon 08:00"
    assert bia.timezone == ZoneInfo("Europe/Belgrade")
    assert bia.recipients == ["research@example.org", "legal@example.org"]


def test_config_remembers_its_path(write):
    path = write(VALID)

    assert load(path).path == path


def test_smtp_password_comes_from_the_environment_only(write, monkeypatch):
    config = load(write(VALID))
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "s3cret")

    assert config.smtp.password == "s3cret"


def test_minimal_file_gets_defaults(write):
    config = load(
        write(
            """\
            [[feeds]]
            url = "https://n1info.rs/feed/"
            name = "N1"

            [[watchlists]]
            name = "bia"
            recipients = ["a@example.org"]
            queries = ["BIA"]
            """
        )
    )

    assert config.smtp.host == "127.0.0.1"
    assert config.smtp.port == 25
    assert config.storage.url.startswith("sqlite:///")
    assert config.storage.url.endswith("/data/monitor.db")


def test_polling_defaults_are_adaptive_between_five_minutes_and_two_hours(write):
    config = load(write(VALID))

    assert (config.polling.min_interval, config.polling.max_interval) == (
        timedelta(minutes=5),
        timedelta(hours=2),
    )
    limits = Limits.from_config(config.polling)
    assert (limits.concurrency, limits.per_host) == (32, 2)
    assert limits.max_bytes == 10 * 1024 * 1024
    assert limits.allow_private_redirects is False


def test_polling_section_sets_bounds_and_limits(write):
    config = load(
        write(
            VALID + '[polling]\nmin_interval = "10m"\nmax_interval = "6h"\nper_host = 1\ntimeout = "20s"\n'
            "allow_private_redirects = true\n"
        )
    )

    limits = Limits.from_config(config.polling)
    assert Cadence.from_config(config.polling).max_interval == timedelta(hours=6)
    assert (limits.per_host, limits.deadline) == (1, 20.0)
    assert limits.allow_private_redirects is True


def test_outbox_defaults_try_again_from_ten_minutes_to_six_hours_and_give_up_after_three_days(write):
    outbox = load(write(VALID)).outbox

    assert (outbox.retry_every, outbox.retry_max, outbox.give_up_after) == (
        timedelta(minutes=10),
        timedelta(hours=6),
        timedelta(days=3),
    )


@pytest.mark.parametrize(
    ("table", "setting", "message"),
    [
        ("polling", 'min_interval = "3h"', "min_interval is longer than max_interval"),
        ("polling", 'min_interval = "30s"', "min_interval is under a minute"),
        ("polling", "per_host = 0", "polling.per_host: Input should be greater than or equal to 1"),
        ("polling", "max_body_mb = 0", "polling.max_body_mb"),
        ("outbox", 'retry_every = "7h"', "outbox: retry_every is longer than retry_max"),
        ("outbox", 'give_up_after = "5h"', "outbox: give_up_after is shorter than retry_max"),
        ("outbox", 'retry_max = "4d"', "make give_up_after at least retry_max, or lower retry_max"),
        ("outbox", 'give_up_after = "3"', "outbox.give_up_after: '3' is not a duration"),
    ],
)
def test_bad_polling_and_outbox_values_are_config_errors(write, table, setting, message):
    assert message in load_error(write(VALID + f"[{table}]\n{setting}\n"))


def test_give_up_after_as_long_as_retry_max_is_accepted(write):
    outbox = load(write(VALID + '[outbox]\nretry_max = "1d"\ngive_up_after = "24h"\n')).outbox

    assert outbox.give_up_after == outbox.retry_max == timedelta(days=1)


# --- storage --------------------------------------------------------------------------------


def test_relative_sqlite_path_resolves_against_the_config_folder(write, tmp_path):
    config = load(write(VALID))

    assert config.storage.url == f"sqlite:///{(tmp_path / 'conf' / 'data' / 'monitor.db').resolve()}"


def test_relative_sqlite_path_does_not_depend_on_the_working_directory(write, tmp_path, monkeypatch):
    path = write(VALID)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert load(path).storage.url == f"sqlite:///{(tmp_path / 'conf' / 'data' / 'monitor.db').resolve()}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/monitor/monitor.db", "sqlite:////var/lib/monitor/monitor.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://monitor@db:5432/monitor", "postgresql+psycopg://monitor@db:5432/monitor"),
        ("postgres://monitor@db/monitor", "postgresql+psycopg://monitor@db/monitor"),
        ("postgresql+psycopg://monitor@db/monitor", "postgresql+psycopg://monitor@db/monitor"),
    ],
)
def test_storage_url_is_normalised(write, url, expected):
    config = load(write(edited('url = "sqlite:///data/monitor.db"', f'url = "{url}"')))

    assert config.storage.url == expected


def test_unsupported_storage_url_is_an_error(write):
    path = write(edited('url = "sqlite:///data/monitor.db"', 'url = "mysql://monitor@db/monitor"'))

    message = load_error(path)

    assert str(path) in message
    assert "storage.url" in message
    assert "postgresql://" in message


def test_items_are_kept_for_ever_unless_keep_items_says_how_long(write):
    keep = 'url = "sqlite:///data/monitor.db"\nkeep_items = "365d"'

    assert load(write(VALID)).storage.keep_items is None
    assert load(write(edited('url = "sqlite:///data/monitor.db"', keep))).storage.keep_items == timedelta(
        days=365
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"a year"', "storage.keep_items: 'a year' is not a duration; write a positive number and a unit"),
        ('"0d"', "storage.keep_items: '0d' is not a duration"),
        ("365", "storage.keep_items"),
        (
            '"12h"',
            "storage.keep_items: shorter than a day, but a feed lists its items for days",
        ),
    ],
)
def test_a_bad_keep_items_is_a_config_error_that_says_what_to_write(write, value, message):
    path = write(
        edited(
            'url = "sqlite:///data/monitor.db"', f'url = "sqlite:///data/monitor.db"\nkeep_items = {value}'
        )
    )

    assert message in load_error(path)


def test_storage_url_from_the_environment_overrides_the_file(write, monkeypatch):
    monkeypatch.setenv(STORAGE_URL_ENV, "postgresql://monitor@db.internal:5432/monitor")

    config = load(write(VALID))

    assert config.storage.url == "postgresql+psycopg://monitor@db.internal:5432/monitor"


def test_storage_url_from_the_environment_applies_without_a_storage_table(write, monkeypatch):
    monkeypatch.setenv(STORAGE_URL_ENV, "postgresql://monitor@db/monitor")

    config = load(write(VALID.replace('[storage]\nurl = "sqlite:///data/monitor.db"\n', "")))

    assert config.storage.url == "postgresql+psycopg://monitor@db/monitor"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("sr", "sr"),
        ("SR", "sr"),
        ("sr-Latn", "sr"),
        ("sr-Cyrl-RS", "sr"),
        ("sr_RS", "sr"),
        ("sr_RS.UTF-8@latin", "sr"),
        ("srp", "sr"),
        ("scc", "sr"),
        ("serbian", "sr"),
        ("Serbian", "sr"),
        ("srpski", "sr"),
        ("српски", "sr"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("rus", "ru"),
        ("russian", "ru"),
        ("русский", "ru"),
        ("en", "en"),
        ("en-GB", "en"),
        ("eng", "en"),
        ("English", "en"),
        ("hr", "hr"),
        ("hrv", "hr"),
        ("Croatian", "hr"),
        ("bs-Latn-BA", "bs"),
        ("bosanski", "bs"),
        ("cnr", "cnr"),
        ("Montenegrin", "cnr"),
        ("sh", "sh"),
        ("hbs", "sh"),
        ("Serbo-Croatian", "sh"),
    ],
)
def test_feed_language_is_normalised_to_the_matchers_code(write, written, code):
    config = load(write(edited('language = "ru"', f'language = "{written}"')))

    assert config.feeds[2].language == code


@pytest.mark.parametrize("written", ["serbain", "sr-", "sr--RS", "Serbian_RS", "uk", "de-DE", "klingon", ""])
def test_unknown_feed_language_names_its_key_and_the_accepted_forms(write, written):
    path = write(edited('language = "ru"', f'language = "{written}"'))

    message = load_error(path)

    assert f"{path}: feeds[2].language: {written!r} is not a language the matcher reads" in message
    assert "as a code (en, ru, sr, hr, bs, cnr), a BCP 47 tag (sr-Latn, sr_RS)" in message


@pytest.mark.parametrize(
    ("written", "tag"),
    [
        ("en", "en"),
        ("ru", "ru"),
        ("sr-Cyrl", "sr-Cyrl"),
        ("sr_cyrl", "sr-Cyrl"),
        ("sr-Latn", "sr-Latn"),
        ("sr", "sr-Latn"),
        ("SR", "sr-Latn"),
        ("RU", "ru"),
    ],
)
def test_watchlist_locale_is_read_in_its_canonical_spelling(write, written, tag):
    config = load(write(edited('name = "bia"', f'name = "bia"\nlocale = "{written}"')))

    assert (config.watchlist("bia").locale, config.watchlist("relocants").locale) == (tag, "en")


def test_top_level_locale_and_script_apply_to_the_watchlists_that_set_neither(write):
    text = 'locale = "sr-Cyrl"\nscript = "cyrl"\n' + edited('name = "bia"', 'name = "bia"\nlocale = "ru"')

    config = load(write(text))

    relocants, bia = config.watchlist("relocants"), config.watchlist("bia")
    assert (relocants.locale, relocants.script, bia.locale, bia.script) == ("sr-Cyrl", "cyrl", "ru", "cyrl")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (edited('name = "bia"', 'name = "bia"\nlocale = "sr-RS"'), "watchlists[1].locale"),
        (edited('name = "bia"', 'name = "bia"\nlocale = "de"'), "watchlists[1].locale"),
        ('locale = "serbian"\n' + VALID, "locale"),
    ],
)
def test_unknown_locale_names_its_key_and_the_accepted_ones(write, text, where):
    path = write(text)

    message = load_error(path)

    assert f"{path}: {where}: " in message
    assert 'is not a locale monitor writes; use one of "en", "ru", "sr-Cyrl", "sr-Latn"' in message
    assert message.count("is not a locale") == 1  # a top-level one is not repeated at each watchlist


def test_unknown_script_names_its_key(write):
    path = write(edited('name = "bia"', 'name = "bia"\nscript = "cyrillic"'))

    message = load_error(path)

    assert f"{path}: watchlists[1].script: " in message and "'cyrl' or 'latn'" in message


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ('url = "https://t.me/s/meduzalive"', "", ("telegram", "https://t.me/s/meduzalive")),
        ('url = "https://t.me/meduzalive"', "", ("telegram", "https://t.me/s/meduzalive")),
        ('url = "https://t.me/meduzalive"', 'type = "telegram"', ("telegram", "https://t.me/s/meduzalive")),
        (
            'url = "http://127.0.0.1:8080/s/chan"',
            'type = "telegram"',
            ("telegram", "http://127.0.0.1:8080/s/chan"),
        ),
        ('url = "https://meduza.io/rss/all"', "", ("feed", "https://meduza.io/rss/all")),
    ],
)
def test_a_telegram_channel_is_read_from_its_link_or_its_type(write, url, kind, expected):
    config = load(write(edited('url = "https://meduza.io/rss/all"', f"{url}\n{kind}")))

    assert (config.feeds[2].type, config.feeds[2].url) == expected


@pytest.mark.parametrize("url", ["https://t.me/+AbCdEfGh", "https://t.me/meduzalive/123"])
def test_a_telegram_link_that_is_not_a_public_channel_is_refused_saying_what_to_write(write, url):
    path = write(edited('url = "https://meduza.io/rss/all"', f'url = "{url}"\ntype = "telegram"'))

    message = load_error(path)

    assert f"{path}: feeds[2]: " in message and "write it as https://t.me/s/CHANNEL" in message


@pytest.mark.parametrize(
    ("feed_line", "watchlist_line", "read_in_full"),
    [
        ("", "", {"N1 Srbija": False, "RTS Vesti": False, "Meduza": False}),
        ("fulltext = true", "", {"N1 Srbija": False, "RTS Vesti": False, "Meduza": True}),
        # bia watches tag:serbia and Meduza; relocants watches all
        ("", "fulltext = true", {"N1 Srbija": True, "RTS Vesti": True, "Meduza": True}),
        (
            'url = "https://t.me/s/meduzalive"',
            "fulltext = true",
            {"N1 Srbija": True, "RTS Vesti": True, "Meduza": False},
        ),
    ],
    ids=["neither", "the feed", "a watchlist that watches it", "a channel, whole already"],
)
def test_a_feed_is_read_in_full_text_when_it_or_a_watchlist_watching_it_says_so(
    write, feed_line, watchlist_line, read_in_full
):
    text = edited('name = "Meduza"\n', f'name = "Meduza"\n{feed_line}\n')
    text = text.replace("queries = ['BIA', 'БИА']", f"queries = ['BIA', 'БИА']\n{watchlist_line}")
    if feed_line.startswith("url"):
        text = text.replace('url = "https://meduza.io/rss/all"\n', "")

    config = load(write(text))

    assert {feed.name: config.fulltext(feed) for feed in config.feeds} == read_in_full


def test_fulltext_on_a_telegram_channel_is_refused_saying_why(write):
    path = write(
        edited('url = "https://meduza.io/rss/all"', 'url = "https://t.me/s/meduzalive"\nfulltext = true')
    )

    message = load_error(path)

    assert f"{path}: feeds[2]: " in message and "posts are read whole already; remove fulltext" in message


@pytest.mark.parametrize(
    "name", ["RTS / Vesti", "Al Jazeera: World", "Радио Слободна Европа", "N1 (Beograd) #1"]
)
def test_a_feed_may_be_named_as_its_outlet_is_called(write, name):
    written = json.dumps(name, ensure_ascii=False)
    text = edited('name = "Meduza"', f"name = {written}").replace('"Meduza"]', f"{written}]")

    config = load(write(text))

    assert config.feeds[2].name == name
    assert [feed.name for feed in config.feeds if config.watchlist("bia").watches(feed)][-1] == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "may not be empty"),
        (" RTS", "begin or end with a space"),
        ("RTS\nVesti", "control characters ('\\n')"),
        ("RTS\u202eVesti", "control characters ('\\u202e')"),
        ("tag:serbia", "may not begin with tag:"),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_a_feed_name_that_cannot_be_shown_or_told_from_a_tag_is_refused(write, name, says):
    path = write(edited('name = "Meduza"', f"name = {json.dumps(name)}"))

    message = load_error(path)

    assert f"{path}: feeds[2].name: " in message and says in message


def test_misspelt_feed_language_gets_a_suggestion(write):
    assert "(did you mean 'serbian'?)" in load_error(write(edited('language = "ru"', 'language = "serbain"')))


# --- errors: where and what -----------------------------------------------------------------


def test_bad_query_names_the_watchlist_and_query_index(write):
    path = write(edited("queries = ['BIA', 'БИА']", "queries = ['BIA', '\"security risk']"))

    message = load_error(path)

    assert str(path) in message
    assert "watchlists[1].queries[1]" in message
    assert "unbalanced quote" in message


def test_bad_first_query_of_second_watchlist(write):
    path = write(edited("queries = ['BIA', 'БИА']", "queries = ['BIA AND (Serbia OR Srbija']"))

    message = load_error(path)

    assert "watchlists[1].queries[0]: column 9: unbalanced parenthesis" in message


@pytest.mark.parametrize("zone", ["Europe/Nowhere", "CET+1", "", "../etc/passwd"])
def test_bad_timezone_names_its_key_path(write, zone):
    path = write(edited('name = "relocants"', f'name = "relocants"\ntimezone = "{zone}"'))

    message = load_error(path)

    assert str(path) in message
    assert "watchlists[0].timezone" in message
    assert "Europe/Belgrade" in message  # the hint shows a valid name


def test_timezone_naming_a_region_folder_is_a_config_error(write):
    path = write(edited('name = "relocants"', 'name = "relocants"\ntimezone = "Europe"'))

    assert "watchlists[0].timezone" in load_error(path)


@pytest.mark.parametrize(
    ("old", "new", "where", "hint"),
    [
        (
            'recipients = ["desk@example.org"]',
            'recipient = ["desk@example.org"]',
            "watchlists[0].recipient",
            "did you mean 'recipients'?",
        ),
        ("port = 587", "prot = 587", "smtp.prot", "did you mean 'port'?"),
        ('interval = "1h"', 'intervall = "1h"', "feeds[1].intervall", "did you mean 'interval'?"),
        ("[storage]", "[storag]", "storag", "did you mean 'storage'?"),
        ('language = "ru"', 'colour = "red"', "feeds[2].colour", "check its spelling or remove it"),
    ],
)
def test_unknown_key_is_an_error_with_a_hint(write, old, new, where, hint):
    path = write(edited(old, new))

    message = load_error(path)

    assert str(path) in message
    assert f"{where}: unknown key" in message
    assert hint in message


def test_path_key_is_not_accepted_from_the_file(write):
    message = load_error(write('path = "/etc/other.toml"\n' + VALID))

    assert "path: unknown key" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('url = "https://meduza.io/rss/all"\n', "", "feeds[2].url"),
        ('name = "N1 Srbija"\n', "", "feeds[0].name"),
        ('recipients = ["desk@example.org"]\n', "", "watchlists[0].recipients"),
        ("queries = ['BIA', 'БИА']\n", "", "watchlists[1].queries"),
    ],
)
def test_missing_required_key_is_named(write, old, new, where):
    message = load_error(write(edited(old, new)))

    assert f"{where}: required key is missing" in message


def test_missing_watchlists_is_named(write):
    text = VALID[: VALID.index("[[watchlists]]")]

    message = load_error(write(text))

    assert "watchlists: required key is missing" in message


@pytest.mark.parametrize(
    ("old", "new", "where", "says"),
    [
        ('interval = "15m"', 'interval = "15 minutes"', "feeds[0].interval", "15m"),
        ('interval = "15m"', "interval = 15", "feeds[0].interval", "as a string"),
        (
            'digest = "weekly mon 08:00"',
            'digest = "weekly monday"',
            "watchlists[1].digest",
            "weekly mon 08:00",
        ),
        (
            'digest = "weekly mon 08:00"',
            'digest = "daily 25:00"',
            "watchlists[1].digest",
            "not a time of day",
        ),
        (
            'recipients = ["desk@example.org"]',
            'recipients = ["desk at example.org"]',
            "watchlists[0].recipients[0]",
            "not an email address",
        ),
        (
            'recipients = ["desk@example.org"]',
            "recipients = []",
            "watchlists[0]",
            "no recipients and no notify",
        ),
        ('from = "monitor@example.org"', 'from = "monitor"', "smtp.from", "not an email address"),
        ('url = "https://n1info.rs/feed/"', 'url = "n1info.rs/feed/"', "feeds[0].url", "http(s) URL"),
        ('security = "starttls"', 'security = "tls"', "smtp.security", "starttls"),
        ("port = 587", "port = 70000", "smtp.port", "65535"),
        ('name = "relocants"', 'name = "/relocants"', "watchlists[0].name", "a name starts with"),
    ],
)
def test_bad_value_is_reported_with_its_key_path(write, old, new, where, says):
    path = write(edited(old, new))

    message = load_error(path)

    assert f"{path}: {where}: " in message
    assert says in message


def test_every_problem_is_reported_at_once(write):
    text = edited("port = 587", "port = 0")
    text = text.replace("queries = ['BIA', 'БИА']", "queries = ['a*b']")

    message = load_error(write(text))

    assert "smtp.port" in message
    assert "watchlists[1].queries[0]" in message


def test_the_config_alone_leaves_what_the_runtime_reads_to_monitor_checks(write):
    text = edited("queries = ['BIA', 'БИА']", "queries = ['a*b']")
    path = write(text.replace('language = "ru"', 'language = "Russian"'))

    config = monitor.config.load(path)

    assert config.watchlists[1].queries == ["a*b"]
    assert config.feeds[2].language == "Russian"  # the matcher's code is monitor.checks'
    assert "watchlists[1].queries[0]" in load_error(path)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('name = "Meduza"', 'name = "N1 Srbija"', "feeds[2].name"),
        ('name = "bia"', 'name = "relocants"', "watchlists[1].name"),
    ],
)
def test_duplicate_names_are_an_error(write, old, new, where):
    path = write(edited(old, new))

    message = load_error(path)

    assert f"{path}: {where}: " in message
    assert "used twice" in message


@pytest.mark.parametrize(
    ("feeds", "where", "says"),
    [
        ('["N2 Srbija"]', "watchlists[0].feeds[0]", "'N2 Srbija'"),
        ('["Meduza", "tag:balkan"]', "watchlists[0].feeds[1]", "tag 'balkan'"),
        ('["serbia"]', "watchlists[0].feeds[0]", "feed name 'serbia'"),
    ],
)
def test_watchlist_referencing_an_unknown_feed_or_tag_is_an_error(write, feeds, where, says):
    path = write(edited('name = "relocants"', f'name = "relocants"\nfeeds = {feeds}'))

    message = load_error(path)

    assert f"{path}: {where}: " in message
    assert says in message
    assert "known:" in message


def test_invalid_toml_is_a_config_error_with_the_path(write):
    path = write(VALID.replace("[storage]", "[storage"))

    message = load_error(path)

    assert str(path) in message
    assert "not valid TOML" in message
    assert "line 1" in message


def test_missing_file_is_a_config_error_with_the_path(tmp_path):
    path = tmp_path / "nowhere" / "monitor.toml"

    message = load_error(path)

    assert str(path) in message
    assert "no such config file" in message


def test_file_that_is_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "monitor.toml"
    path.write_bytes(VALID.replace("БИА", "BIA").encode() + "# Београд\n".encode("cp1251"))

    assert str(path) in load_error(path)


def test_config_error_is_a_monitor_error():
    assert issubclass(ConfigError, MonitorError)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('recipients = ["desk@example.org"]', 'recipients = ["desk@example.org\\n"]'),
        ('from = "monitor@example.org"', 'from = "monitor@example.org\\n"'),
        ('name = "relocants"', 'name = "relocants\\n"'),
    ],
)
def test_value_with_a_trailing_newline_is_rejected(write, old, new):
    load_error(write(edited(old, new)))


def test_huge_interval_is_a_config_error_not_a_crash(write):
    message = load_error(write(edited('interval = "15m"', 'interval = "1000000000d"')))

    assert "feeds[0].interval: '1000000000d'" in message


# --- watches and lookup ---------------------------------------------------------------------


@pytest.fixture
def config(write) -> Config:
    return load(write(VALID))


def feed(config: Config, name: str):
    return next(f for f in config.feeds if f.name == name)


@pytest.mark.parametrize(
    ("watchlist", "feed_name", "watched"),
    [
        ("relocants", "N1 Srbija", True),  # no feeds key: every feed
        ("relocants", "Meduza", True),
        ("bia", "N1 Srbija", True),  # tag:serbia
        ("bia", "RTS Vesti", True),  # tag:serbia
        ("bia", "Meduza", True),  # by name
    ],
)
def test_watches_honours_names_and_tags(config, watchlist, feed_name, watched):
    assert config.watchlist(watchlist).watches(feed(config, feed_name)) is watched


def test_watches_is_false_for_a_feed_neither_named_nor_tagged(write):
    config = load(write(edited('feeds = ["tag:serbia", "Meduza"]', 'feeds = ["tag:public"]')))
    bia = config.watchlist("bia")

    assert bia.watches(feed(config, "RTS Vesti")) is True
    assert bia.watches(feed(config, "N1 Srbija")) is False
    assert bia.watches(feed(config, "Meduza")) is False


def test_tag_reference_does_not_match_a_feed_name(write):
    config = load(write(edited('feeds = ["tag:serbia", "Meduza"]', 'feeds = ["Meduza"]')))

    assert config.watchlist("bia").watches(feed(config, "N1 Srbija")) is False


def test_watchlists_for_a_feed(write):
    config = load(write(edited('feeds = ["tag:serbia", "Meduza"]', 'feeds = ["tag:russian"]')))

    assert [w.name for w in config.watchlists_for(feed(config, "Meduza"))] == ["relocants", "bia"]
    assert [w.name for w in config.watchlists_for(feed(config, "N1 Srbija"))] == ["relocants"]


def test_watchlist_by_name(config):
    assert config.watchlist("bia").queries == ["BIA", "БИА"]


def test_unknown_watchlist_name_is_a_config_error_listing_the_names(config):
    with pytest.raises(ConfigError) as caught:
        config.watchlist("expulsions")

    message = str(caught.value)
    assert "'expulsions'" in message
    assert "relocants" in message
    assert "bia" in message
    assert str(config.path) in message


# --- digest templates -----------------------------------------------------------------------


def test_a_templates_folder_resolves_against_the_config_file(write):
    path = write('templates = "tpl"\n' + VALID)
    (path.parent / "tpl").mkdir()
    (path.parent / "tpl" / "digest.txt").write_text("{{ watchlist }}: {{ count }}\n")

    assert load(path).templates == (path.parent / "tpl").resolve()


def test_a_missing_templates_folder_is_refused(write):
    path = write('templates = "tpl"\n' + VALID)

    assert f"templates: {(path.parent / 'tpl').resolve()} is not a folder" in load_error(path)


def test_a_template_that_does_not_compile_is_refused_with_its_file_and_line(write):
    path = write('templates = "tpl"\n' + VALID)
    (path.parent / "tpl").mkdir()
    (path.parent / "tpl" / "digest.html").write_text("<h1>{{ watchlist }}</h1>\n<p>{% if count %}</p>\n")

    message = load_error(path)

    assert f"templates: {(path.parent / 'tpl' / 'digest.html').resolve()}: line 2: " in message
    assert "endif" in message


# --- [server] -------------------------------------------------------------------------------


def test_the_server_is_off_unless_it_is_given_an_address(write):
    assert load(write(VALID)).server.listen is None


@pytest.mark.parametrize(
    ("written", "host", "port"),
    [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("0.0.0.0:9100", "0.0.0.0", 9100),
        ("[::1]:8080", "::1", 8080),
        ("localhost:8080", "localhost", 8080),
        (" 127.0.0.1:0 ", "127.0.0.1", 0),  # any free port: the daemon logs which
    ],
)
def test_server_listen_is_host_and_port(write, written, host, port):
    config = load(write(VALID + f'\n[server]\nlisten = "{written}"\n'))

    assert config.server.listen is not None
    assert monitor.config.split_listen(config.server.listen) == (host, port)


@pytest.mark.parametrize("written", ["8080", "127.0.0.1", "127.0.0.1:http", ":8080", "::1:8080", "h:70000"])
def test_a_server_address_without_host_and_port_is_refused_saying_how_to_write_it(write, written):
    said = load_error(write(VALID + f'\n[server]\nlisten = "{written}"\n'))

    assert "server.listen" in said and 'write it as "127.0.0.1:8080"' in said


# --- what a reload changes ------------------------------------------------------------------

RESTART = ("storage.url", "polling.concurrency")


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ("", "", Changes()),
        ('name = "RTS Vesti"', 'name = "RTS"', Changes(feeds_added=("RTS",), feeds_removed=("RTS Vesti",))),
        ('interval = "1h"', 'interval = "2h"', Changes(feeds_changed=("RTS Vesti",))),
        # the feeds a watchlist watches
        ('"Meduza"]', '"tag:russian"]', Changes(watchlists_changed=("bia",))),
        ("weekly mon 08:00", "daily 07:00", Changes(watchlists_changed=("bia",))),
        (
            'name = "bia"',
            'name = "agency"',
            Changes(watchlists_added=("agency",), watchlists_removed=("bia",)),
        ),
        ("data/monitor.db", "data/other.db", Changes(fixed=("storage.url",))),
        ('timeout = "45s"', 'timeout = "50s"', Changes()),  # [smtp]: applied at once
    ],
)
def test_a_reload_names_what_it_adds_removes_and_changes_and_what_waits_for_a_restart(
    write, old, new, changes
):
    running = load(write(VALID))

    assert compare(running, load(write(edited(old, new), "new.toml")), RESTART) == changes
