"""What the stored history is for beyond the digests: a watchlist added or changed is matched
against it (backfill)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config import Config, WatchlistConfig
from monitor.match import Matcher
from monitor.models import Match
from monitor.store import Store

BATCH = 1000  # stored items read, matched and recorded at a time


@dataclass(frozen=True, slots=True)
class Backfilled:
    items: int  # candidates of the watchlist's feeds that the matcher read
    hits: int  # hits recorded: those the watchlist did not have yet


def backfill(
    store: Store,
    matcher: Matcher,
    config: Config,
    watchlist: WatchlistConfig,
    since: datetime | None,
    now: datetime,
    *,
    deliver: bool,
    batch: int = BATCH,
) -> Backfilled:
    """Match ``watchlist``, as configured now, against the stored items published since
    ``since`` in the feeds it watches (those a poll would match it on), and record the hits it
    does not have yet, marked backfilled; unless ``deliver``, no digest or alert sends them.
    The full-text index picks the candidates and the matcher confirms each, a batch at a time,
    so memory stays bounded; running it again records nothing new."""
    languages = {feed.name: feed.language for feed in config.feeds if watchlist.watches(feed)}
    matched = made = 0
    for chunk in store.search.candidates(watchlist.queries, matcher, since, batch=batch):
        found: dict[int, list[Match]] = {}
        for stored in chunk:
            item = stored.item
            if item.feed not in languages:
                continue
            matched += 1
            matches = matcher.match(
                item.title, item.summary, languages[item.feed], [watchlist.name], item.body
            )
            if watchlist.name in matches:
                found[stored.id] = matches[watchlist.name]
        if found:
            made += store.hits.backfill(watchlist.name, found, now, deliver=deliver)
    return Backfilled(matched, made)
