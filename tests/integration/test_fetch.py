"""fetch.py against a feed server that misbehaves on purpose: bad statuses, slow, endless and
compressed bodies, redirect chains and loops, caching headers, concurrency limits; then the bodies
that come back the real way through parse.py."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest

from monitor import loop
from monitor.errors import FetchError, ParseError
from monitor.feeds.parse import ParsedFeed, parse_feed
from monitor.http.fetch import Fetched, Fetcher, Limits
from monitor.http.response import retry_after_seconds
from monitor.models import Validators
from tests.conftest import gzip_of_zeros, serving
from tests.support.feeds import SERBIAN_NEWS, rss

# Small enough that every failure here is reached in well under two seconds.
LIMITS = Limits(deadline=1.5, read_timeout=1, max_bytes=1_000_000)
# Time for the slowest legitimate answer in these tests; a wait past it is a hang.
SLACK = 2.0
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

N1_FEED = rss("N1", "https://n1info.rs", SERBIAN_NEWS)


def fetch(url: str, limits: Limits = LIMITS, validators: Validators | None = None) -> Fetched:
    async def run() -> Fetched:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(url, validators)

    return asyncio.run(run())


def fetch_all(urls: Sequence[str], limits: Limits) -> list[Fetched]:
    async def run() -> list[Fetched]:
        async with Fetcher(limits) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(url) for url in urls))

    return asyncio.run(run())


def fetch_error(url: str, limits: Limits = LIMITS) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, limits)
    return caught.value


def timed_fetch_error(url: str, limits: Limits = LIMITS) -> tuple[FetchError, float]:
    start = time.monotonic()
    error = fetch_error(url, limits)
    return error, time.monotonic() - start


def parse(fetched: Fetched) -> ParsedFeed:
    assert fetched.body is not None
    return parse_feed(fetched.body, fetched.headers, feed="test", url=fetched.url, now=NOW)


# --- statuses ---------------------------------------------------------------------------------


def test_server_error_is_an_http_error_with_its_status(feed_server):
    error = fetch_error(feed_server.serve("/down.xml", "", status=500))

    assert (error.kind, error.status, error.retry_after) == ("http", 500, None)
    assert str(error) == "HTTP 500 Internal Server Error"
    assert error.url == feed_server.url("/down.xml")


def test_missing_feed_is_an_http_error_404(feed_server):
    error = fetch_error(feed_server.url("/nowhere.xml"))

    assert (error.kind, error.status, error.retry_after) == ("http", 404, None)
    assert str(error) == "HTTP 404 Not Found"


def test_too_many_requests_carries_retry_after_seconds(feed_server):
    url = feed_server.serve("/busy.xml", "", status=429, headers={"Retry-After": "120"})

    error = fetch_error(url)

    assert (error.kind, error.status, error.retry_after) == ("http", 429, 120.0)
    assert str(error) == "HTTP 429 Too Many Requests; asked to retry after 120 s"


def test_unavailable_with_an_http_date_retry_after_gives_the_seconds_until_then(feed_server):
    then = datetime.now(UTC) + timedelta(seconds=90)
    url = feed_server.serve(
        "/maintenance.xml", "", status=503, headers={"Retry-After": format_datetime(then, usegmt=True)}
    )

    error = fetch_error(url)

    assert (error.kind, error.status) == ("http", 503)
    assert error.retry_after is not None
    assert 85 <= error.retry_after <= 90  # the date has whole seconds; the fetch takes a moment


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Sat, 21 Nov 2026 09:02:00 GMT", 120.0),
        ("Sat, 21 Nov 2026 09:02:00 -0000", 120.0),  # RFC 2822 "no zone known": taken as UTC
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: come back now, not never
        ("9" * 400, 7 * 24 * 3600.0),  # a typo is capped at a week, not infinity
        ("Fri, 01 Jan 9999 00:00:00 GMT", 7 * 24 * 3600.0),
        ("garbage", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_from_now(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


def test_retry_after_in_non_ascii_digits_is_a_fetch_error_not_a_crash(feed_server):
    # http.server sends the header as Latin-1 byte 0xB2; httpx decodes it back to "²"
    url = feed_server.serve("/odd.xml", "", status=503, headers={"Retry-After": "²"})

    error = fetch_error(url)

    assert (error.kind, error.status, error.retry_after) == ("http", 503, None)


def test_gone_feed_is_kind_gone(feed_server):
    error = fetch_error(feed_server.serve("/removed.xml", "", status=410))

    assert (error.kind, error.status) == ("gone", 410)
    assert str(error) == "HTTP 410 Gone: the publisher removed the feed"


# --- slow, endless and oversized bodies -------------------------------------------------------


def test_dripping_body_times_out_at_the_deadline(feed_server):
    # a byte every 0.5 s never trips the 1 s read timeout: only the total deadline stops it
    url = feed_server.serve("/drip.xml", b"x" * 100, drip=0.5)

    error, elapsed = timed_fetch_error(url)

    assert error.kind == "timeout"
    assert str(error) == "no complete answer within 1.5 s"
    assert LIMITS.deadline - 0.1 <= elapsed < LIMITS.deadline + SLACK


def test_server_slower_than_the_read_timeout_times_out(feed_server):
    url = feed_server.serve("/slow.xml", N1_FEED, delay=1.3)

    error, elapsed = timed_fetch_error(url)

    assert error.kind == "timeout"
    assert str(error).startswith("ReadTimeout")
    assert elapsed < LIMITS.read_timeout + SLACK


def test_endless_body_is_abandoned_at_the_size_cap(feed_server):
    url = feed_server.serve("/endless.xml", b"", endless=True)

    error, elapsed = timed_fetch_error(url)

    assert error.kind == "too_large"
    assert str(error) == "body larger than 1,000,000 bytes; not read"
    assert elapsed < SLACK


def test_gzip_bomb_is_stopped_at_the_cap_counted_after_decompression(feed_server):
    url = feed_server.serve("/bomb.xml", b"", gzip_bomb=50_000_000)  # ~50 KB on the wire

    error, elapsed = timed_fetch_error(url)

    assert error.kind == "too_large"
    assert str(error) == "body larger than 1,000,000 bytes; not read"
    assert elapsed < SLACK


def test_gzip_bomb_never_holds_much_more_than_the_cap_in_memory(feed_server):
    url = feed_server.serve("/bomb.xml", b"", gzip_bomb=50_000_000)
    gzip_of_zeros(50_000_000)  # the server's copy is built before measuring

    async def peak_while_fetching() -> int:
        async with Fetcher(LIMITS) as fetcher:
            tracemalloc.start()
            try:
                with pytest.raises(FetchError, match="body larger than"):
                    await fetcher.fetch(url)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    # reading a legitimate body of exactly the cap peaks at about twice the cap
    assert asyncio.run(peak_while_fetching()) < 8 * LIMITS.max_bytes


def test_gzip_body_under_the_cap_is_decompressed(feed_server):
    url = feed_server.serve("/zeros.xml", b"", gzip_bomb=200_000)

    fetched = fetch(url)

    assert fetched.body == bytes(200_000)


def test_declared_length_over_the_cap_is_refused_before_reading(feed_server):
    url = feed_server.serve("/huge.xml", bytes(1_500_000))

    error = fetch_error(url)

    assert error.kind == "too_large"
    assert str(error) == "body larger than 1,000,000 bytes (it declares 1,500,000); not read"


def test_body_of_exactly_the_cap_is_read(feed_server):
    fetched = fetch(feed_server.serve("/full.xml", bytes(LIMITS.max_bytes)))

    assert fetched.body is not None
    assert len(fetched.body) == LIMITS.max_bytes


# --- redirects --------------------------------------------------------------------------------


def test_redirect_loop_is_reported_with_its_path(feed_server):
    a = feed_server.serve("/a", "", status=301, location="/b")
    b = feed_server.serve("/b", "", status=302, location="/a")

    error = fetch_error(a)

    assert error.kind == "redirect"
    assert str(error) == f"redirect loop: {a} → {b} → {a}"
    assert feed_server.log == [("/a", 301), ("/b", 302)]


def test_too_many_redirects_stop_at_the_limit(feed_server):
    for number in range(7):
        feed_server.serve(f"/r{number}", "", status=302, location=f"/r{number + 1}")
    feed_server.serve("/r7", N1_FEED)

    error = fetch_error(feed_server.url("/r0"))

    assert error.kind == "redirect"
    assert str(error) == "more than 5 redirects"
    assert [path for path, _ in feed_server.log] == [f"/r{number}" for number in range(6)]


def test_permanent_redirects_report_the_final_url(feed_server):
    final = feed_server.serve("/feed/", N1_FEED)
    feed_server.serve("/feed", "", status=308, location=final)
    old = feed_server.serve("/rss.xml", "", status=301, location="/feed")

    fetched = fetch(old)

    assert (fetched.status, fetched.url, fetched.moved_to) == (200, final, final)
    assert fetched.body == N1_FEED.encode()
    assert feed_server.log == [("/rss.xml", 301), ("/feed", 308), ("/feed/", 200)]


def test_a_temporary_redirect_on_the_way_means_no_move(feed_server):
    final = feed_server.serve("/feed/", N1_FEED)
    feed_server.serve("/campaign", "", status=302, location=final)
    old = feed_server.serve("/rss.xml", "", status=301, location="/campaign")

    fetched = fetch(old)

    assert (fetched.url, fetched.moved_to) == (final, None)
    assert fetched.body == N1_FEED.encode()


def test_no_redirect_means_no_move(feed_server):
    url = feed_server.serve("/feed/", N1_FEED)

    fetched = fetch(url)

    assert (fetched.status, fetched.url, fetched.moved_to) == (200, url, None)


def test_an_address_in_cyrillic_is_sent_percent_encoded(feed_server):
    # Serbian sites name their feeds in Cyrillic: the request line must be ASCII
    encoded = "/%D0%B2%D0%B5%D1%81%D1%82%D0%B8/rss"
    final = feed_server.serve(encoded, N1_FEED)

    fetched = fetch(feed_server.url("/вести/rss"))

    assert (fetched.body, fetched.url) == (N1_FEED.encode(), final)
    assert feed_server.log == [(encoded, 200)]


def test_a_relative_redirect_resolves_against_the_address_it_came_from(feed_server):
    final = feed_server.serve("/vesti/rss/", N1_FEED)
    feed_server.serve("/vesti/feed", "", status=301, location="rss/")

    fetched = fetch(feed_server.url("/vesti/feed"))

    assert (fetched.body, fetched.moved_to) == (N1_FEED.encode(), final)


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:port/feed", "ftp://127.0.0.1/feed", "http://[::1/feed"]
)
def test_a_redirect_to_an_unusable_address_is_a_fetch_error(feed_server, location):
    url = feed_server.serve("/moved", "", status=301, location=location)

    error = fetch_error(url)

    assert error.kind == "network"
    assert location in str(error)


# --- proxies ----------------------------------------------------------------------------------


class ForwardProxy:
    """A loopback HTTP proxy that answers every forwarded GET itself with N1_FEED, keeping the
    request lines (absolute URLs) and Proxy-Authorization headers it was sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.requests.append((self.path, self.headers.get("Proxy-Authorization")))
                body = N1_FEED.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def forward_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ForwardProxy, int]]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    proxy = ForwardProxy()
    with serving(proxy.handler()) as port:
        yield proxy, port


