"""The outbox's decisions, pure, so tested with tables: which sources a digest names as
problems, what a channel's answer makes of a recipient's delivery, who is given up on, and the
message composed from a rendered digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from monitor.digest import Digest, Problem
from monitor.errors import DatabaseAway
from monitor.models import Attempt, FeedStatus, Health, Message, Notice
from monitor.outbox.apprise import AppriseChannel
from monitor.outbox.compose import compose, problems
from monitor.outbox.dispatcher import recorded, refusals
from monitor.outbox.smtp import Undelivered

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def status(name: str, health: Health, failing_since: datetime | None = None) -> FeedStatus:
    return FeedStatus(
        name=name,
        url=f"https://{name.lower()}.example/feed/",
        health=health,
        last_success=None,
        last_error_kind="http",
        last_error="HTTP 500",
        last_error_at=failing_since,
        failing_since=failing_since,
        failures=3 if failing_since else 0,
        warning=None,
        items_per_day=None,
        next_poll=None,
        items=0,
        hits=0,
    )


@pytest.mark.parametrize(
    ("found", "named"),
    [
        (status("N1", "ok"), []),
        (status("N1", "new"), []),
        (status("N1", "disabled"), []),
        (status("N1", "failing", NOW - DAY), []),  # a day exactly: not yet
        (
            status("N1", "failing", NOW - DAY - timedelta(seconds=1)),
            [Problem("N1", NOW - DAY - timedelta(seconds=1), "http: HTTP 500")],
        ),
        (status("N1", "gone", NOW - timedelta(hours=1)), [Problem("N1", None, "http: HTTP 500")]),
        (status("Danas", "gone"), []),  # not watched
    ],
)
def test_a_digest_names_the_watched_sources_gone_or_failing_for_over_a_day(found, named):
    assert problems([found], {"N1"}, NOW) == named


@pytest.mark.parametrize(
    ("undelivered", "attempt"),
    [
        (Undelivered("550 5.1.1 no such user", refused=True), Attempt("refused", "550 5.1.1 no such user")),
        (
            Undelivered("451 4.3.0 try again", temporary=True),
            Attempt("failed_temporary", "451 4.3.0 try again"),
        ),
        # a refused login: not worth another try within this send, but the outbox tries later
        (Undelivered("535 5.7.8 bad credentials"), Attempt("failed_temporary", "535 5.7.8 bad credentials")),
    ],
)
def test_an_smtp_answer_makes_the_recipient_refused_or_waiting(undelivered, attempt):
    assert undelivered.attempt() == attempt


UNKNOWN = "no longer in the watchlist's notify: its URL (and secrets) are unknown"


@pytest.mark.parametrize(
    ("configured", "notice"),
    [
        ([], Notice("BIA", "BIA saslušala")),  # removed from the config since it was recorded
        (["json://127.0.0.1:9/hook"], None),  # recorded before channels had notices
    ],
)
def test_an_apprise_recipient_that_cannot_be_sent_to_is_refused_without_a_try(configured, notice):
    message = Message("digest", "<1@example.org>", b"x", notice)

    tried = AppriseChannel(configured).send(message, ["json://127.0.0.1:9/hook"])

    assert tried == {"json://127.0.0.1:9/hook": Attempt("refused", UNKNOWN)}


SENT, WAITING, REFUSED = (
    Attempt("sent"),
    Attempt("failed_temporary", "451 busy"),
    Attempt("refused", "550 no"),
)


@pytest.mark.parametrize(
    ("attempts", "reason", "refused"),
    [
        ({"a": SENT, "b": WAITING}, None, {}),
        ({"a": SENT, "b": REFUSED}, "gave up after 3 tries over 3 days", {}),
        (
            {"a": SENT, "b": WAITING, "c": REFUSED},
            "gave up after 3 tries over 3 days",
            {"b": Attempt("refused", "gave up after 3 tries over 3 days: 451 busy")},
        ),
        (
            {"b": Attempt("failed_temporary")},
            "gave up after 2 tries over 1 day",
            {"b": Attempt("refused", "gave up after 2 tries over 1 day")},
        ),
    ],
)
def test_only_recipients_whose_try_failed_again_are_given_up_on(attempts, reason, refused):
    assert refusals(attempts, reason) == refused


def test_a_composed_message_keeps_its_bytes_message_id_and_notice():
    digest = Digest(
        "relocants",
        "[monitor] relocants:\n 1 new item",
        "<p>BIA</p>",
        "BIA",
        (7,),
        kind="alert",
        notice="• BIA",
    )

    message = compose(digest, "monitor@example.org", ["desk@example.org"], NOW)
    email = message_from_bytes(message.wire, policy=policy.default)

    assert (message.kind, message.notice) == ("alert", Notice("[monitor] relocants: 1 new item", "• BIA"))
    assert email["Message-ID"] == message.message_id and ".alert@example.org>" in message.message_id
    assert email["Subject"] == "[monitor] relocants: 1 new item" and email["To"] == "desk@example.org"


def test_a_sent_messages_attempt_is_recorded_once_the_database_is_back():
    """Not recording it would send it again when its lease ran out."""
    tries = []

    def record() -> str:
        tries.append(len(tries))
        if len(tries) == 1:
            raise DatabaseAway("terminating connection due to administrator command")
        return "recorded"

    assert recorded(record) == "recorded" and tries == [0, 1]
