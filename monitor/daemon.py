"""The long-running worker: APScheduler jobs for polling and digests, stopped by SIGTERM/SIGINT,
its config reloaded on SIGHUP (or when the file changes, with ``--watch-config``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import __version__, checks
from monitor.app import App, compile_watchlists
from monitor.config import Config, FeedConfig, WatchlistConfig
from monitor.config.changes import Changes, compare
from monitor.errors import ConfigError, DatabaseAway, MonitorError
from monitor.http.fetch import Fetcher, Limits
from monitor.leases import BEAT, LEASE, LOOK, reconnect_wait
from monitor.log import event, follow_config
from monitor.match import Matcher, release
from monitor.models import FeedState, utcnow
from monitor.polling.poller import FeedOutcome
from monitor.schedule import due_run, last_fire, slot, trigger
from monitor.signals import RELOAD_SIGNALS, STOP_SIGNALS, held, reload_held

log = logging.getLogger("monitor.daemon")

DIGEST_GRACE = timedelta(hours=6)
CATCH_UP_WAIT = timedelta(minutes=5)  # at start, missed digests wait this long for the due polls
HEARTBEAT_EVERY = timedelta(minutes=1)
SHUTDOWN_GRACE = 8.0  # inside `docker stop`'s default 10 s; every transaction is atomic anyway
SERVER_GRACE = 2.0  # then the HTTP face's requests under way (1 s) and its closing, within those 10 s
IDLE_PAUSE = LOOK  # look for due feeds at least this often
BUSY_PAUSE = timedelta(seconds=1)
ALERT_GATHER = timedelta(seconds=10)  # hits found this soon after the first go in one alert
PRUNE_EVERY = timedelta(days=1)  # [storage] keep_items: one worker prunes once per UTC day
PRUNE_LOOK = timedelta(hours=1)  # how often each worker sees whether today's prune is done
WATCH_EVERY = timedelta(seconds=2)  # --watch-config: how often the config file is looked at
SYNC_AGAIN = LOOK  # a reload's feeds not written for the database away: tried again after this
# settings a running daemon keeps until it restarts: its database, its fetcher's limits, its HTTP face
FIXED = (
    "storage.url",
    *(f"polling.{name}" for name in ("concurrency", "per_host", "timeout", "max_body_mb")),
    "polling.allow_private_redirects",
    "server.listen",  # the socket bound at the start
    "server.token_env",
)


class Outage:
    """The database away, as the daemon meets it (a restart, a failover, connections
    terminated): one event when it goes, at the first failure anywhere, and one when it is
    back, at the first success after; meanwhile the poll loop's tries wait longer each time."""

    def __init__(self) -> None:
        self.since: float | None = None  # when it went away; None while it answers
        self.tries = 0  # the poll loop's claims that failed since

    def seen(self, where: str, error: DatabaseAway) -> None:
        if self.since is None:
            self.since = time.monotonic()
            event(log, "database.away", logging.ERROR, where=where, error=str(error))

    def retry(self, where: str, error: DatabaseAway) -> timedelta:
        """How long the poll loop waits before claiming again."""
        self.seen(where, error)
        self.tries += 1
        return reconnect_wait(self.tries)

    def back(self) -> None:
        if self.since is not None:
            away = round(time.monotonic() - self.since, 1)
            event(log, "database.back", seconds=away, tries=self.tries)
            self.since, self.tries = None, 0


Stamp = tuple[int, int, int] | None  # a file's (mtime_ns, size, inode); None: it cannot be read


def stamp(path: Path) -> Stamp:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino


@dataclass
class Watch:
    """The config file as last seen (``--watch-config``): another modification time, size or
    inode (an editor, or a container's bind mount, replacing it) is a change. Stamped before
    the config is read, so that a change while the daemon starts is not missed."""

    path: Path
    seen: Stamp

    @classmethod
    def of(cls, path: Path) -> Watch:
        return cls(path, stamp(path))

    def changed(self) -> bool:
        now = stamp(self.path)
        changed, self.seen = now != self.seen, now
        return changed


