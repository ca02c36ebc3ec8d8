"""Full-text search over stored items: each item's word keys, as the matcher makes them, in an
FTS5 table (SQLite) or a GIN-indexed tsvector (PostgreSQL); items already stored are indexed
here, in batches. Also an index on items.published_at, for newest first.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from monitor.match.document import Document
from monitor.match.index import index_keys
from monitor.store.search import write_words

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.create_index("ix_items_published", "items", ["published_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "item_words",
            sa.Column(
                "item_id",
                sa.Integer,
                sa.ForeignKey("items.id", ondelete="CASCADE"),
                primary_key=True,
                autoincrement=False,
            ),
            sa.Column("words", postgresql.TSVECTOR, nullable=False),
        )
        op.create_index("ix_item_words_words", "item_words", ["words"], postgresql_using="gin")
    else:
        # Keys are runs of word characters, already folded: the ascii tokenizer (with "_", which
        # \w has) keeps each whole. detail=none: no positions, as the matcher checks phrases.
        op.execute(
            "CREATE VIRTUAL TABLE item_words USING fts5("
            "words, detail=none, tokenize=\"ascii tokenchars '_'\")"
        )
        op.execute(
            "CREATE TRIGGER item_words_delete AFTER DELETE ON items "
            "BEGIN DELETE FROM item_words WHERE rowid = old.id; END"
        )
    connection = op.get_bind()
    last = 0
    while rows := connection.execute(
        sa.text("SELECT id, title, summary FROM items WHERE id > :last ORDER BY id LIMIT :batch"),
        {"last": last, "batch": BATCH},
    ).all():
        write_words(
            connection, [(row.id, index_keys(Document(row.title, row.summary, None))) for row in rows]
        )
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER item_words_delete")
    op.drop_table("item_words")
    op.drop_index("ix_items_published", "items")
