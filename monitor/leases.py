"""How long claims last, how often a worker says it lives, and how it waits for a database
that went away: the numbers of several workers sharing one database, in one place.

Every claim (a feed being polled, a message being sent, a scheduled run being done) is a lease
in the database, held by a worker (host:pid:start, see monitor.store.holders). Leases are short
and renewed by the worker's heartbeat while the work runs, so a worker that dies without a word
(SIGKILL, a host that vanished) holds nothing for long: its leases run out ``LEASE`` after its
last beat, and the other workers, which look for due feeds at least every ``LOOK``, take them.
A worker on the same host sees a dead holder's pid at once and does not wait (holders.dead).
``LEASE`` is three beats, so one slow beat (a busy database) does not lose a lease; ``LEASE``
plus ``LOOK`` stays within a minute. A process that does not beat (a CLI command sending
digests) holds its messages for as long as its slowest send could take instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.models import WorkerState

BEAT = timedelta(seconds=10)  # a worker's heartbeat: its row's last_seen, and its leases renewed
LEASE = timedelta(seconds=30)  # a claim outlives its last renewal by this much
LOOK = timedelta(seconds=10)  # a worker looks for due feeds, and freed ones, at least this often
GONE_AFTER = timedelta(seconds=30)  # a worker not seen for this long is gone (as its leases)
FORGET_AFTER = timedelta(days=1)  # a stopped or gone worker's row is kept this long
RECONNECT_FIRST = timedelta(seconds=1)  # the database away: the first wait before trying again…
RECONNECT_MAX = timedelta(seconds=30)  # …doubling up to this


def worker_state(last_seen: datetime, stopped: datetime | None, now: datetime) -> WorkerState:
    """A worker as its row tells it at ``now``: stopped cleanly, live while its beats come, or
    gone (killed, or its host vanished) once none came for ``GONE_AFTER``."""
    if stopped is not None:
        return "stopped"
    return "live" if now - last_seen <= GONE_AFTER else "gone"


def reconnect_wait(failures: int) -> timedelta:
    """How long to wait before trying the database again after ``failures`` failed tries in a
    row: doubling from ``RECONNECT_FIRST``, never more than ``RECONNECT_MAX``."""
    if failures <= 0:
        return timedelta(0)
    return min(RECONNECT_MAX, RECONNECT_FIRST * (1 << min(failures - 1, 16)))
