"""All SQL lives here. Callers see plain models and StorageError, never SQLAlchemy."""

from __future__ import annotations

from monitor.store.engine import Database
from monitor.store.feeds import FeedStore
from monitor.store.hits import HitStore
from monitor.store.items import ItemStore
from monitor.store.jobs import JobStore
from monitor.store.messages import MessageStore
from monitor.store.migrate import migrate
from monitor.store.search import SearchStore
from monitor.store.vitals import VitalsStore
from monitor.store.workers import WorkerStore


class Store:
    """The database of one monitor: feeds and their state, items, hits, digest runs, the
    claims on scheduled work, the workers sharing them, the index that searches the items,
    and its vitals at a glance (for /healthz and /metrics)."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        migrate(self.database)
        self.feeds = FeedStore(self.database)
        self.items = ItemStore(self.database)
        self.hits = HitStore(self.database)
        self.messages = MessageStore(self.database)
        self.jobs = JobStore(self.database)
        self.workers = WorkerStore(self.database)
        self.search = SearchStore(self.database)
        self.vitals = VitalsStore(self.database)

    def close(self) -> None:
        self.database.close()
