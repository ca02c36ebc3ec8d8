"""`monitor search` over polled items on each backend: it finds what `monitor match` finds on the
same items, in English, Russian and Serbian in both scripts; the index follows edits, deletes
and migrations; user mistakes are one clear message."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.match import Matcher
from monitor.models import Item
from monitor.store import Store, search
from tests.integration.test_store import NOW, database_at, engine_url, open_store, save, story
from tests.support.cli import monitor
from tests.support.feeds import Entry, rss

NEWS: dict[str, tuple[str, list[Entry]]] = {
    "Guardian": (
        "en",
        [
            ("g-1", "Relocants leave Serbia", "Two relocants said the security agency BIA questioned them."),
            ("g-2", "Serbia beat Colombia", "No bias, said the coach; Bia Beach was packed."),
            ("g-3", "Expulsion of activists condemned", "The expelled activist had lived in Belgrade."),
            ("g-4", "BIA chief resigns", "The football season starts in Belgrade."),
        ],
    ),
    "Meduza": (
        "ru",
        [
            ("m-1", "Высылка релокантов из Сербии", "МВД сообщило о высылке двух активистов."),
            ("m-2", "Релоканты в Белграде", "Сербские спецслужбы (БИА) вызвали их на беседу."),
            ("m-3", "Путин выслал дипломатов", "Ёлка на площади, пишут СМИ."),
        ],
    ),
    "N1": (
        "sr",
        [
            (
                "n-1",
                "BIA-e saopštenje o relokantima",
                "Proterivanje ruskih aktivista se nastavlja.",
            ),
            ("n-2", "Crna Gora i Srbija potpisale sporazum", "Fudbal: Bia je dala gol."),
            ("n-3", "Proterani aktivista", "Relokanti strahuju od BIA."),
            ("n-4", "Relokanti u Novom Sadu", "Ruski relokanti otvorili su kafić."),
        ],
    ),
    "RTS": (
        "sr",
        [
            ("r-1", "Протеривање релоканата из Србије", "БИА-е није дала мишљење."),
            ("r-2", "Споразум са Црном Гором", "Србија и Црна Гора потписале су споразум у Будви."),
            ("r-3", "Фудбал: Србија победила", "Бија је име играчице."),
        ],
    ),
}
QUERIES = [
    "relokant*",
    "relocant",
    "BIA",
    "высылка",
    "релоканты",
    "proterivanje",
    "expulsion OR expel",
    '"Crna Gora" NEAR/5 Srbija',
    "relokanti -BIA",
    "BIA NOT fudbal",
    "title:BIA",
    "-fudbal OR BIA",  # no condition the index can hold: a scan
]


def write_search_config(tmp_path: Path, feeds: dict[str, str], database_url: str) -> Path:
    """A config with the four outlets (each with its language) and a watchlist per query."""
    feed_tables = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{feeds[name]}"\nlanguage = "{language}"\n\n'
        for name, (language, _) in NEWS.items()
    )
    watchlists = "".join(
        f'[[watchlists]]\nname = "q{number}"\nqueries = [{json.dumps(query, ensure_ascii=False)}]\n'
        'recipients = ["desk@example.org"]\n\n'
        for number, query in enumerate(QUERIES)
    )
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[storage]\nurl = "{database_url}"\n\n[smtp]\nhost = "127.0.0.1"\nport = 25\n'
        f'from = "monitor@example.org"\n\n{feed_tables}{watchlists}',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def polled(feed_server, tmp_path, database_url) -> Path:
    feeds = {
        name: feed_server.serve(f"/{name}.xml", rss(name, f"https://{name.lower()}.example", entries))
        for name, (_, entries) in NEWS.items()
    }
    config = write_search_config(tmp_path, feeds, engine_url(database_url))
    code, out, err = monitor(config, "poll", "--all")
    assert code == 0, out + err
    assert "new items: 14" in out
    return config


def matched_by_match(config: Path) -> dict[str, dict[tuple[str, str], list[list[object]]]]:
    """What `monitor match --json` finds among the stored items: query → (feed, title) → spans."""
    items = [
        (feed, title, {"title": title, "summary": summary, "language": language})
        for feed, (language, entries) in NEWS.items()
        for _, title, summary in entries
    ]
    from click.testing import CliRunner

    from monitor.cli import main

    lines = "".join(json.dumps(data, ensure_ascii=False) + "\n" for _, _, data in items)
    result = CliRunner().invoke(main, ["-c", str(config), "match", "--json"], input=lines)
    assert result.exit_code == 0, result.output
    found: dict[str, dict[tuple[str, str], list[list[object]]]] = {query: {} for query in QUERIES}
    for (feed, title, _), line in zip(items, result.stdout.splitlines(), strict=True):
        for match in json.loads(line)["matches"]:
            found[match["query"]][feed, title] = match["spans"]
    return found


def searched(config: Path, query: str, *options: str) -> list[dict[str, object]]:
    code, out, err = monitor(config, "search", "--json", "--since", "3650d", *options, "--", query)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_search_finds_what_match_finds_in_every_language_and_script(polled):
    expected = matched_by_match(polled)

    for query in QUERIES:
        results = searched(polled, query)
        assert {(r["feed"], r["title"]): r["spans"] for r in results} == expected[query], query
        published = [r["published"] for r in results]
        assert published == sorted(published, reverse=True), query
        assert {"feed", "title", "url", "published", "spans"} == set(results[0]), query
    # what the agreement rests on, spelled out: inflection, both scripts, acronym case, NOT
    titles = {query: {title for _, title in expected[query]} for query in QUERIES}
    assert titles["BIA"] == {
        "Relocants leave Serbia",
        "BIA chief resigns",
        "BIA-e saopštenje o relokantima",
        "Proterani aktivista",
        "Протеривање релоканата из Србије",
    }  # not "Bia Beach", "Bia je dala gol" nor "Бија"
    assert titles["proterivanje"] >= {"BIA-e saopštenje o relokantima", "Протеривање релоканата из Србије"}
    assert titles["высылка"] == {"Высылка релокантов из Сербии"}
    assert titles['"Crna Gora" NEAR/5 Srbija'] == {
        "Crna Gora i Srbija potpisale sporazum",
        "Споразум са Црном Гором",
    }
    assert titles["relokanti -BIA"] == {"Relokanti u Novom Sadu"}
    assert "Crna Gora i Srbija potpisale sporazum" not in titles["BIA NOT fudbal"]


def test_search_limits_filters_by_feed_and_highlights_in_its_table(polled):
    [newest] = searched(polled, "BIA", "--limit", "1")
    in_rts = searched(polled, "BIA", "--feed", "RTS")
    code, table, _ = monitor(polled, "search", "relokant*", "--since", "3650d")

    assert newest == searched(polled, "BIA")[0]
    assert [r["title"] for r in in_rts] == ["Протеривање релоканата из Србије"]
    assert in_rts[0]["url"] == "https://rts.example/r-1/"
    assert code == 0 and "items (times UTC)" in table and "relokantima" in table


def test_a_query_the_index_cannot_narrow_reads_every_item_and_says_so(polled):
    code, _, err = monitor(polled, "search", "--json", "--since", "3650d", "--", "-fudbal OR BIA")
    _, _, narrowed = monitor(polled, "search", "BIA", "--json", "--since", "3650d")

    assert code == 0 and "search.scan" in err
    assert "search.scan" not in narrowed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["BIA AND (relokant"], "column 9: unbalanced parenthesis"),
        (['"ruska dijaspora'], "unbalanced quote"),
        (["--", "-BIA"], "at least one term that is not negated"),
        (["BIA", "--since", "yesterday"], "--since"),
        (["BIA", "--feed", "Nowhere"], "no feed named 'Nowhere'"),
        (["BIA", "--limit", "0"], "--limit"),
    ],
)
def test_user_mistakes_are_one_clear_message(tmp_path, write_config, arguments, message):
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url="sqlite:///x.db", smtp_port=25)

    code, out, err = monitor(config, "search", *arguments)

    assert code == 2 and message in err
    assert "Traceback" not in out + err


def candidate_titles(store: Store, query: str) -> set[str]:
    matcher = Matcher({"search": [query]})
    return {stored.item.title for batch in store.search.candidates([query], matcher) for stored in batch}


def test_the_index_follows_edits_and_deleted_items(database_url):
    store = open_store(database_url)
    link = "https://n1info.rs/vesti/b/"
    save(store, "N1", [story("N1", "n1-2", link, title="Vesti iz Beograda")])
    save(store, "N1", [story("N1", "n1-3", "https://n1info.rs/vesti/c/", title="Proterani relokanti")])
    save(store, "N1", [story("N1", "n1-2", link, title="BIA o relokantima")])  # an edit

    assert candidate_titles(store, "BIA") == {"BIA o relokantima"}
    assert candidate_titles(store, "Beograd") == set()
    assert candidate_titles(store, "relokant*") == {"BIA o relokantima", "Proterani relokanti"}
    with store.database.tx() as connection:
        connection.execute(text("DELETE FROM items WHERE guid = 'n1-3'"))
        left = connection.execute(text("SELECT count(*) FROM item_words")).scalar_one()
    assert left == 1
    assert candidate_titles(store, "relokant*") == {"BIA o relokantima"}
    store.close()


def test_upgrading_indexes_the_items_already_stored(database_url):
    database_at(
        database_url,
        "0012",
        "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'N1', 'https://n1.example/feed/', :now)",
        (
            "INSERT INTO items (id, feed_id, guid, title, summary, link, published_at, first_seen_at) VALUES "
            "(1, 1, 'n1-1', 'БИА-е о релокантима', '', 'https://n1.example/1/', :now, :now), "
            "(2, 1, 'n1-2', 'Высылка релокантов', '', 'https://n1.example/2/', :now, :now), "
            "(3, 1, 'n1-3', 'Vremenska prognoza', '', 'https://n1.example/3/', :now, :now)"
        ),
    )

    store = open_store(database_url)

    assert candidate_titles(store, "BIA") == {"БИА-е о релокантима"}
    assert candidate_titles(store, "relokant") == {"БИА-е о релокантима"}
    assert candidate_titles(store, "высылка") == {"Высылка релокантов"}
    later = store.search.candidates(["prognoza"], Matcher({"s": ["prognoza"]}), since=NOW + timedelta(days=1))
    assert list(later) == []
    store.close()


def test_many_candidates_are_read_newest_first_as_few_are(database_url, monkeypatch):
    """SQLite reads many candidates another way (MANY_CANDIDATES): the same items, in the same order."""
    store = open_store(database_url)
    entries = [
        Item(
            "N1",
            f"n1-{n}",
            f"BIA o relokantima {n}",
            "",
            f"https://n1info.rs/{n}/",
            NOW - timedelta(hours=n % 7, minutes=n),
        )
        for n in range(30)
    ]
    save(store, "N1", entries)
    matcher = Matcher({"search": ["BIA"]})

    def listed() -> list[str]:
        return [s.item.id for batch in store.search.candidates(["BIA"], matcher, batch=7) for s in batch]

    few = listed()
    monkeypatch.setattr(search, "MANY_CANDIDATES", 0)
    many = listed()
    store.close()

    newest_first = sorted(entries, key=lambda entry: (entry.published, int(entry.id[3:])), reverse=True)
    assert few == many == [entry.id for entry in newest_first]


def test_a_search_reads_on_past_candidates_the_matcher_turns_down(database_url):
    store = open_store(database_url)
    bia = Item("N1", "n1-bia", "BIA o relokantima", "", "https://n1info.rs/bia/", NOW - timedelta(days=2))
    names = [  # the index holds "bia" for these too; the acronym's case turns them down
        Item("N1", f"n1-{n}", f"Bia {n} je dala gol", "", f"https://n1info.rs/{n}/", NOW - timedelta(hours=n))
        for n in range(10)
    ]
    save(store, "N1", [bia, *names])

    found = store.search.find("BIA", Matcher({"search": ["BIA"]}), {"N1": "sr"}, limit=1)
    store.close()

    assert [(item.title, [span.text for span in spans]) for item, spans in found] == [
        ("BIA o relokantima", ["BIA"])
    ]


def test_backfill_finds_what_match_finds_in_every_language_and_script(polled, database_url):
    """The polls' hits forgotten, a backfill of each watchlist finds them again from the index's
    candidates, as `monitor match` finds them."""
    expected = matched_by_match(polled)
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM hits"))
    engine.dispose()

    for number, query in enumerate(QUERIES):
        code, said, err = monitor(polled, "backfill", "--watchlist", f"q{number}")
        assert code == 0, err
        _, lines, _ = monitor(polled, "hits", "--watchlist", f"q{number}", "--json")
        found = [json.loads(line) for line in lines.splitlines()]
        assert {(hit["feed"], hit["title"]) for hit in found} == expected[query].keys(), query
        assert all(hit["backfilled"] for hit in found), query
        assert said.startswith(f"q{number}: {len(found)} new hit"), said