NOWHERE = "http://127.0.0.5:9/feed"  # nothing listens there: only a proxy can answer


def test_feeds_are_fetched_through_the_proxy_the_environment_names(forward_proxy, monkeypatch):
    proxy, port = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{port}")

    fetched = fetch(NOWHERE)

    assert fetched.body == N1_FEED.encode()
    credentials = base64.b64encode(b"user:p@ss").decode()
    assert proxy.requests == [(NOWHERE, f"Basic {credentials}")]


def test_hosts_in_no_proxy_are_fetched_directly(forward_proxy, monkeypatch):
    proxy, port = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.5")

    error = fetch_error(NOWHERE)

    assert error.kind == "network"  # refused: it went straight to 127.0.0.5
    assert proxy.requests == []


def test_a_proxy_of_a_kind_httpx_cannot_use_is_a_clear_fetch_error(forward_proxy, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "ftp://127.0.0.1:2121")

    error = fetch_error(NOWHERE)

    assert error.kind == "network"
    assert str(error).startswith("the proxy in the environment is unusable: ")
    assert "ftp://127.0.0.1:2121" in str(error)


# --- redirects to private addresses ----------------------------------------------------------

PUBLIC = "http://93.184.215.14/feed"  # a public address that the test's proxy answers for


def redirecting_proxy(location: str) -> type[BaseHTTPRequestHandler]:
    """A loopback HTTP proxy that answers every forwarded GET with a 301 to ``location``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(301)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_feed_at_a_public_address_is_not_redirected_to_a_private_one(
    feed_server, forward_proxy, monkeypatch, host
):
    target = feed_server.serve("/feed/", N1_FEED).replace("127.0.0.1", host)
    with serving(redirecting_proxy(target)) as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")  # the public address, on loopback
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the redirect goes straight to the feed server
        error = fetch_error(PUBLIC)
        allowed = fetch(PUBLIC, Limits(deadline=5, allow_private_redirects=True))

    assert error.kind == "redirect"
    assert str(error) == (
        f"redirect to {target} refused: it reaches the private address 127.0.0.1; "
        "set [polling] allow_private_redirects = true to follow such redirects"
    )
    assert (allowed.body, allowed.url, allowed.moved_to) == (N1_FEED.encode(), target, target)
    assert feed_server.log == [("/feed/", 200)]  # only when allowed


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_feed_at_a_public_address_does_not_link_us_to_a_private_one(feed_server, host):
    page = feed_server.serve("/admin/", "<html><body>secret</body></html>").replace("127.0.0.1", host)

    async def run(linked_from: str, limits: Limits = LIMITS) -> Fetched:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(page, linked_from=linked_from)

    with pytest.raises(FetchError) as refused:
        asyncio.run(run(PUBLIC))
    from_private = asyncio.run(run(feed_server.url("/feed.xml")))
    allowed = asyncio.run(run(PUBLIC, Limits(deadline=5, allow_private_redirects=True)))

    assert refused.value.kind == "redirect"
    assert str(refused.value) == (
        f"link to {page} refused: it reaches the private address 127.0.0.1; "
        "set [polling] allow_private_redirects = true to follow such links"
    )
    assert from_private.body == allowed.body == b"<html><body>secret</body></html>"
    assert feed_server.log == [("/admin/", 200)] * 2  # never when refused


# --- caching ----------------------------------------------------------------------------------


def test_cache_control_max_age_is_handed_back(feed_server):
    url = feed_server.serve("/feed/", N1_FEED, headers={"Cache-Control": "public, max-age=600"})

    assert fetch(url).max_age == timedelta(seconds=600)


def test_no_cache_control_means_no_max_age(feed_server):
    assert fetch(feed_server.serve("/feed/", N1_FEED)).max_age is None


def test_not_modified_has_no_body_and_keeps_the_validators(feed_server):
    stamp = "Sat, 21 Nov 2026 09:30:00 GMT"
    url = feed_server.serve("/feed/", N1_FEED, last_modified=stamp)
    first = fetch(url)

    second = fetch(url, validators=first.validators)

    assert first.validators.etag is not None
    assert first.validators.last_modified == stamp
    assert (second.status, second.body, second.validators) == (304, None, first.validators)
    assert feed_server.statuses("/feed/") == [200, 304]


# --- concurrency ------------------------------------------------------------------------------


def test_one_host_never_gets_more_than_per_host_requests_at_once(feed_server):
    url = feed_server.serve("/slow.xml", N1_FEED, delay=0.3)

    fetched = fetch_all([url] * 6, Limits(per_host=2, concurrency=32, deadline=5))

    assert [each.status for each in fetched] == [200] * 6
    assert feed_server.max_in_flight == 2


def loopback_names(feed_server) -> list[str]:
    """Two names for the test server: two hosts, as far as a client can tell."""
    addresses = {
        info[4][0] for info in socket.getaddrinfo("localhost", feed_server.port, 0, socket.SOCK_STREAM)
    }
    if addresses != {"127.0.0.1"}:
        pytest.skip(f"localhost resolves to {sorted(addresses)}, not only 127.0.0.1")
    return ["127.0.0.1", "localhost"]


def test_per_host_limit_leaves_other_hosts_free(feed_server):
    feed_server.serve("/slow.xml", N1_FEED, delay=0.3)
    hosts = loopback_names(feed_server)

    fetch_all([feed_server.url("/slow.xml", host) for host in hosts] * 3, Limits(per_host=2, deadline=5))

    port = feed_server.port
    assert feed_server.max_in_flight_by_host == {f"{host}:{port}": 2 for host in hosts}
    assert feed_server.max_in_flight == 4


def test_global_limit_holds_across_one_host(feed_server):
    url = feed_server.serve("/slow.xml", N1_FEED, delay=0.3)

    fetch_all([url] * 6, Limits(per_host=10, concurrency=3, deadline=5))

    assert feed_server.max_in_flight == 3


def test_connections_are_reused_for_a_hosts_fetches_304_answers_included(feed_server):
    urls = [feed_server.serve(f"/feed/{n}", N1_FEED) for n in range(8)]

    async def run() -> tuple[list[int], int]:
        async with Fetcher(Limits(per_host=2, deadline=5)) as fetcher:
            first = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
            again = await asyncio.gather(
                *(fetcher.fetch(url, each.validators) for url, each in zip(urls, first, strict=True))
            )
        return [each.status for each in again], feed_server.connections

    statuses, connections = asyncio.run(run())

    assert statuses == [304] * 8
    assert connections <= 4  # two per round: a 304 left unread used to cost its connection


def test_a_hosts_connection_outlives_its_fetch_by_the_keep_alive_time(feed_server):
    url = feed_server.serve("/feed/", N1_FEED)

    async def run() -> list[int]:
        opened = []
        async with Fetcher(Limits(keep_alive=0.3)) as fetcher:
            for pause in (0, 0, 0.5, 0):
                await asyncio.sleep(pause)
                await fetcher.fetch(url)
                opened.append(feed_server.connections)
        return opened

    assert asyncio.run(run()) == [1, 1, 2, 2]


@pytest.mark.parametrize("run_loop", [asyncio.run, loop.run], ids=["asyncio", "commands-loop"])
def test_a_connection_the_server_hung_up_is_not_used_again(run_loop):
    # servers close idle keep-alive connections without notice: a request sent on one would
    # be "disconnected without a response"; the hang-up is seen and a new connection opened
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        body = N1_FEED.encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async def run() -> list[bytes | None]:
        server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed"
        async with server, Fetcher(Limits(keep_alive=5, deadline=5)) as fetcher:
            bodies = []
            for _ in range(3):
                bodies.append((await fetcher.fetch(url)).body)
                await asyncio.sleep(0.1)  # the hang-up arrives
        return bodies

    assert run_loop(run()) == [N1_FEED.encode()] * 3
    assert connections == 3


def test_idle_hosts_past_the_limit_are_closed_oldest_first(feed_server):
    feed_server.serve("/feed/", N1_FEED)
    urls = [feed_server.url("/feed/", host) for host in loopback_names(feed_server)]

    async def run() -> int:
        async with Fetcher(Limits(idle_hosts=1)) as fetcher:
            for url in urls:
                await fetcher.fetch(url)
            deadline = time.monotonic() + SLACK
            while feed_server.open_connections > 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            return feed_server.open_connections

    assert asyncio.run(run()) == 1


# --- through parse.py -------------------------------------------------------------------------

FONTANKA_CP1251 = """<?xml version="1.0"?>
<rss version="2.0">
  <channel>
    <title>Фонтанка.ру — новости Петербурга</title>
    <link>https://www.fontanka.ru/</link>
    <description>Главные новости Петербурга и России</description>
    <item>
      <title>Релоканты в Белграде жалуются на отказы в виде на жительство</title>
      <link>https://www.fontanka.ru/2026/11/21/7001/</link>
      <guid>https://www.fontanka.ru/2026/11/21/7001/</guid>
      <pubDate>Sat, 21 Nov 2026 08:15:00 +0300</pubDate>
      <description>Сербская полиция всё чаще отказывает россиянам, переехавшим в 2022 году.</description>
    </item>
    <item>
      <title>В Петербурге выпал первый снег</title>
      <link>https://www.fontanka.ru/2026/11/21/7002/</link>
      <guid>https://www.fontanka.ru/2026/11/21/7002/</guid>
      <pubDate>Sat, 21 Nov 2026 08:40:00 +0300</pubDate>
      <description>Синоптики обещают, что к вечеру он растает, а ночью ударит мороз.</description>
    </item>
  </channel>
