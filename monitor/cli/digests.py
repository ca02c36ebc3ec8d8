"""`monitor digest send|status|preview`: the digests sent now, their runs listed, or rendered
without sending."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import options
from monitor.cli.context import Context


@click.group()
def digest() -> None:
    """Send or preview digests now."""


@digest.command("send")
@options.watchlist
@click.pass_obj
def digest_send(context: Context, watchlist: str | None) -> None:
    """Send the digests still waiting for a recipient, then every watchlist's new hits, now."""
    from monitor.cli.render import report
    from monitor.models import utcnow

    with context.app() as app:
        outcomes = app.outbox.send_digests(utcnow(), watchlist)
    if report(outcomes):
        sys.exit(1)


@digest.command("status")
@options.watchlist
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.pass_obj
def digest_status(context: Context, watchlist: str | None, limit: int, as_json: bool) -> None:
    """Recent digest runs, newest first: when, to whom, how many hits, how it went for each
    recipient (pending, sent, failed_temporary, refused) and the server's answer."""
    from monitor.cli.render import json_line, out, run_json, runs_table
    from monitor.models import utcnow

    with context.app() as app:
        if watchlist:
            app.config.watchlist(watchlist)
        runs = app.store.messages.runs(watchlist, limit)
    if as_json:
        for run in runs:
            click.echo(json_line(run_json(run)))
        return
    out.print(runs_table(runs, utcnow()))


@digest.command("preview")
@options.watchlist
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the HTML here (with several watchlists: one file each, the name added).",
)
@click.pass_obj
def digest_preview(context: Context, watchlist: str | None, output: Path | None) -> None:
    """Render pending digests without sending or marking anything."""
    from monitor.cli.render import out, shown
    from monitor.models import utcnow

    with context.app() as app:
        digests = [
            d
            for d in app.outbox.preview(utcnow(), watchlist)
            if d.hit_ids or app.config.watchlist(d.watchlist).send_empty
        ]
    if not digests:
        out.print("nothing pending", highlight=False)
        return
    for rendered in digests:
        if output is None:
            out.print(
                shown(f"Subject: {rendered.subject}\n\n{rendered.text}", lines=True),
                highlight=False,
                markup=False,
            )
            continue
        path = output if len(digests) == 1 else output.with_stem(f"{output.stem}-{rendered.watchlist}")
        path.write_text(rendered.html, encoding="utf-8")
        out.print(f"wrote {path} ({len(rendered.hit_ids)} hits)", highlight=False)
