"""Outbox retries and leases: when a waiting digest is tried next, and who is sending it now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both empty for the digests recorded before: waiting ones are due now and held by nobody.
    op.add_column("digests", sa.Column("retry_at", UTCDateTime))
    op.add_column("digests", sa.Column("sending_until", UTCDateTime))


def downgrade() -> None:
    op.drop_column("digests", "sending_until")
    op.drop_column("digests", "retry_at")
