"""The long-running worker: APScheduler jobs for polling and digests, stopped by SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import FeedConfig, WatchlistConfig
from monitor.fetch import Fetcher
from monitor.log import event
from monitor.pipeline import Monitor, utcnow

log = logging.getLogger("monitor.daemon")

DIGEST_GRACE = timedelta(hours=6)
HEARTBEAT_EVERY = timedelta(minutes=1)
SHUTDOWN_GRACE = 8.0  # inside `docker stop`'s default 10 s; every transaction is atomic anyway


def digest_missed(watchlist: WatchlistConfig, due_since: datetime | None, now: datetime) -> bool:
    """True when a scheduled digest fell between ``due_since`` and ``now`` (the daemon was down)."""
    if due_since is None:
        return False
    return watchlist.digest.next_after(due_since, watchlist.timezone) <= now


class Daemon:
    def __init__(self, monitor: Monitor, heartbeat: Path | None = None) -> None:
        self.monitor = monitor
        self.heartbeat = heartbeat
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[None]] = set()

    def _tracked(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Wrap a job so shutdown can wait for it to finish its current transaction."""

        async def run(*args: object) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job(*args)
            except Exception:
                log.exception("job.crashed", extra={"fields": {"job": job.__name__}})
            finally:
                self._running.discard(task)

        run.__name__ = job.__name__
        return run

    async def _poll(self, feeds: list[FeedConfig], fetcher: Fetcher) -> None:
        summary = await self.monitor.poll(feeds, fetcher)
        event(
            log,
            "poll.cycle",
            feeds=len(feeds),
            ok=summary.ok,
            failed=summary.failed,
            new_items=summary.new_items,
            new_hits=summary.new_hits,
        )

    async def _digest(self, watchlist: WatchlistConfig) -> None:
        await asyncio.to_thread(self.monitor.send_digest, watchlist, utcnow())

    async def _beat(self) -> None:
        if self.heartbeat:
            await asyncio.to_thread(self._write_heartbeat)

    def _write_heartbeat(self) -> None:
        """Write then rename, so `monitor health` never reads half a timestamp."""
        assert self.heartbeat is not None
        partial = self.heartbeat.with_name(self.heartbeat.name + ".tmp")
        partial.write_text(utcnow().isoformat() + "\n")
        partial.replace(self.heartbeat)

    def _schedule(self, fetcher: Fetcher, now: datetime) -> None:
        """Interval jobs per group of feeds with one interval, a cron job per digest, a heartbeat."""
        by_interval: dict[timedelta, list[FeedConfig]] = defaultdict(list)
        for feed in self.monitor.config.feeds:
            by_interval[feed.interval].append(feed)
        for interval, feeds in by_interval.items():
            self.scheduler.add_job(
                self._tracked(self._poll),
                IntervalTrigger(seconds=interval.total_seconds(), jitter=5),
                args=[feeds, fetcher],
                id=f"poll-{int(interval.total_seconds())}s",
                next_run_time=now + interval,
                coalesce=True,
                max_instances=1,
            )
        for watchlist in self.monitor.config.watchlists:
            self.scheduler.add_job(
                self._tracked(self._digest),
                watchlist.digest.trigger(watchlist.timezone),
                args=[watchlist],
                id=f"digest-{watchlist.name}",
                coalesce=True,
                misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
                max_instances=1,
            )
        self.scheduler.add_job(self._tracked(self._start), args=[fetcher, now], next_run_time=now, id="start")
        self.scheduler.add_job(
            self._tracked(self._beat),
            IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
            next_run_time=now,
            id="heartbeat",
        )

    async def _start(self, fetcher: Fetcher, now: datetime) -> None:
        """Poll every feed once, then send the digests that fell due while the daemon was down,
        so that they carry the news published meanwhile."""
        missed = [
            watchlist
            for watchlist in self.monitor.config.watchlists
            if digest_missed(watchlist, self.monitor.store.digest_due_since(watchlist.name), now)
        ]
        await self._poll(list(self.monitor.config.feeds), fetcher)
        for watchlist in missed:
            event(log, "digest.catch_up", watchlist=watchlist.name)
            await self._digest(watchlist)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set or SIGTERM/SIGINT arrives; then let running jobs finish."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with Fetcher() as fetcher:
            now = utcnow()
            self._schedule(fetcher, now)
            self.scheduler.start()
            event(
                log,
                "daemon.started",
                feeds=len(self.monitor.config.feeds),
                watchlists=len(self.monitor.config.watchlists),
                config=self.monitor.config.path,
            )
            await stop.wait()
            event(log, "daemon.stopping", running_jobs=len(self._running))
            self.scheduler.shutdown(wait=False)
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if self.heartbeat:
            self.heartbeat.unlink(missing_ok=True)  # a stopped daemon must not look healthy
        event(log, "daemon.stopped")
