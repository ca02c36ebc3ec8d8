"""The values that flow between stages. Frozen, so a stage cannot change another's data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Field = Literal["title", "summary"]


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


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server gave us to ask "has it changed?" next time (conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Where a term matched: character offsets into the item's title or summary."""

    field: Field
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Match:
    """One query of a watchlist that matched an item, with the terms and spans behind it."""

    query: str
    terms: tuple[str, ...]
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class DigestRun:
    """One digest run as recorded: sent, failed (with the error) or empty (nothing to send)."""

    watchlist: str
    created: datetime
    recipients: tuple[str, ...]
    message_id: str | None
    hits: int
    status: str
    error: str | None


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

    @property
    def matched_terms(self) -> list[str]:
        return sorted({term for match in self.matches for term in match.terms})


Health = Literal["gone", "failing", "new", "ok", "disabled"]  # worst first


@dataclass(frozen=True, slots=True)
class FeedState:
    """What polling a feed needs to know from the last polls."""

    name: str
    url: str  # what to fetch: the adopted address after a permanent move, else the configured one
    validators: Validators
    body_hash: str | None
    fingerprints: frozenset[str]  # the last body's entries, as parse.entry_fingerprints saw them
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
