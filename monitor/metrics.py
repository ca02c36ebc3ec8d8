"""The counts of the work this process does, for /metrics (prometheus-client): polls and their
fetch times, items and hits stored, digests and alerts tried, the matcher's pace, the
process's memory. In a registry of the App's own, so two Apps in one process never share a
count. Label values are bounded: outcomes, failure kinds, watchlists, message kinds and states,
never an item or a feed."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from monitor.models import Kind, Saved

POLL_OUTCOMES = ("ok", "unchanged", "failed")  # unchanged: 304, or the same body again
MESSAGE_STATES = ("sent", "partial", "pending", "failed")  # pending: to be tried again
disable_created_metrics()  # type: ignore[no-untyped-call] # no *_created series beside each counter: noise for a scraper of one process
# a feed answers in tens of milliseconds on a good day and in a minute (the timeout) on a bad one
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """What polls and sends report as they happen; read through ``registry``."""

    def __init__(self, watchlists: Iterable[str] = ()) -> None:
        """``watchlists``: shown at 0 before their first hit, as each poll outcome and message
        state is, so a rate over them starts from the process's start."""
        self.registry = registry = CollectorRegistry()
        self.polls = Counter("monitor_polls", "Polls of feeds, by outcome.", ["outcome"], registry=registry)
        self.poll_failures = Counter(
            "monitor_poll_failures", "Failed polls, by the failure's kind.", ["kind"], registry=registry
        )
        self.fetch_seconds = Histogram(
            "monitor_fetch_seconds",
            "Time to fetch a feed, answered or not.",
            buckets=FETCH_BUCKETS,
            registry=registry,
        )
        self.items = Counter("monitor_items_stored", "New items stored.", registry=registry)
        self.hits = Counter(
            "monitor_hits_stored", "New hits stored, by watchlist.", ["watchlist"], registry=registry
        )
        self.messages = Counter(
            "monitor_messages",
            "Digests and alerts tried, by kind and what became of them (pending: tried again later).",
            ["kind", "state"],
            registry=registry,
        )
        self.matched = Counter("monitor_matcher_items", "Items matched.", registry=registry)
        self.matching = Counter("monitor_matcher_seconds", "Time spent matching them.", registry=registry)
        Gauge(
            "monitor_matcher_items_per_second",
            "Items matched per second of matching, since the process started.",
            registry=registry,
        ).set_function(self._pace)
        ProcessCollector(registry=registry)  # process_resident_memory_bytes, CPU, open files
        self._pace_lock = threading.Lock()
        self._matched_items = 0
        self._matching_seconds = 0.0
        for outcome in POLL_OUTCOMES:
            self.polls.labels(outcome)
        for watchlist in watchlists:
            self.hits.labels(watchlist)
        for kind in get_args(Kind):
            for state in MESSAGE_STATES:
                self.messages.labels(kind, state)

    def polled(self, outcome: str, failure: str | None = None) -> None:
        self.polls.labels(outcome).inc()
        if failure is not None:
            self.poll_failures.labels(failure).inc()

    def stored(self, saved: Saved) -> None:
        self.items.inc(saved.items)
        for watchlist, count in saved.by_watchlist.items():
            self.hits.labels(watchlist).inc(count)

    def matched_items(self, count: int, seconds: float) -> None:
        self.matched.inc(count)
        self.matching.inc(seconds)
        with self._pace_lock:
            self._matched_items += count
            self._matching_seconds += seconds

    def tried(self, kind: Kind, state: str) -> None:
        self.messages.labels(kind, state).inc()

    def _pace(self) -> float:
        with self._pace_lock:
            return self._matched_items / self._matching_seconds if self._matching_seconds else 0.0
