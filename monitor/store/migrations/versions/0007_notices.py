"""Notices: each digest's and alert's short text for the channels Apprise sends to.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Messages recorded before had only email recipients: they need none.
    op.add_column("digests", sa.Column("notice", sa.JSON))


def downgrade() -> None:
    op.drop_column("digests", "notice")
