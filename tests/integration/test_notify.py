"""Digests and alerts through Apprise to a real webhook on loopback, with the outbox's
guarantees: recorded before sent, each channel's delivery recorded, tried again, sent once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from monitor import checks
from monitor.cli import main
from monitor.errors import ConfigError
from monitor.models import utcnow
from monitor.outbox.apprise import notify_channels
from monitor.store.schema import digests

HEADLINE = "*BIA*: Ruski aktivista proglašen bezbednosnim rizikom"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Apprise reaches no address but loopback in these tests: anything else fails them."""
    connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and not str(address[0]).startswith(("127.", "::1", "localhost")):
            raise AssertionError(f"a test tried to reach {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def cli(config, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def notify(*urls: str) -> str:
    return "notify = [" + ", ".join(json.dumps(url) for url in urls) + "]"


def test_a_digest_and_an_alert_reach_a_webhook_with_their_headlines(
    smtp_server, webhook, database_url, n1_config
):
    config = n1_config(database_url, extra=f'{notify(webhook.url())}\nalert = "immediate"')

    polled = cli(config, "poll", "--all")
    sent = cli(config, "digest", "send")
    code, status, _ = cli(config, "digest", "status", "--json")

    assert (polled[0], sent[0], code) == (0, 0, 0)
    alert, digest = webhook.delivered
    assert alert["title"] == "[monitor] alert: relocants — 1 new item"
    assert alert["message"].startswith(f"• {HEADLINE}\nN1 · https://n1info.rs/n1-1002/")
    assert digest["title"] == "[monitor] relocants: 1 new item"
    assert HEADLINE in digest["message"] and "(alerted at " in digest["message"]
    assert len(smtp_server.sink.envelopes) == 2  # the emails went too
    runs = [json.loads(line) for line in status.splitlines()]
    assert [(run["kind"], run["status"]) for run in runs] == [("digest", "sent"), ("alert", "sent")]
    assert [(d["recipient"], d["state"]) for d in runs[0]["deliveries"]] == [
        ("desk@example.org", "sent"),
        (f"json://127.0.0.1:{webhook.port}/hook", "sent"),
        ("lawyer@example.org", "sent"),
    ]


def test_a_webhook_that_answers_500_gets_the_digest_at_a_later_run_exactly_once(
    smtp_server, webhook, database_url, n1_polled
):
    _, monitor = n1_polled(database_url, extra=notify(webhook.url()))
    webhook.statuses = [500]

    [waiting] = monitor.outbox.send_digests(utcnow())
    emailed = len(smtp_server.sink.envelopes)
    [later, nothing_new] = monitor.outbox.send_digests(utcnow())
    again = monitor.outbox.send_digests(utcnow())

    assert waiting.state == "pending"
    assert waiting.error.startswith(f"not yet delivered to json://127.0.0.1:{webhook.port}/hook: ")
    assert "500" in waiting.error
    assert (emailed, later.state, later.recorded is not None) == (1, "sent", True)
    assert [o.state for o in (nothing_new, *again)] == ["empty", "empty"]
    assert [status for status, _ in webhook.received] == [500, 200]
    [delivered] = webhook.delivered
    assert HEADLINE in delivered["message"]
    assert len(smtp_server.sink.envelopes) == 1  # the email recipients were not sent it again
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_a_webhook_still_failing_give_up_after_the_digest_was_recorded_is_refused_and_left_alone(
    smtp_server, webhook, database_url, n1_config, open_monitor
):
    config = n1_config(database_url, extra=notify(webhook.url()))
    hook = f"json://127.0.0.1:{webhook.port}/hook"
    webhook.statuses = [500] * 3
    polled = cli(config, "poll", "--all")
    first = cli(config, "digest", "send")
    with open_monitor(config).store.database.engine.begin() as connection:  # recorded over 3 days ago
        connection.execute(update(digests).values(created_at=utcnow() - timedelta(days=3, hours=1)))

    code, sent, said = cli(config, "digest", "send")
    later = cli(config, "digest", "send")
    _, status, _ = cli(config, "digest", "status", "--json")

    assert (polled[0], first[0], code, later[0]) == (0, 1, 1, 0)
    assert "the next run tries again" in first[2] and "nothing new for relocants" in sent
    said = " ".join(said.split())
    assert f"but refused {hook}: gave up after 2 tries over 3 days: " in said
    assert "event=digest.gave_up watchlist=relocants digest=" in said
    assert f"recipient={hook} tries=2" in said
    assert "nothing new for relocants" in later[1] and hook not in later[1] + later[2]
    assert [answered for answered, _ in webhook.received] == [500, 500]  # not tried a third time
    assert len(smtp_server.sink.envelopes) == 1
    [partial] = [run for run in map(json.loads, status.splitlines()) if run["hits"]]
    assert partial["status"] == "partial"
    [refused] = [d for d in partial["deliveries"] if d["recipient"] == hook]
    assert (refused["state"], refused["attempts"]) == ("refused", 2)
    assert refused["error"].startswith("gave up after 2 tries over 3 days: ") and "500" in refused["error"]
    assert all(hit.delivered for hit in open_monitor(config).store.hits.find())


def test_a_secret_given_by_the_environment_is_never_shown_stored_or_logged(
    webhook, database_url, n1_config, monkeypatch
):
    monkeypatch.setenv("HOOK_TOKEN", "s3cr3t-t0ken")
    hook = f"json://monitor:${{HOOK_TOKEN}}@127.0.0.1:{webhook.port}/hook"
    config = n1_config(database_url, extra=notify(hook))
    webhook.statuses = [500]

    outputs = [cli(config, "check-config"), cli(config, "poll", "--all"), cli(config, "digest", "send")]
    outputs += [cli(config, "digest", "send"), cli(config, "digest", "status", "--json")]

    assert [code for code, _, _ in outputs] == [0, 0, 1, 0, 0]
    assert f"notify: json://monitor:****@127.0.0.1:{webhook.port}/hook" in outputs[0][1]
    assert all("s3cr3t" not in stdout + stderr for _, stdout, stderr in outputs)
    assert len(webhook.delivered) == 1


@pytest.mark.parametrize("log_format", ["logfmt", "json"])
def test_debug_logs_of_a_real_process_never_show_a_webhook_token_or_the_smtp_password(
    webhook, n1_config, tmp_path, log_format
):
    """urllib3 logs each request's path at DEBUG, and a webhook's token is in its path; the SMTP
    server here offers no login, so the password's use fails, and says so without it."""
    hook = f"json://127.0.0.1:{webhook.port}/hook/${{HOOK_TOKEN}}"
    config = n1_config(f"sqlite:///{tmp_path / 'm.db'}", extra=f'{notify(hook)}\nalert = "immediate"')
    config.write_text(config.read_text().replace('timeout = "5s"', 'timeout = "5s"\nusername = "desk"'))
    environment = {
        **os.environ,
        "HOOK_TOKEN": "s3cr3t-t0ken",
        "MONITOR_SMTP_PASSWORD": "p4ssw0rd-smtp",
        "MONITOR_LOG_FORMAT": log_format,
    }

    said = ""
    for command in (["poll", "--all"], ["digest", "send"]):
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "-v", "-c", str(config), *command],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        said += done.stdout + done.stderr

    assert len(webhook.delivered) == 2  # the alert and the digest went through urllib3
    debug = '"level": "debug"' if log_format == "json" else "level=debug"
    assert debug in said and "alert.pending" in said and "does not offer AUTH" in said  # the login failed
    assert "s3cr3t" not in said and "p4ssw0rd" not in said


