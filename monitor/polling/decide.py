"""What a poll changes, decided from what it fetched and what the store knows. Pure: handed the
feed's state, the fetch, the reading, the entries the store holds and ``now``; the poller does
the I/O before and after.

An entry is saved when it is new, when this feed's text of it changed (an edit), or when the
store holds its story but not under this feed and guid (a sighting: a syndicated copy, or a
republication under a new guid). Every entry saved is matched; an edit makes a hit only for a
watchlist the item did not match before, which the store decides as it writes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from monitor.models import FeedState, Item, Known, PollRecord, content_hash
from monitor.polling.cadence import Cadence, LastPoll, next_delay

if TYPE_CHECKING:  # the store imports this module, and needs neither httpx nor feedparser
    from monitor.feeds.prescan import Reading
    from monitor.http.fetch import Fetched

ChangeKind = Literal["new", "edit", "sighting"]


@dataclass(frozen=True, slots=True)
class Change:
    """An entry to save, and what the store holds of it (None: a new item)."""

    entry: Item
    kind: ChangeKind
    known: Known | None = None


@dataclass(frozen=True, slots=True)
class PollIntent:
    """What one successful poll writes. ``quiet``: nothing to parse (a 304, the last body
    again, or only entries of the last body), so only the feed's row changes."""

    feed: str
    record: PollRecord
    changes: tuple[Change, ...] = ()
    quiet: bool = False


def change(entry: Item, known: Known | None) -> Change | None:
    """The change ``entry`` makes, or None when this feed carried it as it is."""
    if known is None:
        return Change(entry, "new")
    if not known.sighted:
        return Change(entry, "sighting", known)
    if known.content_hash != content_hash(entry.title, entry.summary):
        return Change(entry, "edit", known)
    return None


def changes(entries: Sequence[Item], known: Mapping[str, Known]) -> tuple[Change, ...]:
    """The entries worth saving, once per guid (a feed repeating a guid: its last entry)."""
    unique = {entry.id: entry for entry in entries}.values()
    return tuple(found for entry in unique if (found := change(entry, known.get(entry.id))))


def decide(
    state: FeedState,
    fetched: Fetched,
    body_hash: str | None,
    reading: Reading | None,
    known: Mapping[str, Known],
    *,
    cadence: Cadence,
    interval: timedelta | None,
    now: datetime,
    rng: random.Random | None = None,
) -> PollIntent:
    """The intent of a successful poll. A permanent move seen on two polls in a row is adopted;
    the next poll follows the feed's rate of new items and the server's max-age."""
    parsed = reading.parsed if reading else None
    adopt = fetched.moved_to if fetched.moved_to and fetched.moved_to == state.moved_to else None
    delay = next_delay(cadence, interval, state.items_per_day, LastPoll(max_age=fetched.max_age), rng)
    record = PollRecord(
        validators=fetched.validators,
        next_poll=now + delay,
        body_hash=body_hash,
        fingerprints=reading.fingerprints if reading else state.fingerprints,
        moved_to=None if adopt else fetched.moved_to,
        adopt_url=adopt,
        warning=state.warning if parsed is None else "; ".join(parsed.warnings) or None,
    )
    if parsed is None:
        return PollIntent(state.name, record, quiet=True)
    return PollIntent(state.name, record, changes(parsed.items, known))


def next_poll_after_failure(
    state: FeedState,
    kind: str,
    retry_after: float | None,
    *,
    cadence: Cadence,
    interval: timedelta | None,
    now: datetime,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to poll a feed again after a failure: backing off, never before Retry-After; a
    feed that is gone (410) not at all (None)."""
    if kind == "gone":
        return None
    last = LastPoll(
        failures=state.failures + 1,
        retry_after=None if retry_after is None else timedelta(seconds=retry_after),
    )
    return now + next_delay(cadence, interval, state.items_per_day, last, rng)
