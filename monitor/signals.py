"""SIGTERM, SIGINT and SIGHUP from the first instant of the process, before the command is known.

Importing the CLI and compiling the watchlists take a second or two. A signal then used to
kill the daemon with -15, skipping its clean stop; and SIGHUP, the daemon's request to reload
its config, ends a process by default. So these signals are held from the start: the daemon
takes a held stop signal as its request to stop, and a held SIGHUP as one to reload once it
runs; every other command acts on them, with Python's default handling, as soon as it knows it
is not the daemon.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# not on Windows, which has no SIGHUP: there a config is reloaded only by --watch-config
RELOAD_SIGNALS = (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
_held: list[int] = []


def _hold_one(signum: int, _frame: FrameType | None) -> None:
    _held.append(signum)


def hold() -> None:
    """Record stop and reload signals instead of acting on them, until ``release()`` or the daemon."""
    for signum in (*STOP_SIGNALS, *RELOAD_SIGNALS):
        signal.signal(signum, _hold_one)


def held() -> bool:
    """Whether a stop signal arrived while held."""
    return any(signum in STOP_SIGNALS for signum in _held)


def reload_held() -> bool:
    """Whether a reload signal arrived while held."""
    return any(signum in RELOAD_SIGNALS for signum in _held)


def release() -> None:
    """Python's own handling again (SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP end
    the process), and a signal that arrived meanwhile is acted on now."""
    if signal.getsignal(signal.SIGTERM) is not _hold_one:
        return
    for signum in (signal.SIGTERM, *RELOAD_SIGNALS):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    while _held:
        signal.raise_signal(_held.pop(0))
