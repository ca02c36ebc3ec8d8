"""Full text: an item of a feed read in full text keeps its article's text (items.body), which
is matched, searched and pruned with it, and its page's validators (page_etag,
page_modified), to ask the page again conditionally when the feed edits the item; NULL for
every other item.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("body", "page_etag", "page_modified"):
        op.add_column("items", sa.Column(column, sa.Text))


def downgrade() -> None:
    for column in ("body", "page_etag", "page_modified"):
        op.drop_column("items", column)  # SQLite 3.35+ drops a column in place
