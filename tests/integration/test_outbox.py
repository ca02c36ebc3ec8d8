"""The digest outbox on a real SMTP server and database: a digest is recorded, then sent, then
marked; failures, refusals and crashes in between neither lose a hit nor send it in two digests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text, update

from monitor.app import App
from monitor.cli import main
from monitor.daemon import Daemon
from monitor.models import utcnow
from monitor.store.schema import digests
from tests.support.feeds import rss
from tests.support.polling import poll, run_until

CRASHED = 77
# for crash_in_digest_send: the process dies where it would hand the digest to the server
DIES_SENDING = (
    f"from monitor.outbox.smtp import SmtpChannel\nSmtpChannel.send = lambda *a: os._exit({CRASHED})"
)


def with_smtp(config: Path, **settings: object) -> Path:
    """The config with these [smtp] settings added (``attempts`` replaced)."""
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    body = config.read_text().replace("attempts = 1\n", "" if "attempts" in settings else "attempts = 1\n")
    config.write_text(body.replace("[smtp]\n", f"[smtp]\n{lines}", 1))
    return config


def cli(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def crash_in_digest_send(config: Path, patch: str) -> None:
    """`monitor digest send` in a process of its own that ``patch`` kills with os._exit (no
    cleanup, no commit), as a power cut or SIGKILL would."""
    snippet = (
        f"import os, sys\n{patch}\n"
        "from monitor.cli import main\n"
        "main(['-c', sys.argv[1], 'digest', 'send'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", snippet, str(config)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == CRASHED, done.stderr


def lease_runs_out(monitor: App) -> None:
    """The lease of a sender that died runs out (as it does after the outbox's lease)."""
    with monitor.store.database.engine.begin() as connection:
        connection.execute(update(digests).values(sending_until=utcnow() - timedelta(seconds=1)))


def message_ids(smtp_server) -> list[str]:
    return [message["Message-ID"] for message in smtp_server.sink.messages]


def copies(smtp_server) -> dict[str, int]:
    """How many messages each recipient was handed."""
    counted: dict[str, int] = {}
    for recipients, _ in smtp_server.sink.envelopes:
        for recipient in recipients:
            counted[recipient] = counted.get(recipient, 0) + 1
    return counted


def covered(monitor: App) -> list[tuple[int, int, str]]:
    """(hit, digest, digest status) for every hit some digest covers."""
    with monitor.store.database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT digest_hits.hit_id, digests.id, digests.status FROM digest_hits "
                "JOIN digests ON digests.id = digest_hits.digest_id ORDER BY digest_hits.hit_id"
            )
        ).all()
    return [tuple(row) for row in rows]


