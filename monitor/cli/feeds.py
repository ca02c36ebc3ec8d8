"""`monitor feeds`, each feed's health; `monitor feeds add`, a feed found and written into the
config file; `monitor feeds remove`, one taken out of it; `import` and `export`, OPML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli import options
from monitor.cli.context import Context

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.polling.poller import LocatedFeed


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Each feed's health, worst first: status, last success, last error, failures in a row,
    items per day, next poll. `monitor feeds add URL` adds a feed, `monitor feeds remove NAME`
    removes one; `monitor feeds import FILE.opml` and `export` speak OPML."""
    if ctx.invoked_subcommand is None:
        _health(ctx.obj, as_json)


def _health(context: Context, as_json: bool) -> None:
    from monitor.cli.render import health_table, json_line, out, status_json
    from monitor.models import utcnow

    with context.app() as app:
        configured = {feed.name: feed.url for feed in app.config.feeds}
        statuses = [s for s in app.store.feeds.statuses(utcnow()) if s.name in configured]
    if as_json:
        for status in statuses:
            click.echo(json_line(status_json(status)))
        return
    out.print(health_table(statuses, configured))


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="The feed's name (default: from its title).")
@click.option(
    "--language",
    callback=options.language,
    help="Language hint, e.g. sr, ru, en (default: what the feed declares, if the matcher reads it).",
)
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--dry-run", is_flag=True, help="Find the feed and print its table; change nothing.")
@click.pass_obj
def feeds_add(
    context: Context, url: str, name: str | None, language: str | None, tags: tuple[str, ...], dry_run: bool
) -> None:
    """Add the feed at URL to the config file; a site's home page works too (autodiscovery)."""
    from monitor import loop
    from monitor.cli.render import err
    from monitor.config import append_feed, feed_name
    from monitor.match import known_language

    config = context.config()
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{url!r} is not an http(s) URL; write it as https://example.org/", param_hint="URL"
        )
    located = loop.run(_locate(config, url))
    feed = located.feed
    if located.url != url:
        err.print(f"found the feed {located.url} announced by {url}", highlight=False)
    chosen = name or feed_name(feed.title, located.url, {known.name for known in config.feeds})
    language = language or (known_language(feed.language) if feed.language else None)
    summary = f"{chosen}: {len(feed.items)} items, language {language or 'not declared'}"
    if dry_run:
        click.echo(summary)
        return
    table = append_feed(config, located.url, chosen, language, tags)
    click.echo(f"added to {config.path}:\n\n{table}\n{summary}")


@feeds.command("remove")
@click.argument("feed")
@click.pass_obj
def feeds_remove(context: Context, feed: str) -> None:
    """Remove FEED (its name, or its URL) from the config file, keeping the rest as written.
    Its items and hits stay in the database; the feed is no longer polled."""
    from monitor.config import remove_feed

    config = context.config()
    removed = remove_feed(config, feed)
    click.echo(f"removed {removed.name!r} ({removed.url}) from {config.path}")


@feeds.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the tables that would be added; change nothing.")
@click.pass_obj
def feeds_import(context: Context, file: Path, dry_run: bool) -> None:
    """Add the feeds an OPML file lists (a feed reader's export) to the config file: folders
    become tags, titles names; feeds polled already are left out."""
    from monitor.config import import_feeds
    from monitor.errors import ConfigError
    from monitor.feeds.opml import read_opml
    from monitor.match import known_language

    config = context.config()
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it: {exc.strerror or exc}") from None
    listed = [
        (found.url, found.title, found.folders, known_language(found.language) if found.language else None)
        for found in read_opml(body, str(file))
    ]
    imported = import_feeds(config, listed, dry_run=dry_run)
    verb = "would add" if dry_run else "added"
    click.echo(f"{verb} {len(imported.tables)} feeds to {config.path}" + (":\n" if imported.tables else ""))
    click.echo("\n".join(imported.tables), nl=False)
    for url, why in imported.skipped:
        click.echo(f"left out {url}: {why}")


@feeds.command("export")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE, not stdout.")
@click.pass_obj
def feeds_export(context: Context, output: Path | None) -> None:
    """The config's feeds as OPML 2.0, for a feed reader: tags become folders."""
    from monitor.feeds.opml import Subscription, write_opml
    from monitor.models import utcnow

    config = context.config()
    listed = [Subscription(feed.url, feed.name, tuple(feed.tags), feed.language) for feed in config.feeds]
    document = write_opml(listed, f"monitor: {config.path.name}", utcnow())
    if output is None:
        click.echo(document.decode(), nl=False)
    else:
        output.write_bytes(document)
        click.echo(f"wrote {len(listed)} feeds to {output}")


async def _locate(config: Config, url: str) -> LocatedFeed:
    from monitor.http.fetch import Fetcher, Limits
    from monitor.polling.poller import locate_feed

    async with Fetcher(Limits.from_config(config.polling)) as fetcher:
        return await locate_feed(fetcher, url)
