"""The one place the stages meet: fetch → parse → match → store, and store → digest → send."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.config import Config, FeedConfig, WatchlistConfig
from monitor.digest import Digest, render_digest
from monitor.errors import DeliveryError, FeedError
from monitor.fetch import Fetcher
from monitor.log import event
from monitor.match import Matcher
from monitor.parse import parse_feed
from monitor.send import build_message, send_message
from monitor.store import Store

log = logging.getLogger("monitor")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    feed: str
    new_items: int = 0
    new_hits: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PollSummary:
    outcomes: tuple[FeedOutcome, ...]

    @property
    def failed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.error)

    @property
    def ok(self) -> int:
        return len(self.outcomes) - self.failed

    @property
    def new_items(self) -> int:
        return sum(outcome.new_items for outcome in self.outcomes)

    @property
    def new_hits(self) -> int:
        return sum(outcome.new_hits for outcome in self.outcomes)

    def line(self) -> str:
        return (
            f"feeds ok: {self.ok}, failed: {self.failed}; "
            f"new items: {self.new_items}; new hits: {self.new_hits}"
        )


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    watchlist: str
    hits: int
    sent: bool
    error: str | None = None


class Monitor:
    """A config bound to its store, with every watchlist's queries compiled once."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.matcher = Matcher({w.name: w.queries for w in config.watchlists})
        self._watchers = {f.name: [w.name for w in config.watchlists_for(f)] for f in config.feeds}
        store.sync_feeds([(feed.name, feed.url) for feed in config.feeds], utcnow())

    # polling

    async def poll(
        self,
        feeds: Sequence[FeedConfig],
        fetcher: Fetcher,
        on_done: Callable[[FeedOutcome], None] | None = None,
    ) -> PollSummary:
        """Poll ``feeds`` concurrently; a failing feed is recorded and the others go on."""

        async def one(feed: FeedConfig) -> FeedOutcome:
            outcome = await self.poll_feed(feed, fetcher)
            if on_done:
                on_done(outcome)
            return outcome

        return PollSummary(tuple(await asyncio.gather(*(one(feed) for feed in feeds))))

    async def poll_feed(self, feed: FeedConfig, fetcher: Fetcher) -> FeedOutcome:
        started = time.monotonic()
        try:
            fetched = await fetcher.fetch(feed.url, self.store.validators(feed.name))
            now = utcnow()
            if fetched.body is None:
                self.store.save_poll(feed.name, fetched.validators, [], {}, now)
                outcome = FeedOutcome(feed.name)
            else:
                items = parse_feed(
                    fetched.body, fetched.headers, feed=feed.name, url=fetched.url, now=now
                ).items
                known = self.store.known_ids(feed.name, [item.id for item in items])
                new = list({item.id: item for item in items if item.id not in known}.values())
                watchers = self._watchers[feed.name]
                matches = {
                    item.id: found
                    for item in new
                    if (found := self.matcher.match(item.title, item.summary, feed.language, watchers))
                }
                added, hits = self.store.save_poll(feed.name, fetched.validators, new, matches, now)
                outcome = FeedOutcome(feed.name, new_items=added, new_hits=hits)
        except FeedError as exc:
            self.store.record_failure(feed.name, str(exc), utcnow())
            event(log, "poll.failed", logging.WARNING, feed=feed.name, url=feed.url, error=str(exc))
            return FeedOutcome(feed.name, error=str(exc))
        event(
            log,
            "poll.ok",
            feed=feed.name,
            status=fetched.status,
            bytes=len(fetched.body or b""),
            ms=round((time.monotonic() - started) * 1000),
            new_items=outcome.new_items,
            new_hits=outcome.new_hits,
        )
        return outcome

    # digests

    def _selected(self, name: str | None) -> list[WatchlistConfig]:
        return [self.config.watchlist(name)] if name else list(self.config.watchlists)

    def preview(self, now: datetime, watchlist: str | None = None) -> list[Digest]:
        """Render each watchlist's pending digest without sending or marking anything."""
        digests = []
        for chosen in self._selected(watchlist):
            pending = self.store.hits(watchlist=chosen.name, undelivered=True)
            digests.append(render_digest(chosen.name, pending, chosen.timezone, now))
        return digests

    def send_digests(self, now: datetime, watchlist: str | None = None) -> list[DigestOutcome]:
        """Send each watchlist's undelivered hits; hits are marked delivered only once accepted."""
        return [self.send_digest(chosen, now) for chosen in self._selected(watchlist)]

    def send_digest(self, watchlist: WatchlistConfig, now: datetime) -> DigestOutcome:
        pending = self.store.hits(watchlist=watchlist.name, undelivered=True)
        if not pending:
            self.store.record_digest(
                watchlist=watchlist.name,
                recipients=watchlist.recipients,
                message_id=None,
                hit_ids=[],
                status="empty",
                now=now,
            )
            event(log, "digest.empty", watchlist=watchlist.name)
            return DigestOutcome(watchlist.name, 0, sent=False)
        digest = render_digest(watchlist.name, pending, watchlist.timezone, now)
        message = build_message(digest, self.config.smtp.sender, watchlist.recipients, now)
        error = None
        try:
            send_message(self.config.smtp, message)
        except DeliveryError as exc:
            error = str(exc)
        self.store.record_digest(
            watchlist=watchlist.name,
            recipients=watchlist.recipients,
            message_id=message["Message-ID"],
            hit_ids=digest.hit_ids,
            status="failed" if error else "sent",
            error=error,
            now=now,
        )
        if error:
            event(
                log, "digest.failed", logging.ERROR, watchlist=watchlist.name, hits=len(pending), error=error
            )
        else:
            event(
                log,
                "digest.sent",
                watchlist=watchlist.name,
                hits=len(pending),
                recipients=len(watchlist.recipients),
                message_id=message["Message-ID"],
            )
        return DigestOutcome(watchlist.name, len(pending), sent=not error, error=error)
