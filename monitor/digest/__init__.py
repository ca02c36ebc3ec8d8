"""Build a watchlist's digest from its hits. Pure: no clock, no I/O beyond reading templates."""

from __future__ import annotations

import functools
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from monitor.config.types import Script
from monitor.errors import ConfigError
from monitor.i18n.dates import date_time, time_of_day, zone
from monitor.i18n.locales import locale, translations
from monitor.i18n.script import in_script
from monitor.match.text import EN, RU, SR, guess_languages, has_cyrillic, words
from monitor.models import Field, Hit, Item, Kind, Span

SNIPPET_CONTEXT = 110
NOTICE_LIMIT = 3500  # characters of a channel's notice: under Telegram's 4,096, with room to spare

_PACKAGED = PackageLoader("monitor.digest", "templates")
TEMPLATE_NAMES = ("digest.html", "digest.txt", "subject.txt")


@functools.cache
def templates(folder: Path | None = None, tag: str = "en") -> Environment:
    """The digest templates: those in ``folder`` first, the packaged ones for any it lacks,
    their words in the locale ``tag`` (jinja2's i18n extension, gettext's ``_`` and
    ``ngettext`` over our catalogs, which a user's template calls as ours do). HTML is
    autoescaped, and a name a template uses but is not given is an error, not blank."""
    loader = _PACKAGED if folder is None else ChoiceLoader([FileSystemLoader(folder), _PACKAGED])
    environment = Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(tag), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["plain"] = plain
    return environment


def check_templates(folder: Path) -> None:
    """Compile the folder's digest templates now, so a mistake is found at config load."""
    for name in TEMPLATE_NAMES:
        if (folder / name).is_file():
            try:
                templates(folder).get_template(name)
            except TemplateError as exc:
                line = getattr(exc, "lineno", None)
                raise ConfigError(
                    f"{folder / name}: {f'line {line}: ' if line else ''}{exc.message}"
                ) from None


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text, marked when a query matched it."""

    text: str
    marked: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """Another outlet's version of a story: its feed, link ("" when not http or https), and a
    note when it is in another language ("ru") or in Serbian's other script ("Cyrillic")."""

    feed: str
    link: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    title: tuple[Segment, ...]
    link: str
    feed: str
    when: str
    snippet: tuple[Segment, ...]
    queries: tuple[str, ...]
    also_in: tuple[str, ...] = ()
    also_reported: tuple[Source, ...] = ()
    heading: str = ""  # the feed's name, on the first entry of each feed when grouped by feed
    alerted: str = ""  # when an alert told of it (HH:MM, the watchlist's zone), in a digest


@dataclass(frozen=True, slots=True)
class Problem:
    """A source that has been failing for long, shown at the end of the digest."""

    feed: str
    since: datetime | None  # None: gone
    error: str


@dataclass(frozen=True, slots=True)
class Digest:
    watchlist: str
    subject: str
    html: str
    text: str
    hit_ids: tuple[int, ...]
    kind: Kind = "digest"
    notice: str = ""  # the short text for channels: titles and links, cut to NOTICE_LIMIT


def _merged(spans: Sequence[Span]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span.end))
        else:
            merged.append((span.start, span.end))
    return merged


def highlight(
    text: str, spans: Sequence[Span], start: int = 0, end: int | None = None
) -> tuple[Segment, ...]:
    """Split ``text[start:end]`` into plain and marked segments at the spans' offsets."""
    end = len(text) if end is None else end
    segments, cursor = [], start
    for span_start, span_end in _merged(spans):
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        if span_start > cursor:
            segments.append(Segment(text[cursor:span_start]))
        segments.append(Segment(text[span_start:span_end], marked=True))
        cursor = span_end
    if cursor < end:
        segments.append(Segment(text[cursor:end]))
    return tuple(segments)


def snippet(text: str, spans: Sequence[Span], context: int = SNIPPET_CONTEXT) -> tuple[Segment, ...]:
    """A window of ``text`` around its first matched span, cut at spaces, with ellipses."""
    if len(text) <= 2 * context + 40:
        return highlight(text, spans)
    first = min(spans, key=lambda span: span.start) if spans else Span("summary", 0, 0, "")
    start = max(0, first.start - context)
    if start > 0 and (space := text.find(" ", start, first.start)) != -1:
        start = space + 1  # begin on a word, never after the match
    end = max(start + 2 * context, first.end)
    if end < len(text) and (space := text.find(" ", end, end + 20)) != -1:
        end = space  # finish the word under way
    end = min(end, len(text))
    prefix = (Segment("… "),) if start > 0 else ()
    suffix = (Segment(" …"),) if end < len(text) else ()
    return prefix + highlight(text, spans, start, end) + suffix


