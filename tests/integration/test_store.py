"""The store on each backend: migrations at open, idempotent saves, feed scheduling and health."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from monitor.errors import ClaimedError
from monitor.models import (
    Attempt,
    Item,
    Match,
    Message,
    Notice,
    Outgoing,
    PollRecord,
    Recipient,
    Saved,
    Span,
    Validators,
)
from monitor.polling.decide import PollIntent, changes
from monitor.store import Store
from monitor.store.migrate import MIGRATIONS, newest_revision

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
LEASE = timedelta(minutes=5)
ITEM = Item("N1", "n1-1", "BIA saopštila", "", "https://n1info.rs/1/", NOW)
MATCH = Match("BIA", ("BIA",), (Span("title", 0, 3, "BIA"),))


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def open_store(url: str, feeds: tuple[str, ...] = ("N1",)) -> Store:
    store = Store(engine_url(url))
    store.feeds.sync([(name, f"https://{name.lower()}.example/feed/", True) for name in feeds], NOW)
    return store


def database_at(database_url: str, revision: str, *statements: str, **values: object) -> None:
    """A database migrated to ``revision`` only, holding what ``statements`` insert (``:now`` is
    NOW; other names are ``values``)."""
    engine = create_engine(engine_url(database_url))
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in statements:
            connection.execute(text(statement), {"now": NOW.replace(tzinfo=None), **values})
    engine.dispose()


def record(next_poll: datetime = NOW + timedelta(minutes=15), **fields) -> PollRecord:
    return PollRecord(validators=fields.pop("validators", Validators()), next_poll=next_poll, **fields)


def save(
    store: Store, feed: str, entries=(), matches=None, poll: PollRecord | None = None, now: datetime = NOW
):
    """A poll as the poller saves it: the entries looked up, the changes decided, then saved."""
    known = store.items.lookup(feed, entries)
    return store.items.save(PollIntent(feed, poll or record(), changes(entries, known)), matches or {}, now)


def test_schema_is_made_by_migrations_and_reopening_changes_nothing(database_url):
    first = open_store(database_url)
    tables = set(inspect(first.database.engine).get_table_names())
    first.close()
    again = open_store(database_url)

    assert {"feeds", "items", "hits", "digests", "digest_hits", "deliveries", "alembic_version"} <= tables
    with again.database.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == newest_revision()
        )
    assert [status.name for status in again.feeds.statuses(NOW)] == ["N1"]
    again.close()


EARLIER = [
    script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions() if script.down_revision
][::-1]  # every revision a database can be upgraded from, oldest first


@pytest.mark.parametrize("revision", ["0001", *EARLIER[:-1]])
def test_a_database_at_any_earlier_revision_upgrades_to_the_newest_keeping_its_data(database_url, revision):
    """Written with the first schema's columns, which every later one keeps."""
    database_at(
        database_url,
        revision,
        (
            "INSERT INTO feeds (id, name, url, created_at) VALUES "
            "(1, 'N1', 'https://n1.example/feed/', :now), (2, 'Danas', 'https://danas.example/feed/', :now)"
        ),
        (
            "INSERT INTO items (id, feed_id, guid, title, summary, link, published_at, first_seen_at) VALUES "
            "(1, 1, 'n1-1', 'BIA', '', 'https://n1.example/1/', :now, :now), "
            "(2, 2, 'danas-1', 'Relokanti', 'proterani', 'https://danas.example/1/', :now, :now)"
        ),
        (
            "INSERT INTO hits (item_id, watchlist, matches, created_at, delivered_at) VALUES "
            "(1, 'relocants', '[]', :now, :now), (2, 'relocants', '[]', :now, NULL)"
        ),
        (
            "INSERT INTO digests (watchlist, created_at, recipients, hit_count, status) "
            "VALUES ('relocants', :now, '[\"desk@example.org\"]', 1, 'sent')"
        ),
    )

    store = open_store(database_url, ("N1", "Danas"))

    try:
        with store.database.engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == newest_revision()
            )
        assert sorted((hit.item.title, hit.delivered is not None) for hit in store.hits.find()) == [
            ("BIA", True),
            ("Relokanti", False),
        ]
        assert {status.name: status.items for status in store.feeds.statuses(NOW)} == {"N1": 1, "Danas": 1}
        assert [(run.watchlist, run.status) for run in store.messages.runs()] == [("relocants", "sent")]
    finally:
        store.close()


