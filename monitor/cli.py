"""The command line: each command a few lines calling the pipeline. Errors become one message."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from monitor import __version__, loop, signals
from monitor import config as config_module
from monitor.app import App
from monitor.config import Config
from monitor.errors import ConfigError, MonitorError
from monitor.http.fetch import Fetcher
from monitor.log import configure, escapes, event, hide_passwords
from monitor.match import Explanation, known_language, language_code, release
from monitor.match.cache import cache_directory, compile_matcher
from monitor.models import DigestRun, Hit, Span, utcnow
from monitor.outbox.dispatcher import MessageOutcome
from monitor.outbox.smtp import check_login
from monitor.polling.poller import FeedOutcome, LocatedFeed, locate_feed
from monitor.schedule import parse_duration
from monitor.store.migrate import schema_revisions

log = logging.getLogger("monitor")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


PARALLEL_FROM = 20  # feeds; fewer are parsed in a thread, sparing the start of worker processes


@dataclass
class Context:
    option: str | None

    def config(self) -> Config:
        return config_module.load(config_module.resolve_path(self.option))

    @contextmanager
    def monitor(self, parallel: bool = False) -> Iterator[App]:
        """The config's monitor; ``parallel`` parses in a process per core when there are
        enough feeds to repay starting them."""
        config = self.config()
        workers = (os.cpu_count() or 1) if parallel and len(config.feeds) >= PARALLEL_FROM else 0
        app = App(config, workers)
        try:
            yield app
        finally:
            app.close()


# C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates (which can make a
# line read in another order than it is stored); the marks languages need (LRM, RLM, ALM,
# ZWJ, ZWNJ) are kept
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
_VISIBLE = str.maketrans(escapes(_UNSAFE))
_VISIBLE_LINES = _VISIBLE | {ord("\n"): "\n", ord("\t"): "\t"}


def shown(text: str, lines: bool = False) -> str:
    """Stored or received ``text`` made safe to write to a terminal: each control character
    and bidi override written out as its escape (``\\x1b``, ``\\u202e``), so that what a feed
    or a server put there is seen, not obeyed; newlines and tabs kept when ``lines``. Printed
    through rich, it goes in a ``Text`` (see ``_cell``) so that "[bold red]" stays text."""
    return text.translate(_VISIBLE_LINES if lines else _VISIBLE)


def _cell(text: str) -> Text:
    """``text`` for a rich table or line: safe (``shown``), and never read as markup."""
    return Text(shown(text))


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(shown(message, lines=True))}", markup=True, highlight=False)
    sys.exit(code)


class _Group(click.Group):
    """Turns every MonitorError into one clear message and an exit code (2 for config errors)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(str(exc), 2)
        except MonitorError as exc:
            _fail(str(exc), 1)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--language``, as the config's ``language`` takes it: sr_RS, Serbian and srp are sr."""
    if value is None:
        return None
    try:
        return language_code(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# What --version names beside monitor: the libraries whose behaviour a bug report may turn on.
LIBRARIES = "feedparser httpx SQLAlchemy alembic psycopg pydantic apprise simplemma pymorphy3".split()


def _print_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Read from the installed distributions' metadata: no library is imported to ask it."""
    if not value or ctx.resilient_parsing:
        return
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
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_versions,
    help="Show the versions of monitor, Python and the key libraries, and exit.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Media monitoring: poll news feeds, match watchlists, email digests."""
    configure(logging.DEBUG if verbose else logging.INFO, logging.DEBUG if verbose > 1 else logging.WARNING)
    if ctx.invoked_subcommand != "run":  # only the daemon stops cleanly on a signal held meanwhile
        signals.release()
    ctx.obj = Context(config_path)


@main.command()
@click.argument("folder", default="config", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Write a starter config, FOLDER/monitor.toml (default: config/), from the example."""
    path = folder / "monitor.toml"
    if path.exists():
        _fail(f"{path} exists; edit it, or write the starter config to another folder", 1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(config_module.PACKAGED_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc}", 1)
    out.print(
        f"wrote {path}: set your recipients, [smtp] and feeds in it, then run `monitor check-config`"
        + ("" if path == config_module.DEFAULT_PATH else f" (pass -c {path} or set MONITOR_CONFIG={path})"),
        highlight=False,
        markup=False,
    )


@main.command("check-config")
@click.option(
    "--connect",
    is_flag=True,
    help="Also try the database, the SMTP login and each channel, sending nothing; exit 1 if one fails.",
)
@click.pass_obj
def check_config(context: Context, connect: bool) -> None:
    """Validate the config file and summarise it on one screen."""
    config = context.config()
    now = utcnow()
    lines = [
        f"ok: {config.path}",
        f"storage: {hide_passwords(config.storage.url)}",
        f"smtp: {config.smtp.host}:{config.smtp.port} ({config.smtp.security}), from {config.smtp.sender}",
        f"{len(config.feeds)} feeds:",
    ]
    polling = config.polling
    lines.insert(
        -1,
        f"polling: every {_human(polling.min_interval)} to {_human(polling.max_interval)} as feeds publish, "
        f"{polling.concurrency} at a time, {polling.per_host} per host",
    )
    width = max(len(feed.name) for feed in config.feeds)
    for feed in config.feeds:
        tags = f" [{', '.join(feed.tags)}]" if feed.tags else ""
        every = f"every {_human(feed.interval)}" if feed.interval else "adaptive"
        disabled = " (disabled)" if not feed.enabled else ""
        url = hide_passwords(feed.url)
        lines.append(f"  {feed.name:<{width}}  {feed.language or '--':<2}  {every:<10} {url}{tags}{disabled}")
    lines.append(f"{len(config.watchlists)} watchlists:")
    for watchlist in config.watchlists:
        schedule = watchlist.digest
        lines += [
            f"  {watchlist.name}: {len(watchlist.queries)} queries, feeds: "
            f"{', '.join(watchlist.feeds) if watchlist.feeds else 'all'}; "
            f"to {', '.join(watchlist.recipients)}",
            '    no digest (digest = "none")'
            if schedule is None
            else f"    digest {schedule.text} {watchlist.timezone}; "
            f"next {schedule.next_after(now, watchlist.timezone).strftime('%a %Y-%m-%d %H:%M %Z')}",
        ]
        if watchlist.alert == "immediate":
            lines.append("    alerts: after each poll that finds hits")
        lines += [f"    notify: {channel.name}" for channel in watchlist.channels()]
    click.echo("\n".join(lines))
    if connect and not _connections(config):
        sys.exit(1)


def _connections(config: Config) -> bool:
    """Try each thing the config reaches, sending nothing, a line each: True if all answered."""
    checks: list[tuple[str, Callable[[], str]]] = [
        (f"database {hide_passwords(config.storage.url)}", lambda: _schema_revision(config.storage.url)),
        (f"smtp {config.smtp.host}:{config.smtp.port} ({config.smtp.security})", lambda: _smtp_login(config)),
    ]
    channels = {channel.name: channel for watchlist in config.watchlists for channel in watchlist.channels()}
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
    check_login(config.smtp)
    if config.smtp.username:
        return f"logged in as {config.smtp.username}, then quit"
    return "the server greeted us, then quit (no username, so no login)"


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@main.command()
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_HEARTBEAT",
    help="File the daemon rewrites every minute, for `monitor health` (env MONITOR_HEARTBEAT).",
)
@click.pass_obj
def run(context: Context, heartbeat: Path | None) -> None:
    """Run the daemon: poll each feed when it is due, send digests on their schedules."""
    from monitor.daemon import Daemon

    event(log, "daemon.starting", pid=os.getpid())  # SIGTERM from now on is a clean stop
    with context.monitor(parallel=True) as monitor:
        assert monitor.matcher  # compiled before the first poll, so that polls do not wait for it
        release()  # the daemon needs no dictionaries until a restart
        loop.run(Daemon(monitor, heartbeat).run())


@main.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every configured feed.")
@click.argument("names", nargs=-1)
@click.pass_obj
def poll(context: Context, all_feeds: bool, names: tuple[str, ...]) -> None:
    """Poll feeds once now (all, or those NAMES), store and match, then exit."""
    if not all_feeds and not names:
        raise click.UsageError("name the feeds to poll, or pass --all")
    with context.monitor(parallel=all_feeds) as monitor:
        known = {feed.name: feed for feed in monitor.config.feeds}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.BadParameter(
                f"no feed named {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
            )
        feeds = list(known.values()) if all_feeds else [known[name] for name in names]
        monitor.poller.sync_feeds()
        summary = loop.run(_poll_with_progress(monitor, feeds))
        alerts = monitor.outbox.send_alerts(utcnow()) if summary.new_hits else []
    for outcome in summary.outcomes:
        if outcome.error:
            err.print(
                f"[yellow]failed[/] {escape(shown(f'{outcome.feed}: {outcome.error}'))}", highlight=False
            )
    out.print(summary.line(), highlight=False)
    alert_failed = _report(alerts)
    if (summary.failed and not summary.ok) or alert_failed:
        sys.exit(1)


async def _poll_with_progress(monitor: App, feeds: list[Any]) -> Any:
    progress = Progress(
        TextColumn("polling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task("", total=len(feeds))

        def done(outcome: FeedOutcome) -> None:
            progress.update(task, advance=1, description=outcome.feed)

        async with Fetcher(monitor.config.polling.limits()) as fetcher:
            return await monitor.poller.poll(feeds, fetcher, on_done=done)


@main.group()
def digest() -> None:
    """Send or preview digests now."""


@digest.command("send")
@click.option("--watchlist", "-w", metavar="NAME", help="Only this watchlist.")
@click.pass_obj
def digest_send(context: Context, watchlist: str | None) -> None:
    """Send the digests still waiting for a recipient, then every watchlist's new hits, now."""
    with context.monitor() as monitor:
        outcomes = monitor.outbox.send_digests(utcnow(), watchlist)
    if _report(outcomes):
        sys.exit(1)


def _report(outcomes: Iterable[MessageOutcome]) -> bool:
    """A line per digest or alert a run sent or tried; True if any did not reach everyone."""
    failed = False
    for outcome in outcomes:
        error = escape(shown(outcome.error or ""))  # a server's answer: text, not markup
        name = outcome.watchlist if outcome.kind == "digest" else f"the alert of {outcome.watchlist}"
        if outcome.recorded:
            what = "digest" if outcome.kind == "digest" else "alert"
            name += f" (the {what} of {outcome.recorded.strftime('%Y-%m-%d %H:%M')} UTC, again)"
        if outcome.state == "empty":
            out.print(f"nothing new for {name}", highlight=False)
        elif outcome.state == "sent":
            out.print(f"sent {name}: {outcome.hits} hits", highlight=False)
        elif outcome.state == "busy":
            why = error or "another run is sending it now"
            err.print(f"[yellow]busy[/] {name}: {why}", highlight=False)
        elif outcome.state == "partial":
            err.print(f"[yellow]sent[/] {name}: {outcome.hits} hits, but {error}", highlight=False)
        elif outcome.state == "pending":
            err.print(
                f"[red]pending[/] {name}: {outcome.hits} hits; {error}; the next run tries again",
                highlight=False,
            )
        else:
            err.print(f"[red]not sent[/] {name}: {error}", highlight=False)
        failed = failed or outcome.error is not None
    return failed


@digest.command("status")
@click.option("--watchlist", "-w", metavar="NAME", help="Only this watchlist.")
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.pass_obj
def digest_status(context: Context, watchlist: str | None, limit: int, as_json: bool) -> None:
    """Recent digest runs, newest first: when, to whom, how many hits, how it went for each
    recipient (pending, sent, failed_temporary, refused) and the server's answer."""
    with context.monitor() as monitor:
        if watchlist:
            monitor.config.watchlist(watchlist)
        runs = monitor.store.messages.runs(watchlist, limit)
    if as_json:
        for run in runs:
            deliveries = [
                asdict(delivery) | {"sent": delivery.sent and _iso(delivery.sent)}
                for delivery in run.deliveries
            ]
            record = asdict(run) | {"created": _iso(run.created), "deliveries": deliveries}
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    out.print(_runs_table(runs, utcnow()))


def _runs_table(runs: Sequence[DigestRun], now: datetime) -> Table:
    """A row per run (its time and watchlist), then one per recipient's delivery, indented
    under it. Nothing is cut at 80 columns: the recipients share the first column with the runs
    rather than leave two columns empty on their rows, a name or an answer too long for its
    column folds onto the next line, a time is one short line (``12-01 20:42``, the year only
    when it is not this one), and the error column is left out when no row has an error."""
    rows: list[tuple[RenderableType, ...]] = []
    for run in runs:
        name = run.watchlist if run.kind == "digest" else f"{run.watchlist} (alert)"
        run_error = "" if run.deliveries else run.error or ""
        rows.append((f"{_day_minute(run.created, now)}  {name}", str(run.hits), run.status, "", run_error))
        if not run.deliveries and run.recipients:  # an empty run, or one from before the outbox
            rows.append((_under(", ".join(run.recipients)), "", "", "", ""))
        rows += [
            (_under(delivery.recipient), "", delivery.state, str(delivery.attempts), delivery.error or "")
            for delivery in run.deliveries
        ]
    errors = any(row[-1] for row in rows)
    table = Table(title=f"{len(runs)} runs (times UTC)")
    table.add_column("run, recipient", overflow="fold")
    for header in ("hits", "state", "tries"):
        table.add_column(header, no_wrap=True)
    if errors:
        table.add_column("error", overflow="fold")
    for row in rows:
        # names and a server's answer are text, not rich markup
        table.add_row(*(_cell(cell) if isinstance(cell, str) else cell for cell in row[: len(table.columns)]))
    return table


def _under(text: str) -> Padding:
    """A recipient's line under its run, indented, folded lines too."""
    return Padding(_cell(text), (0, 0, 0, 2))


def _day_minute(moment: datetime, now: datetime) -> str:
    """``12-01 20:42``, or ``2025-12-01 20:42`` when not in ``now``'s year."""
    return moment.strftime("%m-%d %H:%M" if moment.year == now.year else "%Y-%m-%d %H:%M")


@digest.command("preview")
@click.option("--watchlist", "-w", metavar="NAME", help="Only this watchlist.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the HTML here (with several watchlists: one file each, the name added).",
)
@click.pass_obj
def digest_preview(context: Context, watchlist: str | None, output: Path | None) -> None:
    """Render pending digests without sending or marking anything."""
    with context.monitor() as monitor:
        digests = [
            d
            for d in monitor.outbox.preview(utcnow(), watchlist)
            if d.hit_ids or monitor.config.watchlist(d.watchlist).send_empty
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


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "watchlist": hit.watchlist,
        "feed": hit.item.feed,
        "also_in": list(hit.also_in),
        "title": hit.item.title,
        "url": hit.item.link,
        "published": _iso(hit.item.published),
        "matched": hit.matched_terms,
        "queries": [match.query for match in hit.matches],
        "spans": _spans_json([span for match in hit.matches for span in match.spans]),
        "found": _iso(hit.created),
        "delivered": hit.delivered is not None,
    }


def _spans_json(spans: Iterable[Span]) -> list[list[object]]:
    return [[span.field, span.start, span.end, span.text] for span in spans]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@main.command()
@click.option("--watchlist", "-w", metavar="NAME", help="Only this watchlist.")
@click.option(
    "--since",
    default="24h",
    show_default=True,
    callback=_duration,
    help="How far back: 90m, 24h, 7d.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def hits(context: Context, watchlist: str | None, since: timedelta, as_json: bool) -> None:
    """Recent hits, newest first, each with the id that `monitor explain` takes."""
    with context.monitor() as monitor:
        if watchlist:
            monitor.config.watchlist(watchlist)
        found = monitor.store.hits.find(watchlist=watchlist, since=utcnow() - since)
    if as_json:
        for hit in found:
            click.echo(json.dumps(_hit_json(hit), ensure_ascii=False))
        return
    out.print(_hits_table(found, utcnow()))


def _hits_table(found: Sequence[Hit], now: datetime) -> Table:
    """A row per hit, its id first (what `monitor explain` takes). Readable at 80 columns, as
    ``_runs_table``: the watchlist and the feed share a column, the terms that matched are a
    line under the title, the title folds onto more lines rather than being cut, and a time is
    ``11-21 09:10`` (the year only when it is not this one)."""
    table = Table(title=f"{len(found)} hits (times UTC)")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("watchlist, feed", overflow="fold")
    table.add_column("title, matched", overflow="fold", ratio=1)
    table.add_column("sent", no_wrap=True)
    for hit in found:
        about = _cell(hit.item.title)
        about.append("\n" + shown(", ".join(hit.matched_terms)), style="dim")
        table.add_row(
            str(hit.id),
            _day_minute(hit.item.published, now),
            Text("\n").join([_cell(hit.watchlist), _cell(hit.item.feed)]),
            about,
            "yes" if hit.delivered else "no",
        )
    return table


def _read_inputs(text: str | None, language: str | None) -> Iterator[tuple[str, str, str | None]]:
    """``--text``, or JSON lines on stdin: (title, summary, language) per input."""
    if text is not None:
        yield text, "", language
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            title, summary = data.get("title", ""), data.get("summary", "")
            if not isinstance(title, str) or not isinstance(summary, str):
                raise ValueError('"title" and "summary" must be strings')
        except ValueError as exc:
            raise click.UsageError(
                f"stdin line {number}: {exc}; write one JSON object per line, "
                'such as {"title": "...", "summary": "...", "language": "sr"}'
            ) from None
        yield title, summary, data.get("language") or language


def _spans_text(spans: Iterable[Span]) -> str:
    return ", ".join(f"{span.field}[{span.start}:{span.end}] {span.text!r}" for span in spans)


def _explained(explanations: list[Explanation]) -> str:
    lines = []
    for report in explanations:
        lines.append(f"{'MATCH' if report.matched else 'no   '} {report.watchlist}: {report.query}")
        for term in report.terms:
            places = _spans_text(term.spans)
            role = "NOT " if term.negated else ""
            lines.append(f"        {role}{term.text}: {places or 'not found'}")
    return "\n".join(map(shown, lines))


@main.command()
@click.option("--watchlist", "-w", "watchlists", metavar="NAME", multiple=True, help="Only these watchlists.")
@click.option("--text", help="Match this text (as a title) instead of JSON lines on stdin.")
@click.option(
    "--language", callback=_language, help="Language hint for the input: en, sr, ru (default: guessed)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input line, in order.")
@click.option("--explain", is_flag=True, help="Show every query, term by term.")
@click.pass_obj
def match(
    context: Context,
    watchlists: tuple[str, ...],
    text: str | None,
    language: str | None,
    as_json: bool,
    explain: bool,
) -> None:
    """Test watchlists on text: JSON lines {"title", "summary", "language"} on stdin, or --text."""
    config = context.config()
    for name in watchlists:
        config.watchlist(name)
    matcher = compile_matcher({w.name: w.queries for w in config.watchlists}, cache_directory())
    chosen = watchlists or None
    for number, (title, summary, hint) in enumerate(_read_inputs(text, language), start=1):
        if explain:
            click.echo(
                f"#{number} {shown(title[:70])}\n{_explained(matcher.explain(title, summary, hint, chosen))}"
            )
            continue
        found = matcher.match(title, summary, hint, chosen)
        if as_json:
            matches = [
                {"watchlist": name, "query": m.query, "spans": _spans_json(m.spans)}
                for name, listed in found.items()
                for m in listed
            ]
            click.echo(json.dumps({"matches": matches}, ensure_ascii=False))
            continue
        click.echo(f"#{number} {shown(title[:70])}")
        for name, listed in found.items():
            for m in listed:
                click.echo(shown(f"  {name}: {m.query}  →  {_spans_text(m.spans)}"))
        if not found:
            click.echo("  no match")


@main.command()
@click.argument("hit_id", type=int)
@click.pass_obj
def explain(context: Context, hit_id: int) -> None:
    """Why a stored hit matched, term by term (HIT_ID: the id `monitor hits` shows)."""
    with context.monitor() as monitor:
        found = monitor.store.hits.find(hit_id=hit_id)
        if not found:
            raise click.BadParameter(f"no hit with id {hit_id}; list them with `monitor hits`")
        [hit] = found
        language = {f.name: f.language for f in monitor.config.feeds}.get(hit.item.feed)
        queries = {w.name: w.queries for w in monitor.config.watchlists if w.name == hit.watchlist}
        matcher = compile_matcher(queries, cache_directory())
        explanations = matcher.explain(hit.item.title, hit.item.summary, language, [hit.watchlist])
    click.echo(shown(f"hit {hit.id}: {hit.watchlist} ← {hit.item.feed}: {hit.item.title}"))
    click.echo(shown(hit.item.link))
    click.echo(shown("stored matches: " + "; ".join(m.query for m in hit.matches)))
    click.echo(_explained(explanations) or "the watchlist is no longer in the config")


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Each feed's health, worst first: status, last success, last error, failures in a row,
    items per day, next poll. `monitor feeds add URL` adds a feed."""
    if ctx.invoked_subcommand is None:
        _health_table(ctx.obj, as_json)


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="The feed's name (default: from its title).")
@click.option(
    "--language",
    callback=_language,
    help="Language hint, e.g. sr, ru, en (default: what the feed declares, if the matcher reads it).",
)
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--dry-run", is_flag=True, help="Find the feed and print its table; change nothing.")
@click.pass_obj
def feeds_add(
    context: Context, url: str, name: str | None, language: str | None, tags: tuple[str, ...], dry_run: bool
) -> None:
    """Add the feed at URL to the config file; a site's home page works too (autodiscovery)."""
    config = context.config()
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{url!r} is not an http(s) URL; write it as https://example.org/", param_hint="URL"
        )
    located = loop.run(_locate(config, url))
    feed = located.feed
    if located.url != url:
        err.print(f"found the feed {located.url} announced by {url}", highlight=False)
    chosen = name or config_module.feed_name(feed.title, _host(located.url))
    language = language or (known_language(feed.language) if feed.language else None)
    summary = f"{chosen}: {len(feed.items)} items, language {language or 'not declared'}"
    if dry_run:
        click.echo(summary)
        return
    table = config_module.append_feed(config, located.url, chosen, language, tags)
    click.echo(f"added to {config.path}:\n\n{table}\n{summary}")


async def _locate(config: Config, url: str) -> LocatedFeed:
    async with Fetcher(config.polling.limits()) as fetcher:
        return await locate_feed(fetcher, url)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _health_table(context: Context, as_json: bool) -> None:
    now = utcnow()
    with context.monitor() as monitor:
        configured = {feed.name: feed.url for feed in monitor.config.feeds}
        statuses = [status for status in monitor.store.feeds.statuses(now) if status.name in configured]
    if as_json:
        for status in statuses:
            record = asdict(status)
            for key, value in record.items():
                if isinstance(value, datetime):
                    record[key] = _iso(value)
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    table = Table(
        "feed",
        "status",
        "last ok",
        "problem",
        "fails",
        "per day",
        "next poll",
        "items",
        "hits",
        title=f"{len(statuses)} feeds, worst first (times UTC)",
    )
    styles = {"gone": "red", "failing": "yellow", "disabled": "dim"}
    for status in statuses:
        notes = [f"{status.last_error_kind}: {status.last_error}" if status.last_error else status.warning]
        if status.url != configured[status.name]:  # a permanent redirect, adopted
            notes.append(f"moved to {status.url}; update the config")
        error = "; ".join(note for note in notes if note)
        table.add_row(
            _cell(status.name),
            f"[{styles[status.health]}]{status.health}[/]" if status.health in styles else status.health,
            _minute(status.last_success) or "never",
            _cell(hide_passwords(error)),
            str(status.failures or ""),
            "" if status.items_per_day is None else f"{status.items_per_day:.1f}",
            _minute(status.next_poll) or ("never" if status.health in ("gone", "disabled") else "now"),
            str(status.items),
            str(status.hits),
        )
    out.print(table)


def _minute(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@main.command()
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_HEARTBEAT",
    required=True,
    help="The daemon's heartbeat file (env MONITOR_HEARTBEAT).",
)
@click.option(
    "--max-age", default="5m", show_default=True, callback=_duration, help="Oldest acceptable beat."
)
def health(heartbeat: Path, max_age: timedelta) -> None:
    """Exit 0 if the daemon's heartbeat is recent, 1 if not (for container health checks)."""
    try:
        beat = datetime.fromisoformat(heartbeat.read_text().strip())
    except (OSError, ValueError) as exc:
        _fail(f"no readable heartbeat in {heartbeat}: {exc}", 1)
    age = utcnow() - beat
    if age > max_age:
        _fail(
            f"the daemon's last heartbeat is {int(age.total_seconds())}s old (limit {_human(max_age)})",
            1,
        )
    out.print(f"ok: heartbeat {int(age.total_seconds())}s old", highlight=False)
