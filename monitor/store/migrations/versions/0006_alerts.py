"""Alerts: an outbox message is a digest or an alert; alerts claim their hits in a link of their own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everything recorded before is a digest; no hit was alerted.
    op.add_column("digests", sa.Column("kind", sa.String(10), nullable=False, server_default="digest"))
    op.add_column("hits", sa.Column("alerted_at", UTCDateTime))
    op.create_table(
        "alert_hits",
        sa.Column(
            "hit_id",
            sa.Integer,
            sa.ForeignKey("hits.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_alert_hits_digest", "alert_hits", ["digest_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_hits_digest", "alert_hits")
    op.drop_table("alert_hits")
    op.drop_column("hits", "alerted_at")
    op.drop_column("digests", "kind")
