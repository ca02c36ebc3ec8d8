"""Hits into a message: the digest or alert rendered, built into MIME, and kept as the bytes
SMTP carries, with the short notice for channels. Pure: the store's facts are handed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from monitor.config import WatchlistConfig
from monitor.digest import Digest, Problem, Reader, render_digest
from monitor.models import FeedStatus, Hit, Kind, Message, Notice

PROBLEM_AFTER = timedelta(hours=24)  # a source failing longer is named in the digest


def problems(statuses: Iterable[FeedStatus], watched: set[str], now: datetime) -> list[Problem]:
    """The ``watched`` sources that are gone or have failed for over a day."""
    return [
        Problem(
            status.name,
            status.failing_since if status.health == "failing" else None,
            f"{status.last_error_kind}: {status.last_error}",
        )
        for status in statuses
        if status.name in watched
        and (
            status.health == "gone"
            or (
                status.health == "failing"
                and status.failing_since
                and now - status.failing_since > PROBLEM_AFTER
            )
        )
    ]


def render(
    watchlist: WatchlistConfig,
    hits: Sequence[Hit],
    now: datetime,
    kind: Kind = "digest",
    *,
    problems: Sequence[Problem] = (),
    since: datetime | None = None,
    templates: Path | None = None,
    languages: Mapping[str, str | None] | None = None,
) -> Digest:
    """The watchlist's digest of ``hits``, with the period since the last one (``since``) and
    the sources with ``problems``; or its alert, which has neither. ``languages``: each feed's
    language hint, which tells Serbian items from Russian ones where the text cannot."""
    reader = Reader(watchlist.timezone, watchlist.locale, watchlist.script, languages or {})
    return render_digest(
        watchlist.name,
        hits,
        reader,
        now,
        problems,
        max_entries=watchlist.max_entries,
        templates_folder=templates,
        since=since,
        group_by=watchlist.group_by,
        kind=kind,
    )


def compose(digest: Digest, sender: str, recipients: Sequence[str], now: datetime) -> Message:
    """The message the outbox records and sends: the same bytes at every try."""
    email = build_message(digest, sender, recipients, now)
    return Message(
        digest.kind,
        email["Message-ID"],
        wire_bytes(email),
        Notice(" ".join(digest.subject.split()), digest.notice),
    )


def build_message(digest: Digest, sender: str, recipients: Sequence[str], now: datetime) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part preferred."""
    message = EmailMessage()
    message["Subject"] = " ".join(digest.subject.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(digest.kind, domain=sender.rpartition("@")[2])
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    return message


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as SMTP carries it, and as smtplib's send_message would write it: CRLF line
    ends, headers in UTF-8 when an address needs it (SMTPUTF8). What the outbox keeps."""
    international = not all(str(message[name] or "").isascii() for name in ("From", "To"))
    return message.as_bytes(policy=policy.SMTPUTF8 if international else policy.SMTP)