def test_upgrading_a_0001_database_keeps_its_data_and_counts_its_last_error(database_url):
    database_at(
        database_url,
        "0001",
        (
            "INSERT INTO feeds (id, name, url, etag, last_error, last_error_at, created_at) VALUES "
            "(1, 'N1', 'https://n1.example/feed/', '\"e1\"', NULL, NULL, :now), "
            "(2, 'Danas', 'https://danas.example/feed/', NULL, 'HTTP 500', :now, :now)"
        ),
        (
            "INSERT INTO items (feed_id, guid, title, summary, link, published_at, first_seen_at) "
            "VALUES (1, 'n1-1', 'BIA', '', 'https://n1.example/1/', :now, :now)"
        ),
    )

    store = open_store(database_url, ("N1", "Danas"))

    statuses = {status.name: status for status in store.feeds.statuses(NOW)}
    assert (statuses["N1"].items, statuses["N1"].health, statuses["N1"].failures) == (1, "new", 0)
    assert (statuses["Danas"].health, statuses["Danas"].failures, statuses["Danas"].last_error) == (
        "failing",
        1,
        "HTTP 500",
    )
    assert store.feeds.state("N1", NOW).validators == Validators('"e1"', None)
    store.close()


def test_saving_the_same_poll_twice_stores_each_item_and_hit_once(database_url):
    store = open_store(database_url)
    matches = {ITEM.id: {"relocants": [MATCH]}}

    first = save(store, "N1", [ITEM], matches, record(validators=Validators('"e1"', None)))
    second = save(store, "N1", [ITEM], matches, record(validators=Validators('"e2"', None)))

    assert (first, second) == (Saved(1, 0, 1), Saved(0, 0, 0))
    [hit] = store.hits.find()
    assert hit.item == ITEM and hit.matches == (MATCH,)
    assert store.feeds.state("N1", NOW).validators == Validators('"e2"', None)
    store.close()


def test_new_feeds_are_due_at_once_and_a_claim_leases_them(database_url):
    store = open_store(database_url, ("N1", "Danas", "RTS"))

    first = store.feeds.claim_due("worker-a", NOW, limit=2, lease=LEASE)
    second = store.feeds.claim_due("worker-b", NOW, limit=10, lease=LEASE)
    third = store.feeds.claim_due("worker-b", NOW, limit=10, lease=LEASE)

    assert len(first) == 2 and len(second) == 1
    assert set(first) | set(second) == {"N1", "Danas", "RTS"}
    assert third == []
    store.close()


def test_a_lease_that_runs_out_returns_the_feed_to_the_pool(database_url):
    store = open_store(database_url)
    assert store.feeds.claim_due("crashed", NOW, limit=10, lease=LEASE) == ["N1"]

    assert store.feeds.claim_due("other", NOW + LEASE - timedelta(seconds=1), limit=10, lease=LEASE) == []
    assert store.feeds.claim_due("other", NOW + LEASE + timedelta(seconds=1), limit=10, lease=LEASE) == ["N1"]
    store.close()


def test_a_polled_feed_is_due_again_at_its_next_poll_and_not_before(database_url):
    store = open_store(database_url)
    store.feeds.claim_due("w", NOW, limit=10, lease=LEASE)
    save(store, "N1", [ITEM], poll=record(next_poll=NOW + timedelta(minutes=20)))

    assert store.feeds.claim_due("w", NOW + timedelta(minutes=19), limit=10, lease=LEASE) == []
    assert store.feeds.next_due() == NOW + timedelta(minutes=20)
    assert store.feeds.claim_due("w", NOW + timedelta(minutes=20), limit=10, lease=LEASE) == ["N1"]
    store.close()


def test_concurrent_claims_never_hand_a_feed_to_two_workers(database_url):
    names = tuple(f"Feed{number}" for number in range(40))
    store = open_store(database_url, names)

    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda n: store.feeds.claim_due(f"w{n}", NOW, 7, LEASE), range(12)))

    claimed = [name for claim in claims for name in claim]
    assert sorted(claimed) == sorted(names)
    store.close()


