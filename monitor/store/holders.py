"""Who holds a claim: a process on a host, known by its pid and the moment it started, so that
another process on the same host can tell that the holder died and take its claims back at
once instead of waiting for their leases to run out."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Column, Connection, select


class Holder(NamedTuple):
    """A process as claims record it: ``host:pid:started``."""

    host: str
    pid: int
    started: int | None  # clock ticks from boot to its start (Linux's /proc); None where unknown

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{'' if self.started is None else self.started}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a claim names; None for a name that is not one (a test's "worker-a")."""
        host, _, rest = text.partition(":")
        pid, _, started = rest.partition(":")
        try:
            return cls(host, int(pid), int(started) if started else None)
        except ValueError:
            return None


def dead(holder: Holder, host: str, seen: Holder | None) -> bool:
    """Whether ``holder`` is known to be dead, judged on ``host`` from ``seen``: what runs under
    its pid there now (None: nothing, or a zombie). A holder on another host, or one whose
    start is unknown while its pid runs, may be alive: its lease decides. A pid running a
    process that started at another moment was reused: in a container, where every daemon is
    pid 1, that is a restarted daemon seeing its earlier incarnation's claims."""
    if holder.host != host or holder.pid <= 0:
        return False
    if seen is None:
        return True
    return holder.started is not None and seen.started is not None and seen.started != holder.started


def running(pid: int) -> Holder | None:
    """The process running under ``pid`` on this host, with its start where /proc tells it;
    None when there is none or it is a zombie (dead, not yet reaped)."""
    host = socket.gethostname()
    if pid <= 0:  # os.kill would reach a process group
        return None
    if os.name != "posix":  # os.kill(pid, 0) would signal it: nothing to tell, the lease decides
        return Holder(host, pid, None)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # another user's process: it exists
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return Holder(host, pid, None)
    # pid (comm) state ppid ... starttime is the 22nd field; comm may hold spaces and parentheses
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return Holder(host, pid, int(fields[19]))


def this_process() -> Holder:
    """The holder this process records in its claims."""
    found = running(os.getpid())
    assert found is not None  # we are running
    return found


def dead_holders(
    connection: Connection, holder: Column[Any], until: Column[Any], now: datetime, owner: Holder
) -> list[str]:
    """The holders of claims still running (``until`` ahead of ``now``) in ``holder``'s column
    that are processes of this host known to be dead. ``owner``, this process, is not asked
    about: it is alive, and the daemon claims every second while it is busy."""
    held = connection.execute(
        select(holder).distinct().where(until >= now, holder.is_not(None), holder != str(owner))
    )
    found = [(name, Holder.parse(name)) for name in held.scalars()]
    return [
        name
        for name, parsed in found
        if parsed is not None and parsed.host == owner.host and dead(parsed, owner.host, running(parsed.pid))
    ]
