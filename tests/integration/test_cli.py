"""The commands a user types, run through click's runner (and a real process for the daemon)."""

from __future__ import annotations

import json
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import time
from importlib import metadata

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, update

from monitor import __version__
from monitor.cli import main
from monitor.match import forms, release
from monitor.match.cache import load
from monitor.models import utcnow
from monitor.store.schema import feeds, items
from tests.conftest import free_port
from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.polling import poll
from tests.support.processes import start_daemon, wait_until


def test_version_names_monitor_python_and_each_key_library():
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, timeout=60
    )

    lines = result.stdout.splitlines()
    assert result.returncode == 0 and result.stderr == ""
    assert lines[:2] == [
        f"monitor {__version__}",
        f"Python {platform.python_version()} ({sys.implementation.name})",
    ]
    for name in "feedparser httpx SQLAlchemy alembic psycopg pydantic apprise simplemma pymorphy3".split():
        assert f"{name} {metadata.version(name)}" in lines


def test_bad_query_exits_2_naming_the_file_and_key(tmp_path, write_config):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url="sqlite:///x.db",
        smtp_port=25,
        queries=("BIA", '"ruska dijaspora'),
    )

    code, stdout, stderr = monitor(config, "check-config")

    assert code == 2
    assert f"{config}: watchlists[0].queries[1]: column 1: unbalanced quote" in stderr
    assert "Traceback" not in stdout + stderr


def test_unknown_key_and_missing_file_exit_2(tmp_path, write_config):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url="sqlite:///x.db",
        smtp_port=25,
        extra='digets = "daily 07:00"',
    )

    code, _, stderr = monitor(config, "check-config")
    missing_code, _, missing = monitor(tmp_path / "nope.toml", "poll", "--all")

    assert code == 2 and "watchlists[0].digets: unknown key 'digets'; did you mean 'digest'?" in stderr
    assert missing_code == 2 and "no such config file" in missing


def test_without_a_config_the_example_is_used_with_a_note(tmp_path, monkeypatch, write_config):
    example = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)
    (tmp_path / "config").mkdir()
    example.rename(tmp_path / "config" / "monitor.example.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)

    result = CliRunner().invoke(main, ["check-config"])

    assert result.exit_code == 0
    assert "ok: config/monitor.example.toml" in result.stdout
    assert "note: config/monitor.toml not found; using config/monitor.example.toml." in result.stderr


def test_outside_a_checkout_the_packaged_example_is_used_with_its_database_in_the_data_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))

    result = CliRunner().invoke(main, ["check-config"])

    assert result.exit_code == 0, result.output
    assert f"storage: sqlite:///{tmp_path}/share/monitor/" in result.stdout
    assert "using the example config" in result.stderr and "monitor init" in result.stderr
    assert not (tmp_path / "config").exists()


def test_init_writes_a_starter_config_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)

    first = CliRunner().invoke(main, ["init"])
    again = CliRunner().invoke(main, ["init"])
    elsewhere = CliRunner().invoke(main, ["init", "site"])
    checked = CliRunner().invoke(main, ["check-config"])

    assert first.exit_code == 0 and "wrote config/monitor.toml: set your recipients, [smtp]" in first.stdout
    assert again.exit_code == 1 and "config/monitor.toml exists" in again.stderr
    assert elsewhere.exit_code == 0 and "pass -c site/monitor.toml" in elsewhere.stdout
    assert checked.exit_code == 0 and "ok: config/monitor.toml" in checked.stdout
    assert f"storage: sqlite:///{tmp_path}/config/data/monitor.db" in checked.stdout


def test_monitor_config_variable_chooses_the_file(tmp_path, monkeypatch, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)
    monkeypatch.setenv("MONITOR_CONFIG", str(config))

    result = CliRunner().invoke(main, ["check-config"])

    assert result.exit_code == 0 and f"ok: {config}" in result.stdout
    assert "note:" not in result.stderr


def test_check_config_summarises_feeds_watchlists_and_next_digest(tmp_path, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)

    code, stdout, _ = monitor(config, "check-config")

    assert code == 0
    assert "1 feeds:\n  N1  --  every 1m   http://127.0.0.1:1/n1.xml\n" in stdout
    assert "  relocants: 3 queries, feeds: all; to desk@example.org, lawyer@example.org" in stdout
    assert re.search(r"digest daily 08:00 Europe/Belgrade; next \w{3} \d{4}-\d\d-\d\d 08:00 CES?T", stdout)