def test_a_digest_refused_with_451_for_longer_than_the_tries_goes_out_later_with_its_message_id(
    smtp_server, tmp_path, n1_config, open_monitor
):
    config = n1_config(f"sqlite:///{tmp_path / 'm.db'}")
    monitor = open_monitor(with_smtp(config, attempts=2, retry_wait="1s"))
    poll(monitor)
    smtp_server.sink.refusals = ["451 4.3.0 try again later"] * 3

    [first] = monitor.outbox.send_digests(utcnow())
    tried, received = smtp_server.sink.data_commands, len(smtp_server.sink.envelopes)
    [recorded] = monitor.store.messages.waiting("relocants")
    [later, nothing_new] = monitor.outbox.send_digests(utcnow())
    [again] = monitor.outbox.send_digests(utcnow())

    assert (first.state, tried, received) == ("pending", 2, 0)
    assert "451 4.3.0 try again later (after 2 tries)" in (first.error or "")
    assert (later.state, later.recorded, later.hits) == ("sent", recorded.created, 1)
    assert (nothing_new.state, again.state) == ("empty", "empty")
    assert smtp_server.sink.data_commands == 4  # the third 451, then the one accepted
    assert message_ids(smtp_server) == [recorded.message.message_id]
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    [(_, raw)] = smtp_server.sink.envelopes
    assert raw == recorded.message.wire  # byte for byte what was recorded
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_a_recipient_refused_for_good_is_recorded_and_nobody_gets_the_digest_twice(
    smtp_server, database_url, n1_polled
):
    three = ("desk@example.org", "lawyer@example.org", "editor@example.org")
    config, monitor = n1_polled(database_url, recipients=three)
    smtp_server.sink.refuse_recipients = {"lawyer@example.org": "550 5.1.1 no such user"}

    [outcome] = monitor.outbox.send_digests(utcnow())
    [later] = monitor.outbox.send_digests(utcnow())
    code, status, _ = cli(config, "digest", "status", "--json")
    _, table, _ = cli(config, "digest", "status")

    assert (outcome.state, outcome.sent, later.state) == ("partial", True, "empty")
    assert outcome.error == "refused lawyer@example.org: 550 5.1.1 no such user"
    assert copies(smtp_server) == {"desk@example.org": 1, "editor@example.org": 1}
    assert all(hit.delivered for hit in monitor.store.hits.find())
    _, partial = [json.loads(line) for line in status.splitlines()]
    assert partial["status"] == "partial"
    assert [(d["recipient"], d["state"], d["error"]) for d in partial["deliveries"]] == [
        ("desk@example.org", "sent", None),
        ("editor@example.org", "sent", None),
        ("lawyer@example.org", "refused", "550 5.1.1 no such user"),
    ]
    assert code == 0 and "partial" in table and "refused" in table and "550 5.1.1" in table


def test_a_recipient_answered_450_waits_alone_and_a_later_run_sends_only_to_them(
    smtp_server, database_url, n1_polled
):
    _, monitor = n1_polled(database_url)
    smtp_server.sink.refuse_recipients = {"lawyer@example.org": "450 4.2.1 mailbox busy"}

    [waiting] = monitor.outbox.send_digests(utcnow())
    delivered_meanwhile = [hit.delivered for hit in monitor.store.hits.find()]
    smtp_server.sink.refuse_recipients = {}
    [later, _] = monitor.outbox.send_digests(utcnow())

    assert (waiting.state, waiting.sent) == ("pending", False)
    assert waiting.error == "not yet delivered to lawyer@example.org: 450 4.2.1 mailbox busy"
    assert delivered_meanwhile == [None]  # a hit is delivered once nobody waits for its digest
    assert later.state == "sent"
    assert [recipients for recipients, _ in smtp_server.sink.envelopes] == [
        ["desk@example.org"],
        ["lawyer@example.org"],
    ]
    first, second = message_ids(smtp_server)
    assert first == second
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_a_crash_after_the_digest_is_recorded_is_finished_at_once_by_the_next_send_on_its_host(
    smtp_server, database_url, n1_polled
):
    config, monitor = n1_polled(database_url)

    crash_in_digest_send(config, DIES_SENDING)
    [recorded] = monitor.store.messages.waiting("relocants")
    code, sent, _ = cli(config, "digest", "send")  # its sender is dead: no lease to wait out

    assert code == 0 and "sent relocants (the digest of " in sent
    assert message_ids(smtp_server) == [recorded.message.message_id]
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert monitor.store.messages.waiting("relocants") == []