def test_failures_are_counted_until_a_success_resets_them(database_url):
    store = open_store(database_url)

    store.feeds.record_failure(
        "N1", "http", "HTTP 500 Internal Server Error", NOW, NOW + timedelta(minutes=5)
    )
    store.feeds.record_failure(
        "N1", "timeout", "no complete answer within 60 s", NOW + timedelta(hours=1), NOW
    )
    [failing] = store.feeds.statuses(NOW)
    save(store, "N1", now=NOW + timedelta(hours=2))
    [healed] = store.feeds.statuses(NOW)

    assert (failing.health, failing.failures, failing.last_error_kind) == ("failing", 2, "timeout")
    assert failing.failing_since == NOW
    assert (healed.health, healed.failures, healed.last_error, healed.failing_since) == ("ok", 0, None, None)
    assert store.feeds.state("N1", NOW).failures == 0
    store.close()


def test_a_gone_feed_is_never_claimed_until_its_url_changes(database_url):
    store = open_store(database_url)
    store.feeds.record_failure("N1", "gone", "HTTP 410 Gone", NOW, None)

    [status] = store.feeds.statuses(NOW)
    assert (status.health, status.next_poll) == ("gone", None)
    assert store.feeds.claim_due("w", NOW + timedelta(days=1), limit=10, lease=LEASE) == []

    store.feeds.sync([("N1", "https://n1.example/new-feed/", True)], NOW)
    assert store.feeds.claim_due("w", NOW, limit=10, lease=LEASE) == ["N1"]
    store.close()


def test_feeds_removed_from_the_config_are_disabled_and_keep_their_items(database_url):
    store = open_store(database_url, ("N1", "Danas"))
    save(store, "Danas", [ITEM], poll=record(), now=NOW)

    store.feeds.sync([("N1", "https://n1.example/feed/", True)], NOW)

    statuses = {status.name: status for status in store.feeds.statuses(NOW)}
    assert (statuses["Danas"].health, statuses["Danas"].items) == ("disabled", 1)
    assert store.feeds.claim_due("w", NOW, limit=10, lease=LEASE) == ["N1"]
    store.close()


def test_an_adopted_permanent_move_is_what_the_feed_fetches_from(database_url):
    store = open_store(database_url)
    moved = "https://n1.example/rss/"

    save(store, "N1", [], poll=record(moved_to=moved), now=NOW)
    candidate = store.feeds.state("N1", NOW)
    save(store, "N1", [], poll=record(adopt_url=moved), now=NOW)
    adopted = store.feeds.state("N1", NOW)

    assert (candidate.url, candidate.moved_to) == ("https://n1.example/feed/", moved)
    assert (adopted.url, adopted.moved_to) == (moved, None)
    store.close()


def test_quiet_polls_saved_together_each_update_their_own_feed(database_url):
    store = open_store(database_url, ("N1", "Danas", "RFE"))
    claimed = store.feeds.claim_due("w", NOW, limit=10, lease=LEASE)
    store.feeds.record_failure("Danas", "http", "HTTP 500", NOW, NOW)
    later = NOW + timedelta(minutes=1)

    store.feeds.record_quiet_polls(
        [
            (
                "N1",
                record(validators=Validators('"n1"', None), body_hash="h1", fingerprints=frozenset({"a"})),
                NOW,
            ),
            ("Danas", record(next_poll=NOW + timedelta(hours=1), warning="not well-formed"), later),
            ("RFE", record(adopt_url="https://rfe.example/rss/"), NOW),
        ]
    )

    states = store.feeds.states(["N1", "Danas", "RFE"], NOW)
    statuses = {status.name: status for status in store.feeds.statuses(NOW)}
    assert sorted(claimed) == ["Danas", "N1", "RFE"]
    assert (states["N1"].validators.etag, states["N1"].body_hash, states["N1"].fingerprints) == (
        '"n1"',
        "h1",
        frozenset({"a"}),
    )
    assert (states["Danas"].failures, states["Danas"].warning) == (0, "not well-formed")
    assert (statuses["Danas"].health, statuses["Danas"].last_success) == ("ok", later)
    assert states["RFE"].url == "https://rfe.example/rss/"
    assert store.feeds.next_due() == NOW + timedelta(minutes=15)  # leases released, next polls set
    store.close()


