"""What the database tells, as Prometheus gauges read at each scrape: feeds by health, how late
the due feeds are, the latest polls, the messages waiting, the live workers. Every process on
the database tells the same, so `monitor serve` alone shows them too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.errors import StorageError
from monitor.models import Vitals


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class VitalsGauges(Collector):
    """``vitals`` read at each scrape; a database that does not answer is
    ``monitor_database_up 0``, and the scrape still succeeds."""

    def __init__(self, vitals: Callable[[], Vitals], now: Callable[[], datetime]) -> None:
        self.vitals = vitals
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        try:
            vitals = self.vitals()
        except StorageError:
            yield _gauge("monitor_database_up", "Whether the database answered this scrape.", 0)
            return
        yield _gauge("monitor_database_up", "Whether the database answered this scrape.", 1)
        feeds = GaugeMetricFamily("monitor_feeds", "Feeds stored, by health.", labels=["health"])
        for health, count in vitals.feeds.items():
            feeds.add_metric([health], count)
        yield feeds
        lag = (now - vitals.overdue_since).total_seconds() if vitals.overdue_since else 0.0
        yield _gauge("monitor_queue_lag_seconds", "How late the most overdue feed is; 0: none is due.", lag)
        for name, moment, what in (
            ("monitor_last_poll_timestamp_seconds", vitals.last_poll, "poll, successful or not"),
            ("monitor_last_success_timestamp_seconds", vitals.last_success, "successful poll"),
        ):
            if moment is not None:  # absent before the first: an alert on its age then waits
                yield _gauge(name, f"When the latest {what} ended (Unix time).", moment.timestamp())
        waiting = GaugeMetricFamily(
            "monitor_messages_waiting", "Messages some recipient still waits for, by kind.", labels=["kind"]
        )
        for kind, count in vitals.waiting.items():
            waiting.add_metric([kind], count)
        yield waiting
        oldest = (now - vitals.oldest_waiting).total_seconds() if vitals.oldest_waiting else 0.0
        yield _gauge(
            "monitor_outbox_oldest_waiting_seconds", "How long the oldest waiting message has waited.", oldest
        )
        yield _gauge(
            "monitor_workers_live", "`monitor run` processes beating on the database.", vitals.live_workers
        )