def test_a_crash_after_the_digest_is_recorded_on_another_host_waits_for_its_lease_to_run_out(
    smtp_server, database_url, n1_polled
):
    config, monitor = n1_polled(database_url)

    crash_in_digest_send(config, DIES_SENDING)
    with monitor.store.database.engine.begin() as connection:  # as if that sender had run elsewhere
        connection.execute(update(digests).values(sending_owner="elsewhere:4242:17"))
    [recorded] = monitor.store.messages.waiting("relocants")
    held_code, _, held = cli(config, "digest", "send")  # the dead sender still holds it
    received_meanwhile = len(smtp_server.sink.envelopes)
    lease_runs_out(monitor)
    code, sent, _ = cli(config, "digest", "send")

    assert [found.address for found in recorded.waiting] == ["desk@example.org", "lawyer@example.org"]
    assert recorded.hits == 1
    assert (held_code, received_meanwhile) == (0, 0)
    assert "busy relocants (the digest of " in held and "another run is sending it now" in held
    assert code == 0 and "sent relocants (the digest of " in sent and "nothing new for relocants" in sent
    assert message_ids(smtp_server) == [recorded.message.message_id]
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert all(hit.delivered for hit in monitor.store.hits.find())
    assert monitor.store.messages.waiting("relocants") == []


def test_a_crash_after_the_digest_is_recorded_is_finished_when_the_daemon_starts(
    smtp_server, database_url, n1_polled
):
    config, monitor = n1_polled(database_url)

    crash_in_digest_send(config, DIES_SENDING)
    [recorded] = monitor.store.messages.waiting("relocants")
    lease_runs_out(monitor)
    asyncio.run(run_until(Daemon(monitor), lambda: smtp_server.sink.envelopes))

    assert message_ids(smtp_server) == [recorded.message.message_id]
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert [run.status for run in monitor.store.messages.runs("relocants")] == ["sent"]
    assert all(hit.delivered for hit in monitor.store.hits.find())


def test_a_crash_after_the_server_accepted_resends_the_same_message_id_and_no_hit_twice(
    smtp_server, database_url, n1_polled
):
    config, monitor = n1_polled(database_url)

    patch = (
        "from monitor.store.messages import MessageStore\n"
        f"MessageStore.record_attempt = lambda *a, **k: os._exit({CRASHED})"
    )
    crash_in_digest_send(config, patch)
    accepted = len(smtp_server.sink.envelopes)
    lease_runs_out(monitor)
    code, _, _ = cli(config, "digest", "send")

    # At least once: the server has the message twice, recognisable by its one Message-ID.
    assert (accepted, len(smtp_server.sink.envelopes), code) == (1, 2, 0)
    first, second = message_ids(smtp_server)
    assert first == second
    empty, sent = monitor.store.messages.runs("relocants")
    assert (sent.status, sent.message_id, empty.status) == ("sent", first, "empty")
    [hit] = monitor.store.hits.find()
    assert hit.delivered and [(hit_id, status) for hit_id, _, status in covered(monitor)] == [
        (hit.id, "sent")
    ]


def test_no_hit_is_in_two_digests_through_failures_refusals_and_new_items(
    feed_server, smtp_server, database_url, n1_config, open_monitor
):
    entries = [("n1-1", "Fudbal", "Ništa.")]
    monitor = open_monitor(n1_config(database_url, entries))
    rounds = [
        {},
        {"refusals": ["451 4.3.0 try again later"]},
        {"refusals": ["451 4.3.0 try again later"]},
        {"refuse_recipients": {"lawyer@example.org": "450 4.2.1 mailbox busy"}},
        {},
        {"refusals": ["451 4.3.0 try again later"]},
        {"refuse_recipients": {"desk@example.org": "421 4.7.0 slow down"}},
        {},
        {},
    ]
    for number, trouble in enumerate(rounds):
        entries.append((f"n1-{100 + number}", f"BIA o relokantima, {number}. put", "BIA."))
        feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", entries))
        poll(monitor)
        smtp_server.sink.refusals = list(trouble.get("refusals", []))
        smtp_server.sink.refuse_recipients = dict(trouble.get("refuse_recipients", {}))
        monitor.outbox.send_digests(utcnow())

    stored = monitor.store.hits.find(watchlist="relocants")
    assert len(stored) == len(rounds)
    assert all(hit.delivered for hit in stored)
    links = {recipient: [] for recipient in ("desk@example.org", "lawyer@example.org")}
    for (recipients, _), message in zip(smtp_server.sink.envelopes, smtp_server.sink.messages, strict=True):
        body = message.get_body(("plain",)).get_content()
        found = [hit.item.link for hit in stored if hit.item.link in body]
        for recipient in recipients:
            links[recipient] += found
    for recipient, received in links.items():
        assert sorted(received) == sorted(hit.item.link for hit in stored), recipient
    claims = covered(monitor)
    assert sorted(hit_id for hit_id, _, _ in claims) == sorted(hit.id for hit in stored)
    assert {status for _, _, status in claims} == {"sent"}
    assert monitor.store.messages.waiting("relocants") == []