def test_items_per_day_counts_the_last_week_over_the_span_it_covers(database_url):
    store = open_store(database_url)
    week = [
        Item("N1", f"n1-{hours}", "t", "", f"https://n1.example/{hours}/", NOW - timedelta(hours=hours))
        for hours in range(0, 96, 4)  # 24 items over four days: six a day
    ]
    old = Item("N1", "n1-old", "t", "", "https://n1.example/old/", NOW - timedelta(days=30))
    save(store, "N1", [*week, old], poll=record(), now=NOW)

    assert round(store.feeds.state("N1", NOW).items_per_day or 0, 2) == round(24 / (92 / 24), 2)
    store.close()


# --- one item per story ---------------------------------------------------------------------


def story(feed: str, guid: str, link: str, title: str = "BIA: negativna bezbednosna procena") -> Item:
    return Item(feed, guid, title, "Ruski državljanin dobio je rešenje o otkazu boravka.", link, NOW)


def test_the_same_story_in_two_feeds_is_one_item_seen_in_both(database_url):
    store = open_store(database_url, ("N1", "Danas"))
    bia = {"bia": [MATCH]}

    first = save(
        store,
        "N1",
        [story("N1", "n1-77", "https://n1info.rs/vesti/bia-procena/?utm_source=rss")],
        {"n1-77": bia},
    )
    second = save(
        store,
        "Danas",
        [story("Danas", "danas-9", "http://www.n1info.rs/vesti/bia-procena#top")],
        {"danas-9": bia},
    )
    again = save(
        store,
        "Danas",
        [story("Danas", "danas-9", "http://www.n1info.rs/vesti/bia-procena#top")],
        {"danas-9": bia},
    )

    assert (first, second, again) == (Saved(1, 0, 1), Saved(0, 0, 0), Saved(0, 0, 0))
    assert len(store.hits.find()) == 1
    statuses = {status.name: status.items for status in store.feeds.statuses(NOW)}
    assert statuses == {"N1": 1, "Danas": 0}  # items are counted where they were first seen
    assert set(store.items.lookup("Danas", [story("Danas", "danas-9", "")])) == {"danas-9"}
    store.close()


def test_a_story_republished_under_a_new_guid_is_not_a_new_item(database_url):
    store = open_store(database_url)
    save(store, "N1", [story("N1", "n1-1", "https://n1info.rs/vesti/a/")], {"n1-1": {"bia": [MATCH]}})

    again = save(
        store,
        "N1",
        [story("N1", "n1-1-republished", "https://n1info.rs/vesti/a")],
        {"n1-1-republished": {"bia": [MATCH]}},
    )

    assert again == Saved(0, 0, 0)
    assert len(store.hits.find()) == 1
    store.close()


def test_an_edited_story_is_updated_and_hits_only_when_it_newly_matches(database_url):
    store = open_store(database_url)
    link = "https://n1info.rs/vesti/b/"
    plain = story("N1", "n1-2", link, title="Vesti iz Beograda")
    edited = story("N1", "n1-2", link, title="BIA: Vesti iz Beograda")
    match = Match("BIA", ("BIA",), (Span("title", 0, 3, "BIA"),))

    first = save(store, "N1", [plain])
    second = save(store, "N1", [edited], {"n1-2": {"bia": [match]}})
    third = save(
        store,
        "N1",
        [story("N1", "n1-2", link, title="BIA: Vesti iz Beograda (dopunjeno)")],
        {"n1-2": {"bia": [match]}},
    )

    assert (first, second, third) == (Saved(1, 0, 0), Saved(0, 1, 1), Saved(0, 1, 0))
    [hit] = store.hits.find()
    assert hit.item.title == "BIA: Vesti iz Beograda (dopunjeno)"
    store.close()


def test_upgrading_to_0003_keeps_both_copies_of_a_story_stored_twice(database_url):
    database_at(
        database_url,
        "0002",
        (
            "INSERT INTO feeds (id, name, url, created_at) VALUES "
            "(1, 'N1', 'https://n1.example/feed/', :now), "
            "(2, 'Danas', 'https://danas.example/feed/', :now)"
        ),
        (
            "INSERT INTO items (feed_id, guid, title, summary, link, published_at, first_seen_at) VALUES "
            "(1, 'a', 'BIA', '', 'https://n1info.rs/x/?utm_medium=rss', :now, :now), "
            "(2, 'b', 'BIA', '', 'https://n1info.rs/x', :now, :now)"
        ),
    )

    store = open_store(database_url, ("N1", "Danas"))

    statuses = {status.name: status.items for status in store.feeds.statuses(NOW)}
    assert statuses == {"N1": 1, "Danas": 1}
    assert store.items.lookup("N1", [story("N1", "a", "")])["a"].sighted
    assert store.items.lookup("Danas", [story("Danas", "b", "")])["b"].sighted
    store.close()


