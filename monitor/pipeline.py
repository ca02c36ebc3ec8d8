"""The one place the stages meet: fetch → parse → match → store, and store → digest → send."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from monitor.config import Config, FeedConfig, WatchlistConfig
from monitor.digest import Digest, Problem, render_digest
from monitor.errors import ClaimedError, FeedError, ParseError, StorageError
from monitor.feeds.discover import feed_links, looks_like_html
from monitor.feeds.parse import ParsedFeed, Reading, parse_feed, read_feed
from monitor.http.fetch import Fetched, Fetcher
from monitor.log import event
from monitor.match import Matcher
from monitor.match.cache import cache_directory, compile_matcher
from monitor.models import (
    DeliveryState,
    DigestState,
    FeedState,
    Hit,
    Item,
    Kind,
    Known,
    Outgoing,
    PollRecord,
    content_hash,
)
from monitor.outbox.apprise import Channel, is_channel, send_notice
from monitor.outbox.backoff import given_up, retry_delay
from monitor.outbox.smtp import Undelivered, build_message, longest_send, send_message, wire_bytes
from monitor.polling.cadence import Outcome, next_delay
from monitor.polling.group_commit import GroupCommit
from monitor.polling.parse_pool import ParsePool
from monitor.store import Store

log = logging.getLogger("monitor")
PROBLEM_AFTER = timedelta(hours=24)  # a source failing longer is named in the digest
LEASE_MARGIN = timedelta(minutes=5)  # a sender holds a digest this much longer than it can take
RunState = DigestState | Literal["busy"]  # busy: another run is sending that digest


def utcnow() -> datetime:
    return datetime.now(UTC)


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
class DigestOutcome:
    """One digest's fate in a run. ``recorded`` is when it was recorded, if at an earlier run:
    a digest some recipient was still waiting for, sent again as it was. ``busy``: another run
    held it, and this one left it alone."""

    watchlist: str
    hits: int
    state: RunState
    error: str | None = None
    recorded: datetime | None = None
    kind: Kind = "digest"

    @property
    def sent(self) -> bool:
        """Delivered: to every recipient, or to all but those who refused it."""
        return self.state in ("sent", "partial")


@dataclass(frozen=True, slots=True)
class LocatedFeed:
    url: str
    feed: ParsedFeed


async def locate_feed(fetcher: Fetcher, url: str) -> LocatedFeed:
    """The feed at ``url``, or the first working feed a page there announces (autodiscovery)."""
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


def _worth_saving(entry: Item, known: Known | None) -> bool:
    """New, edited, or a story this feed carries under a guid not seen before."""
    return (
        known is None or not known.sighted or known.content_hash != content_hash(entry.title, entry.summary)
    )


class Monitor:
    """A config bound to its store, with every watchlist's queries compiled once."""

    states_per_read = 256  # feed states a poll reads at once

    def __init__(self, config: Config, store: Store, parse_workers: int = 0) -> None:
        """``parse_workers`` > 1 parses feeds in that many processes (see ParsePool). Nothing
        is compiled, started or written here: a command that only reads does only that."""
        self.config = config
        self.store = store
        self.parsers = ParsePool(parse_workers)
        self.cadence = config.polling.cadence()
        self._watchers = {f.name: [w.name for w in config.watchlists_for(f)] for f in config.feeds}
        self._feeds = {feed.name: feed for feed in config.feeds}
        self._quiet_polls = GroupCommit(store.save_quiet_polls)
        self.send_lease = LEASE_MARGIN + longest_send(config.smtp)  # see Store.claim

    @functools.cached_property
    def matcher(self) -> Matcher:
        """Every watchlist's queries, compiled when first needed."""
        return compile_matcher({w.name: w.queries for w in self.config.watchlists}, cache_directory())

    def sync_feeds(self) -> None:
        """Make the stored feeds the configured ones, before polling them: feeds no longer in
        the config are disabled, so only a process that polls may do it."""
        self.store.sync_feeds([(feed.name, feed.url, feed.enabled) for feed in self.config.feeds], utcnow())

    def close(self) -> None:
        self.parsers.close()

    # polling

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
        because 5,000 states with their entry fingerprints held 20 MB.
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
                        states.update(await asyncio.to_thread(self.store.feed_states, names, utcnow()))
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

    def claim_due(self, owner: str, limit: int, lease: timedelta) -> list[FeedConfig]:
        """Lease the configured feeds that are due, for this worker to poll."""
        names = self.store.claim_due(owner, utcnow(), limit, lease)
        return [self._feeds[name] for name in names if name in self._feeds]

    async def poll_feed(
        self, feed: FeedConfig, fetcher: Fetcher, state: FeedState | None = None
    ) -> FeedOutcome:
        """Fetch, then parse, match and store off the event loop; schedule the next poll.
        ``state`` is the feed's, if already read with others'."""
        started = time.monotonic()
        if state is None:
            state = await asyncio.to_thread(self.store.feed_state, feed.name, utcnow())
        try:
            fetched = await fetcher.fetch(state.url, state.validators)
            body_hash = state.body_hash if fetched.body is None else _body_hash(fetched.body)
            reading = await self._read(feed, state, fetched, body_hash)
            if reading is None or reading.parsed is None:
                outcome = await self._unchanged(feed, state, fetched, body_hash, reading)
            else:
                outcome = await asyncio.to_thread(self._absorb, feed, state, fetched, body_hash, reading)
        except FeedError as exc:
            return await asyncio.to_thread(self._fail, feed, state, exc, started)
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
            read_feed,
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

    async def _unchanged(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading | None,
    ) -> FeedOutcome:
        """A poll that brought nothing new: its feed's row is written with others' (GroupCommit)."""
        now = utcnow()
        record = self._record(feed, state, fetched, body_hash, reading, state.warning, now)
        await self._quiet_polls.add((feed.name, record, now))
        self._log_move(feed, state, record)
        return FeedOutcome(feed.name, 0, 0, edited=0, unchanged=True)

    def _absorb(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading,
    ) -> FeedOutcome:
        """A parsed body into stored items and hits; only entries that are new, edited, or new to
        this feed are matched."""
        now = utcnow()
        parsed = reading.parsed
        assert parsed is not None  # unparsed bodies are _unchanged
        known = self.store.lookup(feed.name, parsed.items)
        entries = [
            entry
            for entry in {entry.id: entry for entry in parsed.items}.values()
            if _worth_saving(entry, known.get(entry.id))
        ]
        watchers = self._watchers[feed.name]
        matches = {
            entry.id: found
            for entry in entries
            if (found := self.matcher.match(entry.title, entry.summary, feed.language, watchers))
        }
        warning = "; ".join(parsed.warnings) or None
        record = self._record(feed, state, fetched, body_hash, reading, warning, now)
        saved = self.store.save_poll(feed.name, record, entries, known, matches, now)
        self._log_move(feed, state, record)
        return FeedOutcome(feed.name, saved.items, saved.hits, edited=saved.edited, unchanged=False)

    def _record(
        self,
        feed: FeedConfig,
        state: FeedState,
        fetched: Fetched,
        body_hash: str | None,
        reading: Reading | None,
        warning: str | None,
        now: datetime,
    ) -> PollRecord:
        """What the poll changes in the feed's row; a permanent move seen twice is adopted."""
        adopt = fetched.moved_to if fetched.moved_to and fetched.moved_to == state.moved_to else None
        delay = next_delay(self.cadence, feed.interval, state.items_per_day, Outcome(max_age=fetched.max_age))
        return PollRecord(
            validators=fetched.validators,
            next_poll=now + delay,
            body_hash=body_hash,
            fingerprints=reading.fingerprints if reading else state.fingerprints,
            moved_to=None if adopt else fetched.moved_to,
            adopt_url=adopt,
            warning=warning,
        )

    @staticmethod
    def _log_move(feed: FeedConfig, state: FeedState, record: PollRecord) -> None:
        if record.adopt_url:
            event(log, "feed.moved", feed=feed.name, url=record.adopt_url, was=state.url)

    def _fail(self, feed: FeedConfig, state: FeedState, error: FeedError, started: float) -> FeedOutcome:
        """Record a failed poll; back off, honour Retry-After; a feed that is gone is not polled."""
        now = utcnow()
        next_poll = None
        if error.kind != "gone":
            retry_after = getattr(error, "retry_after", None)
            outcome = Outcome(
                failures=state.failures + 1,
                retry_after=None if retry_after is None else timedelta(seconds=retry_after),
            )
            next_poll = now + next_delay(self.cadence, feed.interval, state.items_per_day, outcome)
        self.store.record_failure(feed.name, error.kind, str(error), now, next_poll)
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
        return FeedOutcome(feed.name, error=str(error))

    # digests

    def _selected(self, name: str | None) -> list[WatchlistConfig]:
        return [self.config.watchlist(name)] if name else list(self.config.watchlists)

    def problems(self, watchlist: WatchlistConfig, now: datetime) -> list[Problem]:
        """The watched sources that are gone or have failed for over a day."""
        watched = {feed.name for feed in self.config.feeds if watchlist.watches(feed)}
        return [
            Problem(
                status.name,
                status.failing_since if status.health == "failing" else None,
                f"{status.last_error_kind}: {status.last_error}",
            )
            for status in self.store.feed_statuses(now)
            if status.name in watched
            and (
                status.health == "gone"
                or (
                    status.health == "failing"
                    and status.failing_since
                    and now - status.failing_since > PROBLEM_AFTER
                )
            )
        ]

    def preview(self, now: datetime, watchlist: str | None = None) -> list[Digest]:
        """Render each watchlist's pending digest without sending or marking anything."""
        return [
            self._render(chosen, self.store.hits(watchlist=chosen.name, waiting="digest"), now)
            for chosen in self._selected(watchlist)
            if chosen.digest is not None
        ]

    def _render(
        self, watchlist: WatchlistConfig, pending: Sequence[Hit], now: datetime, kind: Kind = "digest"
    ) -> Digest:
        """A digest, with the period it covers and the sources with problems; or an alert."""
        alert = kind == "alert"
        return render_digest(
            watchlist.name,
            pending,
            watchlist.timezone,
            now,
            () if alert else self.problems(watchlist, now),
            max_entries=watchlist.max_entries,
            templates_folder=self.config.templates,
            since=None if alert else self.store.last_delivery(watchlist.name),
            group_by=watchlist.group_by,
            kind=kind,
        )

    def _channels(self, watchlist: str) -> list[Channel]:
        """The watchlist's channels as configured now (the outbox keeps only their names)."""
        return self.config.watchlist(watchlist).channels()

    @property
    def alerting(self) -> bool:
        """Whether any watchlist sends alerts: if not, polls need not look for them."""
        return any(watchlist.alert == "immediate" for watchlist in self.config.watchlists)

    def send_digests(self, now: datetime, watchlist: str | None = None) -> list[DigestOutcome]:
        """Each watchlist's digests: those recorded earlier that some recipient still waits
        for, then one of the hits that no digest covers yet (see ``send_digest``)."""
        return [outcome for chosen in self._selected(watchlist) for outcome in self.send_digest(chosen, now)]

    def send_alerts(self, now: datetime) -> list[DigestOutcome]:
        """After a poll that found hits: for each watchlist with ``alert = "immediate"``, one
        alert of its hits that no alert and no digest covers yet, recorded before it is sent
        like a digest. Earlier alerts still waiting are left to the outbox's retries."""
        outcomes = []
        for watchlist in self.config.watchlists:
            if watchlist.alert != "immediate":
                continue
            waiting = self.store.hits(watchlist=watchlist.name, waiting="alert")
            if waiting:
                outcomes.append(self._record_and_send(watchlist, waiting, now, "alert"))
        return outcomes

    def send_outbox(
        self, now: datetime, watchlist: str | None = None, *, due_only: bool = False
    ) -> list[DigestOutcome]:
        """Send the recorded digests and alerts that some recipient still waits for, oldest
        first, each as recorded (the same bytes, so the same Message-ID) and only to those who
        wait; with ``due_only``, only those whose backoff has run out (the daemon's periodic
        retry). A message another run is sending is left to it."""
        return [
            self._send_waiting(outgoing, now)
            for chosen in self._selected(watchlist)
            for outgoing in self.store.outbox(chosen.name, now if due_only else None)
        ]

    def _send_waiting(self, listed: Outgoing, now: datetime) -> DigestOutcome:
        outgoing = self.store.claim(listed.id, now, self.send_lease)
        if outgoing is None:
            event(log, f"{listed.kind}.busy", watchlist=listed.watchlist, digest=listed.id)
            return DigestOutcome(
                listed.watchlist, listed.hits, "busy", recorded=listed.created, kind=listed.kind
            )
        return self._deliver(outgoing, now)

    def send_digest(self, watchlist: WatchlistConfig, now: datetime) -> list[DigestOutcome]:
        """The watchlist's waiting digests (and alerts) first; then, unless it has no digest
        (``digest = "none"``), a digest of the hits no digest covers. An empty period sends
        nothing, unless ``send_empty`` and no waiting digest went out instead."""
        outcomes = self.send_outbox(now, watchlist.name)
        if watchlist.digest is None:
            return outcomes
        waiting = self.store.hits(watchlist=watchlist.name, waiting="digest")
        if not waiting and (outcomes or not watchlist.send_empty):
            self.store.record_empty(watchlist=watchlist.name, recipients=watchlist.recipients, now=now)
            event(log, "digest.empty", watchlist=watchlist.name)
            return [*outcomes, DigestOutcome(watchlist.name, 0, "empty")]
        return [*outcomes, self._record_and_send(watchlist, waiting, now, "digest")]

    def _record_and_send(
        self, watchlist: WatchlistConfig, waiting: Sequence[Hit], now: datetime, kind: Kind
    ) -> DigestOutcome:
        """A digest or an alert of ``waiting``, recorded (message, recipients, hits) before it
        is sent, so that a crash or a failure leaves it in the outbox rather than lost or sent
        again with other hits."""
        digest = self._render(watchlist, waiting, now, kind)
        message = build_message(digest, self.config.smtp.sender, watchlist.recipients, now)
        channels = [channel.name for channel in watchlist.channels()]
        try:
            outgoing = self.store.record_digest(
                watchlist=watchlist.name,
                recipients=[*watchlist.recipients, *channels],
                message_id=message["Message-ID"],
                message=wire_bytes(message),
                hit_ids=digest.hit_ids,
                now=now,
                lease=self.send_lease,
                kind=kind,
                notice=(" ".join(digest.subject.split()), digest.notice),
            )
        except ClaimedError as exc:  # a concurrent run recorded one of these hits first
            event(log, f"{kind}.busy", logging.WARNING, watchlist=watchlist.name, error=str(exc))
            return DigestOutcome(watchlist.name, len(digest.hit_ids), "busy", str(exc), kind=kind)
        return self._deliver(outgoing, now, earlier=False)

    def _deliver(self, outgoing: Outgoing, now: datetime, earlier: bool = True) -> DigestOutcome:
        """Send a recorded digest, held by this run, to those who wait for it (by SMTP, or
        through Apprise to a channel), then record what became of each, and when to try again
        those who still wait (doubling each time); one still failing ``[outbox]
        give_up_after`` since the digest was recorded is refused."""
        emails = [recipient for recipient in outgoing.waiting if not is_channel(recipient)]
        undelivered = (
            send_message(self.config.smtp, self.config.smtp.sender, emails, outgoing.message)
            if emails
            else {}
        )
        results = {recipient: _delivery(undelivered.get(recipient)) for recipient in emails}
        configured = {channel.name: channel for channel in self._channels(outgoing.watchlist)}
        for name in outgoing.waiting:
            if is_channel(name):
                results[name] = _notified(configured.get(name), outgoing.notice)
        outbox = self.config.outbox
        self._give_up(outgoing, results, now)
        run = self.store.record_attempt(
            outgoing.id,
            results,
            now,
            retry_at=now + retry_delay(outgoing.tries + 1, outbox.retry_every, outbox.retry_max),
        )
        fields: dict[str, Any] = {
            "watchlist": outgoing.watchlist,
            "digest": outgoing.id,
            "hits": outgoing.hits,
            "message_id": outgoing.message_id,
            "recorded": outgoing.created.isoformat(timespec="seconds") if earlier else "now",
        }
        if run.status == "sent":
            event(log, f"{outgoing.kind}.sent", **fields, recipients=len(outgoing.waiting))
        else:  # pending: tried again at every run, and said so each time
            event(
                log,
                f"{outgoing.kind}.{run.status}",
                logging.ERROR,
                **fields,
                error=run.error,
                tries=outgoing.tries + 1,
            )
        return DigestOutcome(
            outgoing.watchlist,
            outgoing.hits,
            run.status,
            run.error,
            outgoing.created if earlier else None,
            outgoing.kind,
        )

    def _give_up(
        self, outgoing: Outgoing, results: dict[str, tuple[DeliveryState, str | None]], now: datetime
    ) -> None:
        """Refuse, in ``results``, the recipients whose try failed again when the digest has
        waited longer than ``give_up_after``: a revoked token or a mailbox full for days is not
        tried forever. Its hits are then delivered as far as they could be, as after a 5xx."""
        tries = outgoing.tries + 1
        reason = given_up(now, outgoing.created, tries, self.config.outbox.give_up_after)
        if reason is None:
            return
        for recipient, (state, error) in results.items():
            if state == "failed_temporary":
                results[recipient] = ("refused", f"{reason}: {error}" if error else reason)
                event(
                    log,
                    f"{outgoing.kind}.gave_up",
                    logging.ERROR,
                    watchlist=outgoing.watchlist,
                    digest=outgoing.id,
                    recipient=recipient,
                    tries=tries,
                )


def _notified(channel: Channel | None, notice: tuple[str, str] | None) -> tuple[DeliveryState, str | None]:
    """A channel's state after a try. Apprise does not say whether a failure is for good, so
    every failure is tried again; a channel no longer in the config has no URL to send to."""
    if channel is None or notice is None:
        return "refused", "no longer in the watchlist's notify: its URL (and secrets) are unknown"
    why = send_notice(channel, *notice)
    return ("sent", None) if why is None else ("failed_temporary", why)


def _delivery(undelivered: Undelivered | None) -> tuple[DeliveryState, str | None]:
    """A recipient's state after a try: sent, refused for good, or to be tried again."""
    if undelivered is None:
        return "sent", None
    return ("refused" if undelivered.refused else "failed_temporary"), undelivered.answer
