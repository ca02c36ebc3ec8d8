"""SIGTERM and SIGINT from the first instant of the process, before the command is known.

Importing the CLI and compiling the watchlists take a second or two. A signal then used to
kill the daemon with -15, skipping its clean stop. So stop signals are held from the start:
the daemon takes a held one as its request to stop, and every other command acts on it, with
Python's default handling, as soon as it knows it is not the daemon.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_held: list[int] = []


def _hold_one(signum: int, _frame: FrameType | None) -> None:
    _held.append(signum)


def hold() -> None:
    """Record stop signals instead of acting on them, until ``release()`` or the daemon."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _hold_one)


def held() -> bool:
    """Whether a stop signal arrived while held."""
    return bool(_held)


def release() -> None:
    """Python's own handling again (SIGINT raises KeyboardInterrupt, SIGTERM ends the
    process), and a signal that arrived meanwhile is acted on now."""
    if signal.getsignal(signal.SIGTERM) is not _hold_one:
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    while _held:
        signal.raise_signal(_held.pop(0))