def test_two_outlets_wording_one_story_differently_is_not_an_edit(database_url):
    store = open_store(database_url, ("N1", "Danas"))
    link = "https://n1info.rs/vesti/c/"
    n1 = story("N1", "n1-3", link, title="BIA: procena")
    danas = story("Danas", "danas-3", link, title="Negativna procena BIA za ruskog aktivistu")

    results = [
        save(store, "N1", [n1]),
        save(store, "Danas", [danas]),
        save(store, "N1", [n1]),
        save(store, "Danas", [danas]),
    ]

    assert results == [Saved(1, 0, 0), Saved(0, 0, 0), Saved(0, 0, 0), Saved(0, 0, 0)]
    [status] = [s for s in store.feeds.statuses(NOW) if s.name == "N1"]
    assert status.items == 1
    store.close()


def test_posts_under_one_link_with_other_titles_are_stories_of_their_own(database_url):
    store = open_store(database_url, ("Ticker",))
    live = "https://rbc.ru/live/"
    posts = [story("Ticker", f"t-{n}", live, title=title) for n, title in enumerate(TICKER)]
    tagged = story("Ticker", "t-9", live, title=TICKER[0] + " (VIDEO)")  # the first post again

    saved = [save(store, "Ticker", posts[:2]), save(store, "Ticker", [*posts, tagged])]

    assert [each.items for each in saved] == [2, 1]
    assert {s.name: s.items for s in store.feeds.statuses(NOW)} == {"Ticker": 3}
    store.close()


TICKER = (
    "BIA saslušala ruskog aktivistu",
    "Vlada usvojila budžet za 2027. godinu",
    "Požar u Novom Sadu ugašen",
)


def test_a_feed_showing_only_the_latest_post_under_one_link_keeps_each_post(database_url):
    store = open_store(database_url, ("Latest",))
    live = "https://rbc.ru/live/"

    saved = [
        save(store, "Latest", [story("Latest", f"l-{n}", live, title=title)])
        for n, title in enumerate(TICKER)
    ]

    assert [each.items for each in saved] == [1, 1, 1]
    store.close()


def test_a_stopping_worker_hands_back_what_it_claimed(database_url):
    store = open_store(database_url, ("N1", "Danas"))
    assert len(store.feeds.claim_due("stopping", NOW, limit=10, lease=LEASE)) == 2
    store.feeds.claim_due("other", NOW, limit=10, lease=LEASE)

    store.feeds.release_leases("stopping")

    assert sorted(store.feeds.claim_due("other", NOW, limit=10, lease=LEASE)) == ["Danas", "N1"]
    store.close()


MESSAGE_ID = "<digest.1@example.org>"


def digest(store: Store, hit_ids, recipients=("desk@example.org", "lawyer@example.org")):
    return store.messages.record(
        watchlist="relocants",
        recipients=[Recipient(address, "email") for address in recipients],
        message=Message("digest", MESSAGE_ID, b"Message-ID: " + MESSAGE_ID.encode() + b"\r\n\r\nBIA\r\n"),
        hit_ids=hit_ids,
        now=NOW,
    )


def addresses(outgoing: Outgoing) -> tuple[str, ...]:
    return tuple(recipient.address for recipient in outgoing.waiting)


def test_a_hit_claimed_by_one_digest_fails_the_record_of_another_whole(database_url):
    store = open_store(database_url)
    first, second = (Item("N1", f"n1-{n}", "BIA", "", f"https://n1info.rs/{n}/", NOW) for n in (1, 2))
    save(store, "N1", [first, second], {item.id: {"relocants": [MATCH]} for item in (first, second)})
    older, newer = sorted(hit.id for hit in store.hits.find())
    digest(store, [older])

    with pytest.raises(ClaimedError, match="another digest run of watchlist 'relocants' is sending"):
        digest(store, [newer, older])

    assert [run.hits for run in store.messages.runs("relocants")] == [1]
    assert [hit.id for hit in store.hits.find(waiting="digest")] == [newer]
    store.close()


