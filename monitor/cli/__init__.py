"""The command line: one click group, a module per command group, each command a few lines,
and ``render`` for what they write. Building the command tree (``--help``, ``--version``, each
Tab of shell completion) imports click and the standard library only; a command imports the
parts it runs when it runs. Errors become one message."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from monitor import __version__, signals
from monitor.cli import database, digests, feeds, hits, matching, run, search, setup, workers
from monitor.cli.context import Context
from monitor.errors import ConfigError, MonitorError
from monitor.log import configure


def _fail(message: str, code: int) -> NoReturn:
    from monitor.cli.render import fail

    fail(message, code)


class _Group(click.Group):
    """Turns every MonitorError into one clear message and an exit code (2 for config errors)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(str(exc), 2)
        except MonitorError as exc:
            _fail(str(exc), 1)


# What --version names beside monitor: the libraries whose behaviour a bug report may turn on.
LIBRARIES = "feedparser httpx SQLAlchemy alembic psycopg pydantic apprise simplemma pymorphy3".split()


def _print_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Read from the installed distributions' metadata: no library is imported to ask it."""
    if not value or ctx.resilient_parsing:
        return
    from importlib import metadata

    click.echo(f"monitor {__version__}\nPython {sys.version.split()[0]} ({sys.implementation.name})")
    for name in LIBRARIES:
        try:
            click.echo(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            click.echo(f"{name} not installed")
    ctx.exit()


@click.group(cls=_Group)
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file. Default: $MONITOR_CONFIG, else config/monitor.toml, else the example config.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log debug events; -vv also the libraries' (HTTP requests and their paths: a webhook's token).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    envvar="MONITOR_LOG_LEVEL",
    help="Log the tool's events of this level and above ($MONITOR_LOG_LEVEL); -v means debug. "
    "Default: the config's [logging] level, else info.",
)
@click.option(
    "--log-format",
    type=click.Choice(["logfmt", "json"]),
    default="logfmt",
    show_default=True,
    envvar="MONITOR_LOG_FORMAT",
    help="Log lines as key=value pairs, or one JSON object a line for log shippers ($MONITOR_LOG_FORMAT).",
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_versions,
    help="Show the versions of monitor, Python and the key libraries, and exit.",
)
@click.pass_context
def main(
    ctx: click.Context, config_path: str | None, verbose: int, log_level: str | None, log_format: str
) -> None:
    """Media monitoring: poll news feeds, match watchlists, email digests."""
    configure(verbose, log_level, log_format)
    if ctx.invoked_subcommand not in ("run", "serve"):  # they stop cleanly on a signal held meanwhile
        signals.release()
    ctx.obj = Context(config_path)


for command in (
    setup.init,
    setup.check_config,
    run.run,
    run.poll,
    run.serve,
    run.health,
    digests.digest,
    hits.hits,
    hits.explain,
    hits.backfill,
    matching.match,
    search.search,
    feeds.feeds,
    workers.workers,
    database.db,
):
    main.add_command(command)
