"""`monitor search`: stored items that a query matches, newest first, with what it found."""

from __future__ import annotations

from datetime import timedelta

import click

from monitor.cli import options
from monitor.cli.context import Context


@click.command()
@click.argument("query")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    callback=options.duration,
    help="How far back, by publication time: 90m, 24h, 30d.",
)
@click.option("--feed", metavar="NAME", help="Only items first stored from this feed.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def search(
    context: Context, query: str, since: timedelta, feed: str | None, limit: int, as_json: bool
) -> None:
    """Stored items that QUERY matches (the watchlists' query language), newest first; a QUERY
    that starts with "-" goes after "--"."""
    from monitor.cli.render import found_json, found_table, json_line, out
    from monitor.match import QueryError, parse_query
    from monitor.match.cache import cache_directory, compile_matcher
    from monitor.models import utcnow

    try:
        parse_query(query)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from None
    with context.app() as app:
        languages = {f.name: f.language for f in app.config.feeds}
        if feed is not None and feed not in languages:
            raise click.BadParameter(f"no feed named {feed!r} in the config", param_hint="--feed")
        matcher = compile_matcher({"search": [query]}, cache_directory())
        found = app.store.search.find(query, matcher, languages, utcnow() - since, feed, limit)
    if as_json:
        for item, spans in found:
            click.echo(json_line(found_json(item, spans)))
        return
    out.print(found_table(found, utcnow()))
