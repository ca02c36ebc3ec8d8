"""Stories across outlets: an item that tells a story another item told first names that item
(items.story_id); the first report, and every item stored before, has none (its own id).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("story_id", sa.Integer))
    # only the reports that joined a story are indexed: a story's items are found by its id
    where = sa.text("story_id IS NOT NULL")
    op.create_index("ix_items_story", "items", ["story_id"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_items_story", "items")
    op.drop_column("items", "story_id")  # SQLite 3.35+ drops a column in place
