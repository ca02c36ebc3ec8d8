"""Stories at store time, on each backend: the reports of one story, from several outlets and in
both scripts, name its first report; another story the same day does not; a process started
later, and one storing beside another, join the stories already stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.models import Item
from monitor.store import Store
from monitor.store.schema import items
from tests.integration.test_store import NOW, engine_url, save
from tests.support.processes import go, ready
from tests.support.stories import OTHER, STORY, published

OUTLETS = tuple(STORY)
WHEN = published(NOW)


def report(outlet: str, title: str, summary: str, at=None) -> Item:
    return Item(
        outlet, f"{outlet}-1", title, summary, f"https://{outlet.lower()}.example/1/", at or WHEN[outlet]
    )


def stories(store: Store) -> dict[str, int]:
    """Each stored item's story, by its feed's guid: its first report's id."""
    with store.database.tx() as connection:
        rows = connection.execute(select(items.c.guid, items.c.id, items.c.story_id)).all()
    return {row.guid: row.story_id or row.id for row in rows}


def opened(database_url: str) -> Store:
    store = Store(engine_url(database_url))
    store.feeds.sync([(name, f"https://{name.lower()}.example/feed/", True) for name in OUTLETS], NOW)
    return store


def test_four_outlets_in_two_scripts_tell_one_story_and_another_expulsion_is_its_own(database_url):
    store = opened(database_url)
    for outlet, (title, summary) in STORY.items():
        save(store, outlet, [report(outlet, title, summary)])
    save(store, "N1", [Item("N1", "N1-2", *OTHER, "https://n1.example/2/", NOW + timedelta(hours=1))])

    found = stories(store)

    assert {found[f"{outlet}-1"] for outlet in OUTLETS} == {found["N1-1"]}
    assert found["N1-2"] != found["N1-1"]
    store.close()


def test_an_agencys_report_reprinted_word_for_word_is_stored_with_its_story(database_url):
    store = opened(database_url)
    title, summary = STORY["N1"]
    save(store, "N1", [report("N1", title, summary)])
    save(store, "Danas", [report("Danas", title, summary)])  # the index told N1's report
    # a feed carrying the report twice (two guids, two links) joins the story once
    twice = [
        report("Nova", title, summary),
        Item("Nova", "Nova-2", title, summary, "https://nova.example/2/", WHEN["Nova"]),
    ]
    save(store, "Nova", twice)

    found = stories(store)

    assert found["Danas-1"] == found["Nova-1"] == found["N1-1"]
    assert found["Nova-2"] not in (found["N1-1"], None)  # a story of its own: Nova told this one
    store.close()


def test_a_report_days_later_is_a_new_story(database_url):
    store = opened(database_url)
    save(store, "N1", [report("N1", *STORY["N1"])])
    save(store, "Danas", [report("Danas", *STORY["Danas"], at=NOW + timedelta(days=3))])

    found = stories(store)

    assert found["Danas-1"] != found["N1-1"]
    store.close()


def test_a_store_opened_later_joins_the_stories_stored_before(database_url):
    first = opened(database_url)
    save(first, "N1", [report("N1", *STORY["N1"])])
    first.close()

    later = opened(database_url)
    save(later, "RTS", [report("RTS", *STORY["RTS"])])

    found = stories(later)
    assert found["RTS-1"] == found["N1-1"]
    later.close()


STORER = """
import sys
from datetime import timedelta
from monitor.models import Item
from monitor.store import Store
from tests.integration.test_store import NOW, save
from tests.integration.test_stories import report
from tests.support.stories import STORY
store = Store(sys.argv[1])
outlet = sys.argv[2]
weather = Item(outlet, "weather", "Vremenska prognoza", "Sunčano.", "https://x.example/w/", NOW)
save(store, outlet, [weather])  # the first save reads the stories stored so far
print("ready", flush=True)
sys.stdin.readline()
save(store, outlet, [report(outlet, *STORY[outlet])])
print("saved", flush=True)
"""


def test_workers_in_two_processes_join_each_others_stories(database_url, tmp_path: Path):
    """Each process has read the stories before the other stores its report: the one storing
    second catches up with what the first stored, and joins it."""
    store = opened(database_url)
    url = engine_url(database_url)
    n1, danas = ready(STORER, url, "N1"), ready(STORER, url, "Danas")

    for worker in (n1, danas):
        go(*worker)
        out, err = worker[0].communicate(timeout=60)
        assert out.endswith("saved\n"), err

    found = stories(store)
    assert found["Danas-1"] == found["N1-1"]
    store.close()
