"""fetch.py's connections against servers that behave as some on the real web do: a 408 on an
idle keep-alive connection, an IPv6 literal address, a host name whose IPv6 address does not
answer, and a SOCKS5 proxy. Raw asyncio servers on loopback, so every byte is the test's."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import pytest

from monitor import loop
from monitor.http.fetch import Fetcher, Limits
from tests.support.feeds import SERBIAN_NEWS, rss

FEED = rss("N1", "https://n1info.rs", SERBIAN_NEWS).encode()
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n%s" % (
    len(FEED),
    FEED,
)
LOOPS = pytest.mark.parametrize("run_loop", [asyncio.run, loop.run], ids=["asyncio", "commands-loop"])

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read one request, answer it with the feed, hang up."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(OK)
    await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def listening(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """``handler`` serving on ``host``; yields its port."""
    server = await asyncio.start_server(handler, host, port)
    async with server:
        yield server.sockets[0].getsockname()[1]


@LOOPS
def test_a_408_written_on_an_idle_connection_before_the_hang_up_is_not_the_next_feeds_answer(run_loop):
    # Servers at their keep-alive timeout write "408 Request Timeout" on the idle connection
    # and close it; that 408 answers no request of ours, so the next feed gets a new connection.
    connections = 0

    async def answer_then_time_out(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def run() -> list[int]:
        async with listening(answer_then_time_out) as port, Fetcher(Limits(deadline=5)) as fetcher:
            url = f"http://127.0.0.1:{port}/feed.xml"
            first = await fetcher.fetch(url)
            await asyncio.sleep(0.2)  # the 408 and the hang-up arrive on the idle connection
            second = await fetcher.fetch(url)
        return [first.status, second.status]

    assert run_loop(run()) == [200, 200]
    assert connections == 2


def ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")


@LOOPS
def test_an_ipv6_literal_is_sent_in_brackets_in_the_host_header(run_loop):
    ipv6_loopback()
    hosts: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        hosts.extend(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"host:")
        )
        writer.write(OK)
        await writer.drain()
        writer.close()

    async def run() -> tuple[bytes | None, int]:
        async with listening(answer, "::1") as port, Fetcher(Limits(deadline=5)) as fetcher:
            return (await fetcher.fetch(f"http://[::1]:{port}/feed.xml")).body, port

    body, port = run_loop(run())

    assert body == FEED
    assert hosts == [b"[::1]:%d" % port]  # not ::1:port


@contextlib.contextmanager
def blackholed_ipv6(port: int) -> Iterator[None]:
    """[::1]:``port`` made to drop new connections, as a broken IPv6 path does: a listener that
    never accepts, whose backlog is full, so the kernel ignores further SYNs."""
    listener = socket.socket(socket.AF_INET6)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        listener.bind(("::1", port))
    except OSError:
        listener.close()
        pytest.skip(f"[::1]:{port} is taken")
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket(socket.AF_INET6)
            filler.setblocking(False)
            filler.connect_ex(("::1", port))
            fillers.append(filler)
        yield
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@LOOPS
def test_a_host_whose_ipv6_address_does_not_answer_is_reached_over_ipv4(run_loop):
    # Happy Eyeballs (RFC 8305). Needs a name that resolves to ::1 and 127.0.0.1, as "localhost"
    # does on most systems; where it resolves to one address only, there is nothing to fall back on.
    ipv6_loopback()
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)}
    if addresses != {"::1", "127.0.0.1"}:
        pytest.skip(f"localhost resolves to {sorted(addresses)}, not to ::1 and 127.0.0.1")

    async def run() -> bytes | None:
        async with listening(answer_ok) as port:
            with blackholed_ipv6(port):
                # the deadline is well under the connect timeout: waiting on ::1 would fail
                limits = Limits(deadline=3, connect_timeout=10)
                async with Fetcher(limits) as fetcher:
                    return (await fetcher.fetch(f"http://localhost:{port}/feed.xml")).body

    assert run_loop(run()) == FEED


# --- SOCKS ------------------------------------------------------------------------------------


async def socks5_proxy(upstream_port: int, asked: list[tuple[str, int]]) -> asyncio.Server:
    """A loopback SOCKS5 proxy (no authentication, CONNECT only) that keeps each address it is
    asked for and connects every one of them to 127.0.0.1:``upstream_port``."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, methods = await reader.readexactly(2)
        await reader.readexactly(methods)
        writer.write(b"\x05\x00")  # no authentication
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        assert command == 1  # CONNECT
        asked.append((host, port))
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", upstream_port))
        await writer.drain()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    return await asyncio.start_server(tunnel, "127.0.0.1", 0)


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_feeds_are_fetched_through_a_socks5_proxy_in_all_proxy(no_proxies):
    asked: list[tuple[str, int]] = []

    async def run() -> bytes | None:
        async with listening(answer_ok) as port:
            proxy = await socks5_proxy(port, asked)
            async with proxy:
                no_proxies.setenv("ALL_PROXY", f"socks5://127.0.0.1:{proxy.sockets[0].getsockname()[1]}")
                async with Fetcher(Limits(deadline=5)) as fetcher:
                    # nothing listens at 127.0.0.5:9: only the proxy can answer
                    return (await fetcher.fetch("http://127.0.0.5:9/feed")).body

    assert asyncio.run(run()) == FEED
    assert asked == [("127.0.0.5", 9)]
