"""The tables, as SQLAlchemy Core metadata. Alembic migrations create and upgrade them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import TSVECTOR


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    # polling state (migration 0002)
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("fetch_url", Text),  # adopted after a permanent redirect seen on consecutive polls
    Column("moved_to", Text),  # a permanent redirect seen on the last poll
    Column("body_hash", String(64)),
    Column("entry_hashes", Text),  # the last body's entry fingerprints, space-separated
    Column("last_error_kind", String(30)),
    Column("failing_since", UTCDateTime),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("gone_at", UTCDateTime),
    Column("warning", Text),
    Column("next_poll_at", UTCDateTime),
    Column("lease_owner", String(200)),  # host:pid:start of the claiming process (see holders.py)
    Column("lease_until", UTCDateTime),
    Index("ix_feeds_due", "next_poll_at"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    # one story, one item, across feeds (migration 0003)
    Column("canonical_link", Text),
    # the first report of the story this item tells, when another item told it first (migration
    # 0014; see monitor.match.story.StoryIndex): a story's id is its first item's
    Column("story_id", Integer),
    # the article's text, read from its page for a feed read in full text, and the page's
    # validators, to read it again conditionally after an edit (migration 0015)
    Column("body", Text),
    Column("page_etag", Text),
    Column("page_modified", Text),
    UniqueConstraint("feed_id", "guid", name="uq_items_feed_guid"),
    Index("uq_items_canonical_link", "canonical_link", unique=True),
    Index("ix_items_published", "published_at"),  # newest first, and --since (migration 0013)
    Index(
        "ix_items_story",
        "story_id",
        sqlite_where=text("story_id IS NOT NULL"),
        postgresql_where=text("story_id IS NOT NULL"),
    ),
)

# Each item's word keys, as the matcher makes them, for full-text search (migration 0013; see
# monitor.match.index). This is the PostgreSQL table: a tsvector of the keys, GIN-indexed. On
# SQLite, ``item_words`` is an FTS5 virtual table made by raw DDL in 0013, which Core cannot
# describe: its rowid is the item id, its one column ``words`` the keys joined by spaces, and a
# trigger deletes an item's row with the item. monitor.store.search writes and reads both.
item_words = Table(
    "item_words",
    metadata,
    Column(
        "item_id",
        Integer,
        ForeignKey("items.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("words", TSVECTOR, nullable=False),
    Index("ix_item_words_words", "words", postgresql_using="gin"),
)

# Every (feed, guid) under which an item was seen: its first feed, a republication under a new
# guid, a syndicated copy in another feed. Outlets word one story differently, so what counts as
# an edit is a change in what one feed says, not a difference between feeds.
sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("content_hash", String(32)),  # the text this feed carried last: an edit changes it
    UniqueConstraint("feed_id", "guid", name="uq_sightings_feed_guid"),
    Index("ix_sightings_item", "item_id"),
)

hits = Table(
    "hits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("watchlist", String(200), nullable=False),
    Column("matches", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),  # in a digest nobody waits for any more
    Column("alerted_at", UTCDateTime),  # in an alert nobody waits for any more (migration 0006)
    # found in the stored history by `monitor backfill` (migration 0012); one not to be sent is
    # made with both marks set, so no digest or alert waits for it
    Column("backfilled", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("item_id", "watchlist", name="uq_hits_item_watchlist"),
    Index("ix_hits_watchlist_delivered", "watchlist", "delivered_at"),
    Index("ix_hits_created", "created_at"),
)

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("watchlist", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("message_id", Text),
    Column("hit_count", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("error", Text),
    # the outbox (migration 0004): the message as sent, byte for byte; None for an empty run
    Column("message", LargeBinary),
    # retries and leases (migration 0005): a waiting digest is not tried again by the periodic
    # retry before ``retry_at``; while ``sending_until`` is ahead, one sender holds it
    Column("retry_at", UTCDateTime),
    Column("sending_until", UTCDateTime),
    # its holder, host:pid:start (migration 0008): taken back at once once that process is dead
    Column("sending_owner", String(200)),
    # digest or alert (migration 0006): both go through the outbox; each kind claims its hits
    Column("kind", String(10), nullable=False, server_default="digest"),
    # for channels (migration 0007): {"title", "body"}, the short text that Apprise sends
    Column("notice", JSON),
    Index("ix_digests_watchlist_created", "watchlist", "created_at"),
)


def _claims(kind: str) -> Table:
    """The hits the messages of one kind cover. The primary key is the hit: no hit is in two
    messages of the kind, so none is told twice, whatever happens between recording a message
    and sending it."""
    return Table(
        f"{kind}_hits",
        metadata,
        Column(
            "hit_id",
            Integer,
            ForeignKey("hits.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        Column("digest_id", Integer, ForeignKey("digests.id", ondelete="CASCADE"), nullable=False),
        Index(f"ix_{kind}_hits_digest", "digest_id"),
    )


digest_hits = _claims("digest")
alert_hits = _claims("alert")  # an alerted hit can still be in a digest

# Each recipient of each digest: pending, sent, failed_temporary (tried again) or refused.
deliveries = Table(
    "deliveries",
    metadata,
    Column("digest_id", Integer, ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient", String(320), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    # how the recipient is reached, "email" or "apprise" (migration 0009)
    Column("channel", String(10), nullable=False, server_default="email"),
    CheckConstraint(
        "state IN ('pending', 'sent', 'failed_temporary', 'refused')", name="ck_deliveries_state"
    ),
)

# Scheduled work, one row per (job, scheduled time) (migration 0011): whoever inserts the row
# does the work, holding it until ``until``; a holder that dies before ``done_at`` leaves it to
# be taken over once that has passed (or at once by a process on its host that sees it dead).
job_claims = Table(
    "job_claims",
    metadata,
    Column("job", String(250), primary_key=True),
    Column("due_at", UTCDateTime, primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
)

# Each `monitor run` on the database (migration 0010): registered at its start, ``last_seen``
# refreshed by its heartbeat, ``stopped_at`` set on a clean stop; what `monitor workers` lists.
workers = Table(
    "workers",
    metadata,
    Column("id", String(200), primary_key=True),  # host:pid:start, the holder its claims name
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("version", String(50), nullable=False),
    Column("stopped_at", UTCDateTime),
)
