"""The sender holding a waiting message, so a process on its host can take it back at once
when that sender has died.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Messages held before have no holder recorded: their lease decides, as it did.
    op.add_column("digests", sa.Column("sending_owner", sa.String(200)))


def downgrade() -> None:
    op.drop_column("digests", "sending_owner")