</rss>
"""


def test_undeclared_cp1251_feed_is_read_as_russian(feed_server):
    url = feed_server.serve(
        "/fontanka.xml", FONTANKA_CP1251.encode("cp1251"), content_type="application/rss+xml"
    )

    parsed = parse(fetch(url))

    assert [item.title for item in parsed.items] == [
        "Релоканты в Белграде жалуются на отказы в виде на жительство",
        "В Петербурге выпал первый снег",
    ]
    assert parsed.items[0].summary.startswith("Сербская полиция всё чаще")
    assert parsed.warnings == ()


DANAS_HOME = """<!DOCTYPE html>
<html lang="sr">
<head>
  <meta charset="utf-8">
  <title>Danas — Najnovije vesti</title>
  <link rel="stylesheet" href="/static/main.css">
  <link rel="alternate" type="application/rss+xml" title="Danas &raquo; Feed" href="/rss">
</head>
<body><h1>Najnovije vesti</h1><p>Vlada usvojila nacrt budžeta za 2027.</p></body>
</html>
"""


def test_html_page_is_refused_naming_the_feed_it_links_to(feed_server):
    url = feed_server.serve("/", DANAS_HOME, content_type="text/html; charset=utf-8")

    fetched = fetch(url)
    with pytest.raises(ParseError) as caught:
        parse(fetched)

    assert caught.value.kind == "not_a_feed"
    assert caught.value.url == url
    assert str(caught.value) == (
        f"an HTML page, not a feed; the page names its feed: {feed_server.url('/rss')} (use that URL)"
    )


# A bare "&" and an unclosed <br> in the description: not XML, but every item is still there.
NOVA_BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Nova.rs</title>
    <link>https://nova.rs</link>
    <description>Vesti</description>
    <item>
      <title>NIS & Gaspromnjeft: pregovori o vlasništvu nastavljeni</title>
      <link>https://nova.rs/vesti/nis-pregovori/</link>
      <guid isPermaLink="false">nova-501</guid>
      <pubDate>Sat, 21 Nov 2026 10:05:00 +0100</pubDate>
      <description>Sastanak u Beogradu trajao je tri sata.<br>Dogovor se očekuje u decembru.</description>
    </item>
    <item>
      <title>Ruski relokanti osnovali udruženje u Novom Sadu</title>
      <link>https://nova.rs/vesti/relokanti-udruzenje/</link>
      <guid isPermaLink="false">nova-502</guid>
      <pubDate>Sat, 21 Nov 2026 10:40:00 +0100</pubDate>
      <description>Udruženje okuplja oko 300 članova.</description>
    </item>
  </channel>
</rss>
"""


def test_malformed_but_recoverable_feed_keeps_its_items_with_a_warning(feed_server):
    url = feed_server.serve("/nova.xml", NOVA_BROKEN)

    parsed = parse(fetch(url))

    assert [item.id for item in parsed.items] == ["nova-501", "nova-502"]
    assert [item.title for item in parsed.items] == [
        "NIS & Gaspromnjeft: pregovori o vlasništvu nastavljeni",
        "Ruski relokanti osnovali udruženje u Novom Sadu",
    ]
    assert parsed.items[0].summary == "Sastanak u Beogradu trajao je tri sata. Dogovor se očekuje u decembru."
    assert parsed.warnings == (
        "malformed feed, read anyway: <unknown>:8:18: not well-formed (invalid token)",
    )