def test_check_config_shows_no_password_of_the_database_or_a_feed(tmp_path, write_config):
    config = write_config(
        {"N1": "https://reader:feed-pass@127.0.0.1:1/n1.xml"},
        database_url="postgresql://monitor:db-pass@db.example.org:5432/monitor",
        smtp_port=25,
    )

    code, stdout, stderr = monitor(config, "check-config")

    assert code == 0
    assert "storage: postgresql+psycopg://monitor:***@db.example.org:5432/monitor\n" in stdout
    assert "https://reader:***@127.0.0.1:1/n1.xml" in stdout
    assert "pass" not in stdout + stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+nosuchdriver://monitor:db-pass@127.0.0.1/monitor",
        "postgresql://monitor:db-pass@127.0.0.1:port/monitor",  # a port that is no number
    ],
)
def test_a_database_url_that_cannot_be_used_is_named_without_its_password(tmp_path, write_config, url):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url=url, smtp_port=25)

    code, stdout, stderr = monitor(config, "hits")

    assert (
        code == 1 and "cannot use the database 'postgresql+" in stderr and "monitor:***@127.0.0.1" in stderr
    )
    assert "db-pass" not in stdout + stderr and "Traceback" not in stdout + stderr


# `python -c` this, then monitor's arguments: monitor in a Python where psycopg cannot be imported.
WITHOUT_PSYCOPG = """
import sys

class RefusePsycopg:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg_binary", "psycopg_c"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, RefusePsycopg())
from monitor.__main__ import main
main()
"""


def test_a_postgresql_url_without_psycopg_names_the_extra_to_install(tmp_path, write_config):
    closed = free_port()
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url=f"postgresql://monitor@127.0.0.1:{closed}/monitor",
        smtp_port=closed,
    )

    def without_psycopg(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", WITHOUT_PSYCOPG, "-c", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    hits = without_psycopg("hits")
    connect = without_psycopg("check-config", "--connect")

    needed = "the storage URL is PostgreSQL, but psycopg is not installed: pip install 'monitor[postgres]'"
    assert hits.returncode == 1 and hits.stderr == f"error: {needed}\n"
    database = f"postgresql+psycopg://monitor@127.0.0.1:{closed}/monitor"
    assert connect.returncode == 1 and f"FAILED  database {database}: {needed}\n" in connect.stdout
    assert "Traceback" not in hits.stdout + connect.stdout + connect.stderr


def test_check_config_connect_tries_the_database_smtp_and_channels_sending_nothing(
    feed_server, smtp_server, database_url, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url},
        database_url=database_url,
        smtp_port=smtp_server.port,
        extra='notify = ["json://127.0.0.1:9/hook"]',
    )

    before = monitor(config, "check-config", "--connect")
    monitor(config, "poll", "--all")
    code, stdout, stderr = monitor(config, "check-config", "--connect")

    assert before[0] == 0 and "ok      database " in before[1]
    assert code == 0, stdout + stderr
    assert re.search(r"^ok      database \S+: connected; schema at revision \w+, the newest$", stdout, re.M)
    assert f"ok      smtp 127.0.0.1:{smtp_server.port} (none): the server greeted us, then quit" in stdout
    assert "ok      channel json://127.0.0.1:9/hook: Apprise reads the URL; not tried" in stdout
    assert smtp_server.sink.envelopes == [] and smtp_server.sink.data_commands == 0


def test_check_config_connect_fails_naming_each_unreachable_part_without_its_password(
    tmp_path, write_config, monkeypatch
):
    closed = free_port()
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url=f"postgresql://monitor:db-pass@127.0.0.1:{closed}/monitor",
        smtp_port=closed,
    )

    code, stdout, stderr = monitor(config, "check-config", "--connect")

    assert code == 1
    assert f"FAILED  database postgresql+psycopg://monitor:***@127.0.0.1:{closed}/monitor: " in stdout
    assert (
        f"FAILED  smtp 127.0.0.1:{closed} (none): SMTP 127.0.0.1:{closed}: connection refused: "
        "is the mail server running, and is the port right?"
    ) in stdout
    assert "db-pass" not in stdout + stderr and "Traceback" not in stdout + stderr


