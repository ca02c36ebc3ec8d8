"""Builders for the integration tests: feed documents in the style of real outlets, config files,
and the monitor of a config that watches N1's feed, polled once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from monitor import checks
from monitor.app import App
from monitor.config import Config
from tests.conftest import FeedServer, SmtpServer
from tests.support.feeds import SERBIAN_NEWS, Entry, rss
from tests.support.polling import poll


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file for local feeds and the local SMTP server; returns its path."""

    def write(
        feeds: dict[str, str],
        *,
        database_url: str,
        smtp_port: int,
        queries: Sequence[str] = ("BIA", "relokant*", "релоканты"),
        recipients: Sequence[str] = ("desk@example.org", "lawyer@example.org"),
        extra: str = "",
        interval: str | None = "1m",
        feed_settings: dict[str, str] | None = None,
    ) -> Path:
        """``feed_settings``: more lines for the named feeds' tables."""
        every = f'interval = "{interval}"\n' if interval else ""
        more = feed_settings or {}
        feed_tables = "".join(
            f'\n[[feeds]]\nname = "{name}"\nurl = "{url}"\n{every}{more.get(name, "")}\n'
            for name, url in feeds.items()
        )
        query_list = ", ".join(f"'{query}'" for query in queries)
        recipient_list = ", ".join(json.dumps(recipient) for recipient in recipients)
        path = tmp_path / "monitor.toml"
        path.write_text(
            f"""
[storage]
url = "{database_url}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
from = "monitor@example.org"
timeout = "5s"
attempts = 1
{feed_tables}
[[watchlists]]
name = "relocants"
queries = [{query_list}]
recipients = [{recipient_list}]
timezone = "Europe/Belgrade"
{extra}
""",
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def open_monitor() -> Iterator[Callable[..., App]]:
    """Load a config file and sync its feeds, as the CLI's polling commands do
    (``parse_workers`` as App takes it); each App closed at teardown."""
    opened: list[App] = []

    def open_(path: Path, parse_workers: int = 0) -> App:
        config: Config = checks.load(path)
        app = App(config, parse_workers)
        opened.append(app)
        app.poller.sync_feeds()
        return app

    yield open_
    for app in opened:
        app.close()


@pytest.fixture
def n1_config(
    feed_server: FeedServer, smtp_server: SmtpServer, write_config: Callable[..., Path]
) -> Callable[..., Path]:
    """Serve N1's feed (SERBIAN_NEWS, or ``entries``) at /n1.xml and write a config that polls
    it and sends through the local SMTP server; ``options`` go to ``write_config``."""

    def write(database_url: str, entries: Sequence[Entry] = SERBIAN_NEWS, **options: object) -> Path:
        url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", entries))
        return write_config({"N1": url}, database_url=database_url, smtp_port=smtp_server.port, **options)

    return write


class Polled(NamedTuple):
    """A config file and its monitor, opened."""

    config: Path
    monitor: App


@pytest.fixture
def n1_polled(n1_config: Callable[..., Path], open_monitor: Callable[..., App]) -> Callable[..., Polled]:
    """As ``n1_config``, then the config's monitor opened and polled once: with SERBIAN_NEWS,
    one hit for the relocants watchlist that nothing has sent yet. How most outbox and alert
    tests begin."""

    def start(database_url: str, **options: object) -> Polled:
        config = n1_config(database_url, **options)
        monitor = open_monitor(config)
        poll(monitor)
        return Polled(config, monitor)

    return start
