"""Full article text, over real HTTP on loopback: a feed read in full text has each new item's
page fetched and read in the parse workers, so a term only in the article makes a hit whose
snippet comes from the article; search and backfill read the stored text; pages that fail leave
their items matched on the feed and show in `monitor feeds`; a poll reads the pages of its
newest items only."""

from __future__ import annotations

import json

from monitor.models import utcnow
from monitor.polling.poller import ARTICLES_PER_POLL
from tests.support.articles import FAMILY as STORY
from tests.support.articles import news_page, shell_page
from tests.support.cli import monitor
from tests.support.feeds import rss
from tests.support.polling import poll, text_part

# headlines and leads that name no watched term; the term is in the article's third paragraph
ENTRIES = [
    ("dn-1", "Poslednje nedelje jedne porodice u Novom Sadu", "Kako žive oni koji su došli 2022."),
    ("dn-2", "Zima u Beogradu", "Prognoza za narednu sedmicu."),
]
WEATHER = [
    "Sledeće nedelje u Beogradu očekuje se sneg, a temperature će padati do minus pet.",
    "Republički hidrometeorološki zavod upozorava vozače na poledicu na putevima.",
    "Za vikend se očekuje razvedravanje i sunčani periodi.",
]
FULLTEXT = "fulltext = true"


def serve_daily(feed_server, entries=ENTRIES, pages=None):
    """Danas's feed of ``entries`` at /danas.xml, each item's page at /clanak/GUID/."""
    pages = (
        pages
        if pages is not None
        else {"dn-1": news_page(ENTRIES[0][1], STORY), "dn-2": news_page(ENTRIES[1][1], WEATHER)}
    )
    for guid, page in pages.items():
        if isinstance(page, dict):
            feed_server.serve(f"/clanak/{guid}/", **page)
        else:
            feed_server.serve(f"/clanak/{guid}/", page, content_type="text/html; charset=utf-8")
    return feed_server.serve("/danas.xml", rss("Danas", feed_server.url("/clanak"), entries))


def read_in_full(write_config, url: str, database_url: str, smtp_server):
    """A config that reads Danas's feed at ``url`` in full text."""
    return write_config(
        {"Danas": url},
        database_url=database_url,
        smtp_port=smtp_server.port,
        feed_settings={"Danas": FULLTEXT},
    )


def page_requests(feed_server) -> list[str]:
    return [path for path, _ in feed_server.log if path.startswith("/clanak/")]