@pytest.mark.parametrize("chosen", ["option", "environment"])
def test_log_lines_are_json_objects_when_asked(
    feed_server, smtp_server, tmp_path, write_config, monkeypatch, chosen
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    if chosen == "environment":
        monkeypatch.setenv("MONITOR_LOG_FORMAT", "json")
    asked = ("--log-format", "json") if chosen == "option" else ()

    code, _, logged = monitor(config, *asked, "poll", "--all")

    events = [json.loads(line) for line in logged.splitlines()]  # every line an object
    assert code == 0
    [polled] = [event for event in events if event["event"] == "poll.ok"]
    assert (polled["feed"], polled["status"], polled["new_items"], polled["level"]) == ("N1", 200, 3, "info")


def test_poll_then_hits_feeds_preview_and_send(feed_server, smtp_server, tmp_path, write_config):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )

    code, polled, _ = monitor(config, "poll", "--all")
    assert code == 0
    assert "feeds ok: 1, failed: 0; new items: 3; new hits: 1" in polled

    code, lines, _ = monitor(config, "hits", "--json", "--since", "7d")
    [hit] = [json.loads(line) for line in lines.splitlines()]
    assert hit["watchlist"] == "relocants" and hit["feed"] == "N1"
    assert hit["url"] == "https://n1info.rs/n1-1002/"
    assert hit["published"] == "2026-11-21T09:10:00Z"
    assert hit["matched"] == ["BIA", "relokant*"]
    assert hit["delivered"] is False

    code, lines, _ = monitor(config, "feeds", "--json")
    [feed] = [json.loads(line) for line in lines.splitlines()]
    assert (feed["name"], feed["items"], feed["hits"], feed["last_error"]) == ("N1", 3, 1, None)
    assert feed["last_success"].endswith("Z")

    preview = tmp_path / "digest.html"
    code, _, _ = monitor(config, "digest", "preview", "--output", str(preview))
    assert code == 0 and ">BIA</mark>" in preview.read_text()
    assert smtp_server.sink.envelopes == []

    code, sent, _ = monitor(config, "digest", "send", "--watchlist", "relocants")
    assert code == 0 and "sent relocants: 1 hits" in sent
    code, lines, _ = monitor(config, "hits", "--json")
    assert json.loads(lines)["delivered"] is True
    code, again, _ = monitor(config, "digest", "send")
    assert "nothing new for relocants" in again
    assert len(smtp_server.sink.envelopes) == 1


