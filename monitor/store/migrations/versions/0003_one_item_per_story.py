"""One item per story across feeds: canonical links, content hashes, sightings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from monitor.links import canonical_link
from monitor.models import content_hash
from monitor.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("canonical_link", sa.Text))
    op.add_column("items", sa.Column("content_hash", sa.String(32)))
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("guid", sa.Text, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("feed_id", "guid", name="uq_sightings_feed_guid"),
    )
    op.create_index("ix_sightings_item", "sightings", ["item_id"])
    connection = op.get_bind()
    op.execute(
        "INSERT INTO sightings (item_id, feed_id, guid, first_seen_at) "
        "SELECT id, feed_id, guid, first_seen_at FROM items"
    )
    # Canonical links as of this version; a story stored twice before keeps its older copy's
    # link as the canonical one, and the newer copy none: nothing is deleted.
    taken: set[str] = set()
    rows = connection.execute(sa.text("SELECT id, link, title, summary FROM items ORDER BY id")).all()
    for item_id, link, title, summary in rows:
        canonical = canonical_link(link)
        if canonical in taken:
            canonical = None
        elif canonical:
            taken.add(canonical)
        content = content_hash(title, summary)
        connection.execute(
            sa.text("UPDATE items SET canonical_link = :canonical, content_hash = :content WHERE id = :id"),
            {"canonical": canonical, "content": content, "id": item_id},
        )
    op.create_index("uq_items_canonical_link", "items", ["canonical_link"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_items_canonical_link", "items")
    op.drop_index("ix_sightings_item", "sightings")
    op.drop_table("sightings")
    op.drop_column("items", "content_hash")  # SQLite 3.35+ drops a column in place
    op.drop_column("items", "canonical_link")
