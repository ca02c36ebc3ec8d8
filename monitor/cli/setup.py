"""`monitor init` and `monitor check-config`: a starter config, then the config checked and
summarised, and with ``--connect`` each thing it reaches tried, sending nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.context import Context

if TYPE_CHECKING:
    from monitor.config import Config


@click.command()
@click.argument("folder", default="config", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Write a starter config, FOLDER/monitor.toml (default: config/), from the example."""
    from monitor.cli.render import fail, out
    from monitor.config import DEFAULT_PATH, PACKAGED_EXAMPLE

    path = folder / "monitor.toml"
    if path.exists():
        fail(f"{path} exists; edit it, or write the starter config to another folder", 1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(PACKAGED_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc}", 1)
    out.print(
        f"wrote {path}: set your recipients, [smtp] and feeds in it, then run `monitor check-config`"
        + ("" if path == DEFAULT_PATH else f" (pass -c {path} or set MONITOR_CONFIG={path})"),
        highlight=False,
        markup=False,
    )


@click.command("check-config")
@click.option(
    "--connect",
    is_flag=True,
    help="Also try the database, the SMTP login and each channel, sending nothing; exit 1 if one fails.",
)
@click.pass_obj
def check_config(context: Context, connect: bool) -> None:
    """Validate the config file and summarise it on one screen."""
    from monitor.cli.render import config_summary
    from monitor.models import utcnow

    config = context.config()
    click.echo(config_summary(config, utcnow()))
    if connect and not _connections(config):
        sys.exit(1)


def _connections(config: Config) -> bool:
    """Try each thing the config reaches, sending nothing, a line each: True if all answered."""
    from monitor.cli.render import shown
    from monitor.errors import MonitorError
    from monitor.log import hide_passwords
    from monitor.outbox.apprise import notify_channels

    checks: list[tuple[str, Callable[[], str]]] = [
        (f"database {hide_passwords(config.storage.url)}", lambda: _schema_revision(config.storage.url)),
        (f"smtp {config.smtp.host}:{config.smtp.port} ({config.smtp.security})", lambda: _smtp_login(config)),
    ]
    channels = {
        channel.name: channel for watchlist in config.watchlists for channel in notify_channels(watchlist)
    }
    checks += [
        (
            f"channel {name}",
            lambda: (
                "Apprise reads the URL; not tried, since Apprise cannot try a channel without "
                "sending it a message (`monitor digest send` does, or `apprise -vv -b test URL`)"
            ),
        )
        for name in channels
    ]
    ok = True
    for what, check in checks:
        try:
            said = check()
        except MonitorError as exc:
            click.echo(shown(f"FAILED  {what}: {hide_passwords(str(exc))}"))
            ok = False
        else:
            click.echo(shown(f"ok      {what}: {said}"))
    return ok


def _schema_revision(url: str) -> str:
    """Connect and read the schema's migration revision, changing nothing (no file is made)."""
    from monitor.store.migrate import schema_revisions

    revisions = schema_revisions(url)
    if revisions is None:
        return "no database file yet; the first command that polls creates it"
    revision, newest = revisions
    if revision is None:
        return "connected; no schema yet, the first start creates it"
    if revision == newest:
        return f"connected; schema at revision {revision}, the newest"
    return f"connected; schema at revision {revision}, the next start upgrades it to {newest}"


def _smtp_login(config: Config) -> str:
    from monitor.outbox.smtp import check_login

    check_login(config.smtp)
    if config.smtp.username:
        return f"logged in as {config.smtp.username}, then quit"
    return "the server greeted us, then quit (no username, so no login)"
