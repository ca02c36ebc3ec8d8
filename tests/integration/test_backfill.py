"""`monitor backfill`: a watchlist added after the news came in finds it in the stored history,
on both backends, once; its hits go out only when asked."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import create_engine, update

from monitor.history import backfill
from monitor.models import utcnow
from monitor.store.schema import items
from tests.integration.test_store_processes import engine_url
from tests.support.cli import monitor
from tests.support.polling import text_part

SPORT = """
[[watchlists]]
name = "sport"
queries = ["fudbal*", "Kolumbij*"]
recipients = ["sport@example.org"]
digest = "daily 07:00"
alert = "immediate"
"""


def polled_then_sport_added(n1_config, database_url):
    """N1 polled while only relocants was watched; then the config gains the sport watchlist,
    which N1's football story matches."""
    config = n1_config(database_url)
    code, polled, _ = monitor(config, "poll", "--all")
    assert code == 0 and "new hits: 1" in polled
    config.write_text(config.read_text() + SPORT)
    return config


def sport_hits(config):
    _, lines, _ = monitor(config, "hits", "--watchlist", "sport", "--json", "--since", "1d")
    return [json.loads(line) for line in lines.splitlines()]


def test_backfill_finds_a_new_watchlists_hits_in_the_history_once_and_sends_none_of_them(
    database_url, n1_config, smtp_server, open_monitor
):
    config = polled_then_sport_added(n1_config, database_url)

    code, first, stderr = monitor(config, "backfill", "--watchlist", "sport")
    _, again, _ = monitor(config, "backfill", "--watchlist", "sport", "--since", "30d")
    found = sport_hits(config)
    _, sent, _ = monitor(config, "digest", "send")
    alerts = open_monitor(config).outbox.send_alerts(utcnow())

    assert code == 0 and stderr == ""
    assert (
        first.startswith("sport: 1 new hit among 1 candidate items of the stored history, in ")
        and "not to be sent" in first
    )
    assert again.startswith("sport: 0 new hits among 1 candidate items")
    assert [(hit["title"], hit["backfilled"], hit["delivered"]) for hit in found] == [
        ("Fudbal: Srbija pobedila Kolumbiju", True, False)
    ]
    assert "nothing new for sport" in sent and "sent relocants: 1 hits" in sent
    assert alerts == []
    [(recipients, message)] = smtp_server.sink.envelopes
    assert "sport@example.org" not in recipients and b"Fudbal" not in message


def test_backfill_with_deliver_sends_its_hits_with_the_next_digest(database_url, n1_config, smtp_server):
    config = polled_then_sport_added(n1_config, database_url)

    code, said, _ = monitor(config, "backfill", "-w", "sport", "--deliver")
    _, sent, _ = monitor(config, "digest", "send", "--watchlist", "sport")
    [hit] = sport_hits(config)

    assert code == 0 and said.startswith("sport: 1 new hit ") and "next digest" in said
    assert "sent sport: 1 hits" in sent
    assert (hit["backfilled"], hit["delivered"]) == (True, True)
    [message] = smtp_server.sink.messages
    assert message["To"] == "sport@example.org" and "* *Fudbal*: Srbija pobedila *Kolumbiju*" in text_part(
        message
    )


def test_backfill_since_matches_only_items_published_that_recently(database_url, n1_config):
    config = polled_then_sport_added(n1_config, database_url)
    long_ago = utcnow() - timedelta(days=90)
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:  # as if polled three months ago
        connection.execute(update(items).values(first_seen_at=long_ago, published_at=long_ago))
    engine.dispose()

    _, recent, _ = monitor(config, "backfill", "-w", "sport", "--since", "30d")
    _, everything, _ = monitor(config, "backfill", "-w", "sport")

    assert recent.startswith("sport: 0 new hits among 0 candidate items")
    assert everything.startswith("sport: 1 new hit among 1 candidate items")


def test_backfill_of_a_watchlist_not_in_the_config_is_a_clear_error(tmp_path, n1_config):
    config = n1_config(f"sqlite:///{tmp_path / 'm.db'}")

    code, _, stderr = monitor(config, "backfill", "--watchlist", "sprot")
    missing = monitor(config, "backfill")

    assert code == 2 and "no watchlist named 'sprot'; the watchlists are: relocants" in stderr
    assert missing[0] == 2 and "Missing option '--watchlist'" in missing[2]
    assert "Traceback" not in stderr + missing[2]


def test_backfill_a_batch_at_a_time_finds_what_one_batch_finds(database_url, n1_config, open_monitor):
    config = polled_then_sport_added(n1_config, database_url)
    config.write_text(
        config.read_text()
        + SPORT.replace('"sport"', '"serbia"').replace('"fudbal*", "Kolumbij*"', '"Srbija", "BIA"')
    )
    app = open_monitor(config)
    serbia = app.config.watchlist("serbia")

    one_by_one = backfill(app.store, app.matcher, app.config, serbia, None, utcnow(), deliver=False, batch=1)
    again = backfill(app.store, app.matcher, app.config, serbia, None, utcnow(), deliver=False, batch=1000)

    assert (one_by_one.items, one_by_one.hits) == (3, 3)
    assert (again.items, again.hits) == (3, 0)