def test_digest_status_lists_runs_newest_first_with_each_recipients_state_and_error(
    feed_server, smtp_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    monitor(config, "poll", "--all")
    smtp_server.sink.refuse = "451 4.3.0 try again later"
    failed, _, said = monitor(config, "digest", "send")
    _, waiting, _ = monitor(config, "digest", "status", "--json")
    smtp_server.sink.refuse = None
    _, resent, _ = monitor(config, "digest", "send")
    monitor(config, "digest", "send")

    code, lines, _ = monitor(config, "digest", "status", "--json")
    _, table, _ = monitor(config, "digest", "status", "--limit", "1")

    assert failed == 1 and "pending relocants: 1 hits; not yet delivered to desk@example.org, " in said
    assert "451 4.3.0 try again later" in said and said.rstrip().endswith("; the next run tries again")
    assert "sent relocants (the digest of " in resent and ", again): 1 hits" in resent
    [pending] = [json.loads(line) for line in waiting.splitlines()]
    assert pending["status"] == "pending" and "451" in pending["error"]
    assert [(d["recipient"], d["state"], d["attempts"]) for d in pending["deliveries"]] == [
        ("desk@example.org", "failed_temporary", 1),
        ("lawyer@example.org", "failed_temporary", 1),
    ]
    assert all("451 4.3.0 try again later" in d["error"] for d in pending["deliveries"])
    runs = [json.loads(line) for line in lines.splitlines()]
    assert code == 0
    # the pending digest was sent at the second run, which then had nothing new; so had the third
    assert [(run["status"], run["hits"]) for run in runs] == [("empty", 0), ("empty", 0), ("sent", 1)]
    sent = runs[2]
    assert sent["error"] is None and sent["message_id"] == pending["message_id"]
    assert sent["recipients"] == ["desk@example.org", "lawyer@example.org"]
    assert [(d["state"], d["attempts"], d["error"]) for d in sent["deliveries"]] == [("sent", 2, None)] * 2
    assert all(d["sent"].endswith("Z") for d in sent["deliveries"])
    assert sent["message_id"].startswith("<") and runs[0]["created"].endswith("Z")
    assert runs[0]["deliveries"] == []
    assert "1 runs" in table and "empty" in table and "sent" not in table


def column(table: str, number: int) -> str:
    """A rich table's ``number``-th column (from 1), its lines joined without their spaces,
    so that a value folded or wrapped onto several lines reads whole again."""
    lines = [line.split("│")[number] for line in table.splitlines() if line.count("│") > number]
    return "".join("".join(lines).split())


def test_digest_status_at_80_columns_shows_long_addresses_and_answers_whole(
    smtp_server, tmp_path, n1_config, monkeypatch
):
    long = "press-office.belgrade-bureau@ministarstvo-unutrasnjih-poslova.gov.rs"
    refused = "legal-department.archive@advokatska-komora-beograda.example.org"
    config = n1_config(f"sqlite:///{tmp_path / 'm.db'}", recipients=[long, refused])
    monitor(config, "poll", "--all")
    smtp_server.sink.refuse_recipients = {refused: "550 5.1.1 <" + refused + ">: no such user here"}
    monitor(config, "digest", "send")
    monitor(config, "digest", "send")  # nothing new: an empty run, which lists its recipients
    monkeypatch.setenv("COLUMNS", "80")

    code, table, _ = monitor(config, "digest", "status")
    _, plain, _ = monitor(config, "digest", "status", "--watchlist", "relocants", "--limit", "1")

    assert code == 0 and "…" not in table + plain
    assert max(len(line) for line in (table + plain).splitlines()) <= 80
    first, errors = column(table, 1), column(table, 5)
    assert first.count(long) == 2 and first.count(refused) == 2  # the empty run's, the delivery's
    assert f"5505.1.1<{refused}>:nosuchuserhere" in errors
    assert "partial" in table and "refused" in table
    assert column(plain, 1).count(long) == 1 and "error" not in plain  # no error, no error column
    assert re.search(r"│ \d\d-\d\d \d\d:\d\d  relocants ", table)  # this year's: no year


@pytest.mark.parametrize(
    ("send_empty", "shown"), [("false", "nothing pending"), ("true", "relocants: nothing new")]
)
def test_preview_of_an_empty_period_shows_what_send_would_do(tmp_path, write_config, send_empty, shown):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=25,
        extra=f"send_empty = {send_empty}",
    )

    code, stdout, _ = monitor(config, "digest", "preview")

    assert code == 0 and shown in stdout


def test_digest_send_with_a_refused_recipient_says_so_and_exits_1(
    feed_server, smtp_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    monitor(config, "poll", "--all")
    smtp_server.sink.refuse_recipients = {"lawyer@example.org": "550 5.1.1 no such user"}

    code, _, stderr = monitor(config, "digest", "send")

    assert code == 1
    assert "sent relocants: 1 hits, but refused lawyer@example.org: 550 5.1.1 no such user" in stderr


def test_preview_follows_the_watchlists_group_by(feed_server, tmp_path, write_config):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25, extra='group_by = "feed"'
    )
    monitor(config, "poll", "--all")

    code, stdout, _ = monitor(config, "digest", "preview")

    assert code == 0 and "== N1 ==" in stdout


def test_hits_table_shows_feed_text_that_looks_like_rich_markup_as_written(
    feed_server, tmp_path, write_config
):
    entries = [("n1-9", "[b]BIA[/b] o relokantima", "")]
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", entries))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25)
    monitor(config, "poll", "--all")

    code, stdout, _ = monitor(config, "hits")

    assert code == 0 and "[b]BIA[/b]" in stdout


def test_hits_at_80_columns_show_the_id_explain_takes_and_each_title_whole(
    feed_server, tmp_path, write_config, monkeypatch
):
    title = (
        "BIA: Ruski aktivista i relokant proglašen bezbednosnim rizikom posle višemesečne "
        "istrage o navodnim vezama sa opozicijom u Beogradu"
    )
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", [("n1-7", title, "")]))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25)
    monitor(config, "poll", "--all")
    monkeypatch.setenv("COLUMNS", "80")

    code, table, _ = monitor(config, "hits")
    [hit_id] = re.findall(r"\d+", column(table, 1))
    explained, why, _ = monitor(config, "explain", hit_id)

    assert code == 0 and "…" not in table
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "".join(title.split()) + "BIA,relokant*" in column(table, 4)
    assert column(table, 3) == "relocantsN1" and column(table, 5) == "no"
    assert explained == 0 and "MATCH relocants: relokant*" in why


