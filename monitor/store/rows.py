"""An item's columns as every reader of items selects them, and the Item they make."""

from __future__ import annotations

from typing import Any

from monitor.models import Item
from monitor.store.schema import feeds, items

# with items joined to feeds
ITEM_COLUMNS = (
    feeds.c.name.label("feed"),
    items.c.guid,
    items.c.title,
    items.c.summary,
    items.c.link,
    items.c.published_at,
    items.c.body,
)


def item_of(row: Any) -> Item:
    """The Item of a row selected with ITEM_COLUMNS."""
    return Item(row.feed, row.guid, row.title, row.summary, row.link, row.published_at, row.body or "")
