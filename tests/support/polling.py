"""Running a monitor in a test: one poll of every feed, a daemon until something happened,
and the parts of a sent message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage

from monitor.app import App
from monitor.daemon import Daemon
from monitor.http.fetch import Fetcher
from monitor.polling.poller import PollSummary


def poll(monitor: App) -> PollSummary:
    """Every configured feed polled once, due or not."""

    async def run() -> PollSummary:
        async with Fetcher() as fetcher:
            return await monitor.poller.poll(monitor.config.feeds, fetcher)

    return asyncio.run(run())


async def run_until(daemon: Daemon, done: Callable[[], object], timeout: float = 20.0) -> None:
    """Run ``daemon`` until ``done()`` is true, then stop it as a signal would."""
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