HOSTILE = "\x1b[2J\x1b]0;pwned\x07BIA\x00 o relokantima \u202egnp.exe\u202c [bold red]x[/]"


def test_stored_text_is_shown_escaped_never_obeyed_as_terminal_codes_or_rich_markup(
    feed_server, tmp_path, write_config, monkeypatch
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    database = tmp_path / "m.db"
    config = write_config({"N1": url}, database_url=f"sqlite:///{database}", smtp_port=25)
    monitor(config, "poll", "--all")
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:  # as stored before parsing dropped them, or by a feed's error
        connection.execute(update(items).values(title=HOSTILE))
        connection.execute(update(feeds).values(last_error=HOSTILE, last_error_kind="http"))
    engine.dispose()
    _, lines, _ = monitor(config, "hits", "--json")
    hit_id = str(json.loads(lines)["id"])
    monkeypatch.setenv("COLUMNS", "400")  # each text on one line

    outputs = [
        monitor(config, *command)
        for command in (["hits"], ["explain", hit_id], ["digest", "preview"], ["feeds"])
    ]

    for code, stdout, stderr in outputs:
        assert code == 0, stderr
        assert not set("\x1b\x00\x07\u202e\u202c") & set(stdout + stderr)
        assert "[bold red]x[/]" in stdout
        assert r"\x1b[2J\x1b]0;pwned\x07BIA\x00 o relokantima \u202egnp.exe\u202c [bold red]x[/]" in stdout


def test_preview_and_send_use_the_configured_templates_folder(
    feed_server, smtp_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    config.write_text('templates = "ours"\n' + config.read_text())
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "digest.html").write_text("<p>Our digest: {{ count }} for {{ watchlist }}</p>")
    monitor(config, "poll", "--all")

    preview = tmp_path / "digest.html"
    code, _, _ = monitor(config, "digest", "preview", "--output", str(preview))
    sent, _, _ = monitor(config, "digest", "send")

    assert code == sent == 0
    assert "<p>Our digest: 1 for relocants</p>" in preview.read_text()
    [message] = smtp_server.sink.messages
    assert message.get_body(("html",)).get_content().strip() == "<p>Our digest: 1 for relocants</p>"
    assert "*BIA*" in message.get_body(("plain",)).get_content()  # the packaged text part


def test_unknown_watchlist_is_a_clear_error(tmp_path, write_config):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=25,
    )

    code, _, stderr = monitor(config, "digest", "send", "--watchlist", "relocnats")

    assert code == 2
    assert "no watchlist named 'relocnats'; the watchlists are: relocants" in stderr


def test_the_configs_log_level_quiets_info_events_unless_the_environment_asks_for_them(
    feed_server, smtp_server, tmp_path, write_config, monkeypatch
):
    good = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": good, "Gone": feed_server.url("/missing.xml")},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=smtp_server.port,
        extra='[logging]\nlevel = "warning"\n',
    )

    _, _, quiet = monitor(config, "poll", "--all")
    monkeypatch.setenv("MONITOR_LOG_LEVEL", "info")
    _, _, told = monitor(config, "poll", "--all")

    assert "event=poll.failed feed=Gone" in quiet and "event=poll.ok" not in quiet
    assert "event=poll.ok feed=N1" in told


def test_daemon_polls_and_stops_cleanly_on_sigterm(feed_server, smtp_server, tmp_path, write_config):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    database = tmp_path / "m.db"
    config = write_config({"N1": url}, database_url=f"sqlite:///{database}", smtp_port=smtp_server.port)
    heartbeat = tmp_path / "beat"
    daemon = start_daemon(config, "--heartbeat", str(heartbeat))
    try:
        deadline = time.monotonic() + 30
        while feed_server.statuses("/n1.xml") != [200] or not heartbeat.exists():
            assert time.monotonic() < deadline, "the daemon did not poll within 30 s"
            time.sleep(0.1)
        code, healthy, _ = monitor(config, "health", "--heartbeat", str(heartbeat))
        assert code == 0 and healthy.startswith("ok: heartbeat")
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=30)
    finally:
        daemon.kill()

    assert daemon.returncode == 0, log
    assert "event=daemon.started" in log and "event=daemon.stopped" in log
    assert "event=poll.ok feed=N1 status=200" in log
    assert "Traceback" not in log
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM items").fetchone() == (3,)
    code, _, stderr = monitor(config, "health", "--heartbeat", str(heartbeat))
    assert code == 1 and "no readable heartbeat" in stderr