def test_a_digest_is_delivered_once_nobody_waits_for_it(database_url):
    store = open_store(database_url)
    save(store, "N1", [ITEM], {ITEM.id: {"relocants": [MATCH]}})
    [hit] = store.hits.find()
    outgoing = digest(store, [hit.id])

    waiting = store.messages.record_attempt(
        outgoing.id,
        {"desk@example.org": Attempt("sent"), "lawyer@example.org": Attempt("failed_temporary", "451 x")},
        NOW,
    )
    [still] = store.messages.waiting("relocants")
    [meanwhile] = store.hits.find()
    done = store.messages.record_attempt(
        outgoing.id, {"lawyer@example.org": Attempt("refused", "550 no such user")}, LATER
    )

    assert (waiting.status, waiting.error) == ("pending", "not yet delivered to lawyer@example.org: 451 x")
    assert (addresses(still), still.message, meanwhile.delivered) == (
        ("lawyer@example.org",),
        outgoing.message,
        None,
    )
    assert store.hits.find()[0].delivered == LATER
    assert (done.status, done.error) == ("partial", "refused lawyer@example.org: 550 no such user")
    assert [(d.recipient, d.state, d.attempts, d.sent) for d in done.deliveries] == [
        ("desk@example.org", "sent", 1, NOW),
        ("lawyer@example.org", "refused", 2, None),
    ]
    assert store.messages.waiting("relocants") == [] and store.hits.find(waiting="digest") == []
    store.close()


def test_a_waiting_digest_is_held_by_one_sender_until_it_records_its_try_or_its_lease_runs_out(
    database_url,
):
    store = open_store(database_url)
    save(store, "N1", [ITEM], {ITEM.id: {"relocants": [MATCH]}})
    [hit] = store.hits.find()
    made = digest(store, [hit.id])  # recorded without a lease: anyone may send it

    first = store.messages.claim(made.id, NOW, LEASE)
    second = store.messages.claim(made.id, NOW + LEASE - timedelta(seconds=1), LEASE)
    store.messages.record_attempt(
        made.id,
        {"desk@example.org": Attempt("sent"), "lawyer@example.org": Attempt("failed_temporary", "451")},
        NOW,
    )
    third = store.messages.claim(made.id, NOW, LEASE)  # the try was recorded: free again
    during = store.messages.claim(made.id, NOW + timedelta(seconds=1), LEASE)
    after = store.messages.claim(made.id, NOW + LEASE + timedelta(seconds=1), LEASE)  # its sender died
    store.messages.record_attempt(made.id, {"lawyer@example.org": Attempt("sent")}, LATER)

    assert first is not None and addresses(first) == ("desk@example.org", "lawyer@example.org")
    assert (second, during) == (None, None)
    assert third is not None and (addresses(third), third.tries) == (("lawyer@example.org",), 1)
    assert after is not None and after.message == made.message
    assert store.messages.claim(made.id, LATER, LEASE) is None  # nobody waits for it any more
    store.close()


def test_the_periodic_retry_sees_a_waiting_digest_only_once_its_retry_time_has_come(database_url):
    store = open_store(database_url)
    save(store, "N1", [ITEM], {ITEM.id: {"relocants": [MATCH]}})
    [hit] = store.hits.find()
    made = digest(store, [hit.id])
    store.messages.record_attempt(
        made.id,
        {"desk@example.org": Attempt("failed_temporary", "451"), "lawyer@example.org": Attempt("sent")},
        NOW,
        retry_at=LATER,
    )

    assert [o.id for o in store.messages.waiting("relocants", due=LATER - timedelta(seconds=1))] == []
    assert [o.id for o in store.messages.waiting("relocants", due=LATER)] == [made.id]
    assert [o.id for o in store.messages.waiting("relocants")] == [made.id]  # a run by hand tries it anyway
    store.close()


