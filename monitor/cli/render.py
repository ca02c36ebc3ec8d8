"""What the commands write: every table, JSON record and time format, and the one way stored or
received text reaches a terminal (``shown``). Imported by the commands when they run, since rich
is the heaviest import the command tree would otherwise need."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from monitor.log import escapes, hide_passwords

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.match import Explanation
    from monitor.models import FeedStatus, Hit, Item, MessageRun, Span, Worker
    from monitor.outbox.dispatcher import MessageOutcome
    from monitor.polling.poller import FeedOutcome

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

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


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(shown(message, lines=True))}", markup=True, highlight=False)
    sys.exit(code)


def human(delta: timedelta) -> str:
    """``15m``, ``2h``, ``1d``: the largest unit that divides the duration."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def ago(delta: timedelta) -> str:
    """``12s ago``, ``5m ago``, ``3h ago``, ``2d ago``: whole units, rounded down."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def json_line(record: object) -> str:
    """A record as one line of JSON, its text as written (not as ``\\u`` escapes)."""
    return json.dumps(record, ensure_ascii=False)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def day_minute(moment: datetime, now: datetime) -> str:
    """``12-01 20:42``, or ``2025-12-01 20:42`` when not in ``now``'s year."""
    return moment.strftime("%m-%d %H:%M" if moment.year == now.year else "%Y-%m-%d %H:%M")


def _minute(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def config_summary(config: Config, now: datetime) -> str:
    """`monitor check-config`'s one screen: storage, SMTP, polling, a line per feed, and each
    watchlist with its recipients, next digest and channels."""
    from monitor.outbox.apprise import notify_channels
    from monitor.schedule import next_after

    lines = [
        f"ok: {config.path}",
        f"storage: {hide_passwords(config.storage.url)}",
        f"smtp: {config.smtp.host}:{config.smtp.port} ({config.smtp.security}), from {config.smtp.sender}",
        f"{len(config.feeds)} feeds:",
    ]
    polling = config.polling
    lines.insert(
        -1,
        f"polling: every {human(polling.min_interval)} to {human(polling.max_interval)} as feeds publish, "
        f"{polling.concurrency} at a time, {polling.per_host} per host",
    )
    width = max(len(feed.name) for feed in config.feeds)
    for feed in config.feeds:
        tags = f" [{', '.join(feed.tags)}]" if feed.tags else ""
        every = f"every {human(feed.interval)}" if feed.interval else "adaptive"
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
            f"next {next_after(schedule, now, watchlist.timezone).strftime('%a %Y-%m-%d %H:%M %Z')}",
        ]
        if watchlist.alert == "immediate":
            lines.append("    alerts: after each poll that finds hits")
        lines += [f"    notify: {channel.name}" for channel in notify_channels(watchlist)]
    return "\n".join(lines)


