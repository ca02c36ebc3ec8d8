"""One item per story across feeds: canonical links, and sightings with the text each feed carried.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from monitor.feeds.links import canonical_link
from monitor.models import content_hash
from monitor.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("canonical_link", sa.Text))
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("guid", sa.Text, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("content_hash", sa.String(32)),
        sa.UniqueConstraint("feed_id", "guid", name="uq_sightings_feed_guid"),
    )
    op.create_index("ix_sightings_item", "sightings", ["item_id"])
    connection = op.get_bind()
    # Canonical links as of this version; a story stored twice before keeps its older copy's
    # link as the canonical one, and the newer copy none: nothing is deleted.
    taken: set[str] = set()
    rows = connection.execute(
        sa.text("SELECT id, feed_id, guid, first_seen_at, link, title, summary FROM items ORDER BY id")
    ).all()
    for item_id, feed_id, guid, first_seen_at, link, title, summary in rows:
        canonical = canonical_link(link)
        if canonical in taken:
            canonical = None
        elif canonical:
            taken.add(canonical)
        connection.execute(
            sa.text("UPDATE items SET canonical_link = :canonical WHERE id = :id"),
            {"canonical": canonical, "id": item_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO sightings (item_id, feed_id, guid, first_seen_at, content_hash) "
                "VALUES (:item, :feed, :guid, :seen, :content)"
            ),
            {
                "item": item_id,
                "feed": feed_id,
                "guid": guid,
                "seen": first_seen_at,
                "content": content_hash(title, summary),
            },
        )
    op.create_index("uq_items_canonical_link", "items", ["canonical_link"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_items_canonical_link", "items")
    op.drop_index("ix_sightings_item", "sightings")
    op.drop_table("sightings")
    op.drop_column("items", "canonical_link")  # SQLite 3.35+ drops a column in place
