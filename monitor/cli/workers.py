"""`monitor workers`: the `monitor run` processes on the database, live and gone."""

from __future__ import annotations

import click

from monitor.cli.context import Context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def workers(context: Context, as_json: bool) -> None:
    """The workers (`monitor run` processes) on the database, live ones first: host, pid,
    started, last seen, version, and state (live, stopped, or gone: no beat for 30 s)."""
    from monitor.cli.render import json_line, out, worker_json, workers_table
    from monitor.models import utcnow

    now = utcnow()
    with context.app() as app:
        found = app.store.workers.known(now)
    if as_json:
        for worker in found:
            click.echo(json_line(worker_json(worker)))
        return
    out.print(workers_table(found, now))