@contextmanager
def progress(total: int) -> Iterator[Callable[[FeedOutcome], None]]:
    """A bar on stderr while ``total`` feeds are polled, on a terminal only and gone when done;
    what it yields advances it by a feed's outcome."""
    bar = Progress(
        TextColumn("polling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )
    with bar:
        task = bar.add_task("", total=total)

        def done(outcome: FeedOutcome) -> None:
            bar.update(task, advance=1, description=outcome.feed)

        yield done


def poll_failures(outcomes: Iterable[FeedOutcome]) -> None:
    for outcome in outcomes:
        if outcome.error:
            err.print(
                f"[yellow]failed[/] {escape(shown(f'{outcome.feed}: {outcome.error}'))}", highlight=False
            )


def report(outcomes: Iterable[MessageOutcome]) -> bool:
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


def run_json(run: MessageRun) -> dict[str, Any]:
    deliveries = [
        asdict(delivery) | {"sent": delivery.sent and iso(delivery.sent)} for delivery in run.deliveries
    ]
    return asdict(run) | {"created": iso(run.created), "deliveries": deliveries}


def runs_table(runs: Sequence[MessageRun], now: datetime) -> Table:
    """A row per run (its time and watchlist), then one per recipient's delivery, indented
    under it. Nothing is cut at 80 columns: the recipients share the first column with the runs
    rather than leave two columns empty on their rows, a name or an answer too long for its
    column folds onto the next line, a time is one short line (``12-01 20:42``, the year only
    when it is not this one), and the error column is left out when no row has an error."""
    rows: list[tuple[RenderableType, ...]] = []
    for run in runs:
        name = run.watchlist if run.kind == "digest" else f"{run.watchlist} (alert)"
        run_error = "" if run.deliveries else run.error or ""
        rows.append((f"{day_minute(run.created, now)}  {name}", str(run.hits), run.status, "", run_error))
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


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "watchlist": hit.watchlist,
        "feed": hit.item.feed,
        "also_in": list(hit.also_in),
        "story": hit.story,
        "title": hit.item.title,
        "url": hit.item.link,
        "published": iso(hit.item.published),
        "matched": hit.matched_terms,
        "queries": [match.query for match in hit.matches],
        "spans": spans_json([span for match in hit.matches for span in match.spans]),
        "found": iso(hit.created),
        "delivered": hit.delivered is not None,
        "backfilled": hit.backfilled,
    }


HIT_COLUMNS = (
    "id",
    "watchlist",
    "found_utc",
    "published_utc",
    "feed",
    "also_in",
    "title",
    "url",
    "matched",
    "queries",
    "delivered_utc",
    "alerted_utc",
    "backfilled",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def _sheet(text: str) -> str:
    """A feed's text as a spreadsheet shows it, never runs it: one that would begin a formula
    (``=HYPERLINK(…)`` in a title) gets a leading apostrophe, as spreadsheets write text."""
    return f"'{text}" if text.startswith(_FORMULA) else text


def _sheet_time(moment: datetime | None) -> str:
    """``2026-11-21 09:10:00``: what spreadsheets read as a date and time (UTC, as the header says)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def hits_csv(found: Iterable[Hit], stream: TextIO) -> None:
    """A header, then a row per hit: the columns analysts paste into a spreadsheet, lists
    joined with "; ", times in UTC, yes/no for backfilled."""
    writer = csv.writer(stream)
    writer.writerow(HIT_COLUMNS)
    for hit in found:
        writer.writerow(
            [
                hit.id,
                _sheet(hit.watchlist),
                _sheet_time(hit.created),
                _sheet_time(hit.item.published),
                _sheet(hit.item.feed),
                _sheet("; ".join(hit.also_in)),
                _sheet(hit.item.title),
                _sheet(hit.item.link),
                _sheet("; ".join(hit.matched_terms)),
                _sheet("; ".join(match.query for match in hit.matches)),
                _sheet_time(hit.delivered),
                _sheet_time(hit.alerted),
                "yes" if hit.backfilled else "no",
            ]
        )


def spans_json(spans: Iterable[Span]) -> list[list[object]]:
    return [[span.field, span.start, span.end, span.text] for span in spans]


def hits_table(found: Sequence[Hit], now: datetime) -> Table:
    """A row per hit, its id first (what `monitor explain` takes). Readable at 80 columns, as
    ``runs_table``: the watchlist and the feed share a column, the terms that matched are a
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
            day_minute(hit.item.published, now),
            Text("\n").join([_cell(hit.watchlist), _cell(hit.item.feed)]),
            about,
            "yes" if hit.delivered else "no",
        )
    return table


def found_json(item: Item, spans: Sequence[Span]) -> dict[str, Any]:
    """An item `monitor search` found: ``spans`` as ``monitor match --json`` writes them."""
    return {
        "feed": item.feed,
        "title": item.title,
        "url": item.link,
        "published": iso(item.published),
        "spans": spans_json(spans),
    }


def found_table(found: Sequence[tuple[Item, Sequence[Span]]], now: datetime) -> Table:
    """A row per item `monitor search` found, newest first, what matched highlighted: in the
    title, and in a line of the summary (or else the article's text) around its first span
    there, if any."""
    table = Table(title=f"{len(found)} items (times UTC)")
    table.add_column("published", no_wrap=True)
    table.add_column("feed", overflow="fold")
    table.add_column("title, matched, link", overflow="fold", ratio=1)
    for item, spans in found:
        about = highlighted(item.title, [s for s in spans if s.field == "title"])
        for text, field in ((item.summary, "summary"), (item.body, "body")):
            if inside := [s for s in spans if s.field == field]:
                about.append("\n")
                about.append(highlighted(text, inside, around=inside[0].start))
                break
        about.append("\n" + shown(item.link), style="dim")
        table.add_row(day_minute(item.published, now), _cell(item.feed), about)
    return table


SUMMARY_LINE = 160  # characters of a summary shown around what matched there


def highlighted(text: str, spans: Sequence[Span], around: int | None = None) -> Text:
    """``text`` made safe (``shown``) with ``spans`` highlighted; ``around``: only the stretch of
    ``SUMMARY_LINE`` characters that starts a little before that offset, marked cut with "…"."""
    start, end = 0, len(text)
    if around is not None:
        start = max(0, around - SUMMARY_LINE // 4)
        end = min(len(text), start + SUMMARY_LINE)
    result = Text("…" if start else "")
    at = start
    for span in sorted(spans):
        if span.start < at or span.end > end:
            continue
        result.append(shown(text[at : span.start]))
        result.append(shown(text[span.start : span.end]), style="bold reverse")
        at = span.end
    result.append(shown(text[at:end]) + ("…" if end < len(text) else ""))
    return result


def spans_text(spans: Iterable[Span]) -> str:
    return ", ".join(f"{span.field}[{span.start}:{span.end}] {span.text!r}" for span in spans)


def explained(explanations: list[Explanation]) -> str:
    lines = []
    for report in explanations:
        lines.append(f"{'MATCH' if report.matched else 'no   '} {report.watchlist}: {report.query}")
        for term in report.terms:
            places = spans_text(term.spans)
            role = "NOT " if term.negated else ""
            lines.append(f"        {role}{term.text}: {places or 'not found'}")
    return "\n".join(map(shown, lines))


def status_json(status: FeedStatus) -> dict[str, Any]:
    return {
        key: iso(value) if isinstance(value, datetime) else value for key, value in asdict(status).items()
    }


def health_table(statuses: Sequence[FeedStatus], configured: dict[str, str]) -> Table:
    """A row per feed, worst first; ``configured``: each feed's URL in the config, to say when
    a permanent redirect moved it."""
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
    return table


def worker_json(worker: Worker) -> dict[str, Any]:
    return {
        key: iso(value) if isinstance(value, datetime) else value for key, value in asdict(worker).items()
    }


def workers_table(found: Sequence[Worker], now: datetime) -> Table:
    """A row per worker, live ones first; a time is ``12-01 20:42`` (the year only when it is
    not this one)."""
    table = Table(
        "host", "pid", "started", "last seen", "version", "state", title=f"{len(found)} workers (times UTC)"
    )
    styles = {"gone": "red", "stopped": "dim"}
    for worker in found:
        state = f"[{styles[worker.state]}]{worker.state}[/]" if worker.state in styles else worker.state
        table.add_row(
            _cell(worker.host),
            str(worker.pid),
            day_minute(worker.started, now),
            ago(now - worker.last_seen),
            _cell(worker.version),
            state,
        )
    return table
