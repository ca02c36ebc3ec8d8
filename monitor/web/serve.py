"""Hypercorn serving the app on a socket bound beforehand, until ``stop``: inside the daemon,
or alone (`monitor serve`)."""

from __future__ import annotations

import asyncio
import logging
import socket

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig
from prometheus_client import CollectorRegistry, ProcessCollector
from starlette.types import ASGIApp

from monitor.app import App
from monitor.log import event
from monitor.signals import STOP_SIGNALS, held
from monitor.web.app import for_app
from monitor.web.listen import address

log = logging.getLogger("monitor.web")
STOP_GRACE = 1.0  # seconds a request under way may take once the server stops


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve ``app`` on ``sock`` (Hypercorn takes it over) until ``stop`` is set."""
    event(log, "server.listening", address=address(sock))
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our handlers, in our format
    config.graceful_timeout = STOP_GRACE
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


async def alone(app: App, sock: socket.socket, token: str) -> None:
    """`monitor serve`: the app over ``app``'s database until SIGTERM or SIGINT, counting
    nothing of its own (no poll or send happens here): the database's gauges and the
    process's memory."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    if held():  # asked to stop while it started
        stop.set()
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    await serve(for_app(app, registry, token), sock, stop)
    event(log, "server.stopped")
