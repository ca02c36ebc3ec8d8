"""Every capture in ../shared/corpus polled at once, as the daemon polls (parse workers): is
every entry that feedparser reads stored, and does each broken capture fail with its own error?

    python bench/corpus.py

Each file of corpus/feeds and corpus/tricky is served from 127.0.0.1 as it is, with
``Content-Type: application/xml`` and no charset. For each one this prints how many distinct
entries feedparser reads in it (by id, else link, else title and date, as monitor identifies
them), how many items were stored for it, and its error or warning. Exits 1 when any entry
was lost or any feed failed for another feed's reasons (a parser that died).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import feedparser
from served import captures, serving

from monitor import checks
from monitor import config as config_module
from monitor.app import App
from monitor.http.fetch import Fetcher, Limits
from monitor.models import utcnow
from monitor.polling.poller import PollSummary


def feedparser_entries(body: bytes) -> int:
    """Distinct entries as monitor tells them apart: by id, else link, else title and date."""
    parsed = feedparser.parse(body)
    return len(
        {
            entry.get("id") or entry.get("link") or (entry.get("title"), entry.get("published"))
            for entry in parsed.entries
        }
    )


def write_config(folder: Path, port: int, names: list[str]) -> Path:
    example = config_module.PACKAGED_EXAMPLE.read_text(encoding="utf-8")
    watchlists = example[example.index("[[watchlists]]") :]
    watchlists = "\n".join(line for line in watchlists.splitlines() if not line.startswith("feeds ="))
    feeds = "".join(
        f'[[feeds]]\nname = "{number}"\nurl = "http://127.0.0.1:{port}/{name}"\n\n'
        for number, name in enumerate(names)
    )
    path = folder / "monitor.toml"
    storage = f'[storage]\nurl = "sqlite:///{folder}/monitor.db"\n\n'
    path.write_text(storage + feeds + watchlists, encoding="utf-8")
    return path


async def poll_all(monitor: App) -> PollSummary:
    async with Fetcher(Limits.from_config(monitor.config.polling)) as fetcher:
        return await monitor.poller.poll(monitor.config.feeds, fetcher)


def main() -> int:
    bodies = captures()
    names = list(bodies)
    with serving(bodies) as port, tempfile.TemporaryDirectory() as folder:
        config = checks.load(write_config(Path(folder), port, names))
        monitor = App(config, parse_workers=max(2, os.cpu_count() or 1))
        try:
            monitor.poller.sync_feeds()
            summary = asyncio.run(poll_all(monitor))
            statuses = {status.name: status for status in monitor.store.feeds.statuses(utcnow())}
        finally:
            monitor.close()
    lost, died = 0, 0
    print("| capture | feedparser | stored | error or warning |\n|---|---:|---:|---|")
    for number, name in enumerate(names):
        status = statuses[str(number)]
        expected = feedparser_entries(bodies[name])
        note = f"{status.last_error_kind}: {status.last_error}" if status.last_error else status.warning or ""
        lost += max(0, expected - status.items)
        died += status.last_error_kind == "parser_died"
        if expected != status.items or note:
            print(f"| {name} | {expected} | {status.items} | {note[:160]} |")
    print(
        f"\n{len(names)} captures, {summary.ok} polled, {summary.failed} failed; "
        f"{summary.new_items} items stored; entries lost: {lost}; parser died: {died}"
    )
    return 1 if lost or died else 0


if __name__ == "__main__":
    sys.exit(main())
