"""Scheduled work claimed per (job, scheduled time): a digest, the alerts of a moment, the
outbox's retry round. Each worker's scheduler fires the same jobs; the row decides which one
does the work.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(250), primary_key=True),
        sa.Column("due_at", UTCDateTime, primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("job_claims")
