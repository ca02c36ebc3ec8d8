"""`monitor hits`, the recent hits (a table, JSON lines or CSV); `monitor explain`, why one of
them matched; `monitor backfill`, a watchlist's hits in the stored history."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import TextIO

import click

from monitor.cli import options
from monitor.cli.context import Context


@click.command()
@options.watchlist
@click.option(
    "--since",
    default="24h",
    show_default=True,
    callback=options.duration,
    help="How far back: 90m, 24h, 7d.",
)
@click.option(
    "--format",
    "shape",
    type=click.Choice(["table", "json", "csv"]),
    help="table (the default), json (one object per line) or csv (a header, then a row per hit).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: --format json.")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.File("w", encoding="utf-8", lazy=True),
    help="Write json or csv to FILE (UTF-8), not to stdout.",
)
@click.pass_obj
def hits(
    context: Context,
    watchlist: str | None,
    since: timedelta,
    shape: str | None,
    as_json: bool,
    output: TextIO | None,
) -> None:
    """Recent hits, newest first, each with the id that `monitor explain` takes; as JSON lines
    or CSV for a spreadsheet."""
    from monitor.cli.render import hit_json, hits_csv, hits_table, json_line, out
    from monitor.models import utcnow

    if as_json and shape not in (None, "json"):
        raise click.UsageError(f"--json is --format json; give one of --json and --format {shape}")
    shape = "json" if as_json else shape or "table"
    if output and shape == "table":
        raise click.UsageError("--output writes json or csv; add --format csv or --format json")
    with context.app() as app:
        if watchlist:
            app.config.watchlist(watchlist)
        found = app.store.hits.find(watchlist=watchlist, since=utcnow() - since)
    if shape == "table":
        out.print(hits_table(found, utcnow()))
        return
    stream = output or sys.stdout
    if shape == "csv":
        hits_csv(found, stream)
    else:
        stream.writelines(json_line(hit_json(hit)) + "\n" for hit in found)


@click.command()
@click.argument("hit_id", type=int)
@click.pass_obj
def explain(context: Context, hit_id: int) -> None:
    """Why a stored hit matched, term by term (HIT_ID: the id `monitor hits` shows)."""
    from monitor.cli.render import explained, shown
    from monitor.match.cache import cache_directory, compile_matcher

    with context.app() as app:
        found = app.store.hits.find(hit_id=hit_id)
        if not found:
            raise click.BadParameter(f"no hit with id {hit_id}; list them with `monitor hits`")
        [hit] = found
        language = {f.name: f.language for f in app.config.feeds}.get(hit.item.feed)
        queries = {w.name: w.queries for w in app.config.watchlists if w.name == hit.watchlist}
        matcher = compile_matcher(queries, cache_directory())
        explanations = matcher.explain(
            hit.item.title, hit.item.summary, language, [hit.watchlist], hit.item.body
        )
    click.echo(shown(f"hit {hit.id}: {hit.watchlist} ← {hit.item.feed}: {hit.item.title}"))
    click.echo(shown(hit.item.link))
    click.echo(shown("stored matches: " + "; ".join(m.query for m in hit.matches)))
    click.echo(explained(explanations) or "the watchlist is no longer in the config")


@click.command()
@click.option("--watchlist", "-w", "name", metavar="NAME", required=True, help="The watchlist to match.")
@click.option(
    "--since",
    callback=options.duration,
    help="Only items published this recently: 30d, 12h. Default: all stored items.",
)
@click.option(
    "--deliver",
    is_flag=True,
    help="Send the hits found with the next digest (and alert); without it, no message sends them.",
)
@click.pass_obj
def backfill(context: Context, name: str, since: timedelta | None, deliver: bool) -> None:
    """Match a watchlist, as configured now, against the stored items, and record the hits it
    does not have yet, marked backfilled: after adding a watchlist or changing its queries."""
    from monitor.history import backfill as run_backfill
    from monitor.models import utcnow

    began = time.monotonic()
    with context.app() as app:
        watchlist = app.config.watchlist(name)
        now = utcnow()
        found = run_backfill(
            app.store,
            app.matcher,
            app.config,
            watchlist,
            None if since is None else now - since,
            now,
            deliver=deliver,
        )
    sent = "to go out with the next digest or alert" if deliver else "not to be sent (--deliver sends them)"
    hits = "1 new hit" if found.hits == 1 else f"{found.hits} new hits"
    click.echo(
        f"{name}: {hits} among {found.items} candidate items of the stored history, "
        f"in {time.monotonic() - began:.1f} s; {sent}"
    )
