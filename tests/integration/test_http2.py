"""HTTPS feeds: HTTP/2 when the server offers it, certificates, and proxy tunnels. A TLS server on
loopback (Hypercorn, with a certificate from a throwaway CA that trustme makes and SSL_CERT_FILE
trusts), offering h2 or only HTTP/1.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

from monitor import loop
from monitor.errors import FetchError
from monitor.http.fetch import Fetched, Fetcher, Limits
from tests.conftest import free_port
from tests.support.feeds import SERBIAN_NEWS, rss

FEED = rss("N1", "https://n1info.rs", SERBIAN_NEWS).encode()


class FeedApp:
    """An ASGI app answering every GET with FEED; remembers each request's HTTP version."""

    def __init__(self) -> None:
        self.versions: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.versions.append(scope["http_version"])
        headers = [(b"content-type", b"application/rss+xml"), (b"etag", b'"n1"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": FEED})


@pytest.fixture
def trusted_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and its key, from a CA that SSL_CERT_FILE trusts."""
    certificate, key, authority = certificate_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    return certificate, key


def certificate_files(folder: Path) -> tuple[Path, Path, Path]:
    """A server certificate for 127.0.0.1, its key, and the throwaway CA that issued it."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    certificate, key, trusted = folder / "server.pem", folder / "server.key", folder / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(certificate))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(trusted))
    return certificate, key, trusted


@contextlib.asynccontextmanager
async def serving_tls(app: FeedApp, certificate: Path, key: Path, offered: list[str]) -> AsyncIterator[str]:
    """Hypercorn serving ``app`` over TLS with ``certificate``, offering the ``offered`` ALPN
    protocols; yields the feed's https address."""
    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(certificate), str(key)
    config.alpn_protocols = offered
    config.accesslog = config.errorlog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        for _ in range(200):  # until it listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.02)
        yield f"https://127.0.0.1:{port}/feed/"
    finally:
        stop.set()
        await server


@pytest.mark.parametrize("run_loop", [asyncio.run, loop.run], ids=["asyncio", "commands-loop"])
@pytest.mark.parametrize(
    ("offered", "used"), [(["h2", "http/1.1"], ["2", "2"]), (["http/1.1"], ["1.1", "1.1"])]
)
def test_https_feeds_use_http2_when_the_server_offers_it(trusted_certificate, offered, used, run_loop):
    app = FeedApp()

    async def run() -> list[Fetched]:
        async with (
            serving_tls(app, *trusted_certificate, offered) as url,
            Fetcher(Limits(deadline=5)) as fetcher,
        ):
            return [await fetcher.fetch(url), await fetcher.fetch(url)]

    fetched = run_loop(run())

    assert app.versions == used
    assert [each.body for each in fetched] == [FEED, FEED]
    assert fetched[0].validators.etag == '"n1"'


@pytest.mark.parametrize("run_loop", [asyncio.run, loop.run], ids=["asyncio", "commands-loop"])
def test_a_certificate_no_trusted_authority_issued_is_refused(tmp_path, run_loop):
    certificate, key, _ = certificate_files(tmp_path)  # its CA is not trusted
    app = FeedApp()

    async def run() -> FetchError:
        async with (
            serving_tls(app, certificate, key, ["h2", "http/1.1"]) as url,
            Fetcher(Limits(deadline=5)) as fetcher,
        ):
            with pytest.raises(FetchError) as refused:
                await fetcher.fetch(url)
            return refused.value

    error = run_loop(run())

    assert error.kind == "network"
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert app.versions == []


async def connect_proxy(tunnels: list[bytes]) -> asyncio.Server:
    """A loopback proxy that only tunnels (CONNECT), keeping each request line it was sent."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0]
        tunnels.append(line)
        host, port = line.split()[1].rsplit(b":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host.decode(), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    return await asyncio.start_server(tunnel, "127.0.0.1", 0)


def test_https_feeds_go_through_a_proxy_in_a_tunnel(trusted_certificate, monkeypatch):
    app, tunnels = FeedApp(), []

    async def run() -> Fetched:
        proxy = await connect_proxy(tunnels)
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        tls = serving_tls(app, *trusted_certificate, ["h2", "http/1.1"])
        async with proxy, tls as url, Fetcher(Limits(deadline=5)) as fetcher:
            return await fetcher.fetch(url)

    fetched = asyncio.run(run())

    assert fetched.body == FEED
    assert len(tunnels) == 1 and tunnels[0].startswith(b"CONNECT 127.0.0.1:")
    assert app.versions == ["2"]  # ALPN inside the tunnel
