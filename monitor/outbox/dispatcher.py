"""The outbox's use cases: send the digests, the alerts and the messages still waiting. A
message is recorded before it is sent, held by one sender at a time (a lease), delivered
through its recipients' channels, tried again later (doubling the wait) and given up on."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from monitor.config import Config, WatchlistConfig
from monitor.digest import Digest
from monitor.errors import ClaimedError, DatabaseAway
from monitor.leases import reconnect_wait
from monitor.log import event
from monitor.metrics import Metrics
from monitor.models import Attempt, ChannelKind, Hit, Kind, MessageState, Outgoing, Recipient
from monitor.outbox.apprise import AppriseChannel
from monitor.outbox.backoff import given_up, retry_delay
from monitor.outbox.channels import Channel
from monitor.outbox.compose import compose, problems, render
from monitor.outbox.smtp import SmtpChannel, longest_send
from monitor.store import Store

log = logging.getLogger("monitor")
LEASE_MARGIN = timedelta(minutes=5)  # a sender holds a message this much longer than it can take
RunState = MessageState | Literal["busy"]  # busy: another run is sending that message
RECORD_TRIES = 6  # waits of 1, 2, 4, 8 and 16 s: a database back within half a minute
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """One message's fate in a run. ``recorded`` is when it was recorded, if at an earlier run:
    a message some recipient was still waiting for, sent again as it was. ``busy``: another
    run held it, and this one left it alone."""

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


def refusals(attempts: Mapping[str, Attempt], reason: str | None) -> dict[str, Attempt]:
    """The recipients of ``attempts`` whose try failed again, refused for ``reason`` (see
    ``backoff.given_up``: a revoked token or a mailbox full for days is not tried forever),
    the failure's answer kept after it; none while ``reason`` is None."""
    if reason is None:
        return {}
    return {
        recipient: Attempt("refused", f"{reason}: {attempt.error}" if attempt.error else reason)
        for recipient, attempt in attempts.items()
        if attempt.state == "failed_temporary"
    }


def recorded(record: Callable[[], T]) -> T:
    """``record`` what a send did, tried again while the database is away (see
    ``leases.reconnect_wait``): the message went out, and one whose attempt is not recorded
    would be sent again once its lease ran out."""
    for failures in range(1, RECORD_TRIES):
        try:
            return record()
        except DatabaseAway as exc:
            event(log, "outbox.record_waits", logging.WARNING, tries=failures, error=str(exc))
            time.sleep(reconnect_wait(failures).total_seconds())
    return record()