def test_sigterm_lets_the_poll_under_way_finish_then_exits_0(
    feed_server, smtp_server, tmp_path, write_config
):
    slow = feed_server.serve("/slow.xml", rss("Slow", "https://slow.example", SERBIAN_NEWS), delay=2)
    slow = slow.replace("127.0.0.1", "localhost")  # its own Host, to see its request arrive
    database = tmp_path / "m.db"
    config = write_config({"Slow": slow}, database_url=f"sqlite:///{database}", smtp_port=smtp_server.port)
    daemon = start_daemon(config)
    try:
        arrived = feed_server.max_in_flight_by_host
        wait_until(lambda: any("localhost" in host for host in arrived), 30, "the slow feed's request")
        daemon.send_signal(signal.SIGTERM)  # two seconds before its answer
        _, log = daemon.communicate(timeout=30)
    finally:
        daemon.kill()

    assert daemon.returncode == 0, log
    assert (
        log.index("event=daemon.stopping")
        < log.index("event=poll.ok feed=Slow")
        < log.index("event=daemon.stopped")
    )
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (3,)


def test_a_second_sigterm_stops_the_daemon_at_once_and_leaves_the_database_whole(
    feed_server, smtp_server, tmp_path, write_config
):
    fast = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    slow = feed_server.serve("/slow.xml", rss("Slow", "https://slow.example", SERBIAN_NEWS[:1]), delay=30)
    slow = slow.replace("127.0.0.1", "localhost")  # its own Host, to see its request arrive
    database = tmp_path / "m.db"
    config = write_config(
        {"N1": fast, "Slow": slow}, database_url=f"sqlite:///{database}", smtp_port=smtp_server.port
    )
    daemon = start_daemon(config)
    try:
        deadline = time.monotonic() + 30
        arrived = feed_server.max_in_flight_by_host
        while feed_server.statuses("/n1.xml") != [200] or not any("localhost" in host for host in arrived):
            assert time.monotonic() < deadline, "the daemon did not poll within 30 s"
            time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)  # the slow feed's poll is under way: it is waited for
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)  # not any more
        _, log = daemon.communicate(timeout=15)
    finally:
        daemon.kill()

    assert daemon.returncode == 128 + signal.SIGTERM, log
    assert (
        "event=daemon.stopping" in log and "event=daemon.stopped_at_once" in log and "signal=SIGTERM" in log
    )
    assert "event=daemon.stopped " not in log and "Traceback" not in log  # not the clean stop
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM items").fetchone() == (3,)  # N1's, stored whole
    code, _, _ = monitor(config, "feeds", "--json")
    assert code == 0


def test_match_reads_json_lines_and_prints_one_result_per_line_in_order(tmp_path, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)
    lines = "\n".join(
        json.dumps(entry, ensure_ascii=False)
        for entry in (
            {"title": "Direktor BIA-e o relokantima", "summary": "", "language": "sr"},
            {"title": "Serbia beat Colombia", "summary": "No bias, said the coach."},
            {"title": "Релоканты в Белграде", "summary": ""},
        )
    )

    result = CliRunner().invoke(main, ["-c", str(config), "match", "--json"], input=lines + "\n")

    assert result.exit_code == 0, result.stderr
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert {(m["query"], tuple(map(tuple, m["spans"]))) for m in first["matches"]} == {
        ("BIA", (("title", 9, 12, "BIA"),)),
        ("relokant*", (("title", 17, 28, "relokantima"),)),
    }
    assert second == {"matches": []}
    assert [m["query"] for m in third["matches"]] == ["релоканты"]


def test_match_again_answers_the_same_from_the_word_cache_without_dictionaries(
    tmp_path, write_config, lexicon_cache
):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)
    command = ["-c", str(config), "match", "--json", "--text", "Direktor BIA-e o relokantima u Srbiji"]

    first = CliRunner().invoke(main, command)
    (kept,) = lexicon_cache.glob("lexicon-*.msgpack")
    release()
    again = CliRunner().invoke(main, command)

    assert first.exit_code == again.exit_code == 0, first.stderr + again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout) != {"matches": []}
    assert forms._simplemma.cache_info().currsize == forms._morph.cache_info().currsize == 0
    assert list(lexicon_cache.iterdir()) == [kept]
    assert load(lexicon_cache).forms.keys() == {"BIA", "релоканты"}  # the config's words, not the text's


