"""What the kernel says about processes (Linux /proc): the tests of what a daemon leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (name) ": state, ppid, …


def alive(pid: int) -> bool:
    """Running or sleeping: neither gone nor a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def descendants(pid: int, depth: int | None = None) -> set[int]:
    """Every living process started by ``pid`` or by one of its descendants; with ``depth``,
    only those that many generations down (2: its grandchildren)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] not in ("Z", "X"):
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier, generation = {pid}, 0
    while frontier and generation != depth:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        generation += 1
        found = frontier if generation == depth else found | frontier
    return found


def handles(pid: int, signum: signal.Signals) -> bool:
    """Whether ``pid`` has a handler installed for ``signum`` (SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.05)


def start_daemon(config: Path, *options: str) -> subprocess.Popen[str]:
    """``monitor -c CONFIG run OPTIONS`` as a real process, its log lines on ``stderr`` as it
    writes them."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "run", *options],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def ready(script: str, *args: str, count: int = 1) -> list[subprocess.Popen[str]]:
    """``count`` processes running ``script`` with ``args``, each past its start (it printed
    "ready") and waiting for a line on stdin (see ``go``): what they do next then begins within
    a millisecond of each other, racing."""
    started = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for process in started:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return started


def go(*processes: subprocess.Popen[str]) -> None:
    """Send each of ``processes`` the line it waits for."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def race(processes: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Let ``processes`` go at once; their stdout and stderr once they have ended."""
    go(*processes)
    return [process.communicate(timeout=60) for process in processes]


class Log:
    """A process's stderr read as it writes it, line by line, in a thread: a test waits for an
    event without the pipe filling up."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float = 30, count: int = 1) -> None:
        """Until ``count`` lines hold ``text``."""
        wait_until(lambda: self.count(text) >= count, timeout, f"{count} lines with {text!r}")

    def close(self) -> str:
        """All of it, once the process has ended."""
        self._reader.join(timeout=10)
        return self.text