class Outbox:
    """A config's watchlists bound to the store's messages. Nothing is read, opened or sent
    here: the sends happen in the use cases."""

    def __init__(self, config: Config, store: Store, metrics: Metrics | None = None) -> None:
        """``metrics`` counts the messages tried (a count of its own if None)."""
        self.store = store
        self.metrics = metrics or Metrics()
        self.messages = store.messages
        self.reconfigure(config)
        # how long a message is held while it is sent (see MessageStore.claim): as long as the
        # slowest send could take, unless the process renews what it holds (the daemon's beat)
        self.lease = LEASE_MARGIN + longest_send(config.smtp)
        self.held: set[int] = set()  # the messages being sent now, whose leases a beat renews

    def reconfigure(self, config: Config) -> None:
        """Send by ``config`` from now on (the daemon's reload): the messages being sent keep
        their lease, and a send under way reads the settings current at each step."""
        self.config = config
        self.smtp = SmtpChannel(config.smtp)

    @property
    def alerting(self) -> bool:
        """Whether any watchlist sends alerts: if not, polls need not look for them."""
        return any(watchlist.alert == "immediate" for watchlist in self.config.watchlists)

    def _selected(self, name: str | None) -> list[WatchlistConfig]:
        return [self.config.watchlist(name)] if name else list(self.config.watchlists)

    def preview(self, now: datetime, watchlist: str | None = None) -> list[Digest]:
        """Render each watchlist's pending digest without sending or marking anything."""
        return [
            self._render(chosen, self.store.hits.find(watchlist=chosen.name, waiting="digest"), now)
            for chosen in self._selected(watchlist)
            if chosen.digest is not None
        ]

    def _render(
        self, watchlist: WatchlistConfig, pending: Sequence[Hit], now: datetime, kind: Kind = "digest"
    ) -> Digest:
        """A digest, with the period it covers and the sources with problems; or an alert."""
        templates = self.config.templates
        languages = {feed.name: feed.language for feed in self.config.feeds}
        if kind == "alert":
            return render(watchlist, pending, now, kind, templates=templates, languages=languages)
        watched = {feed.name for feed in self.config.feeds if watchlist.watches(feed)}
        return render(
            watchlist,
            pending,
            now,
            kind,
            problems=problems(self.store.feeds.statuses(now), watched, now),
            since=self.messages.last_delivery(watchlist.name),
            templates=templates,
            languages=languages,
        )

    def _channels(self, watchlist: str) -> dict[ChannelKind, Channel]:
        """Each kind of recipient's channel; the watchlist's endpoints as configured now (the
        outbox keeps only their names)."""
        return {"email": self.smtp, "apprise": AppriseChannel(self.config.watchlist(watchlist).notify)}

    def send_digests(self, now: datetime, watchlist: str | None = None) -> list[MessageOutcome]:
        """Each watchlist's messages: those recorded earlier that some recipient still waits
        for, then a digest of the hits that no digest covers yet (see ``send_digest``)."""
        return [outcome for chosen in self._selected(watchlist) for outcome in self.send_digest(chosen, now)]

    def send_alerts(self, now: datetime) -> list[MessageOutcome]:
        """After a poll that found hits: for each watchlist with ``alert = "immediate"``, one
        alert of its hits that no alert and no digest covers yet, recorded before it is sent
        like a digest. Earlier alerts still waiting are left to the outbox's retries."""
        outcomes = []
        for watchlist in self.config.watchlists:
            if watchlist.alert != "immediate":
                continue
            waiting = self.store.hits.find(watchlist=watchlist.name, waiting="alert")
            if waiting:
                outcomes.append(self._record_and_send(watchlist, waiting, now, "alert"))
        return outcomes

    def send_waiting(
        self, now: datetime, watchlist: str | None = None, *, due_only: bool = False
    ) -> list[MessageOutcome]:
        """Send the recorded digests and alerts that some recipient still waits for, oldest
        first, each as recorded (the same bytes, so the same Message-ID) and only to those who
        wait; with ``due_only``, only those whose backoff has run out (the daemon's periodic
        retry). A message another run is sending is left to it."""
        return [
            self._claim_and_deliver(outgoing, now)
            for chosen in self._selected(watchlist)
            for outgoing in self.messages.waiting(chosen.name, now if due_only else None)
        ]

    def _claim_and_deliver(self, listed: Outgoing, now: datetime) -> MessageOutcome:
        kind = listed.message.kind
        outgoing = self.messages.claim(listed.id, now, self.lease)
        if outgoing is None:
            event(log, f"{kind}.busy", watchlist=listed.watchlist, digest=listed.id)
            return MessageOutcome(listed.watchlist, listed.hits, "busy", recorded=listed.created, kind=kind)
        return self._deliver(outgoing, now)

    def send_digest(self, watchlist: WatchlistConfig, now: datetime) -> list[MessageOutcome]:
        """The watchlist's waiting messages first; then, unless it has no digest (``digest =
        "none"``), a digest of the hits no digest covers. An empty period sends nothing,
        unless ``send_empty`` and no waiting message went out instead."""
        outcomes = self.send_waiting(now, watchlist.name)
        if watchlist.digest is None:
            return outcomes
        waiting = self.store.hits.find(watchlist=watchlist.name, waiting="digest")
        if not waiting and (outcomes or not watchlist.send_empty):
            self.messages.record_empty(watchlist=watchlist.name, recipients=watchlist.recipients, now=now)
            event(log, "digest.empty", watchlist=watchlist.name)
            return [*outcomes, MessageOutcome(watchlist.name, 0, "empty")]
        return [*outcomes, self._record_and_send(watchlist, waiting, now, "digest")]

    def _record_and_send(
        self, watchlist: WatchlistConfig, waiting: Sequence[Hit], now: datetime, kind: Kind
    ) -> MessageOutcome:
        """A digest or an alert of ``waiting``, recorded (message, recipients, hits) before it
        is sent, so that a crash or a failure leaves it in the outbox rather than lost or sent
        again with other hits."""
        digest = self._render(watchlist, waiting, now, kind)
        message = compose(digest, self.config.smtp.sender, watchlist.recipients, now)
        endpoints = AppriseChannel(watchlist.notify).endpoints
        recipients = [
            *(Recipient(address, "email") for address in watchlist.recipients),
            *(Recipient(name, "apprise") for name in endpoints),
        ]
        try:
            outgoing = self.messages.record(
                watchlist=watchlist.name,
                recipients=recipients,
                message=message,
                hit_ids=digest.hit_ids,
                now=now,
                lease=self.lease,
            )
        except ClaimedError as exc:  # a concurrent run recorded one of these hits first
            event(log, f"{kind}.busy", logging.WARNING, watchlist=watchlist.name, error=str(exc))
            return MessageOutcome(watchlist.name, len(digest.hit_ids), "busy", str(exc), kind=kind)
        return self._deliver(outgoing, now, earlier=False)

    def _deliver(self, outgoing: Outgoing, now: datetime, earlier: bool = True) -> MessageOutcome:
        """Send a recorded message, held by this run, to those who wait for it, each through
        its channel (SMTP, or Apprise), then record what became of each, and when to try again
        those who still wait (doubling each time); one still failing ``[outbox]
        give_up_after`` since the message was recorded is refused."""
        self.held.add(outgoing.id)
        try:
            return self._send(outgoing, now, earlier)
        finally:
            self.held.discard(outgoing.id)

    def _send(self, outgoing: Outgoing, now: datetime, earlier: bool) -> MessageOutcome:
        kind = outgoing.message.kind
        attempts: dict[str, Attempt] = {}
        for channel_kind, channel in self._channels(outgoing.watchlist).items():
            addresses = [found.address for found in outgoing.waiting if found.channel == channel_kind]
            if addresses:
                attempts |= channel.send(outgoing.message, addresses)
        outbox = self.config.outbox
        tries = outgoing.tries + 1
        refused = refusals(attempts, given_up(now, outgoing.created, tries, outbox.give_up_after))
        for recipient in refused:  # its hits are then delivered as far as they could be
            event(
                log,
                f"{kind}.gave_up",
                logging.ERROR,
                watchlist=outgoing.watchlist,
                digest=outgoing.id,
                recipient=recipient,
                tries=tries,
            )
        attempts |= refused
        run = recorded(
            functools.partial(
                self.messages.record_attempt,
                outgoing.id,
                attempts,
                now,
                retry_at=now + retry_delay(tries, outbox.retry_every, outbox.retry_max),
            )
        )
        fields: dict[str, Any] = {
            "watchlist": outgoing.watchlist,
            "digest": outgoing.id,
            "hits": outgoing.hits,
            "message_id": outgoing.message.message_id,
            "recorded": outgoing.created.isoformat(timespec="seconds") if earlier else "now",
        }
        self.metrics.tried(kind, run.status)
        if run.status == "sent":
            event(log, f"{kind}.sent", **fields, recipients=len(outgoing.waiting))
        else:  # pending: tried again at every run, and said so each time
            event(log, f"{kind}.{run.status}", logging.ERROR, **fields, error=run.error, tries=tries)
        return MessageOutcome(
            outgoing.watchlist,
            outgoing.hits,
            run.status,
            run.error,
            outgoing.created if earlier else None,
            kind,
        )
