"""Hits found in the stored history by `monitor backfill`, not by a poll, say so.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every hit made before was found by a poll.
    op.add_column("hits", sa.Column("backfilled", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("hits", "backfilled")  # SQLite 3.35+ drops a column in place
