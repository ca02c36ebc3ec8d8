"""`monitor run`, the daemon; `monitor poll`, one poll now; `monitor serve`, the HTTP face
alone; `monitor health`, the daemon's /healthz or heartbeat checked for a container."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.cli import options
from monitor.cli.context import Context

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.config import ServerConfig
    from monitor.polling.poller import FeedOutcome, PollSummary

log = logging.getLogger("monitor")
PROBE_TIMEOUT = 10.0  # seconds; inside the image's HEALTHCHECK timeout (15 s)


@click.command()
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_HEARTBEAT",
    help="File the daemon rewrites every minute, for `monitor health` (env MONITOR_HEARTBEAT).",
)
@click.option(
    "--watch-config",
    is_flag=True,
    envvar="MONITOR_WATCH_CONFIG",
    help="Reload the config file when it changes, as on SIGHUP (env MONITOR_WATCH_CONFIG=1).",
)
@click.pass_obj
def run(context: Context, heartbeat: Path | None, watch_config: bool) -> None:
    """Run the daemon: poll each feed when it is due, send digests on their schedules; SIGHUP
    reloads the config."""
    from monitor import loop
    from monitor.daemon import Daemon, Watch
    from monitor.log import event
    from monitor.match import release

    event(log, "daemon.starting", pid=os.getpid())  # SIGTERM from now on is a clean stop
    watch = Watch.of(context.path) if watch_config else None  # before it is read: no change missed
    with context.app(parallel=True) as app, app.daemon_lock():
        server = _bound(app.config.server)
        assert app.matcher  # compiled before the first poll, so that polls do not wait for it
        release()  # the daemon needs no dictionaries until it reloads the config
        loop.run(Daemon(app, heartbeat, watch=watch, server=server).run())


def _bound(server: ServerConfig) -> socket.socket | None:
    """``[server] listen``'s socket, bound before anything starts; its token checked first."""
    if server.listen is None:
        return None
    from monitor.web.listen import bind, token

    token(server)
    return bind(server.listen)


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    callback=options.listen,
    help="Listen there rather than at [server] listen (e.g. 127.0.0.1:8080).",
)
@click.pass_obj
def serve(context: Context, listen: str | None) -> None:
    """Serve /healthz and /metrics on the database alone, beside `monitor run` (no polling)."""
    from monitor import loop
    from monitor.web.serve import alone

    with context.app() as app:
        server = app.config.server.model_copy(update={"listen": listen or app.config.server.listen})
        if (sock := _bound(server)) is None:
            raise click.UsageError(
                "nothing to listen on: set [server] listen in the config, or pass --listen"
            )
        loop.run(alone(app, sock, server.token))


@click.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every configured feed.")
@click.argument("names", nargs=-1)
@click.pass_obj
def poll(context: Context, all_feeds: bool, names: tuple[str, ...]) -> None:
    """Poll feeds once now (all, or those NAMES), store and match, then exit."""
    from monitor import loop
    from monitor.cli import render
    from monitor.models import utcnow

    if not all_feeds and not names:
        raise click.UsageError("name the feeds to poll, or pass --all")
    with context.app(parallel=all_feeds) as app:
        known = {feed.name: feed for feed in app.config.feeds}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.BadParameter(
                f"no feed named {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
            )
        feeds = list(known.values()) if all_feeds else [known[name] for name in names]
        app.poller.sync_feeds()
        with render.progress(len(feeds)) as done:
            summary = loop.run(_poll(app, feeds, done))
        alerts = app.outbox.send_alerts(utcnow()) if summary.new_hits else []
    render.poll_failures(summary.outcomes)
    render.out.print(summary.line(), highlight=False)
    alert_failed = render.report(alerts)
    if (summary.failed and not summary.ok) or alert_failed:
        sys.exit(1)


async def _poll(app: App, feeds: list[Any], done: Callable[[FeedOutcome], None]) -> PollSummary:
    from monitor.http.fetch import Fetcher, Limits

    async with Fetcher(Limits.from_config(app.config.polling)) as fetcher:
        return await app.poller.poll(feeds, fetcher, on_done=done)


@click.command()
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_HEARTBEAT",
    help="The daemon's heartbeat file, read when the config has no [server] (env MONITOR_HEARTBEAT).",
)
@click.option(
    "--max-age", default="5m", show_default=True, callback=options.duration, help="Oldest acceptable beat."
)
@click.pass_obj
def health(context: Context, heartbeat: Path | None, max_age: timedelta) -> None:
    """Exit 0 if the daemon is healthy, 1 if not (for container health checks): its /healthz
    when the config sets [server] listen, else its heartbeat."""
    from monitor.cli.render import fail

    listen = _listening(context)
    if listen is not None:
        _probe(listen)
    elif heartbeat is None:
        fail("no [server] listen in the config and no heartbeat file: pass --heartbeat (or set one)", 2)
    else:
        _beat(heartbeat, max_age)


def _listening(context: Context) -> str | None:
    """The config's ``[server] listen``, read without the checks the daemon ran at its start; a
    file that no longer loads (the daemon refused it, and runs on) has no say."""
    from monitor.config import load
    from monitor.errors import ConfigError

    try:
        return load(context.path).server.listen
    except ConfigError:
        return None


def _probe(listen: str) -> None:
    from monitor.cli.render import fail, out
    from monitor.web.listen import probe

    try:
        code, body = probe(listen, PROBE_TIMEOUT)
    except OSError as exc:
        fail(f"no answer from the daemon's /healthz at {listen}: {exc}", 1)
    said = "; ".join([*body.get("problems", []), *body.get("warnings", [])])
    if code != 200:
        fail(f"{body.get('status', code)}: {said or f'HTTP {code}'}", 1)
    out.print(f"{body.get('status', 'ok')}{': ' + said if said else ''}", highlight=False)


def _beat(heartbeat: Path, max_age: timedelta) -> None:
    from monitor.cli.render import fail, human, out
    from monitor.models import utcnow

    try:
        beat = datetime.fromisoformat(heartbeat.read_text().strip())
    except (OSError, ValueError) as exc:
        fail(f"no readable heartbeat in {heartbeat}: {exc}", 1)
    age = utcnow() - beat
    if age > max_age:
        fail(f"the daemon's last heartbeat is {int(age.total_seconds())}s old (limit {human(max_age)})", 1)
    out.print(f"ok: heartbeat {int(age.total_seconds())}s old", highlight=False)
