"""What full article text costs and finds.

    python bench/fulltext.py                 # all three parts
    python bench/fulltext.py --feeds 40      # the poll with more feeds (25 items each)

1. Extraction: the 50 labelled articles (tests/data/articles.jsonl) as a news site's pages,
   read by monitor.feeds.article.read_article; trafilatura's precise and reader passes alone
   beside it, and a 5 MB page.
2. Recall and precision of the example's watchlists on those articles, on title and lead only
   and with the article's text.
3. A first poll of FEEDS feeds on loopback, each at a host of its own (127.0.0.N), with parse
   workers and a fresh SQLite database, without and with fulltext: wall time and CPU of this
   process and its workers, the baseline in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor import checks  # noqa: E402
from monitor.app import App  # noqa: E402
from monitor.feeds.article import read_article  # noqa: E402
from monitor.http.fetch import Fetcher  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from tests.support.articles import huge_page, news_page  # noqa: E402
from tests.support.feeds import rss  # noqa: E402

ARTICLES = [json.loads(line) for line in (ROOT / "tests" / "data" / "articles.jsonl").open(encoding="utf-8")]
HTML = {"content-type": "text/html; charset=utf-8"}
WATCHLISTS = ("expulsions", "relocants", "bia")


def page_of(article: dict[str, object]) -> bytes:
    return news_page(
        str(article["title"]),
        list(article["paragraphs"]),  # type: ignore[call-overload]
        language=str(article["language"]),
        furniture=list(article["boilerplate"]),  # type: ignore[call-overload]
    ).encode()


def timed(work: Callable[[], object], repeat: int = 5) -> float:
    """The median of ``repeat`` runs, in milliseconds."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def extraction() -> None:
    pages = [page_of(article) for article in ARTICLES]
    texts = [page.decode() for page in pages]
    print(
        f"## 1. Extraction: {len(pages)} article pages, {statistics.mean(map(len, pages)) / 1024:.0f} KB mean"
    )
    for name, work in (
        ("read_article (precise, then reader)", lambda: [read_article(p, HTML, "https://x/") for p in pages]),
        (
            "trafilatura, precise pass alone",
            lambda: [trafilatura.extract(t, favor_precision=True) for t in texts],
        ),
        ("trafilatura, reader pass alone", lambda: [trafilatura.extract(t) for t in texts]),
    ):
        print(f"  {name:40} {timed(work) / len(pages):6.1f} ms a page")
    huge = huge_page("Naslov", list(ARTICLES[10]["paragraphs"])).encode()  # type: ignore[call-overload]
    ms = timed(lambda: read_article(huge, HTML, "https://x/"), repeat=3)
    print(f"  {'a page of 5 MB (inline state)':40} {ms:6.1f} ms")