def retry_times(monitor: App) -> list[object]:
    with monitor.store.database.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT retry_at FROM digests ORDER BY id"))]


OUTBOX = '\n[outbox]\nretry_every = "10m"\nretry_max = "30m"\n'


def test_a_digest_that_keeps_failing_is_retried_twice_as_late_each_time_even_across_a_restart(
    smtp_server, database_url, n1_polled, open_monitor
):
    config, monitor = n1_polled(database_url, extra=OUTBOX)
    smtp_server.sink.refuse = "451 4.3.0 try again later"
    start = utcnow()
    minutes = [start + timedelta(minutes=n) for n in range(61)]

    [first] = monitor.outbox.send_digests(start)
    too_soon = monitor.outbox.send_waiting(minutes[9], due_only=True)
    restarted = open_monitor(config)  # a new process: what it knows is in the database
    [second] = restarted.outbox.send_waiting(minutes[10], due_only=True)
    waits = [restarted.outbox.send_waiting(minutes[29], due_only=True)]
    [third] = restarted.outbox.send_waiting(minutes[30], due_only=True)
    waits.append(restarted.outbox.send_waiting(minutes[59], due_only=True))
    smtp_server.sink.refuse = None
    [fourth] = restarted.outbox.send_waiting(minutes[60], due_only=True)

    assert [o.state for o in (first, second, third, fourth)] == ["pending", "pending", "pending", "sent"]
    assert too_soon == [] and waits == [[], []]
    assert smtp_server.sink.data_commands == 4
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert retry_times(restarted) == [None]


def test_the_daemon_tries_a_waiting_digest_again_before_the_next_digest_is_due(
    smtp_server, database_url, n1_polled
):
    retries = '\n[outbox]\nretry_every = "1s"\nretry_max = "1s"\n'
    _, monitor = n1_polled(database_url, extra=retries)
    smtp_server.sink.refusals = ["451 4.3.0 try again later"]
    [waiting] = monitor.outbox.send_digests(utcnow())

    asyncio.run(run_until(Daemon(monitor), lambda: smtp_server.sink.envelopes))

    assert waiting.state == "pending"
    assert smtp_server.sink.data_commands == 2
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert [run.status for run in monitor.store.messages.runs("relocants")] == ["sent"]


def test_two_senders_at_once_send_a_waiting_digest_once(smtp_server, database_url, n1_polled, open_monitor):
    config, daemon = n1_polled(database_url)
    by_hand = open_monitor(config)  # another process's store
    smtp_server.sink.refusals = ["451 4.3.0 try again later"]
    daemon.outbox.send_digests(utcnow())
    smtp_server.sink.data_delay = 1.0  # a slow server: the first sender is still at DATA…
    smtp_server.sink.data_started.clear()
    results: list[object] = []
    first = threading.Thread(
        target=lambda: results.extend(daemon.outbox.send_waiting(utcnow(), due_only=False))
    )

    first.start()
    assert smtp_server.sink.data_started.wait(10)
    [second] = by_hand.outbox.send_waiting(utcnow())  # …when the second one looks at the outbox
    first.join(20)

    [sent] = results
    assert (sent.state, second.state) == ("sent", "busy")
    assert copies(smtp_server) == {"desk@example.org": 1, "lawyer@example.org": 1}
    assert by_hand.store.messages.waiting("relocants") == []