def test_match_refuses_a_bad_input_line_naming_it(tmp_path, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)

    result = CliRunner().invoke(main, ["-c", str(config), "match"], input='{"title": "BIA"}\nnot json\n')

    assert result.exit_code == 2
    assert "stdin line 2:" in result.stderr and "one JSON object per line" in result.stderr


@pytest.mark.parametrize("language", ["serbian", "sr_RS", "srp", "sr-Latn"])
def test_match_takes_a_language_as_the_config_does(tmp_path, write_config, language):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25, queries=("Srbija",)
    )
    command = ["-c", str(config), "match", "--json", "--text", "Srbiji"]  # no word says which language

    named = CliRunner().invoke(main, [*command, "--language", language])
    coded = CliRunner().invoke(main, [*command, "--language", "sr"])

    assert named.exit_code == coded.exit_code == 0, named.stderr
    assert json.loads(named.stdout) == json.loads(coded.stdout) != {"matches": []}


def test_match_refuses_a_language_the_matcher_cannot_read(tmp_path, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)

    result = CliRunner().invoke(main, ["-c", str(config), "match", "--language", "serbain", "--text", "BIA"])

    assert result.exit_code == 2
    assert "'serbain' is not a language the matcher reads (did you mean 'serbian'?)" in result.stderr


def test_explain_shows_each_term_of_a_stored_hit(feed_server, smtp_server, tmp_path, write_config):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=smtp_server.port,
        queries=("BIA -fudbal", "relokant*"),
    )
    monitor(config, "poll", "--all")
    _, lines, _ = monitor(config, "hits", "--json")
    hit_id = json.loads(lines)["id"]

    code, stdout, _ = monitor(config, "explain", str(hit_id))
    missing, _, error = monitor(config, "explain", "9999")

    assert code == 0
    assert "MATCH relocants: BIA -fudbal" in stdout
    assert "        BIA: title[0:3] 'BIA', summary[35:38] 'BIA'\n" in stdout
    assert "NOT fudbal: not found" in stdout
    assert missing == 2 and "no hit with id 9999" in error


def test_feeds_add_finds_a_sites_feed_from_its_home_page(feed_server, tmp_path, write_config):
    feed = feed_server.serve("/feed/", rss("N1 Info: Vesti", "https://n1info.rs", SERBIAN_NEWS))
    home = feed_server.serve(
        "/",
        "<!DOCTYPE html><html><head><title>N1</title>"
        '<link rel="alternate" type="application/rss+xml" title="N1 » Feed" href="/feed/">'
        "</head><body>Vesti</body></html>",
        content_type="text/html; charset=utf-8",
    )
    config = write_config(
        {"Other": "http://127.0.0.1:1/other.xml"}, database_url="sqlite:///x.db", smtp_port=25
    )
    before = config.read_text()

    code, stdout, stderr = monitor(config, "feeds", "add", home, "--tag", "serbia")
    again, _, refused = monitor(config, "feeds", "add", feed)
    check, summary, _ = monitor(config, "check-config")

    assert code == 0, stderr
    assert f"found the feed {feed} announced by {home}" in stderr
    table = f'[[feeds]]\nurl = "{feed}"\nname = "N1 Info: Vesti"\nlanguage = "sr"\ntags = ["serbia"]\n'
    assert config.read_text() == before.rstrip("\n") + "\n\n" + table
    assert "N1 Info: Vesti: 3 items, language sr" in stdout
    assert again == 2 and f"already polls {feed}" in refused
    assert check == 0 and "N1 Info: Vesti" in summary


def test_feeds_add_of_a_page_announcing_no_feed_changes_nothing(feed_server, tmp_path, write_config):
    page = feed_server.serve("/about", "<html><body>O nama</body></html>", content_type="text/html")
    config = write_config(
        {"Other": "http://127.0.0.1:1/other.xml"}, database_url="sqlite:///x.db", smtp_port=25
    )
    before = config.read_text()

    code, _, stderr = monitor(config, "feeds", "add", page)
    dry, out, _ = monitor(
        config,
        "feeds",
        "add",
        "--dry-run",
        "--language",
        "sr_RS",
        feed_server.serve("/f.xml", rss("Other", "https://f.rs", SERBIAN_NEWS)),
    )

    assert code == 1 and "a web page that announces no feed" in stderr
    assert "Traceback" not in stderr
    assert dry == 0 and out.strip() == "Other (2): 3 items, language sr"  # its title, made unique
    assert config.read_text() == before


