"""Options that more than one command takes, and the callbacks that parse option values. A
callback imports its parser when it runs, and not at all while the shell completes a line."""

from __future__ import annotations

from datetime import timedelta

import click

watchlist = click.option("--watchlist", "-w", metavar="NAME", help="Only this watchlist.")


def duration(ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    """``90m``, ``24h``, ``7d``, as the config writes durations."""
    if value is None or ctx.resilient_parsing:
        return None
    from monitor.config import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def listen(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``HOST:PORT``, as ``[server] listen`` takes it."""
    if value is None or ctx.resilient_parsing:
        return None
    from monitor.config import split_listen

    try:
        split_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value.strip()


def language(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--language``, as the config's ``language`` takes it: sr_RS, Serbian and srp are sr."""
    if value is None or ctx.resilient_parsing:
        return None
    from monitor.match import language_code

    try:
        return language_code(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
