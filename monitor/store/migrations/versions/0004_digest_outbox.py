"""The digest outbox: each digest's message as sent, the hits it covers, its delivery per recipient.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs recorded before keep their status and error and have no message: nothing to resend.
    # Their hits were marked delivered or not, and are in no digest: the undelivered ones go
    # into the next one.
    op.add_column("digests", sa.Column("message", sa.LargeBinary))
    op.create_table(
        "digest_hits",
        sa.Column(
            "hit_id",
            sa.Integer,
            sa.ForeignKey("hits.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_digest_hits_digest", "digest_hits", ["digest_id"])
    op.create_table(
        "deliveries",
        sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("recipient", sa.String(320), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed_temporary', 'refused')", name="ck_deliveries_state"
        ),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_index("ix_digest_hits_digest", "digest_hits")
    op.drop_table("digest_hits")
    op.drop_column("digests", "message")  # SQLite 3.35+ drops a column in place
