"""HTTP/2 when the server offers it: a TLS server on loopback (Hypercorn, with a certificate from a
throwaway CA that trustme makes and SSL_CERT_FILE trusts), offering h2 or only HTTP/1.1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

from monitor.fetch import Fetched, Fetcher, Limits
from tests.conftest import free_port
from tests.integration.conftest import SERBIAN_NEWS, rss

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
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    certificate, key, trusted = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(certificate))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(trusted))
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    return certificate, key


@pytest.mark.parametrize(
    ("offered", "used"), [(["h2", "http/1.1"], ["2", "2"]), (["http/1.1"], ["1.1", "1.1"])]
)
def test_https_feeds_use_http2_when_the_server_offers_it(trusted_certificate, offered, used):
    certificate, key = trusted_certificate
    app = FeedApp()
    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(certificate), str(key)
    config.alpn_protocols = offered
    config.accesslog = config.errorlog = None

    async def run() -> list[Fetched]:
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
            async with Fetcher(Limits(deadline=5)) as fetcher:
                url = f"https://127.0.0.1:{port}/feed/"
                return [await fetcher.fetch(url), await fetcher.fetch(url)]
        finally:
            stop.set()
            await server

    fetched = asyncio.run(run())

    assert app.versions == used
    assert [each.body for each in fetched] == [FEED, FEED]
    assert fetched[0].validators.etag == '"n1"'
