"""SQLite takes one daemon per database file: a second `monitor run` says so and exits 1, and
a daemon killed with SIGKILL leaves nothing that keeps the next one out."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.store.sole import lock_path
from tests.support.feeds import SERBIAN_NEWS, rss
from tests.support.processes import start_daemon


def wait_for(path: Path, daemon: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert daemon.poll() is None, "the daemon exited before it started"
        assert time.monotonic() < deadline, f"the daemon did not start within {timeout} s"
        time.sleep(0.1)


def test_a_second_daemon_on_one_sqlite_file_is_refused_until_the_first_is_gone(
    feed_server, smtp_server, write_config, tmp_path
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path}/m.db", smtp_port=smtp_server.port)
    first = start_daemon(config, "--heartbeat", str(tmp_path / "first"))
    try:
        wait_for(tmp_path / "first", first)
        second = subprocess.run(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        first.kill()
    third = start_daemon(config, "--heartbeat", str(tmp_path / "third"))
    try:
        wait_for(tmp_path / "third", third)
        third.send_signal(signal.SIGTERM)
        _, log = third.communicate(timeout=30)
    finally:
        third.kill()

    assert second.returncode == 1, second.stderr
    message = " ".join(second.stderr.split())
    assert f"another `monitor run` (pid {first.pid}) is the daemon of {tmp_path}/m.db" in message
    assert "use PostgreSQL for several workers" in message and "Traceback" not in message
    assert third.returncode == 0 and "event=daemon.stopped" in log, log


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////data/monitor.db", Path("/data/monitor.db.daemon-lock")),
        ("sqlite:///relative/m.db", Path("relative/m.db.daemon-lock")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://postgres@127.0.0.1:5432/test", None),
        ("not a url", None),
    ],
)
def test_only_a_sqlite_file_has_a_daemon_lock(url, expected):
    assert lock_path(url) == expected