def test_upgrading_a_0003_database_keeps_its_digest_runs_and_sends_only_undelivered_hits(database_url):
    database_at(
        database_url,
        "0003",
        "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'N1', 'https://n1.example/feed/', :now)",
        (
            "INSERT INTO items (id, feed_id, guid, title, summary, link, published_at, first_seen_at) VALUES "
            "(1, 1, 'n1-1', 'BIA', '', 'https://n1.example/1/', :now, :now), "
            "(2, 1, 'n1-2', 'BIA opet', '', 'https://n1.example/2/', :now, :now)"
        ),
        (
            "INSERT INTO hits (id, item_id, watchlist, matches, created_at, delivered_at) VALUES "
            "(1, 1, 'relocants', '[]', :now, :now), (2, 2, 'relocants', '[]', :now, NULL)"
        ),
        (
            "INSERT INTO digests (watchlist, created_at, recipients, message_id, hit_count, status, error) "
            "VALUES ('relocants', :now, '[\"desk@example.org\"]', '<old@example.org>', 1, 'sent', NULL), "
            "('relocants', :now, '[\"desk@example.org\"]', '<older@example.org>', 1, 'failed', 'SMTP: 451'), "
            "('relocants', :now, '[\"desk@example.org\"]', NULL, 0, 'empty', NULL)"
        ),
    )

    store = open_store(database_url)

    runs = store.messages.runs("relocants")
    assert sorted((run.status, run.message_id, run.error, run.deliveries) for run in runs) == [
        ("empty", None, None, ()),
        ("failed", "<older@example.org>", "SMTP: 451", ()),
        ("sent", "<old@example.org>", None, ()),
    ]
    assert all(run.recipients == ("desk@example.org",) for run in runs)
    assert store.messages.waiting("relocants") == []  # no message was kept before: nothing to send again
    assert store.messages.last_delivery("relocants") == NOW
    assert [hit.id for hit in store.hits.find(waiting="digest")] == [2]
    outgoing = digest(store, [2], recipients=["desk@example.org"])
    store.messages.record_attempt(outgoing.id, {"desk@example.org": Attempt("sent")}, LATER)
    assert [hit.delivered for hit in sorted(store.hits.find(), key=lambda hit: hit.id)] == [NOW, LATER]
    store.close()


def test_upgrading_a_0008_database_stores_each_recipients_channel_as_its_name_told_it(database_url):
    hook = "json://127.0.0.1:9/hook"
    database_at(
        database_url,
        "0008",
        (
            "INSERT INTO digests (watchlist, created_at, recipients, message_id, message, hit_count, "
            "status, kind, notice) VALUES "
            "('relocants', :now, '[]', '<old@example.org>', :message, 0, 'sent', 'digest', NULL), "
            "('relocants', :now, '[]', '<new@example.org>', :message, 0, 'pending', 'alert', "
            '\'{"title": "BIA", "body": "BIA saslušala"}\')'
        ),
        *(
            "INSERT INTO deliveries (digest_id, recipient, state, attempts) SELECT id, "
            f"{delivery} FROM digests WHERE message_id = '<{which}@example.org>'"
            for which, delivery in [
                ("old", "'desk@example.org', 'sent', 1"),
                ("new", "'desk@example.org', 'pending', 0"),
                ("new", f"'{hook}', 'failed_temporary', 1"),
            ]
        ),
        message=b"Message-ID: <new@example.org>\r\n\r\nBIA\r\n",
    )

    store = open_store(database_url)
    [waiting] = store.messages.waiting("relocants")
    with store.database.engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT digests.message_id, recipient, channel FROM deliveries "
                "JOIN digests ON digests.id = deliveries.digest_id ORDER BY digests.id, recipient"
            )
        ).all()
    made = store.messages.record(
        watchlist="relocants",
        recipients=[Recipient("ops", "apprise")],  # told by what it is, not by its name
        message=Message("digest", MESSAGE_ID, b"x"),
        hit_ids=[],
        now=LATER,
    )

    assert [tuple(row) for row in stored] == [
        ("<old@example.org>", "desk@example.org", "email"),
        ("<new@example.org>", "desk@example.org", "email"),
        ("<new@example.org>", hook, "apprise"),
    ]
    assert waiting.waiting == (Recipient("desk@example.org", "email"), Recipient(hook, "apprise"))
    assert (waiting.tries, waiting.message.kind, waiting.message.notice) == (
        1,
        "alert",
        Notice("BIA", "BIA saslušala"),
    )
    assert [o.waiting for o in store.messages.waiting("relocants") if o.id == made.id] == [
        (Recipient("ops", "apprise"),)
    ]
    store.close()