def test_a_term_only_in_the_article_makes_a_hit_whose_snippet_is_from_the_article(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = serve_daily(feed_server)
    config = read_in_full(write_config, url, database_url, smtp_server)
    app = open_monitor(config, parse_workers=2)  # pages read in worker processes

    summary = poll(app)
    app.outbox.send_digests(utcnow())

    assert (summary.new_items, summary.new_hits, summary.failed) == (2, 1, 0)
    assert sorted(page_requests(feed_server)) == ["/clanak/dn-1/", "/clanak/dn-2/"]
    [hit] = app.store.hits.find(watchlist="relocants")
    assert hit.item.title == ENTRIES[0][1] and STORY[2] in hit.item.body
    assert "Politika" not in hit.item.body  # the site's menu is not the story
    assert [(span.field, span.text) for match in hit.matches for span in match.spans] == [("body", "BIA")]
    [message] = smtp_server.sink.messages
    text = text_part(message)
    assert "Bezbednosno-informativna agencija (*BIA*) dala negativnu" in text  # the snippet, from the article
    assert "Kako žive oni koji su došli 2022." not in text

    code, found, _ = monitor(config, "search", "--json", "--since", "3650d", "bezbednosn* procen*")
    assert code == 0
    [item] = [json.loads(line) for line in found.splitlines()]
    assert item["title"] == ENTRIES[0][1] and item["spans"][0][0] == "body"


def test_a_feed_not_read_in_full_text_fetches_no_page_and_misses_what_only_the_article_says(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = serve_daily(feed_server)
    config = write_config({"Danas": url}, database_url=database_url, smtp_port=smtp_server.port)

    summary = poll(open_monitor(config))

    assert (summary.new_items, summary.new_hits) == (2, 0)
    assert page_requests(feed_server) == []


def test_a_watchlists_fulltext_reads_its_feeds_and_backfill_finds_the_stored_text(
    feed_server, smtp_server, database_url, write_config
):
    url = serve_daily(feed_server)
    reader = """
[[watchlists]]
name = "reader"
queries = ["sneg"]
recipients = ["desk@example.org"]
fulltext = true
"""
    config = write_config(
        {"Danas": url},
        database_url=database_url,
        smtp_port=smtp_server.port,
        queries=["fudbal"],
        extra=reader,
    )
    code, polled, _ = monitor(config, "poll", "--all")
    assert code == 0 and "new hits: 1" in polled  # "sneg" is in the weather story's article only

    config.write_text(config.read_text().replace("queries = ['fudbal']", "queries = ['BIA']"))
    code, backfilled, _ = monitor(config, "backfill", "--watchlist", "relocants")

    assert code == 0 and backfilled.startswith("relocants: 1 new hit among 1 candidate items")


def test_pages_that_fail_leave_their_items_matched_on_the_feed_and_show_in_feeds(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    entries = [
        ("dn-1", "Poslednje nedelje jedne porodice u Novom Sadu", "Kako žive oni koji su došli 2022."),
        ("dn-2", "Relokanti traže advokate", "Udruženje beleži sve više poziva."),
        ("dn-3", "Zatvoreno za čitaoce", "Tekst za pretplatnike."),
        ("dn-4", "Nestala stranica", "Link više ne radi."),
    ]
    pages = {
        "dn-1": news_page(entries[0][1], STORY),
        "dn-2": {"body": shell_page(), "content_type": "text/html"},  # filled by its scripts
        "dn-3": {"body": "Forbidden", "status": 403, "content_type": "text/plain"},
    }  # dn-4: 404
    url = serve_daily(feed_server, entries, pages)
    config = read_in_full(write_config, url, database_url, smtp_server)
    app = open_monitor(config)

    summary = poll(app)

    assert (summary.new_items, summary.new_hits, summary.failed) == (4, 2, 0)
    assert {hit.item.title for hit in app.store.hits.find(watchlist="relocants")} == {
        entries[0][1],  # BIA, in its article
        entries[1][1],  # relokanti, in its title: its page failed, its feed's words are matched
    }
    code, table, _ = monitor(config, "feeds", "--json")
    [status] = [json.loads(line) for line in table.splitlines()]
    assert code == 0 and status["health"] == "ok"
    assert status["warning"].startswith("3 of 4 article pages could not be read (")

    # the next poll's pages all read: the warning goes
    entries.append(("dn-5", "Jutro u Beogradu", "Kratke vesti."))
    serve_daily(feed_server, entries, {"dn-5": news_page("Jutro u Beogradu", WEATHER)})
    poll(app)
    _, table, _ = monitor(config, "feeds", "--json")
    assert json.loads(table.splitlines()[0])["warning"] is None


def test_a_poll_reads_the_pages_of_its_newest_new_items_only(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    count = ARTICLES_PER_POLL + 10
    entries = [(f"dn-{n}", f"Vest broj {n}", "Kratko.") for n in range(count)]  # dn-0 is the oldest
    url = serve_daily(feed_server, entries, {guid: news_page(title, WEATHER) for guid, title, _ in entries})
    config = read_in_full(write_config, url, database_url, smtp_server)

    summary = poll(open_monitor(config))

    assert summary.new_items == count
    assert sorted(page_requests(feed_server)) == sorted(f"/clanak/dn-{n}/" for n in range(10, count))


def test_an_edited_item_asks_its_page_again_conditionally_and_an_updated_article_makes_a_hit(
    feed_server, smtp_server, database_url, write_config, open_monitor
):
    url = serve_daily(feed_server)
    config = read_in_full(write_config, url, database_url, smtp_server)
    app = open_monitor(config)
    poll(app)  # the weather story: no hit

    # the outlet updates the story, its headline and its page: the agency is named now
    updated = [(ENTRIES[0]), ("dn-2", "Zima u Beogradu (ažurirano)", ENTRIES[1][2])]
    serve_daily(feed_server, updated, {"dn-2": news_page(updated[1][1], [*WEATHER, STORY[2]])})
    second = poll(app)
    # the headline changes again; the page does not (the server answers 304)
    again = [(ENTRIES[0]), ("dn-2", "Zima u Beogradu, sneg do ponedeljka", ENTRIES[1][2])]
    feed_server.serve("/danas.xml", rss("Danas", feed_server.url("/clanak"), again))
    third = poll(app)

    assert feed_server.statuses("/clanak/dn-2/") == [200, 200, 304]
    assert (second.new_hits, third.new_hits) == (1, 0)
    [hit] = [hit for hit in app.store.hits.find(watchlist="relocants") if hit.item.link.endswith("/dn-2/")]
    assert hit.item.title == again[1][1] and STORY[2] in hit.item.body  # the text read before, kept
    code, found, _ = monitor(config, "search", "--json", "--since", "3650d", "bezbednosn* procen*")
    assert code == 0 and len(found.splitlines()) == 2  # the edit's index still holds its article
