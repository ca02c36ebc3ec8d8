"""What full text finds that feeds do not say: tests/data/articles.jsonl holds 50 labelled
articles we wrote whose watched topic is only in the body (40), or only in the page's furniture
or near the topic without being it (10). Served on loopback as a news site's pages under feeds
in each language and polled with the example's watchlists: without full text no positive is
found; with it, each watchlist finds as large a share of its positives as it finds of the
labelled headlines (test_matching_quality.FLOORS), and no page's "most read" list makes a hit.
docs/matching.md reports the figures."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from tests.support.articles import news_page
from tests.support.feeds import rss
from tests.support.polling import poll
from tests.unit.test_matching_quality import FLOORS

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = [json.loads(line) for line in (ROOT / "tests" / "data" / "articles.jsonl").open(encoding="utf-8")]
LANGUAGES = ("en", "sr", "ru")


def config_text(feed_server, database: str, fulltext: bool) -> str:
    """The example's three watchlists over one feed per language, all feeds watched."""
    example = tomllib.loads((ROOT / "config" / "monitor.example.toml").read_text(encoding="utf-8"))
    feeds = "".join(
        f'[[feeds]]\nname = "Outlet {language}"\nurl = "{feed_server.url(f"/{language}.xml")}"\n'
        f'language = "{language}"\nfulltext = {str(fulltext).lower()}\n\n'
        for language in LANGUAGES
    )
    watchlists = "".join(
        f'[[watchlists]]\nname = "{watchlist["name"]}"\nrecipients = ["desk@example.org"]\n'
        f"queries = {json.dumps(watchlist['queries'], ensure_ascii=False)}\n\n"
        for watchlist in example["watchlists"]
    )
    return f'[storage]\nurl = "{database}"\n\n{feeds}{watchlists}'


@pytest.fixture
def outlets(feed_server):
    """Each language's articles as pages at /LANGUAGE/ID/, listed in /LANGUAGE.xml by title and
    lead only."""
    for language in LANGUAGES:
        chosen = [article for article in ARTICLES if article["language"] == language]
        for article in chosen:
            page = news_page(
                article["title"], article["paragraphs"], language=language, furniture=article["boilerplate"]
            )
            feed_server.serve(f"/{language}/{article['id']}/", page, content_type="text/html; charset=utf-8")
        entries = [(article["id"], article["title"], article["summary"]) for article in chosen]
        feed_server.serve(
            f"/{language}.xml", rss(f"Outlet {language}", feed_server.url(f"/{language}"), entries)
        )
    return feed_server


def found_by(outlets, tmp_path, open_monitor, fulltext: bool) -> dict[str, set[str]]:
    """Each watchlist's hits, by article id, after one poll."""
    path = tmp_path / f"fulltext-{fulltext}.toml"
    database = f"sqlite:///{tmp_path / f'fulltext-{fulltext}.db'}"
    path.write_text(config_text(outlets, database, fulltext), encoding="utf-8")
    monitor = open_monitor(path, parse_workers=2)
    summary = poll(monitor)
    assert (summary.new_items, summary.failed) == (len(ARTICLES), 0)
    return {
        name: {hit.item.link.rstrip("/").rsplit("/", 1)[1] for hit in monitor.store.hits.find(watchlist=name)}
        for name in FLOORS
    }


def test_the_articles_are_many_varied_and_say_nothing_in_their_titles_and_leads():
    positives = [article for article in ARTICLES if article["labels"]]
    per_watchlist = Counter(label for article in positives for label in article["labels"])

    assert len(positives) >= 40 and len(ARTICLES) - len(positives) >= 10
    assert min(per_watchlist[name] for name in FLOORS) >= 12
    assert Counter(article["language"] for article in positives).keys() == set(LANGUAGES)


def test_full_text_finds_what_only_the_article_says_as_well_as_titles_are_found(
    outlets, tmp_path, open_monitor
):
    without = found_by(outlets, tmp_path, open_monitor, fulltext=False)
    with_text = found_by(outlets, tmp_path, open_monitor, fulltext=True)

    labelled = {name: {a["id"] for a in ARTICLES if name in a["labels"]} for name in FLOORS}
    furniture_only = {a["id"] for a in ARTICLES if not a["labels"] and "furniture" in a["note"]}
    assert all(not found for found in without.values())
    for name, (least_precision, least_recall) in FLOORS.items():
        true = len(with_text[name] & labelled[name])
        assert true / len(labelled[name]) >= least_recall, f"{name}: recall {true}/{len(labelled[name])}"
        assert true / len(with_text[name]) >= least_precision, f"{name}: {with_text[name] - labelled[name]}"
        assert not with_text[name] & furniture_only, f"{name}: a page's furniture read as its article"
