"""What one feed or one process does stays with it: a daemon killed leaves nothing running,
a signal at start-up is a clean stop, and commands that only read write nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from monitor import checks
from monitor.app import App
from monitor.cli import main
from monitor.errors import StorageError
from monitor.http.fetch import Fetcher, Limits
from monitor.models import utcnow
from monitor.polling.poller import Poller, PollSummary
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.processes import alive, descendants, handles, start_daemon, wait_until

PARALLEL_FROM = 20  # feeds from which `monitor run` parses in worker processes


def test_a_daemon_killed_with_sigkill_leaves_no_parse_workers(
    feed_server, smtp_server, tmp_path, write_config
):
    feeds = {
        f"Feed {number}": feed_server.serve(
            f"/{number}.xml",
            rss(f"Feed {number}", "https://n1info.rs", SERBIAN_NEWS).replace("n1-", f"{number}-"),
        )
        for number in range(PARALLEL_FROM)
    }
    config = write_config(feeds, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port)
    daemon = start_daemon(config)
    left: set[int] = set()
    try:
        wait_until(lambda: len(descendants(daemon.pid)) >= 3, 60, "the daemon did not start parse workers")
        wait_until(lambda: all(feed_server.statuses(f"/{n}.xml") for n in range(PARALLEL_FROM)), 60, "polls")
        left = descendants(daemon.pid)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        wait_until(lambda: not any(alive(pid) for pid in left), 15, "the parse workers did not exit")
    finally:
        daemon.kill()
        for pid in left:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_sigterm_while_the_daemon_starts_is_a_clean_stop(feed_server, smtp_server, tmp_path, write_config):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=smtp_server.port
    )
    daemon = start_daemon(config)
    try:  # as soon as it can take a signal, long before it has imported and compiled everything
        wait_until(lambda: handles(daemon.pid, signal.SIGTERM), 30, "no SIGTERM handler")
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=60)
    finally:
        daemon.kill()

    assert daemon.returncode == 0, log
    assert "event=daemon.stopped before_start=True" in log
    assert feed_server.statuses("/n1.xml") == []  # it stopped before polling


# `monitor` itself, with a stop signal arriving at the worst moment: held, before the command is
# known (the start is too quick now for a test to aim a signal into that moment from outside)
SIGNALLED_AT_START = (
    "import os, signal; from monitor import __main__, signals; "
    "signals.hold(); os.kill(os.getpid(), signal.SIGTERM); __main__.main()"
)


def test_other_commands_still_stop_on_a_sigterm_held_at_start(tmp_path, write_config):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)

    command = subprocess.run(
        [sys.executable, "-c", SIGNALLED_AT_START, "-c", str(config), "match"],  # else reads stdin
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert command.returncode == -signal.SIGTERM, command.stderr


READ_ONLY = (("hits",), ("feeds",), ("digest", "status"), ("digest", "preview"))


def test_commands_that_read_write_nothing_and_compile_nothing(
    feed_server, smtp_server, tmp_path, write_config, lexicon_cache
):
    database = f"sqlite:///{tmp_path / 'm.db'}"
    n1 = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    other = feed_server.serve("/other.xml", rss("Other", "https://other.example", []))
    polling = write_config({"N1": n1, "Other": other}, database_url=database, smtp_port=smtp_server.port)
    assert CliRunner().invoke(main, ["-c", str(polling), "poll", "--all"]).exit_code == 0
    # another config on the same database, without the feed "Other"
    reading = write_config({"N1": n1}, database_url=database, smtp_port=smtp_server.port)
    for cached in lexicon_cache.iterdir():
        cached.unlink()

    held = sqlite3.connect(tmp_path / "m.db", timeout=0)
    held.execute("BEGIN IMMEDIATE")  # a daemon in the middle of a write
    try:
        for command in READ_ONLY:
            result = CliRunner().invoke(main, ["-c", str(reading), *command])
            assert result.exit_code == 0, (command, result.output)
    finally:
        held.rollback()
        held.close()

    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("SELECT name, enabled FROM feeds ORDER BY name").fetchall() == [
            ("N1", 1),
            ("Other", 1),
        ]
    assert list(lexicon_cache.iterdir()) == []  # no watchlist was compiled


class _Faulty(Poller):
    """A poller with a defect that only one feed's data sets off, and a database that refuses
    another feed's items."""

    def _absorb(self, feed, *args):  # type: ignore[no-untyped-def]
        if feed.name == "Bad":
            raise RuntimeError("a defect")
        if feed.name == "Refused":
            raise StorageError("invalid byte sequence")
        return super()._absorb(feed, *args)