def test_digest_send_that_finds_its_hits_taken_by_another_run_says_so_and_exits_1(
    feed_server, smtp_server, database_url, write_config, open_monitor, monkeypatch
):
    from monitor.outbox import compose

    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port)
    other = open_monitor(config)
    poll(other)
    build = compose.build_message
    raced = []

    def racing(*args, **kwargs):
        """The other run records and sends a digest of the same hits while this one builds."""
        if not raced:
            raced.append([])  # the other run builds its message with this function too
            raced[0] += other.outbox.send_digests(utcnow())
        return build(*args, **kwargs)

    monkeypatch.setattr(compose, "build_message", racing)

    code, stdout, stderr = monitor(config, "digest", "send")

    [[sent]] = raced
    assert (code, sent.state) == (1, "sent")
    assert "busy relocants: another digest run of watchlist 'relocants' is sending these hits; try again" in (
        " ".join(stderr.split())
    )
    assert "Traceback" not in stdout + stderr and "IntegrityError" not in stdout + stderr
    assert len(smtp_server.sink.envelopes) == 1


COMMENTED = """# our monitor
[storage]
url = "sqlite:///x.db"   # beside this file

[[feeds]]
# the public broadcaster
url = "https://www.rts.rs/rss.xml"
name = "RTS"
tags = ["serbia"]

[[feeds]]
url = "https://n1info.rs/feed/"   # Latin script
name = "N1"
tags = ["serbia"]

[[feeds]]
url = "https://danas.rs/feed/"
name = "Danas"

[[watchlists]]
name = "bia"
queries = ["BIA"]   # the agency
recipients = ["desk@example.org"]
feeds = ["Danas", "tag:serbia"]
"""


@pytest.mark.parametrize("which", ["N1", "https://n1info.rs/feed/"], ids=["by name", "by url"])
def test_feeds_remove_takes_one_table_out_and_keeps_every_comment(tmp_path, which):
    config = tmp_path / "monitor.toml"
    config.write_text(COMMENTED, encoding="utf-8")

    code, stdout, stderr = monitor(config, "feeds", "remove", which)

    assert code == 0, stderr
    assert stdout == f"removed 'N1' (https://n1info.rs/feed/) from {config}\n"
    removed = (
        '[[feeds]]\nurl = "https://n1info.rs/feed/"   # Latin script\nname = "N1"\ntags = ["serbia"]\n\n'
    )
    assert config.read_text(encoding="utf-8") == COMMENTED.replace(removed, "")


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("Vreme", "no feed named or at 'Vreme'; the feeds are: 'RTS', 'N1', 'Danas'"),
        ("Danas", "without the feed 'Danas' the config would not load"),  # a watchlist names it
    ],
)
def test_feeds_remove_changes_nothing_when_it_cannot(tmp_path, which, says):
    config = tmp_path / "monitor.toml"
    config.write_text(COMMENTED, encoding="utf-8")

    code, _, stderr = monitor(config, "feeds", "remove", which)

    assert code == 2 and says in stderr
    assert config.read_text(encoding="utf-8") == COMMENTED


def test_a_feed_named_as_its_outlet_is_polled_listed_and_removed_by_that_name(
    feed_server, smtp_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1 / Vesti: Srbija": url, "Other": "http://127.0.0.1:1/other.xml"},
        database_url=f"sqlite:///{tmp_path / 'm.db'}",
        smtp_port=smtp_server.port,
    )

    polled, _, _ = monitor(config, "poll", "--all")
    _, lines, _ = monitor(config, "hits", "--json", "--since", "7d")
    removed, said, _ = monitor(config, "feeds", "remove", "N1 / Vesti: Srbija")

    assert polled == 0 and [json.loads(line)["feed"] for line in lines.splitlines()] == ["N1 / Vesti: Srbija"]
    assert removed == 0 and said.startswith("removed 'N1 / Vesti: Srbija'")
    assert "N1 / Vesti" not in config.read_text()