def plain(segments: Sequence[Segment]) -> str:
    """Segments as plain text, matches marked with asterisks: the text digest's highlight."""
    return "".join(f"*{segment.text}*" if segment.marked else segment.text for segment in segments)


def _spans(hit: Hit, field: Field) -> list[Span]:
    """The field's spans that still mark what they matched: a delivered hit keeps the spans of
    the text it was sent with, and the item may have been edited since."""
    text = getattr(hit.item, field)
    return [
        span
        for match in hit.matches
        for span in match.spans
        if span.field == field and text[span.start : span.end] == span.text
    ]


def _first_report(hit: Hit) -> tuple[datetime, int]:
    return hit.item.published, hit.id


def stories(hits: Sequence[Hit]) -> list[list[Hit]]:
    """``hits`` (newest first) grouped by the story the store found each tells (Hit.story), in
    the order of each story's newest hit; each group's first hit is the one shown, its earliest
    report: where the story broke."""
    groups: dict[object, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(("hit", hit.id) if hit.story is None else hit.story, []).append(hit)
    shown = []
    for group in groups.values():
        first = min(group, key=_first_report)
        shown.append([first, *(hit for hit in group if hit is not first)])
    return shown


def _safe_link(link: str) -> str:
    return link if link.lower().startswith(("http://", "https://")) else ""


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads a watchlist's messages: in which time zone and locale (a tag of
    ``monitor.config.types.LOCALES``), and in which script Serbian items are shown (None: as
    published). ``languages``: each feed's language hint, which helps tell Serbian Cyrillic
    from Russian."""

    timezone: ZoneInfo
    locale: str = "en"
    script: Script | None = None
    languages: Mapping[str, str | None] = field(default_factory=dict)

    def when(self, moment: datetime) -> str:
        return date_time(moment.astimezone(self.timezone), self.locale)

    def written_in(self, item: Item) -> tuple[int, bool]:
        """The language an item is in (match.text's bits: several when it cannot tell) and
        whether it is in Cyrillic."""
        text = f"{item.title}\n{item.summary}"
        return guess_languages(text, words(text), self.languages.get(item.feed)), has_cyrillic(item.title)

    def script_of(self, hit: Hit) -> Script | None:
        """The script to show the item's text in: the reader's, for a Serbian item; None (as
        published) for any other."""
        if self.script is None:
            return None
        return self.script if self.written_in(hit.item)[0] == SR else None


def _written(segments: tuple[Segment, ...], script: Script | None) -> tuple[Segment, ...]:
    if script is None:
        return segments
    return tuple(Segment(in_script(segment.text, script), segment.marked) for segment in segments)


LANGUAGE_TAGS = {EN: "en", SR: "sr", RU: "ru"}


def _sources(hit: Hit, others: Sequence[Hit], reader: Reader) -> tuple[Source, ...]:
    """The story's other reports, hits or not, first published first, each noted where its
    language or script is not the shown report's."""
    reports = list(hit.reports) + [other.item for other in others if other.item not in hit.reports]
    if not reports:
        return ()  # most entries: no language to guess
    reports.sort(key=lambda item: item.published)
    catalog = translations(reader.locale)
    shown = reader.written_in(hit.item)

    def note(item: Item) -> str:
        language, cyrillic = reader.written_in(item)
        if language in LANGUAGE_TAGS and not language & shown[0]:  # known, and not the shown one's
            return LANGUAGE_TAGS[language]
        if language != shown[0]:
            return ""  # either may be in several languages: say nothing rather than guess
        if language == SR and cyrillic != shown[1]:
            return catalog.gettext("Cyrillic") if cyrillic else catalog.gettext("Latin")
        return ""

    return tuple(Source(item.feed, _safe_link(item.link), note(item)) for item in reports)


def _entry(hit: Hit, reader: Reader, others: Sequence[Hit] = ()) -> Entry:
    summary_spans, title_spans, body_spans = (_spans(hit, field) for field in ("summary", "title", "body"))
    if body_spans and not summary_spans and not title_spans:  # found only in the article's text
        body = snippet(hit.item.body, body_spans)
    else:
        body = snippet(hit.item.summary, summary_spans) if summary_spans or not title_spans else ()
    if not body and hit.item.summary:
        body = snippet(hit.item.summary, [])
    title = highlight(hit.item.title or hit.item.link, title_spans if hit.item.title else [])
    script = reader.script_of(hit)
    return Entry(
        title=_written(title, script) if hit.item.title else title,
        link=_safe_link(hit.item.link),
        feed=hit.item.feed,
        when=reader.when(hit.item.published),
        snippet=_written(body, script),
        queries=tuple(dict.fromkeys(match.query for match in hit.matches)),
        also_in=hit.also_in,
        also_reported=_sources(hit, others, reader),
        alerted=time_of_day(hit.alerted.astimezone(reader.timezone), reader.locale) if hit.alerted else "",
    )


def notice(
    entries: Sequence[Entry], more: int, hits_command: str, tag: str = "en", limit: int = NOTICE_LIMIT
) -> str:
    """Each entry's title and link, as many as fit in ``limit`` characters, then how many more
    (``more`` past ``max_entries``, and those cut here) and the command that lists them; in
    the locale ``tag``, with the digest's own messages."""
    catalog = translations(tag)
    if not entries:
        return catalog.gettext("Nothing new since the last digest.")

    def tail(left: int) -> str:
        said = catalog.ngettext(
            "and %(num)d more: run %(command)s", "and %(num)d more: run %(command)s", left
        )
        return "\n\n" + said % {"num": left, "command": f"`{hits_command}`"}

    reserve = len(tail(len(entries) + more))
    blocks: list[str] = []
    used = 0
    for entry in entries:
        alerted = (
            f" ({catalog.gettext('alerted at %(time)s') % {'time': entry.alerted}})" if entry.alerted else ""
        )
        block = f"• {plain(entry.title)}{alerted}\n{entry.feed}{' · ' + entry.link if entry.link else ''}"
        if used + len(block) + 2 + reserve > limit and blocks:
            break
        blocks.append(block[: limit - reserve])
        used += len(block) + 2
    left = len(entries) - len(blocks) + more
    return "\n\n".join(blocks) + (tail(left) if left else "")


def render_digest(
    watchlist: str,
    hits: Sequence[Hit],
    reader: Reader,
    now: datetime,
    problems: Sequence[Problem] = (),
    *,
    max_entries: int = 200,
    templates_folder: Path | None = None,
    since: datetime | None = None,
    group_by: Literal["time", "feed"] = "time",
    kind: Kind = "digest",
) -> Digest:
    """The subject, HTML and plain-text digest of ``hits``, newest first, written for
    ``reader`` (its time zone, locale and script), ending with the watched sources that have
    problems. ``kind="alert"``: the same, saying it is an alert (its subject, its header).
    ``since`` is when the last digest went out: the header names the period it covers.
    ``group_by="feed"`` orders the stories by outlet (newest first within each), under a
    heading per outlet.

    One story told by several outlets is one entry, "also reported by" the others (stories).
    Past ``max_entries`` stories the rest are only counted, with the command that lists them;
    the digest still covers them all, so they are not sent again the next day.
    """
    ordered = sorted(hits, key=lambda hit: (hit.item.published, hit.id), reverse=True)
    grouped = stories(ordered)
    if group_by == "feed":
        grouped.sort(key=lambda group: group[0].item.feed.casefold())
    entries = [_entry(group[0], reader, group[1:]) for group in grouped[:max_entries]]
    if group_by == "feed":
        entries = [
            replace(entry, heading=entry.feed)
            if position == 0 or entries[position - 1].feed != entry.feed
            else entry
            for position, entry in enumerate(entries)
        ]
    more = max(0, len(grouped) - max_entries)
    hits_command = f"monitor hits --watchlist {shlex.quote(watchlist)}"
    catalog = translations(reader.locale)
    generated = now.astimezone(reader.timezone)
    context = {
        "lang": locale(reader.locale).tag,
        "kind": kind,
        "watchlist": watchlist,
        "entries": entries,
        "count": len(ordered),
        "more": more,
        "hits_command": hits_command,
        "generated": f"{reader.when(generated)} {zone(generated, reader.locale)}",
        "since": reader.when(since) if since else None,
        "problems": [
            {
                "feed": problem.feed,
                "state": catalog.gettext("failing since %(date)s") % {"date": reader.when(problem.since)}
                if problem.since
                else catalog.gettext("gone: no longer polled"),
                "error": problem.error,
            }
            for problem in problems
        ],
    }
    html, text, subject = (_render(templates_folder, reader.locale, name, context) for name in TEMPLATE_NAMES)
    return Digest(
        watchlist=watchlist,
        subject=" ".join(subject.split()),
        html=html,
        text=text,
        hit_ids=tuple(hit.id for hit in ordered),
        kind=kind,
        notice=notice(entries, more, hits_command, reader.locale),
    )


def _render(folder: Path | None, tag: str, name: str, context: dict[str, Any]) -> str:
    try:
        return templates(folder, tag).get_template(name).render(context)
    except TemplateError as exc:  # only a user's template can fail: the packaged ones are tested
        raise ConfigError(f"{folder / name if folder else name}: {exc.message}") from None