def _read_config(path: Path) -> tuple[Config, Matcher]:
    """The config at ``path`` checked as the command line checks it, and its watchlists
    compiled; the dictionaries a new word needed are dropped after (see ``monitor run``)."""
    config = checks.load(path)
    try:
        return config, compile_watchlists(config)
    except ValueError as exc:
        raise ConfigError(f"{path}: the watchlists do not compile: {exc}") from exc
    finally:
        release()


def _stop_now(signum: int) -> None:
    """A second stop signal: exit at once, the work under way abandoned. Nothing is left half
    written: a transaction not committed is undone by the database (SQLite's journal,
    PostgreSQL when the connection drops), and this worker's claims run out with their leases."""
    event(log, "daemon.stopped_at_once", logging.WARNING, signal=signal.Signals(signum).name)
    logging.shutdown()
    os._exit(128 + signum)


class Daemon:
    def __init__(
        self,
        app: App,
        heartbeat: Path | None = None,
        idle_pause: timedelta = IDLE_PAUSE,
        alert_gather: timedelta = ALERT_GATHER,
        watch: Watch | None = None,
        server: socket.socket | None = None,
    ) -> None:
        """``idle_pause``: how long the poll loop may sleep before looking for due feeds again;
        ``alert_gather``: how long alerts wait for the hits of the feeds polled meanwhile;
        ``watch``: the config file, reloaded when it changes; ``server``: the socket bound for
        ``[server] listen``, served while the daemon runs."""
        self.app = app
        self.watch = watch
        self.server = server
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # the poll loop looks for due feeds now (a reload added some)
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False
        self.alert_gather = alert_gather
        self._alerting: asyncio.Task[None] | None = None
        self._alert_again = False
        self.heartbeat = heartbeat
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.idle_pause = idle_pause
        self._polling: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        # the work under way, whose leases the heartbeat renews: polls (their feeds), and the
        # scheduled runs this worker claimed (the outbox knows the messages it is sending)
        self._polls: dict[asyncio.Task[FeedOutcome], FeedConfig] = {}
        self._runs: set[tuple[str, datetime]] = set()
        self._again: dict[str, FeedConfig] = {}  # feeds whose poll met the database away
        self._outage = Outage()
        self._caught_up = False  # the start's catch-up is over: the retry also recovers digests

    def _tracked(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Coroutine[Any, Any, None]]:
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

    async def _poll_due(self, fetcher: Fetcher, stop: asyncio.Event) -> None:
        """Claim the feeds that are due and poll them, keeping the fetcher's slots busy, until
        ``stop``. Claims are leases in the database, taken a batch at a time (as many as there
        are free slots) and renewed by the heartbeat while their polls run: a restart loses no
        schedule, workers share the feeds, and a dead worker's feeds come back within a
        minute. Nothing that goes wrong in one round stops the loop: it is logged, and the
        next round tries again. On ``stop``, the polls under way get a grace to finish; the
        others are cancelled, and their feeds handed back (see ``run``)."""
        capacity = 2 * fetcher.limits.concurrency  # enough queued to keep every slot busy
        running = self._polls
        stopping = asyncio.create_task(stop.wait())
        woken = asyncio.create_task(self._wake.wait())
        claim_at = 0.0  # the database away: no claim before this moment (time.monotonic)
        try:
            while not stop.is_set():
                claimed: list[tuple[FeedConfig, FeedState | None]] = []
                if len(running) < capacity and time.monotonic() >= claim_at:
                    try:
                        claimed = [
                            *await asyncio.to_thread(
                                self.app.poller.claim_due, capacity - len(running), LEASE
                            )
                        ]
                    except DatabaseAway as exc:
                        claim_at = time.monotonic() + self._outage.retry("poll.claim", exc).total_seconds()
                    except Exception as exc:  # a bug: try again, keep polling
                        event(log, "poll.claim_failed", logging.ERROR, error=f"{type(exc).__name__}: {exc}")
                    else:
                        self._outage.back()
                        for feed, _ in claimed:
                            self._again.pop(feed.name, None)
                        claimed += [(feed, None) for feed in self._again.values()]  # their state read anew
                        self._again.clear()
                        for feed, state in claimed:
                            task = asyncio.create_task(self.app.poller.poll_feed(feed, fetcher, state))
                            running[task] = feed
                pause = BUSY_PAUSE if claimed else self.idle_pause
                if self._outage.tries:
                    pause = timedelta(seconds=max(claim_at - time.monotonic(), 0))
                elif not running:
                    pause = await asyncio.to_thread(self._until_next_due)
                done, _ = await asyncio.wait(
                    {*running, stopping, woken},
                    timeout=pause.total_seconds(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if woken in done:
                    self._wake.clear()
                    woken = asyncio.create_task(self._wake.wait())
                for task in [task for task in running if task in done]:
                    feed = running.pop(task)  # its lease is no longer renewed: written off, or running out
                    if task.cancelled():
                        continue
                    if isinstance(error := task.exception(), DatabaseAway):
                        # nothing of the poll was written: this worker polls it again, holding it
                        self._outage.seen("poll", error)
                        self._again[feed.name] = feed
                        event(log, "poll.again", feed=feed.name)
                    elif error is not None:
                        # a feed's own problems are recorded by poll_feed; this is ours (a bug):
                        # its lease runs out and it is polled again
                        event(log, "poll.crashed", logging.ERROR, error=f"{type(error).__name__}: {error}")
                    elif isinstance(outcome := task.result(), FeedOutcome) and outcome.new_hits:
                        self._alert_soon()
            if running:
                await asyncio.wait(set(running), timeout=SHUTDOWN_GRACE)
        finally:
            stopping.cancel()
            woken.cancel()
            for task in running:
                task.cancel()  # not started, or past the grace: handed back with the others
            await asyncio.gather(*running, return_exceptions=True)
            running.clear()

    def alive(self) -> bool:
        """Whether the scheduler and the poll loop run (for /healthz)."""
        return bool(self.scheduler.running) and self._polling is not None and not self._polling.done()

    def _serve(self, sock: socket.socket, stop: asyncio.Event) -> asyncio.Task[None]:
        """The HTTP face on ``sock`` until ``stop``; if it fails, the daemon goes on, and says so
        (a health check that cannot reach it then reports the daemon unhealthy)."""
        from monitor.web.app import for_app
        from monitor.web.listen import token
        from monitor.web.serve import serve

        def ended(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and (error := task.exception()) is not None:
                event(log, "server.failed", logging.ERROR, error=f"{type(error).__name__}: {error}")

        face = for_app(self.app, self.app.metrics.registry, token(self.app.config.server), self.alive)
        task = asyncio.create_task(serve(face, sock, stop))
        task.add_done_callback(ended)
        return task

    def _until_next_due(self) -> timedelta:
        try:
            due = self.app.poller.next_due()
        except Exception:  # the loop's next claim says what went wrong
            return self.idle_pause
        if due is None:
            return self.idle_pause
        return max(min(BUSY_PAUSE, self.idle_pause), min(self.idle_pause, due - utcnow()))

    async def _once(self, job: str, due: datetime, work: Callable[[], object]) -> None:
        """Do ``work`` (in a thread) if this worker claims ``job``'s run scheduled at ``due``:
        every worker on the database fires the same schedules, and one does each run. A run
        that raised is not marked done, so it is taken over once its lease runs out."""
        jobs = self.app.store.jobs
        if not await asyncio.to_thread(jobs.claim, job, due, utcnow(), LEASE):
            event(log, "job.taken", logging.DEBUG, job=job, due=due.isoformat())
            return
        self._runs.add((job, due))
        try:
            await asyncio.to_thread(work)
            await asyncio.to_thread(jobs.finish, job, due, utcnow())
        finally:
            self._runs.discard((job, due))

    def _digest_due(self, watchlist: WatchlistConfig, now: datetime) -> datetime | None:
        """The scheduled time of the watchlist's digest run due at ``now``: the first after its
        last run (or its oldest hit no digest has); for a watchlist with neither, the latest
        fire within the grace. None when its next run is still ahead (another worker did it)."""
        assert watchlist.digest is not None
        since = self.app.store.messages.due_since(watchlist.name)
        if since is None:
            return last_fire(watchlist.digest, watchlist.timezone, now, DIGEST_GRACE)
        return due_run(watchlist.digest, watchlist.timezone, since, now)

    def _missed(self, watchlist: WatchlistConfig, now: datetime) -> bool:
        """Whether a digest run fell due while no worker ran, after the watchlist's last run
        (or its oldest hit no digest has)."""
        if watchlist.digest is None:
            return False
        since = self.app.store.messages.due_since(watchlist.name)
        return since is not None and due_run(watchlist.digest, watchlist.timezone, since, now) is not None

    def _failed(self, where: str, error: MonitorError) -> None:
        """A job's failure, one line: the database away is the outage's event."""
        if isinstance(error, DatabaseAway):
            self._outage.seen(where, error)
        else:
            event(log, f"{where}.failed", logging.ERROR, error=str(error))

    async def _scheduled_digest(self, name: str) -> None:
        """A watchlist's digest, fired by its schedule, as the config now has it; one that
        fails (the database away) is done by the next outbox round (see ``_retry``). One fired
        as a reload removed its watchlist has nothing to send."""
        try:
            watchlist = self.app.config.watchlist(name)
        except ConfigError:
            event(log, "digest.watchlist_removed", logging.DEBUG, watchlist=name)
            return
        try:
            await self._digest(watchlist)
        except MonitorError as exc:
            self._failed("digest", exc)

    async def _digest(self, watchlist: WatchlistConfig) -> None:
        now = utcnow()
        due = await asyncio.to_thread(self._digest_due, watchlist, now)
        if due is None:
            event(log, "digest.not_due", logging.DEBUG, watchlist=watchlist.name)
            return
        await self._once(
            f"digest:{watchlist.name}", due, functools.partial(self.app.outbox.send_digest, watchlist, now)
        )

    async def _retry(self) -> None:
        """Send again the waiting digests whose backoff has run out; then the alerts of hits
        stored but never alerted (a worker stopped between storing them and recording their
        alert), which would otherwise wait for the next poll that finds hits; then, once the
        start's catch-up is over, the digests whose run nobody finished (its worker died)."""
        now = utcnow()
        try:
            await self._once("outbox", slot(now, self.app.config.outbox.retry_every), self._send_waiting)
            if self._caught_up:
                for watchlist in self.app.config.watchlists:
                    if watchlist.digest is not None:
                        await self._digest(watchlist)
        except MonitorError as exc:  # the database is away: the next retry tries again
            self._failed("digest.outbox", exc)

    def _send_waiting(self) -> None:
        self.app.outbox.send_waiting(utcnow(), due_only=True)
        if self.app.outbox.alerting:
            self.app.outbox.send_alerts(utcnow())

    def _alert_soon(self) -> None:
        """Hits were found: send the alerts in a moment, off the poll loop, one round at a
        time; hits found while a round is under way go in the next."""
        if not self.app.outbox.alerting:
            return
        if self._alerting is not None and not self._alerting.done():
            self._alert_again = True
            return
        self._alerting = asyncio.create_task(self._tracked(self._alert)())

    async def _alert(self) -> None:
        self._alert_again = True
        while self._alert_again:
            await asyncio.sleep(self.alert_gather.total_seconds())
            self._alert_again = False
            now = utcnow()
            try:
                await self._once(
                    "alerts",
                    slot(now, self.alert_gather),
                    functools.partial(self.app.outbox.send_alerts, now),
                )
            except MonitorError as exc:  # the hits wait: the next poll with hits, or retry, tries again
                self._failed("alert", exc)

    async def _prune(self, keep: timedelta) -> None:
        """The items older than ``[storage] keep_items`` that no watchlist hit, deleted by one
        worker a day (the first to claim the day's run); the others find it taken."""
        now = utcnow()
        try:
            await self._once("prune", slot(now, PRUNE_EVERY), functools.partial(self._prune_items, keep))
        except MonitorError as exc:  # the database is away: the next look tries again
            self._failed("prune", exc)

    def _prune_items(self, keep: timedelta) -> None:
        began = time.monotonic()
        before = utcnow() - keep
        removed = self.app.store.items.prune(before)
        event(
            log,
            "prune.done",
            removed=removed,
            before=before.isoformat(),
            seconds=round(time.monotonic() - began, 1),
        )

    async def _beat(self) -> None:
        """A heartbeat only while polling goes on: a daemon that stopped polling is not healthy."""
        if self.heartbeat and (self._polling is None or not self._polling.done()):
            await asyncio.to_thread(self._write_heartbeat)

    async def _worker_beat(self) -> None:
        """This worker lives: its row in the database is seen now, and the leases of the work
        under way are renewed."""
        beat = functools.partial(
            self.app.store.workers.beat,
            feed_names={*(feed.name for feed in self._polls.values()), *self._again},
            message_ids=self.app.outbox.held.copy(),  # its sends run in threads: a copy, at once
            runs=set(self._runs),
        )
        try:
            await asyncio.to_thread(beat, utcnow(), LEASE)
        except MonitorError as exc:  # the database is away: the next beat tries again
            self._failed("worker.beat", exc)
        else:
            self._outage.back()

    def _write_heartbeat(self) -> None:
        """Write then rename, so `monitor health` never reads half a timestamp."""
        assert self.heartbeat is not None
        partial = self.heartbeat.with_name(self.heartbeat.name + ".tmp")
        partial.write_text(utcnow().isoformat() + "\n")
        partial.replace(self.heartbeat)

    def _schedule(self, now: datetime) -> None:
        """A cron job per digest, the outbox's retry, the prune (with ``keep_items``), a
        heartbeat, and with ``watch`` a look at the config file; polling is the loop in
        ``_poll_due``."""
        for watchlist in self.app.config.watchlists:
            self._schedule_digest(watchlist)
        self._schedule_retry(now)
        self._schedule_prune(now)
        if self.watch:
            self.scheduler.add_job(
                self._tracked(self._look_at_config),
                IntervalTrigger(seconds=WATCH_EVERY.total_seconds()),
                id="config",
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.add_job(
            self._tracked(self._beat),
            IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
            next_run_time=now,
            id="heartbeat",
        )
        self.scheduler.add_job(
            self._tracked(self._worker_beat),
            IntervalTrigger(seconds=BEAT.total_seconds()),
            next_run_time=now + BEAT,
            id="worker",
            coalesce=True,
            max_instances=1,
        )

    def _schedule_digest(self, watchlist: WatchlistConfig) -> None:
        """The watchlist's digest job, in place of the one it had; none for alerts only."""
        if watchlist.digest is None:
            return
        self.scheduler.add_job(
            self._tracked(self._scheduled_digest),
            trigger(watchlist.digest, watchlist.timezone),
            args=[watchlist.name],
            id=f"digest-{watchlist.name}",
            coalesce=True,
            misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
            max_instances=1,
            replace_existing=True,
        )

    def _schedule_retry(self, now: datetime) -> None:
        retry_every = self.app.config.outbox.retry_every
        self.scheduler.add_job(
            self._tracked(self._retry),
            IntervalTrigger(seconds=retry_every.total_seconds()),
            next_run_time=now + retry_every,
            id="outbox",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )

    def _schedule_prune(self, now: datetime) -> None:
        """The prune's job, with ``keep_items``; without, none."""
        if (keep := self.app.config.storage.keep_items) is None:
            if self.scheduler.get_job("prune"):
                self.scheduler.remove_job("prune")
            return
        self.scheduler.add_job(
            self._tracked(self._prune),
            IntervalTrigger(seconds=PRUNE_LOOK.total_seconds()),
            args=[keep],
            next_run_time=now,
            id="prune",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )

    def _reschedule(self, old: Config, now: datetime) -> None:
        """The jobs whose settings the reload changed, scheduled anew: a digest moved (or
        added, or made "none"), the jobs of watchlists removed, the outbox's retry, the prune."""
        new = self.app.config
        before = {w.name: (w.digest, w.timezone) for w in old.watchlists}
        after = {w.name: (w.digest, w.timezone) for w in new.watchlists}
        for name, (digest, _) in before.items():
            if digest is not None and after.get(name, (None, None))[0] is None:
                self.scheduler.remove_job(f"digest-{name}")
        for watchlist in new.watchlists:
            if before.get(watchlist.name) != after[watchlist.name]:
                self._schedule_digest(watchlist)
        if old.outbox.retry_every != new.outbox.retry_every:
            self._schedule_retry(now)
        if old.storage.keep_items != new.storage.keep_items:
            self._schedule_prune(now)

    def _reload_soon(self) -> None:
        """SIGHUP, or the config file changed: reload it, one reload at a time; asked again
        while one is under way, once more after it (the file may have changed since it was
        read). Asked before the daemon has started, once it has."""
        self._reload_again = True
        if self.scheduler.running and (self._reloading is None or self._reloading.done()):
            self._reloading = asyncio.create_task(self._tracked(self._reloads)())

    async def _reloads(self) -> None:
        while self._reload_again and not self._stop.is_set():
            self._reload_again = False
            await self._reload()

    async def _reload(self) -> None:
        """The config read again and, if it is good, run from now on; a bad one is refused,
        logged, and the daemon goes on with the one it has."""
        path = self.app.config.path
        try:
            config, matcher = await asyncio.to_thread(_read_config, path)
        except ConfigError as exc:
            event(log, "config.reload_failed", logging.ERROR, config=path, error=str(exc))
            return
        if self._stop.is_set():  # stopping: the next start reads it
            return
        old = self.app.config
        changes = compare(old, config, FIXED)
        self.app.reconfigure(config, matcher)
        follow_config(config.logging.level)
        feeds = {feed.name: feed for feed in config.feeds}
        self._again = {
            name: feeds[name] for name in self._again if name in feeds
        }  # a removed one's lease runs out
        self._reschedule(old, utcnow())
        self._log_reload(config, changes)
        await self._sync_feeds()
        self._wake.set()

    async def _sync_feeds(self) -> None:
        """The stored feeds made the config's (new feeds due at once, removed ones disabled),
        tried again while the database is away."""
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.app.poller.sync_feeds)
            except MonitorError as exc:
                self._failed("config.sync", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), SYNC_AGAIN.total_seconds())
            else:
                self._outage.back()
                return

    def _log_reload(self, config: Config, changes: Changes) -> None:
        event(
            log,
            "config.reloaded",
            config=config.path,
            feeds=len(config.feeds),
            watchlists=len(config.watchlists),
            feeds_added=",".join(changes.feeds_added),
            feeds_removed=",".join(changes.feeds_removed),
            feeds_changed=",".join(changes.feeds_changed),
            watchlists_added=",".join(changes.watchlists_added),
            watchlists_removed=",".join(changes.watchlists_removed),
            watchlists_changed=",".join(changes.watchlists_changed),
        )
        if changes.fixed:
            event(
                log,
                "config.needs_restart",
                logging.WARNING,
                settings=",".join(changes.fixed),
                note="these keep their old values until monitor run restarts",
            )

    async def _look_at_config(self) -> None:
        assert self.watch is not None
        if await asyncio.to_thread(self.watch.changed):
            self._reload_soon()

    async def _start(self, fetcher: Fetcher, now: datetime, stop: asyncio.Event) -> None:
        """Start the poll loop, which polls first the feeds that fell due while the daemon was
        down, a batch at a time; beside it, catch up. Whatever goes wrong in the catch-up is
        logged as one event, and polling goes on."""
        polling = asyncio.create_task(self._poll_due(fetcher, stop))
        try:
            await self._catch_up(now, stop)
        except Exception as exc:
            event(log, "daemon.catch_up_failed", logging.ERROR, error=f"{type(exc).__name__}: {exc}")
        finally:
            self._caught_up = True
        await polling

    async def _catch_up(self, now: datetime, stop: asyncio.Event) -> None:
        """Send the digests recorded but not delivered before a crash or an outage (those
        whose backoff has run out: a restart keeps it); once the feeds due at ``now`` are
        polled (or a lease's time has passed: one may keep failing in our code), send the
        digests that fell due while the daemon was down, so that they carry the news published
        meanwhile."""
        await self._retry()
        missed = [
            watchlist
            for watchlist in self.app.config.watchlists
            if await asyncio.to_thread(self._missed, watchlist, now)
        ]
        if not missed:
            return
        began = time.monotonic()
        while not stop.is_set() and time.monotonic() - began < CATCH_UP_WAIT.total_seconds():
            due = await asyncio.to_thread(self.app.poller.next_due)
            if due is None or due > now:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), BUSY_PAUSE.total_seconds())
        for watchlist in missed:
            if stop.is_set():
                return
            event(log, "digest.catch_up", watchlist=watchlist.name)
            await self._digest(watchlist)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set or SIGTERM/SIGINT arrives (also before: see
        monitor.signals); then let running jobs finish, unless a second signal comes."""
        stop = self._stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop.set)
        for signum in RELOAD_SIGNALS:
            loop.add_signal_handler(signum, self._reload_soon)
        if held():  # asked to stop while it started
            self._forget_signals(loop)
            event(log, "daemon.stopped", before_start=True)
            return
        await asyncio.to_thread(self.app.poller.sync_feeds)
        await asyncio.to_thread(self.app.store.workers.register, __version__, utcnow())
        self.app.outbox.lease = LEASE  # renewed by the heartbeat while a message is being sent
        async with Fetcher(Limits.from_config(self.app.config.polling)) as fetcher:
            now = utcnow()
            self._schedule(now)
            self.scheduler.start()
            unserve = asyncio.Event()
            serving = self._serve(self.server, unserve) if self.server else None
            event(
                log,
                "daemon.started",
                feeds=len(self.app.config.feeds),
                watchlists=len(self.app.config.watchlists),
                config=self.app.config.path,
                worker=self.app.poller.owner,
            )
            if self._reload_again or reload_held():  # asked while it started
                self._reload_soon()
            self._polling = asyncio.create_task(self._tracked(self._start)(fetcher, now, stop))
            await stop.wait()
            for signum in STOP_SIGNALS:  # a second one: no waiting for the work under way
                loop.add_signal_handler(signum, _stop_now, signum)
            event(log, "daemon.stopping", running_jobs=len(self._running))
            self.scheduler.shutdown(wait=False)
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE)
            self._polling.cancel()  # the polls left are cancelled before their fetcher closes
            await asyncio.gather(self._polling, return_exceptions=True)
            if serving:  # answering /healthz (503: stopping) until the work under way is over
                unserve.set()
                await asyncio.wait({serving}, timeout=SERVER_GRACE)
        try:
            await asyncio.to_thread(self.app.poller.release)
            await asyncio.to_thread(self.app.store.workers.stop, utcnow())
        except MonitorError as exc:  # the database is away: the leases run out instead
            event(log, "daemon.release_failed", logging.ERROR, error=str(exc))
        self._forget_signals(loop)
        if self.heartbeat:
            self.heartbeat.unlink(missing_ok=True)  # a stopped daemon must not look healthy
        event(log, "daemon.stopped")

    @staticmethod
    def _forget_signals(loop: asyncio.AbstractEventLoop) -> None:
        for signum in (*STOP_SIGNALS, *RELOAD_SIGNALS):
            loop.remove_signal_handler(signum)
