"""Polling state on feeds: schedule, lease, health, permanent moves, body and entry hashes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch table copy: on SQLite the copy drops the old feeds table,
    # and with foreign keys on, that would cascade to every stored item.
    for column in (
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("fetch_url", sa.Text),
        sa.Column("moved_to", sa.Text),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("entry_hashes", sa.Text),
        sa.Column("last_error_kind", sa.String(30)),
        sa.Column("failing_since", UTCDateTime),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gone_at", UTCDateTime),
        sa.Column("warning", sa.Text),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_until", UTCDateTime),
    ):
        op.add_column("feeds", column)
    op.create_index("ix_feeds_due", "feeds", ["next_poll_at"])
    # A feed whose last poll failed is failing from then on, once, until it succeeds.
    op.execute(
        "UPDATE feeds SET failures = 1, failing_since = last_error_at, last_error_kind = 'error' "
        "WHERE last_error IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_feeds_due", "feeds")
    for column in (
        "lease_until",
        "lease_owner",
        "next_poll_at",
        "warning",
        "gone_at",
        "failures",
        "failing_since",
        "last_error_kind",
        "body_hash",
        "moved_to",
        "fetch_url",
        "enabled",
    ):
        op.drop_column("feeds", column)  # SQLite 3.35+ drops a column in place