def test_a_notify_url_apprise_cannot_use_or_whose_variable_is_unset_is_named_with_a_fix(write_config):
    bad = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url="sqlite:///x.db",
        smtp_port=25,
        extra=notify("json://127.0.0.1:9/hook", "telegrm://123:abc/456", "tgram://${NO_SUCH_TOKEN}/1"),
    )

    with pytest.raises(ConfigError) as raised:
        checks.load(bad)

    message = str(raised.value)
    assert "watchlists[0].notify[1]: Apprise cannot use this URL (scheme telegrm://)" in message
    assert "watchlists[0].notify[2]: the environment variable NO_SUCH_TOKEN is not set" in message
    assert "notify[0]" not in message and "123:abc" not in message


def test_a_watchlist_may_have_channels_and_no_email_but_not_neither(write_config):
    only_channels = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url="sqlite:///x.db",
        smtp_port=25,
        extra=notify("json://127.0.0.1:9/hook"),
    )
    only_channels.write_text(
        only_channels.read_text().replace(
            'recipients = ["desk@example.org", "lawyer@example.org"]', "recipients = []"
        )
    )
    neither = only_channels.with_name("neither.toml")
    neither.write_text(only_channels.read_text().replace('notify = ["json://127.0.0.1:9/hook"]', ""))

    [watchlist] = checks.load(only_channels).watchlists
    with pytest.raises(ConfigError, match=r"watchlists\[0\]: no recipients and no notify"):
        checks.load(neither)

    assert [channel.name for channel in notify_channels(watchlist)] == ["json://127.0.0.1:9/hook"]