def test_any_error_in_one_feed_becomes_its_recorded_failure(
    feed_server, smtp_server, database_url, write_config
):
    body = rss("N1", "https://n1info.rs", SERBIAN_NEWS)
    feeds = {
        name: feed_server.serve(f"/{name}.xml", body.replace("n1-", f"{name}-"))
        for name in ("Good", "Bad", "Refused")
    }
    config = checks.load(write_config(feeds, database_url=database_url, smtp_port=smtp_server.port))
    app = App(config)
    poller = _Faulty(config, app.store, lambda: app.matcher)
    poller.sync_feeds()
    try:
        summary = asyncio.run(poller_poll(poller))
        statuses = {status.name: status for status in app.store.feeds.statuses(utcnow())}
    finally:
        poller.close()
        app.close()

    assert [(o.feed, o.new_items, o.error) for o in summary.outcomes] == [
        ("Good", 3, None),
        ("Bad", 0, "monitor could not process this feed (RuntimeError: a defect)"),
        ("Refused", 0, "the database refused this poll: invalid byte sequence"),
    ]
    failed = {name: (statuses[name].health, statuses[name].last_error_kind) for name in ("Bad", "Refused")}
    assert failed == {"Bad": ("failing", "bug"), "Refused": ("failing", "storage")}
    assert all(statuses[name].next_poll > utcnow() for name in failed)  # backing off


async def poller_poll(poller: Poller) -> PollSummary:
    async with Fetcher(Limits()) as fetcher:
        return await poller.poll(poller.config.feeds, fetcher)


def _hostile(feed_server) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """Feeds that have stopped daemons or garbled text, served; name → (url, the error kind
    expected, or None when its items are stored)."""
    news = rss("N1", "https://n1info.rs", SERBIAN_NEWS)

    def entry(name: str, title: str) -> str:  # a document with one item titled ``title`` (XML as is)
        return news.replace("Vučić o odnosima Srbije i Rusije", title).replace("n1-", f"{name}-")

    cyrillic = rss("РТС", "https://rts.rs", [("rts-1", "Протеривање руског активисте", "БИА")])
    many = rss("Many", "https://many.example", [(f"m-{n}", f"Vest {n}", "") for n in range(2_500)])
    served = {
        "Surrogate": (entry("s", "BIA &#xD800; proterala"), None),
        "Nul": (entry("nul", "BIA&#0; i \x00 nul"), None),
        "Escape": (entry("esc", "\x1b[31mBIA\x1b[0m [bold red]x[/]"), None),
        "Bidi": (entry("bidi", "BIA \u202eproterala"), None),
        "Huge title": (entry("huge", "BIA " + "reč " * 250_000), None),
        "Many": (many, None),
        "Bad byte": (cyrillic.encode("utf-8").replace("активисте".encode(), b"\xff\xfe", 1), None),
        "Page": ("<html><body>Not a feed</body></html>", "not_a_feed"),
        "Truncated": (news[: len(news) // 2], None),
        "Namespace": (
            '<?xml version="1.0"?><rss version="2.0"><channel><x:y/></channel></rss>',
            "not_a_feed",
        ),
        "Down": ("", "http"),
        "Bomb": ("", "too_large"),
    }
    options = {
        "Page": {"content_type": "text/html"},
        "Down": {"status": 500},
        "Bomb": {"gzip_bomb": 50_000_000},
    }
    return {
        name: (feed_server.serve(f"/{number}.xml", body, **options.get(name, {})), kind)
        for number, (name, (body, kind)) in enumerate(served.items())
    }


def test_the_daemon_keeps_polling_beside_every_hostile_feed(feed_server, smtp_server, tmp_path, write_config):
    hostile = _hostile(feed_server)
    good = {
        f"Good {n}": feed_server.serve(
            f"/good-{n}.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS).replace("n1-", f"g{n}-")
        )
        for n in range(PARALLEL_FROM - len(hostile))  # enough feeds for parse workers
    }
    database = tmp_path / "m.db"
    feeds = {name: url for name, (url, _) in hostile.items()} | good
    config = write_config(feeds, database_url=f"sqlite:///{database}", smtp_port=smtp_server.port)
    daemon = start_daemon(config)
    try:
        wait_until(lambda: _polled(database) >= len(feeds), 90, "every feed was not polled")
        assert daemon.poll() is None, "the daemon died"
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=30)
    finally:
        daemon.kill()

    assert daemon.returncode == 0, log
    assert "Traceback" not in log and "poll.bug" not in log and "parser_died" not in log
    with sqlite3.connect(database) as db:
        kinds = dict(db.execute("SELECT name, last_error_kind FROM feeds"))
        titles = {title for (title,) in db.execute("SELECT title FROM items")}
        stored = dict(
            db.execute(
                "SELECT feeds.name, count(*) FROM sightings JOIN feeds ON feeds.id = sightings.feed_id "
                "GROUP BY feeds.name"
            )
        )
    assert {name: kinds[name] for name in hostile} == {name: kind for name, (_, kind) in hostile.items()}
    assert all(stored[name] == 3 for name in good)
    assert stored["Many"] == 1_000
    assert "BIA  proterala" in titles or "BIA proterala" in titles
    assert not any(ch in title for title in titles for ch in "\x00\x1b\u202e\ud800")
    assert max(len(title) for title in titles) <= 1_000
    assert "Протеривање руског \ufffd" in {
        title.split("\ufffd")[0] + "\ufffd" for title in titles if "\ufffd" in title
    }


def _polled(database: Path) -> int:
    """How many feeds have been polled, well or not."""
    try:
        with sqlite3.connect(database) as db:
            return db.execute(
                "SELECT count(*) FROM feeds WHERE last_success_at IS NOT NULL OR last_error_kind IS NOT NULL"
            ).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
