"""What a poll changes (``polling.decide``), as tables: the poller's rules without I/O."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.feeds.parse import ParsedFeed
from monitor.feeds.prescan import Reading
from monitor.http.fetch import Fetched
from monitor.models import FeedState, Item, Known, Validators, content_hash
from monitor.polling.cadence import Cadence
from monitor.polling.decide import Change, PollIntent, changes, decide, next_poll_after_failure

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)
CADENCE = Cadence(min_interval=5 * M, max_interval=120 * M)


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 1.0


def entry(guid: str, title: str = "Protest u Beogradu", summary: str = "Tekst.") -> Item:
    return Item("N1", guid, title, summary, f"https://n1info.rs/{guid}/", NOW)


def sighted(title: str = "Protest u Beogradu", summary: str = "Tekst.") -> Known:
    """Stored under this feed and guid, with this text."""
    return Known(7, content_hash(title, summary), sighted=True)


ELSEWHERE = Known(7, None, sighted=False)  # the story is stored, not under this feed and guid


@pytest.mark.parametrize(
    ("entries", "known", "expected"),
    [
        ([entry("a")], {}, [("a", "new")]),
        ([entry("a")], {"a": sighted()}, []),  # carried as it is: nothing to do
        ([entry("a", title="Protest u Beogradu (video)")], {"a": sighted()}, [("a", "edit")]),
        ([entry("a", summary="Tekst, dopunjen.")], {"a": sighted()}, [("a", "edit")]),
        # a syndicated copy, or the same story republished under a new guid: found by its link
        ([entry("b")], {"b": ELSEWHERE}, [("b", "sighting")]),
        # a feed that repeats a guid: once, with its last text, in the first one's place
        (
            [entry("a", title="v1"), entry("b"), entry("a", title="v2")],
            {},
            [("a", "new"), ("b", "new")],
        ),
        (
            [entry("a"), entry("b", title="Izmenjen naslov"), entry("c"), entry("d")],
            {"a": sighted(), "b": sighted(), "c": ELSEWHERE},
            [("b", "edit"), ("c", "sighting"), ("d", "new")],
        ),
    ],
)
def test_changes_are_new_edited_and_sighted_entries(entries, known, expected):
    found = changes(entries, known)
    assert [(c.entry.id, c.kind) for c in found] == expected
    assert all(c.known is known.get(c.entry.id) for c in found)


def test_a_repeated_guid_is_saved_with_its_last_text():
    [found] = changes([entry("a", title="v1"), entry("a", title="v2")], {})
    assert found == Change(entry("a", title="v2"), "new")


def state(**fields: object) -> FeedState:
    values: dict[str, object] = {
        "name": "N1",
        "url": "https://n1info.rs/feed/",
        "validators": Validators('"old"'),
        "body_hash": "old-hash",
        "fingerprints": frozenset({"f1"}),
        "moved_to": None,
        "failures": 0,
        "warning": "an old warning",
        "items_per_day": 48.0,
    }
    return FeedState(**(values | fields))  # type: ignore[arg-type]


def fetched(**fields: object) -> Fetched:
    values: dict[str, object] = {
        "url": "https://n1info.rs/feed/",
        "status": 200,
        "body": b"<rss/>",
        "headers": {},
        "validators": Validators('"new"'),
    }
    return Fetched(**(values | fields))  # type: ignore[arg-type]


def reading(*entries: Item, warnings: tuple[str, ...] = ()) -> Reading:
    return Reading(ParsedFeed(list(entries), warnings), frozenset({"f2"}))


def intent(the_state: FeedState, the_fetch: Fetched, the_reading: Reading | None, known=None) -> PollIntent:
    return decide(
        the_state,
        the_fetch,
        "new-hash",
        the_reading,
        known or {},
        cadence=CADENCE,
        interval=None,
        now=NOW,
        rng=NoJitter(),
    )


@pytest.mark.parametrize(
    ("the_reading", "fingerprints", "warning"),
    [
        (None, frozenset({"f1"}), "an old warning"),  # 304, or the last body again
        (Reading(None, frozenset({"f2"})), frozenset({"f2"}), "an old warning"),  # only seen entries
    ],
)
def test_a_poll_with_nothing_to_parse_is_quiet_and_keeps_the_warning(the_reading, fingerprints, warning):
    decided = intent(state(), fetched(), the_reading)
    assert decided.quiet and decided.changes == ()
    assert decided.record.fingerprints == fingerprints
    assert decided.record.warning == warning
    assert decided.record.validators == Validators('"new"')
    assert decided.record.next_poll == NOW + 15 * M  # 48 items a day: every 15 minutes


@pytest.mark.parametrize(
    ("warnings", "expected"),
    [((), None), (("bad date",), "bad date"), (("bad date", "bad byte"), "bad date; bad byte")],
)
def test_a_parsed_poll_replaces_the_warning(warnings, expected):
    decided = intent(state(), fetched(), reading(entry("a"), warnings=warnings))
    assert not decided.quiet
    assert [(c.entry.id, c.kind) for c in decided.changes] == [("a", "new")]
    assert decided.record.warning == expected
    assert decided.record.fingerprints == frozenset({"f2"})


@pytest.mark.parametrize(
    ("was", "now_moved", "moved_to", "adopt"),
    [
        (None, None, None, None),
        (None, "https://n1info.rs/rss/", "https://n1info.rs/rss/", None),  # seen once: remembered
        ("https://n1info.rs/rss/", "https://n1info.rs/rss/", None, "https://n1info.rs/rss/"),  # twice
        ("https://n1info.rs/rss/", "https://n1.rs/rss/", "https://n1.rs/rss/", None),  # elsewhere now
        ("https://n1info.rs/rss/", None, None, None),  # the move was undone
    ],
)
def test_a_permanent_move_is_adopted_when_two_polls_in_a_row_see_it(was, now_moved, moved_to, adopt):
    decided = intent(state(moved_to=was), fetched(moved_to=now_moved), None)
    assert (decided.record.moved_to, decided.record.adopt_url) == (moved_to, adopt)


def test_max_age_delays_the_next_poll():
    decided = intent(state(), fetched(max_age=60 * M), None)
    assert decided.record.next_poll == NOW + 60 * M


@pytest.mark.parametrize(
    ("failures", "kind", "retry_after", "expected"),
    [
        (0, "http", None, NOW + 15 * M),
        (2, "timeout", None, NOW + 60 * M),  # the third failure in a row
        (0, "http", 3 * 3600.0, NOW + 180 * M),  # Retry-After wins
        (0, "gone", None, None),  # 410: not polled again
        (5, "gone", 60.0, None),
    ],
)
def test_after_a_failure_the_next_poll_backs_off(failures, kind, retry_after, expected):
    next_poll = next_poll_after_failure(
        state(failures=failures), kind, retry_after, cadence=CADENCE, interval=None, now=NOW, rng=NoJitter()
    )
    assert next_poll == expected
