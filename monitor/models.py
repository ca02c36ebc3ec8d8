"""The values that flow between stages. Frozen (dataclasses; named tuples for the matcher's many
spans and matches), so a stage cannot change another's data."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

Field = Literal["title", "summary", "body"]  # body: the article page's text (fulltext)


def utcnow() -> datetime:
    """Now, as every stage stores and compares times: aware, in UTC."""
    return datetime.now(UTC)


def content_hash(title: str, summary: str) -> str:
    """What identifies an item's text: an edited title or summary changes it."""
    return hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Item:
    """One normalised feed entry. ``id`` is stable within its feed across polls."""

    feed: str
    id: str
    title: str
    summary: str
    link: str
    published: datetime
    body: str = ""  # the article's text from its page, for a feed read in full text; "" otherwise
    page: Validators | None = None  # what the page's server gave to ask "changed?" next time


class StoredItem(NamedTuple):
    """An item as the store holds it, with its id there (what hits are recorded against)."""

    id: int
    item: Item


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server gave us to ask "has it changed?" next time (conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


class Span(NamedTuple):
    """Where a term matched: character offsets into the item's title, summary or body. A named tuple,
    as immutable as a frozen dataclass and made in half the time: the matcher makes one for each
    place it reports, and at 10,000 queries that is most of its work per match."""

    field: Field
    start: int
    end: int
    text: str


class Match(NamedTuple):
    """One query of a watchlist that matched an item, with the terms and spans behind it (a
    named tuple for the same reason as ``Span``)."""

    query: str
    terms: tuple[str, ...]
    spans: tuple[Span, ...]


Kind = Literal["digest", "alert"]  # an outbox message: a scheduled digest, or an alert after a poll
DeliveryState = Literal["pending", "sent", "failed_temporary", "refused"]
# pending: some recipient still waits; partial: some sent, the others refused; failed: all refused
MessageState = Literal["pending", "sent", "partial", "failed", "empty"]
WAITING: tuple[DeliveryState, ...] = ("pending", "failed_temporary")  # to be sent to


@dataclass(frozen=True, slots=True)
class Delivery:
    """One recipient of one message (a digest or an alert): not tried yet (pending), delivered
    (sent), to be tried again (failed_temporary) or refused for good, with the tries and the
    server's last answer."""

    recipient: str
    state: DeliveryState
    attempts: int = 0
    error: str | None = None
    sent: datetime | None = None


def message_state(deliveries: Sequence[Delivery]) -> MessageState:
    """A message's state from its recipients': pending while anyone waits for it."""
    states = {delivery.state for delivery in deliveries}
    if not states:
        return "empty"
    if states & set(WAITING):
        return "pending"
    if states == {"sent"}:
        return "sent"
    return "failed" if states == {"refused"} else "partial"


def message_error(deliveries: Sequence[Delivery]) -> str | None:
    """What went wrong for the recipients who do not have the message, one clause per answer:
    ``refused a@x: 550 no such user; not yet delivered to b@y, c@z: SMTP …: timed out``."""
    clauses: dict[tuple[str, str], list[str]] = {}
    for delivery in deliveries:
        if delivery.state != "sent" and delivery.error:
            verb = "refused" if delivery.state == "refused" else "not yet delivered to"
            clauses.setdefault((verb, delivery.error), []).append(delivery.recipient)
    return (
        "; ".join(f"{verb} {', '.join(recipients)}: {error}" for (verb, error), recipients in clauses.items())
        or None
    )


@dataclass(frozen=True, slots=True)
class MessageRun:
    """One message (a digest, an alert, or an empty run) as recorded, with each recipient's
    delivery (none for an empty run, or a run recorded before the outbox, whose state and error
    are those of the run)."""

    watchlist: str
    created: datetime
    recipients: tuple[str, ...]
    message_id: str | None
    hits: int
    status: MessageState
    error: str | None
    deliveries: tuple[Delivery, ...] = ()
    kind: Kind = "digest"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one try to send a message did for one recipient: its new state (sent, refused for
    good, or failed_temporary: to be tried again), and the answer or why not."""

    state: DeliveryState
    error: str | None = None


ChannelKind = Literal["email", "apprise"]  # how a recipient is reached: by SMTP, or through Apprise


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a message is for: an email address, or an Apprise channel's secret-free name."""

    address: str
    channel: ChannelKind


@dataclass(frozen=True, slots=True)
class Notice:
    """A message's short text for the channels Apprise sends to."""

    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Message:
    """A digest or an alert as recorded and sent: the email, byte for byte as SMTP carries it,
    and for channels its notice (None for a message recorded before channels)."""

    kind: Kind
    message_id: str
    wire: bytes
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A recorded message that recipients still wait for, to be sent them unchanged.
    ``tries``: how often the recipients who wait were tried already (the most of them)."""

    id: int
    watchlist: str
    created: datetime
    message: Message
    waiting: tuple[Recipient, ...]
    hits: int
    tries: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    """A stored match of an item against a watchlist."""

    id: int
    watchlist: str
    item: Item
    matches: tuple[Match, ...]
    created: datetime
    delivered: datetime | None
    also_in: tuple[str, ...] = ()  # the other feeds that carried the story, first seen first
    alerted: datetime | None = None  # when an alert of it reached everyone it was for
    backfilled: bool = False  # found in the stored history by `monitor backfill`, not by a poll
    story: int | None = None  # the id of the story's first report (see monitor.store.stories)
    reports: tuple[Item, ...] = ()  # the story's other items, hits or not, first published first

    @property
    def matched_terms(self) -> list[str]:
        return sorted({term for match in self.matches for term in match.terms})


Health = Literal["gone", "failing", "new", "ok", "disabled"]  # worst first
WorkerState = Literal["live", "stopped", "gone"]  # gone: no beat for a while, and no clean stop


@dataclass(frozen=True, slots=True)
class Worker:
    """A `monitor run` process on the database, as its row tells it."""

    id: str  # host:pid:start, the holder its claims name
    host: str
    pid: int
    started: datetime
    last_seen: datetime
    version: str
    stopped: datetime | None
    state: WorkerState


@dataclass(frozen=True, slots=True)
class Vitals:
    """What the database tells of a monitor's health at a glance: read for /healthz and for
    each scrape of /metrics, so a few aggregates, never a row per item."""

    feeds: Mapping[Health, int]  # every stored feed by health, each state present
    failing: tuple[str, ...]  # the failing or gone feeds' names, worst first (a few)
    last_poll: datetime | None  # the latest poll, successful or not
    last_success: datetime | None  # the latest successful poll
    overdue_since: datetime | None  # when the most overdue feed fell due; None: none is due
    waiting: Mapping[Kind, int]  # messages some recipient still waits for, each kind present
    oldest_waiting: datetime | None  # when the oldest of them was recorded
    live_workers: int  # `monitor run` processes beating on the database


@dataclass(frozen=True, slots=True)
class FeedState:
    """What polling a feed needs to know from the last polls."""

    name: str
    url: str  # what to fetch: the adopted address after a permanent move, else the configured one
    validators: Validators
    body_hash: str | None
    fingerprints: frozenset[str]  # the last body's entries, as prescan.entry_fingerprints saw them
    moved_to: str | None  # a permanent move seen on the last poll, adopted if the next one sees it too
    failures: int
    warning: str | None
    items_per_day: float | None  # None until the feed has published anything we stored


@dataclass(frozen=True, slots=True)
class Known:
    """A parsed entry the store already holds: under this feed and guid (``sighted``, with the
    hash of the text this feed last carried), or as the same story by its canonical link
    (republished under a new guid, or from another feed)."""

    item_id: int
    content_hash: str | None
    sighted: bool


@dataclass(frozen=True, slots=True)
class Saved:
    items: int = 0  # new stories
    edited: int = 0  # stored stories whose title or summary changed
    hits: int = 0
    by_watchlist: Mapping[str, int] = field(default_factory=dict, compare=False)  # the hits, for /metrics


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What a successful poll changes in its feed's row, besides the items it brings."""

    validators: Validators
    next_poll: datetime
    body_hash: str | None = None
    fingerprints: frozenset[str] | None = None
    moved_to: str | None = None  # a permanent redirect seen now
    adopt_url: str | None = None  # the address to fetch from now on (the move was seen twice)
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed's health as the store knows it."""

    name: str
    url: str
    health: Health
    last_success: datetime | None
    last_error_kind: str | None
    last_error: str | None
    last_error_at: datetime | None
    failing_since: datetime | None
    failures: int
    warning: str | None
    items_per_day: float | None
    next_poll: datetime | None
    items: int
    hits: int
