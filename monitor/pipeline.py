"""The outbox's use cases: store → digest → send."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from monitor.config import Config, WatchlistConfig
from monitor.digest import Digest, Problem, render_digest
from monitor.errors import ClaimedError
from monitor.log import event
from monitor.models import (
    DeliveryState,
    DigestState,
    Hit,
    Kind,
    Outgoing,
)
from monitor.outbox.apprise import Channel, is_channel, notify_channels, send_notice
from monitor.outbox.backoff import given_up, retry_delay
from monitor.outbox.smtp import Undelivered, build_message, longest_send, send_message, wire_bytes
from monitor.store import Store

log = logging.getLogger("monitor")
PROBLEM_AFTER = timedelta(hours=24)  # a source failing longer is named in the digest
LEASE_MARGIN = timedelta(minutes=5)  # a sender holds a digest this much longer than it can take
RunState = DigestState | Literal["busy"]  # busy: another run is sending that digest


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


class Monitor:
    """The outbox's use cases: digests and alerts composed, recorded, sent and retried."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.send_lease = LEASE_MARGIN + longest_send(config.smtp)  # see Store.claim

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
            for status in self.store.feeds.statuses(now)
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
            self._render(chosen, self.store.hits.find(watchlist=chosen.name, waiting="digest"), now)
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
        return notify_channels(self.config.watchlist(watchlist))

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
            waiting = self.store.hits.find(watchlist=watchlist.name, waiting="alert")
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
        waiting = self.store.hits.find(watchlist=watchlist.name, waiting="digest")
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
        channels = [channel.name for channel in notify_channels(watchlist)]
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
