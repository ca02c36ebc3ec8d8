"""`monitor db current|upgrade`: the schema's revision, and its migration done on purpose (say,
before a deployment's workers start) rather than by whichever process opens the store first;
`monitor db prune`: the retention the daemon applies daily, now."""

from __future__ import annotations

import sys

import click

from monitor.cli.context import Context


@click.group("db")
def db() -> None:
    """The database: its schema's revision, upgrading it, pruning old items."""


@db.command("current")
@click.pass_obj
def current(context: Context) -> None:
    """Say the schema's revision and this monitor's newest; exit 1 unless they are the same."""
    from monitor.log import hide_passwords
    from monitor.store.migrate import newest_revision, schema_revisions

    url = context.config().storage.url
    revisions = schema_revisions(url)
    revision, newest = revisions if revisions is not None else (None, newest_revision())
    where = hide_passwords(url)
    if revision == newest:
        click.echo(f"{where}: schema at revision {revision}, the newest")
        return
    if revision is None:
        click.echo(f"{where}: no schema yet; `monitor db upgrade` makes it (revision {newest})")
    else:
        click.echo(f"{where}: schema at revision {revision}; `monitor db upgrade` takes it to {newest}")
    sys.exit(1)


@db.command("upgrade")
@click.pass_obj
def upgrade(context: Context) -> None:
    """Create the schema or upgrade it to this monitor's newest revision, under the lock every
    process takes to migrate, so workers starting meanwhile wait and find it done."""
    from monitor.log import hide_passwords
    from monitor.store import Store
    from monitor.store.migrate import newest_revision, schema_revisions

    url = context.config().storage.url
    before = schema_revisions(url)
    Store(url).close()  # migrates to the newest revision, or raises
    was, newest = (before[0] if before is not None else None), newest_revision()
    where = hide_passwords(url)
    if was == newest:
        click.echo(f"{where}: schema already at revision {was}, the newest")
    else:
        click.echo(f"{where}: schema upgraded from {'nothing' if was is None else was} to revision {newest}")


@db.command("prune")
@click.option("--dry-run", is_flag=True, help="Count the items that would go; delete nothing.")
@click.pass_obj
def prune(context: Context, dry_run: bool) -> None:
    """Delete the items first seen longer ago than [storage] keep_items that no watchlist hit
    (the daemon does it daily); items with hits, and their hits, are kept."""
    from monitor.errors import ConfigError
    from monitor.models import utcnow

    with context.app() as app:
        keep = app.config.storage.keep_items
        if keep is None:
            raise ConfigError(
                f"{app.config.path}: [storage] keep_items is not set, so every item is kept; "
                'set it (say, keep_items = "365d") to prune'
            )
        before = utcnow() - keep
        removed = app.store.items.prune(before, dry_run=dry_run)
    when = before.strftime("%Y-%m-%d %H:%M")
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {removed} items first seen before {when} UTC without hits")
