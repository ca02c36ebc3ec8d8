"""The daemon's config reloaded while it runs: on SIGHUP (also one that arrives while it starts)
and, with --watch-config, when the file changes; a bad config refused, the old one kept. Real
`monitor run` processes, except where the scheduler's jobs are looked at."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.daemon import WATCH_EVERY, Daemon
from monitor.leases import LOOK
from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.processes import Log, alive, handles, start_daemon, wait_until

NEW_QUERY = "Kolumbij*"  # only n1-1003 ("Srbija pobedila Kolumbiju") matches it


@pytest.fixture
def configs(feed_server, smtp_server, tmp_path, write_config) -> Callable[..., Path]:
    """The config file rewritten with the feeds named (of "A" and "B", both served), and
    ``queries`` beside the default ones."""
    urls = {
        name: feed_server.serve(f"/{name.lower()}.xml", rss(name, f"https://{name.lower()}.rs", SERBIAN_NEWS))
        for name in ("A", "B")
    }

    def write(*names: str, queries: tuple[str, ...] = (), extra: str = "") -> Path:
        return write_config(
            {name: urls[name] for name in names},
            database_url=f"sqlite:///{tmp_path / 'm.db'}",
            smtp_port=smtp_server.port,
            queries=("BIA", "relokant*", *queries),
            extra=extra,
        )

    return write


@pytest.fixture
def daemon(configs) -> Iterator[Callable[..., tuple[subprocess.Popen[str], Log]]]:
    """``monitor run OPTIONS`` on the config of feed A, and its log; stopped with SIGTERM at
    the end, which it must survive to (exit 0, no traceback)."""
    started: list[tuple[subprocess.Popen[str], Log]] = []

    def start(*options: str) -> tuple[subprocess.Popen[str], Log]:
        process = start_daemon(configs("A"), *options)
        started.append((process, Log(process)))
        return started[-1]

    yield start
    for process, log in started:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0, log.close()
        finally:
            process.kill()
        assert "Traceback" not in log.close()


def polled(feed_server, name: str) -> bool:
    return feed_server.statuses(f"/{name.lower()}.xml") == [200]


def hits(config: Path) -> list[tuple[str, str]]:
    """(feed, the item's guid) of every hit, as `monitor hits` lists them."""
    _, lines, _ = monitor(config, "hits", "--json", "--since", "7d")
    return sorted(
        (hit["feed"], hit["url"].rstrip("/").rsplit("/", 1)[1]) for hit in map(json.loads, lines.splitlines())
    )


def test_sighup_reloads_the_config_a_new_feed_polled_and_a_new_query_matched(feed_server, configs, daemon):
    process, log = daemon()
    log.wait_for("event=poll.ok feed=A")
    assert hits(configs("A")) == [("A", "n1-1002")]  # its hit, by the old queries

    config = configs("A", "B", queries=(NEW_QUERY,))
    process.send_signal(signal.SIGHUP)

    log.wait_for("event=config.reloaded")
    log.wait_for("event=poll.ok feed=B", timeout=LOOK.total_seconds() / 2)  # at once: not at the next look
    reloaded = log.text
    assert "event=config.reloaded" in reloaded and "feeds=2 watchlists=1 feeds_added=B" in reloaded
    assert "watchlists_changed=relocants" in reloaded
    assert hits(config) == [("A", "n1-1002"), ("B", "n1-1002"), ("B", "n1-1003")]
    assert polled(feed_server, "A")  # not polled again: not due for a minute


def test_a_bad_config_is_refused_and_the_daemon_goes_on_with_the_old_one(
    feed_server, configs, daemon, tmp_path
):
    process, log = daemon()
    log.wait_for("event=poll.ok feed=A")
    config = tmp_path / "monitor.toml"

    config.write_text(config.read_text() + "\n[storage\n")  # not TOML
    process.send_signal(signal.SIGHUP)
    log.wait_for("event=config.reload_failed")
    configs("A", "B", queries=('"Kolumbij',))  # a query that does not parse
    process.send_signal(signal.SIGHUP)
    log.wait_for("event=config.reload_failed", count=2)

    assert alive(process.pid)
    failed = [line for line in log.lines if "event=config.reload_failed" in line]
    assert "not valid TOML" in failed[0] and "unbalanced quote" in failed[1]
    assert "event=config.reloaded" not in log.text and not feed_server.statuses("/b.xml")

    configs("A", "B", extra="[polling]\nconcurrency = 4\n")  # good, with a setting fixed till a restart
    process.send_signal(signal.SIGHUP)
    log.wait_for("event=poll.ok feed=B")
    assert log.count("event=config.reloaded") == 1
    assert "event=config.needs_restart settings=polling.concurrency" in log.text


def put(config: Path, text: str) -> None:
    """``text`` in place of the config file at once (another inode), as an editor saves it."""
    written = config.with_name("saved.toml")
    written.write_text(text)
    written.replace(config)


def test_watch_config_reloads_a_changed_file_and_retries_one_half_written(
    feed_server, configs, daemon, tmp_path
):
    both = configs("A", "B").read_text()
    _, log = daemon("--watch-config")
    log.wait_for("event=poll.ok feed=A")
    config = tmp_path / "monitor.toml"

    put(config, "[storage]\nurl = ")  # an editor half way through writing it
    log.wait_for("event=config.reload_failed")
    time.sleep(2.5 * WATCH_EVERY.total_seconds())
    assert log.count("event=config.reload_failed") == 1  # once per change, not at every look
    put(config, both)

    log.wait_for("event=poll.ok feed=B")
    assert "not valid TOML" in log.text and "feeds_added=B" in log.text


def test_a_sighup_while_the_daemon_starts_does_not_kill_it(feed_server, configs, daemon):
    process, log = daemon()
    wait_until(lambda: handles(process.pid, signal.SIGHUP), 30, "no SIGHUP handler")
    process.send_signal(signal.SIGHUP)  # while it imports and compiles: held

    log.wait_for("event=poll.ok feed=A")
    log.wait_for("event=config.reloaded")  # once started, with nothing changed
    assert alive(process.pid)
    assert "feeds=1 watchlists=1 feeds_added=" in log.text


# a SIGHUP arriving before the command is known (see test_containment's SIGNALLED_AT_START)
HUP_AT_START = (
    "import os, signal; from monitor import __main__, signals; "
    "signals.hold(); os.kill(os.getpid(), signal.SIGHUP); __main__.main()"
)


def test_other_commands_end_on_a_sighup_held_at_start(configs):
    command = subprocess.run(
        [sys.executable, "-c", HUP_AT_START, "-c", str(configs("A")), "match"],  # else reads stdin
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert command.returncode == -signal.SIGHUP, command.stderr


def test_a_reload_reschedules_moved_digests_and_drops_removed_watchlists_jobs(configs, open_monitor, caplog):
    other = '[[watchlists]]\nname = "sport"\nqueries = ["fudbal"]\nrecipients = ["s@example.org"]\n'
    app = open_monitor(configs("A", extra=other))
    daemon = Daemon(app)
    caplog.set_level(logging.DEBUG, logger="monitor.daemon")

    async def scenario() -> tuple[str, list[str]]:
        stop = asyncio.Event()
        running = asyncio.create_task(daemon.run(stop))
        try:
            async with asyncio.timeout(20):
                while daemon.scheduler.get_job("digest-relocants") is None:
                    await asyncio.sleep(0.05)
                assert daemon.scheduler.get_job("digest-sport") is not None
                configs("A", extra='digest = "weekly mon 09:30"\n')
                os.kill(os.getpid(), signal.SIGHUP)
                while app.config.watchlists[0].digest.text == "daily 08:00":
                    await asyncio.sleep(0.05)
                job = daemon.scheduler.get_job("digest-relocants")
                await daemon._scheduled_digest("sport")  # had fired just as the reload removed it
                return str(job.trigger), [job.id for job in daemon.scheduler.get_jobs()]
        finally:
            stop.set()
            await running

    trigger, jobs = asyncio.run(scenario())

    assert "day_of_week='mon'" in trigger and "hour='9'" in trigger and "minute='30'" in trigger
    assert "digest-relocants" in jobs and "digest-sport" not in jobs
    assert "digest.watchlist_removed" in caplog.text and "digest.failed" not in caplog.text