def quality() -> None:
    example = checks.load(ROOT / "config" / "monitor.example.toml")
    matcher = Matcher({watchlist.name: watchlist.queries for watchlist in example.watchlists})
    bodies = [read_article(page_of(article), HTML, "https://x/") for article in ARTICLES]
    print("\n## 2. The example's watchlists on the 50 articles (40 positive)")
    print(
        "| watchlist | labelled | found, title and lead | found, with the article | wrong, with the article |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name in WATCHLISTS:
        labelled = {a["id"] for a in ARTICLES if name in a["labels"]}
        head = {a["id"] for a in ARTICLES if name in matcher.match(a["title"], a["summary"], a["language"])}
        whole = {
            a["id"]
            for a, body in zip(ARTICLES, bodies, strict=True)
            if name in matcher.match(a["title"], a["summary"], a["language"], body=body)
        }
        print(
            f"| {name} | {len(labelled)} | {len(head & labelled)} | {len(whole & labelled)} "
            f"| {len(whole - labelled)} |"
        )


@contextmanager
def serving(bodies: dict[str, tuple[bytes, str]], hosts: int) -> Iterator[int]:
    """``bodies`` by path, served on one port at 127.0.0.2 … 127.0.0.(hosts + 1): each outlet a
    host of its own, as the fetcher's per-host limits see them. Yields the port."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body, kind = bodies.get(self.path, (b"", "text/plain"))
            self.send_response(200 if self.path in bodies else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    first = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    port = first.server_address[1]
    servers = [first] + [ThreadingHTTPServer((f"127.0.0.{n + 2}", port), Handler) for n in range(1, hosts)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield port
    finally:
        for server in servers:
            server.shutdown()


def cpu() -> float:
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def first_poll(port: int, feeds: int, fulltext: bool, folder: Path) -> tuple[float, float, int]:
    """One poll of every feed into a fresh database: wall seconds, CPU seconds, new items."""
    tables = "".join(
        f'[[feeds]]\nname = "Outlet {n}"\nurl = "http://127.0.0.{n + 2}:{port}/feed/{n}.xml"\n'
        f"fulltext = {str(fulltext).lower()}\n\n"
        for n in range(feeds)
    )
    path = folder / f"fulltext-{fulltext}.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{folder / f"fulltext-{fulltext}.db"}"\n\n{tables}'
        '[[watchlists]]\nname = "bia"\nrecipients = ["desk@example.org"]\nqueries = ["BIA", "БИА"]\n',
        encoding="utf-8",
    )
    app = App(checks.load(path), parse_workers=2)
    app.poller.sync_feeds()
    assert app.matcher is not None  # compiled before the clock starts

    async def run() -> int:
        async with Fetcher() as fetcher:
            return (await app.poller.poll(app.config.feeds, fetcher)).new_items

    started, used = time.perf_counter(), cpu()
    try:
        new = asyncio.run(run())
        wall = time.perf_counter() - started
    finally:
        app.close()  # the workers end, and their CPU time is counted
    return wall, cpu() - used, new


def polling(feeds: int, items: int = 25) -> None:
    bodies: dict[str, tuple[bytes, str]] = {}
    for n in range(feeds):
        chosen = [ARTICLES[(n * items + i) % len(ARTICLES)] for i in range(items)]
        for i, article in enumerate(chosen):
            bodies[f"/a/{n}-{i}/"] = (page_of(article), "text/html; charset=utf-8")
        entries = [(f"{n}-{i}", str(a["title"]), str(a["summary"])) for i, a in enumerate(chosen)]
        bodies[f"/feed/{n}.xml"] = (rss(f"Outlet {n}", "LINK", entries).encode(), "application/rss+xml")
    print(f"\n## 3. A first poll of {feeds} feeds of {items} items each, parse workers, fresh SQLite")
    with serving(bodies, feeds) as port, tempfile.TemporaryDirectory() as folder:
        for n in range(feeds):
            body, kind = bodies[f"/feed/{n}.xml"]
            bodies[f"/feed/{n}.xml"] = (
                body.replace(b"LINK", f"http://127.0.0.{n + 2}:{port}/a".encode()),
                kind,
            )
        rows = {}
        for fulltext in (False, True, False, True):  # in turns, each twice
            rows.setdefault(fulltext, []).append(first_poll(port, feeds, fulltext, Path(folder)))
            for suffix in ("toml", "db", "db-wal", "db-shm"):
                (Path(folder) / f"fulltext-{fulltext}.{suffix}").unlink(missing_ok=True)
    print("| | wall s | CPU s | items |")
    print("| --- | --- | --- | --- |")
    for fulltext, runs in rows.items():
        wall = statistics.median(run[0] for run in runs)
        used = statistics.median(run[1] for run in runs)
        print(f"| {'with fulltext' if fulltext else 'feeds only'} | {wall:.2f} | {used:.2f} | {runs[0][2]} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=20)
    arguments = parser.parse_args()
    extraction()
    quality()
    polling(arguments.feeds)


if __name__ == "__main__":
    main()
