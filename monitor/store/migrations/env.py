"""Alembic environment: the store hands over a connection already in its transaction, under its
lock (see ``monitor.store.migrate.migrate``), so every revision is applied in that one transaction."""

from alembic import context

from monitor.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():  # a no-op inside the store's transaction
    context.run_migrations()
