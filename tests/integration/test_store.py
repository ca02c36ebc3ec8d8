"""The store on each backend: migrations at open, and idempotent saves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from monitor.models import Item, Match, Span, Validators
from monitor.store import Store

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
ITEM = Item("N1", "n1-1", "BIA saopštila", "", "https://n1info.rs/1/", NOW)
MATCH = Match("BIA", ("BIA",), (Span("title", 0, 3, "BIA"),))


def open_store(url: str) -> Store:
    store = Store(url.replace("postgresql://", "postgresql+psycopg://", 1))
    store.sync_feeds([("N1", "https://n1info.rs/feed/")], NOW)
    return store


def test_schema_is_made_by_migrations_and_reopening_changes_nothing(database_url):
    first = open_store(database_url)
    tables = set(inspect(first.engine).get_table_names())
    first.close()
    again = open_store(database_url)

    assert {"feeds", "items", "hits", "digests", "alembic_version"} <= tables
    with again.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    assert [status.name for status in again.feed_statuses()] == ["N1"]
    again.close()


def test_saving_the_same_poll_twice_stores_each_item_and_hit_once(database_url):
    store = open_store(database_url)
    matches = {ITEM.id: {"relocants": [MATCH]}}

    first = store.save_poll("N1", Validators('"e1"', None), [ITEM], matches, NOW)
    second = store.save_poll("N1", Validators('"e2"', None), [ITEM], matches, NOW)

    assert (first, second) == ((1, 1), (0, 0))
    [hit] = store.hits()
    assert hit.item == ITEM and hit.matches == (MATCH,)
    assert store.validators("N1") == Validators('"e2"', None)
    store.close()
