"""Alerts after the poll that found the hits, on a real feed server, SMTP server and database:
through the outbox like digests, and counted apart from them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from click.testing import CliRunner

from monitor import checks
from monitor.cli import main
from monitor.daemon import Daemon
from monitor.errors import ConfigError
from monitor.models import utcnow
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.polling import run_until, text_part

ALERT = 'alert = "immediate"'
FRESH = [
    ("n1-2001", "Relokanti iz Rusije traže boravak", "Nova pravila za strance."),
    ("n1-2002", "BIA opet saslušala ruskog aktivistu", "Aktivista je pozvan na razgovor."),
]


def cli(config, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_poll_that_finds_hits_sends_one_alert_of_them_and_the_digest_still_lists_them(
    feed_server, smtp_server, database_url, n1_config, open_monitor
):
    config = n1_config(database_url, extra=ALERT)

    first = cli(config, "poll", "--all")
    quiet = cli(config, "poll", "--all")  # nothing new: no alert
    feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", [*SERBIAN_NEWS, *FRESH]))
    second = cli(config, "poll", "--all")
    digest = cli(config, "digest", "send")
    again = cli(config, "digest", "send")

    assert [code for code, _, _ in (first, quiet, second, digest)] == [0, 0, 0, 0]
    assert "sent the alert of relocants: 1 hits" in first[1]
    assert "event=alert.sent watchlist=relocants" in first[2]
    assert "event=digest.sent watchlist=relocants" in digest[2]
    assert "alert" not in quiet[1] + quiet[2]
    one, two, whole = smtp_server.sink.messages
    assert [m["Subject"] for m in (one, two, whole)] == [
        "[monitor] alert: relocants — 1 new item",
        "[monitor] alert: relocants — 2 new items",
        "[monitor] relocants: 3 new items",
    ]
    assert text_part(one).startswith("Alert: relocants: 1 new item")
    assert "*BIA*: Ruski aktivista" in text_part(one)
    assert all(f"https://n1info.rs/{guid}/" in text_part(two) for guid, _, _ in FRESH)
    assert text_part(whole).count("alerted at ") == 3
    assert ".alert@" in one["Message-ID"] and ".digest@" in whole["Message-ID"]
    assert all(
        recipients == ["desk@example.org", "lawyer@example.org"]
        for recipients, _ in smtp_server.sink.envelopes
    )
    assert "nothing new for relocants" in again[1]
    monitor = open_monitor(config)
    assert all(hit.alerted and hit.delivered for hit in monitor.store.hits.find())
    kinds = [(run.kind, run.hits, run.status) for run in monitor.store.messages.runs("relocants")]
    assert kinds == [
        ("digest", 0, "empty"),
        ("digest", 3, "sent"),
        ("alert", 2, "sent"),
        ("alert", 1, "sent"),
    ]


def test_with_no_digest_the_alert_is_all_there_is(smtp_server, database_url, n1_polled):
    config, monitor = n1_polled(database_url, extra=f'{ALERT}\ndigest = "none"')
    daemon = Daemon(monitor)

    [alert] = monitor.outbox.send_alerts(utcnow())
    sent = monitor.outbox.send_digests(utcnow())
    _, checked, _ = cli(config, "check-config")
    daemon._schedule(utcnow())

    assert (alert.kind, alert.state, sent) == ("alert", "sent", [])
    [message] = smtp_server.sink.messages
    assert message["Subject"] == "[monitor] alert: relocants — 1 new item"
    assert 'no digest (digest = "none")' in checked and "alerts: after each poll that finds hits" in checked
    assert daemon.scheduler.get_job("digest-relocants") is None
    assert monitor.outbox.preview(utcnow()) == []


def test_an_alert_refused_with_451_waits_in_the_outbox_and_goes_out_once(
    smtp_server, database_url, n1_polled
):
    config, monitor = n1_polled(database_url, extra=ALERT)
    smtp_server.sink.refusals = ["451 4.3.0 try again later"]

    code, _, said = cli(config, "poll", "--all")  # nothing new: the waiting alert is not retried here
    [waiting] = monitor.outbox.send_alerts(utcnow())
    nothing_more = monitor.outbox.send_alerts(utcnow())  # its hits are claimed: no second alert of them
    [retried] = monitor.outbox.send_waiting(utcnow(), due_only=False)

    assert code == 0 and "alert" not in said
    assert (waiting.kind, waiting.state, nothing_more, retried.state) == ("alert", "pending", [], "sent")
    [message] = smtp_server.sink.messages
    assert message["Subject"] == "[monitor] alert: relocants — 1 new item"
    assert [hit.alerted is not None for hit in monitor.store.hits.find()] == [True]


def test_monitor_poll_exits_1_when_the_alert_could_not_be_sent(smtp_server, database_url, n1_config):
    config = n1_config(database_url, extra=ALERT)
    smtp_server.sink.refuse = "451 4.3.0 try again later"

    code, stdout, stderr = cli(config, "poll", "--all")

    assert code == 1 and "new hits: 1" in stdout
    assert "pending the alert of relocants: 1 hits; not yet delivered to" in " ".join(stderr.split())


def assert_the_daemon_sends_one_alert(monitor, smtp_server, alert_gather: timedelta) -> None:
    """Run the daemon (no digest due) until a message arrives: one alert of the one hit."""
    monitor.store.messages.record_empty(watchlist="relocants", recipients=[], now=utcnow())
    daemon = Daemon(monitor, idle_pause=timedelta(seconds=0.2), alert_gather=alert_gather)
    asyncio.run(run_until(daemon, lambda: smtp_server.sink.envelopes))

    [message] = smtp_server.sink.messages
    assert message["Subject"] == "[monitor] alert: relocants — 1 new item"
    assert [hit.alerted is not None for hit in monitor.store.hits.find()] == [True]


def test_the_daemon_alerts_after_the_poll_that_found_the_hits(
    smtp_server, database_url, n1_config, open_monitor
):
    monitor = open_monitor(n1_config(database_url, extra=ALERT))

    assert_the_daemon_sends_one_alert(monitor, smtp_server, alert_gather=timedelta(seconds=0.1))


def test_hits_stored_but_never_alerted_are_alerted_when_the_daemon_starts(
    smtp_server, database_url, n1_polled
):
    # Poller.poll stores the hit; the alert it would have led to was never recorded, as when
    # the daemon stops between the two. The feed is not due again, so no poll finds hits, and
    # the alert gathering after a poll would wait an hour.
    _, monitor = n1_polled(database_url, extra=ALERT)

    assert_the_daemon_sends_one_alert(monitor, smtp_server, alert_gather=timedelta(hours=1))


def test_a_watchlist_that_would_send_nothing_is_a_config_error(tmp_path, write_config):
    config = write_config(
        {"N1": "http://127.0.0.1:1/n1.xml"},
        database_url="sqlite:///x.db",
        smtp_port=25,
        extra='digest = "none"',
    )

    with pytest.raises(ConfigError, match=r'watchlists\[0\]: .*digest = "none" and alert = "none"'):
        checks.load(config)
