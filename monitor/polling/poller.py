"""The poller: feeds fetched in lanes, read in the parse pool, decided, matched and stored."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.config import Config, FeedConfig
from monitor.config.types import telegram_preview
from monitor.errors import ArticleError, DatabaseAway, FeedError, ParseError, StorageError
from monitor.feeds.article import read_article
from monitor.feeds.discover import feed_links, looks_like_html
from monitor.feeds.parse import ParsedFeed, parse_feed
from monitor.feeds.prescan import Reading, read_feed
from monitor.feeds.telegram import before, parse_channel, post_number, read_channel
from monitor.http.fetch import PAGE_ACCEPT, Fetched, Fetcher
from monitor.log import event
from monitor.match import Matcher
from monitor.match.document import Document
from monitor.metrics import Metrics
from monitor.models import FeedState, Item, utcnow
from monitor.polling.cadence import Cadence
from monitor.polling.decide import PollIntent, decide, next_poll_after_failure
from monitor.polling.group_commit import GroupCommit
from monitor.polling.parse_pool import ParsePool
from monitor.store import Store

log = logging.getLogger("monitor")
# pages of a Telegram channel read back after a gap (each ~20 posts): a day of a busy channel
READ_BACK_PAGES = 5
READERS = {"feed": read_feed, "telegram": read_channel}
# article pages read per poll of a full-text feed, its newest new items: a first poll of a feed
# that lists hundreds of items does not send hundreds of requests to its site at once
ARTICLES_PER_POLL = 50


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    feed: str
    new_items: int = 0
    new_hits: int = 0
    error: str | None = None
    edited: int = 0
    unchanged: bool = False


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
class LocatedFeed:
    url: str
    feed: ParsedFeed


async def locate_feed(fetcher: Fetcher, url: str) -> LocatedFeed:
    """The feed at ``url``, or the first working feed a page there announces (autodiscovery);
    for a Telegram channel's link, the channel's preview."""
    if preview := telegram_preview(url):
        fetched = await fetcher.fetch(preview)
        parsed = parse_channel(fetched.body or b"", fetched.headers, feed="", url=preview, now=utcnow())
        return LocatedFeed(preview, parsed)
    fetched = await fetcher.fetch(url)
    body = fetched.body or b""
    try:
        return LocatedFeed(fetched.url, _parse_for_location(fetched))
    except ParseError:
        if not looks_like_html(body, fetched.headers.get("content-type")):
            raise
    candidates = feed_links(body, fetched.url)
    problems = []
    for candidate in candidates:
        try:
            found = await fetcher.fetch(candidate)
            return LocatedFeed(found.url, _parse_for_location(found))
        except FeedError as exc:
            problems.append(f"{candidate}: {exc}")
    if not candidates:
        raise ParseError(
            url,
            'a web page that announces no feed (no <link rel="alternate" type="application/rss+xml">); '
            "find the site's RSS or Atom address and add that",
        )
    raise ParseError(url, "the page announces feeds, but none works: " + "; ".join(problems))


def _parse_for_location(fetched: Fetched) -> ParsedFeed:
    return parse_feed(fetched.body or b"", fetched.headers, feed="", url=fetched.url, now=utcnow())


def _body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Poller:
    """Polls a config's feeds into its store. ``matcher`` is called when a poll first has
    entries to match, so a poll that brings nothing new compiles no queries."""

    states_per_read = 256  # feed states a poll reads at once

    def __init__(
        self,
        config: Config,
        store: Store,
        matcher: Callable[[], Matcher],
        parse_workers: int = 0,
        metrics: Metrics | None = None,
    ) -> None:
        """``parse_workers`` > 1 parses feeds in that many processes (see ParsePool); nothing
        starts before the first parse. ``metrics`` counts the polls (a count of its own if None)."""
        self.config = config
        self.store = store
        self.matcher = matcher
        self.metrics = metrics or Metrics()
        self.parsers = ParsePool(parse_workers)
        self._quiet_polls = GroupCommit(store.feeds.record_quiet_polls)
        self.reconfigure(config)

    def reconfigure(self, config: Config) -> None:
        """Poll by ``config`` from now on (the daemon's reload), keeping the parse workers; the
        caller syncs its feeds. Each step of a poll under way reads the config current then:
        a feed the new config removed is stored by its old table, matched by no watchlist."""
        self.config = config
        self.cadence = Cadence.from_config(config.polling)
        self._watchers = {f.name: [w.name for w in config.watchlists_for(f)] for f in config.feeds}
        self._fulltext = {feed.name for feed in config.feeds if config.fulltext(feed)}
        self._feeds = {feed.name: feed for feed in config.feeds}

    def sync_feeds(self) -> None:
        """Make the stored feeds the configured ones, before polling them: feeds no longer in
        the config are disabled, so only a process that polls may do it."""
        self.store.feeds.sync([(feed.name, feed.url, feed.enabled) for feed in self.config.feeds], utcnow())

    def close(self) -> None:
        self.parsers.close()

    async def poll(
        self,
        feeds: Sequence[FeedConfig],
        fetcher: Fetcher,
        on_done: Callable[[FeedOutcome], None] | None = None,
    ) -> PollSummary:
        """Poll ``feeds`` concurrently, due or not; a failing feed is recorded and the others go
        on, even when the database refuses one feed's poll.

        Twice the fetcher's concurrency of lanes take the feeds in order, so bodies waiting to be
        parsed never pile up; feed states are read a chunk at a time as the lanes reach them,
        because thousands of states with their entry fingerprints held much memory at once.
        """
        lanes = min(2 * fetcher.limits.concurrency, len(feeds))
        outcomes: dict[int, FeedOutcome] = {}
        taken = iter(range(len(feeds)))
        states: dict[str, FeedState] = {}
        reading = asyncio.Lock()

        async def state_of(index: int) -> FeedState:
            name = feeds[index].name
            if name not in states:
                async with reading:
                    if name not in states:
                        names = [feed.name for feed in feeds[index : index + self.states_per_read]]
                        states.update(await asyncio.to_thread(self.store.feeds.states, names, utcnow()))
            return states.pop(name)

        async def lane() -> None:
            for index in taken:  # one iterator for all lanes: each feed is taken once
                try:
                    outcomes[index] = await self.poll_feed(feeds[index], fetcher, await state_of(index))
                except StorageError as exc:  # not recorded, but the other feeds go on
                    event(log, "poll.store_failed", logging.ERROR, feed=feeds[index].name, error=str(exc))
                    outcomes[index] = FeedOutcome(feeds[index].name, error=str(exc))
                if on_done:
                    on_done(outcomes[index])

        await asyncio.gather(*(lane() for _ in range(lanes)))
        return PollSummary(tuple(outcomes[index] for index in range(len(feeds))))

    @property
    def owner(self) -> str:
        """This process, as its claims name it: host:pid:start (see monitor.store.holders)."""
        return str(self.store.database.owner)

    def claim_due(self, limit: int, lease: timedelta) -> list[tuple[FeedConfig, FeedState]]:
        """Lease up to ``limit`` configured feeds that are due, for this process to poll, each
        with its state."""
        names = self.store.feeds.claim_due(self.owner, utcnow(), limit, lease)
        claimed = [self._feeds[name] for name in names if name in self._feeds]
        states = self.store.feeds.states([feed.name for feed in claimed], utcnow())
        return [(feed, states[feed.name]) for feed in claimed]

    def next_due(self) -> datetime | None:
        """When the next enabled feed falls due (claims aside)."""
        return self.store.feeds.next_due()

    def release(self) -> None:
        """Hand back the feeds this process claimed and did not poll (it is stopping)."""
        self.store.feeds.release_leases(self.owner)

    async def poll_feed(
        self, feed: FeedConfig, fetcher: Fetcher, state: FeedState | None = None
    ) -> FeedOutcome:
        """Fetch, then read, decide, match and store off the event loop. ``state`` is the
        feed's, if already read with others'."""
        started = time.monotonic()
        if state is None:
            state = await asyncio.to_thread(self.store.feeds.state, feed.name, utcnow())
        try:
            fetching = time.monotonic()
            try:
                fetched = await fetcher.fetch(state.url, state.validators)
            finally:
                self.metrics.fetch_seconds.observe(time.monotonic() - fetching)
            body_hash = state.body_hash if fetched.body is None else _body_hash(fetched.body)
            reading = await self._read(feed, state, fetched, body_hash)
            if feed.type == "telegram" and reading and reading.parsed and state.body_hash is not None:
                reading = await self._read_back(feed, fetcher, fetched.url, reading)
            if reading is None or reading.parsed is None:
                intent, outcome = await self._quiet(feed, state, fetched, body_hash, reading)
            elif feed.name in self._fulltext:
                intent = await asyncio.to_thread(self._decide, feed, state, fetched, body_hash, reading)
                intent = await self._read_articles(feed, fetcher, fetched.url, intent)
                outcome = await asyncio.to_thread(self._store, feed, intent)
            else:
                intent, outcome = await asyncio.to_thread(
                    self._absorb, feed, state, fetched, body_hash, reading
                )
            if intent.record.adopt_url:
                event(log, "feed.moved", feed=feed.name, url=intent.record.adopt_url, was=state.url)
        except FeedError as exc:
            return await asyncio.to_thread(self._fail, feed, state, exc, started)
        except DatabaseAway:  # nothing of this poll was written: it is polled again
            raise
        except StorageError as exc:  # raised again by _fail if the database is away, not just refusing
            error = FeedError(state.url, f"the database refused this poll: {exc}", kind="storage")
            return await asyncio.to_thread(self._fail, feed, state, error, started)
        except Exception as exc:  # a bug met on this feed's data: it fails alone, and says so
            log.exception("poll.bug", extra={"fields": {"feed": feed.name, "url": state.url}})
            error = FeedError(
                state.url, f"monitor could not process this feed ({type(exc).__name__}: {exc})", kind="bug"
            )
            return await asyncio.to_thread(self._fail, feed, state, error, started)
        event(
            log,
            "poll.ok",
            feed=feed.name,
            status=fetched.status,
            bytes=len(fetched.body or b""),
            ms=round((time.monotonic() - started) * 1000),
            unchanged=outcome.unchanged,
            new_items=outcome.new_items,
            edited=outcome.edited,
            new_hits=outcome.new_hits,
            moved_to=fetched.moved_to,
        )
        self.metrics.polled("unchanged" if outcome.unchanged else "ok")
        return outcome

    async def _read(
        self, feed: FeedConfig, state: FeedState, fetched: Fetched, body_hash: str | None
    ) -> Reading | None:
        """The body parsed in a worker, unless it is the last body again (None) or all its
        entries were in the last body (``Reading.parsed`` None): servers that ignore conditional
        GET but rewrite lastBuildDate."""
        if fetched.body is None or body_hash == state.body_hash:
            return None
        read = functools.partial(
            READERS[feed.type],
            fetched.body,
            fetched.headers,
            feed=feed.name,
            url=fetched.url,
            now=utcnow(),
            seen=state.fingerprints,
        )
        try:
            return await self.parsers.run(read)
        except BrokenProcessPool:
            raise ParseError(
                fetched.url, "the parser process died reading this feed", kind="parser_died"
            ) from None

    async def _read_back(self, feed: FeedConfig, fetcher: Fetcher, url: str, reading: Reading) -> Reading:
        """A channel's preview shows its latest posts only: when none of them is stored, more
        came since the last poll than it shows, and the pages before are read until one holds a
        stored post (at most READ_BACK_PAGES). A page that fails ends the reading back; the
        posts read so far are kept."""
        assert reading.parsed is not None
        items, page = list(reading.parsed.items), reading.parsed.items
        for _ in range(READ_BACK_PAGES):
            known = await asyncio.to_thread(self.store.items.lookup, feed.name, page) if page else None
            if not page or known:
                break
            oldest = min(post_number(item) for item in page)
            try:
                fetched = await fetcher.fetch(before(url, oldest))
                parse = functools.partial(
                    parse_channel,
                    fetched.body or b"",
                    fetched.headers,
                    feed=feed.name,
                    url=fetched.url,
                    now=utcnow(),
                )
                page = (await self.parsers.run(parse)).items
            except (FeedError, BrokenProcessPool) as exc:
                event(
                    log,
                    "telegram.read_back_failed",
                    logging.WARNING,
                    feed=feed.name,
                    before=oldest,
                    error=str(exc),
                )
                break
            page = [item for item in page if post_number(item) < oldest]
            items = page + items
            event(log, "telegram.read_back", feed=feed.name, before=oldest, posts=len(page))
        return replace(reading, parsed=replace(reading.parsed, items=items))

    async def _quiet(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading | None,
    ) -> tuple[PollIntent, FeedOutcome]:
        """A poll that brought nothing to parse: its feed's row is written with others'."""
        now = utcnow()
        intent = decide(
            state, fetched, body_hash, reading, {}, cadence=self.cadence, interval=feed.interval, now=now
        )
        await self._quiet_polls.add((feed.name, intent.record, now))
        return intent, FeedOutcome(feed.name, unchanged=True)

    def _absorb(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading,
    ) -> tuple[PollIntent, FeedOutcome]:
        """A parsed body into stored items and hits, in one trip off the event loop."""
        intent = self._decide(feed, state, fetched, body_hash, reading)
        return intent, self._store(feed, intent)

    def _decide(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading,
    ) -> PollIntent:
        """What a parsed body changes, given what the store holds of its entries."""
        assert reading.parsed is not None  # unparsed bodies are quiet polls
        known = self.store.items.lookup(feed.name, reading.parsed.items)
        intent = decide(
            state,
            fetched,
            body_hash,
            reading,
            known,
            cadence=self.cadence,
            interval=feed.interval,
            now=utcnow(),
        )
        return self._with_pages(intent)

    def _with_pages(self, intent: PollIntent) -> PollIntent:
        """Edits carry the article text stored with their item and its page's validators: an
        edit is matched and indexed on its article too, and its page asked again
        conditionally."""
        edited = [c.known.item_id for c in intent.changes if c.kind == "edit" and c.known]
        pages = self.store.items.pages(edited) if edited else {}
        if not pages:
            return intent
        changes = tuple(
            replace(c, entry=replace(c.entry, body=pages[c.known.item_id][0], page=pages[c.known.item_id][1]))
            if c.kind == "edit" and c.known and c.known.item_id in pages
            else c
            for c in intent.changes
        )
        return replace(intent, changes=changes)

    def _store(self, feed: FeedConfig, intent: PollIntent) -> FeedOutcome:
        """The intent's entries matched and stored; only entries that are new, edited, or new
        to this feed are matched."""
        watchers = self._watchers.get(feed.name, [])  # none: a reload removed the feed meanwhile
        matcher = self.matcher() if intent.changes else None
        # each entry read once, for the matcher, the search index and its story
        documents = {
            c.entry.id: Document(c.entry.title, c.entry.summary, feed.language, c.entry.body)
            for c in intent.changes
        }
        began = time.perf_counter()
        matches = {
            guid: found
            for guid, document in documents.items()
            if matcher and (found := matcher.match_document(document, watchers))
        }
        if documents:
            self.metrics.matched_items(len(documents), time.perf_counter() - began)
        saved = self.store.items.save(intent, matches, utcnow(), documents)
        self.metrics.stored(saved)
        return FeedOutcome(feed.name, saved.items, saved.hits, edited=saved.edited)

    async def _read_articles(
        self, feed: FeedConfig, fetcher: Fetcher, feed_url: str, intent: PollIntent
    ) -> PollIntent:
        """The article text of the new items, from their pages, and of the edited ones, asked
        again conditionally: fetched together (the fetcher's per-host limits pace them), read in
        the parse pool, ARTICLES_PER_POLL at most, the newest new items first. An item whose
        page fails keeps what it had; the feed's warning says how many failed, and why the
        first did."""
        new = sorted(
            (c for c in intent.changes if c.kind == "new" and c.entry.link),
            key=lambda change: change.entry.published,
            reverse=True,
        )
        edits = [c for c in intent.changes if c.kind == "edit" and c.entry.link]
        chosen = [c.entry for c in [*new, *edits][:ARTICLES_PER_POLL]]
        if not chosen:
            return intent
        started = time.monotonic()
        read = await asyncio.gather(*(self._read_article(fetcher, entry, feed_url) for entry in chosen))
        entries = {entry.id: entry for entry in read if isinstance(entry, Item)}
        failed = [error for error in read if isinstance(error, FeedError)]
        changes = tuple(
            replace(c, entry=entries[c.entry.id]) if c.entry.id in entries else c for c in intent.changes
        )
        event(
            log,
            "articles.read",
            logging.WARNING if failed else logging.INFO,
            feed=feed.name,
            read=len(entries),
            failed=len(failed),
            first_error=str(failed[0]) if failed else None,
            ms=round((time.monotonic() - started) * 1000),
        )
        warning = intent.record.warning
        if failed:
            first = f"{failed[0].url}: {failed[0]}"
            problem = f"{len(failed)} of {len(chosen)} article pages could not be read ({first})"
            warning = f"{warning}; {problem}" if warning else problem
        return replace(intent, changes=changes, record=replace(intent.record, warning=warning))

    async def _read_article(self, fetcher: Fetcher, entry: Item, feed_url: str) -> Item | FeedError:
        """The entry with its page's article text and validators (the text it had when the
        page is unchanged: a 304), or why the page could not be had."""
        try:
            fetched = await fetcher.fetch(entry.link, entry.page, accept=PAGE_ACCEPT, linked_from=feed_url)
            if fetched.body is None:
                return replace(entry, page=fetched.validators)
            read = functools.partial(read_article, fetched.body, fetched.headers, fetched.url)
            return replace(entry, body=await self.parsers.run(read), page=fetched.validators)
        except FeedError as exc:
            return exc
        except BrokenProcessPool:
            return ArticleError(entry.link, "the parser process died reading this page")
        except Exception as exc:  # a bug met on this page: it fails alone, not its feed
            log.exception("article.bug", extra={"fields": {"url": entry.link}})
            return ArticleError(entry.link, f"monitor could not read this page ({type(exc).__name__}: {exc})")

    def _fail(self, feed: FeedConfig, state: FeedState, error: FeedError, started: float) -> FeedOutcome:
        """Record a failed poll; back off, honour Retry-After; a feed that is gone is not polled."""
        now = utcnow()
        next_poll = next_poll_after_failure(
            state,
            error.kind,
            getattr(error, "retry_after", None),
            cadence=self.cadence,
            interval=feed.interval,
            now=now,
        )
        self.store.feeds.record_failure(feed.name, error.kind, str(error), now, next_poll)
        event(
            log,
            "poll.failed",
            logging.WARNING,
            feed=feed.name,
            url=state.url,
            kind=error.kind,
            error=str(error),
            failures=state.failures + 1,
            ms=round((time.monotonic() - started) * 1000),
            next_poll=next_poll.isoformat(timespec="seconds") if next_poll else "never",
        )
        self.metrics.polled("failed", error.kind)
        return FeedOutcome(feed.name, error=str(error))
