"""Each recipient's channel, email or Apprise, stored with its delivery rather than told from
its name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Recipients recorded before were told apart by their name, once more here: an Apprise
    # channel's has "://" in it, an email address cannot.
    op.add_column("deliveries", sa.Column("channel", sa.String(10), nullable=False, server_default="email"))
    op.execute("UPDATE deliveries SET channel = 'apprise' WHERE recipient LIKE '%://%'")


def downgrade() -> None:
    op.drop_column("deliveries", "channel")
