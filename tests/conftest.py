"""One fixture per real part: a feed server and an SMTP server on loopback, a database per test."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

PG_ENV = "MONITOR_TEST_DATABASE_URL"


@dataclass
class Route:
    """What the feed server answers at one path; the last five fields make it misbehave.

    ``headers`` go out with any status; ``delay`` is slept before answering. The others shape a
    200's body: ``drip`` sends it one byte every ``drip`` seconds after an honest Content-Length,
    ``endless`` sends 64 KiB chunks until the client hangs up, ``gzip_bomb`` replaces it with that
    many zero bytes, gzip-compressed.
    """

    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float | None = None
    endless: bool = False
    gzip_bomb: int | None = None


@functools.cache
def gzip_of_zeros(size: int) -> bytes:
    """``size`` zero bytes as a gzip member, about a thousandth of the size; built once per size."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    parts.append(compressor.compress(bytes(size & ((1 << 20) - 1))))
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass
class FeedServer:
    """A threaded HTTP server serving feed documents; honours If-None-Match; logs every request.

    ``max_in_flight`` is the most requests it was answering at once, and ``max_in_flight_by_host``
    the same per Host header; a request counts from its arrival until its answer starts. It
    keeps connections alive (HTTP/1.1): ``connections`` counts those opened, ``open_connections``
    those a client has not closed yet.
    """

    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, int]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    port: int = 0
    max_in_flight: int = 0
    max_in_flight_by_host: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    open_connections: int = 0
    _in_flight: Counter[str] = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, body: str | bytes, **options: Any) -> str:
        """Serve ``body`` at ``path``, with a fresh ETag unless ``etag`` is given (None: no ETag)."""
        data = body.encode() if isinstance(body, str) else body
        options.setdefault("etag", f'"{uuid.uuid4().hex}"')
        self.routes[path] = Route(data, **options)
        return self.url(path)

    def statuses(self, path: str) -> list[int]:
        return [status for requested, status in self.log if requested == path]

    def arrived(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight.total())
            self.max_in_flight_by_host[host] = max(
                self.max_in_flight_by_host.get(host, 0), self._in_flight[host]
            )

    def answering(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] -= 1

    def connection(self, change: int) -> None:
        with self._lock:
            self.connections += max(change, 0)
            self.open_connections += change


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def handle(self) -> None:
            """A client that hangs up mid-answer is what some tests do on purpose: not an error."""
            server.connection(+1)
            try:
                super().handle()
            except ConnectionError:  # BrokenPipeError, ConnectionResetError
                self.close_connection = True
            finally:
                server.connection(-1)

        def do_GET(self) -> None:
            host = self.headers.get("Host", "")
            server.arrived(host)
            try:
                route = server.routes.get(self.path)
                if route is not None and route.delay:
                    time.sleep(route.delay)
                status, body, headers = self._answer(route)
                server.log.append((self.path, status))
                server.user_agents.append(self.headers.get("User-Agent", ""))
            finally:  # before the answer starts: a client cannot have seen it yet
                server.answering(host)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if route is not None and status == 200 and route.endless:
                self.send_header("Connection", "close")  # no length: the body ends with the connection
                self.end_headers()
                chunk = bytes(64 * 1024)
                while True:  # until the client hangs up and the write raises
                    self.wfile.write(chunk)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status == 304:
                return
            if route is not None and status == 200 and route.drip is not None:
                for offset in range(len(body)):
                    self.wfile.write(body[offset : offset + 1])
                    time.sleep(route.drip)
            else:
                self.wfile.write(body)

        def _answer(self, route: Route | None) -> tuple[int, bytes, dict[str, str]]:
            if route is None:
                return 404, b"not found", {}
            if route.status != 200:
                headers = {"Location": route.location} if route.location else {}
                return route.status, b"", {**headers, **route.headers}
            if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
            ):
                return 304, b"", dict(route.headers)
            body = route.body
            headers = {"Content-Type": route.content_type}
            if route.gzip_bomb is not None:
                body = gzip_of_zeros(route.gzip_bomb)
                headers["Content-Encoding"] = "gzip"
            if route.etag:
                headers["ETag"] = route.etag
            if route.last_modified:
                headers["Last-Modified"] = route.last_modified
            return 200, body, {**headers, **route.headers}

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``server.log`` instead."""

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded HTTP server on a free loopback port, serving ``handler`` until the block ends."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def lexicon_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The matcher's lexicon is kept in a folder of each test's own, never in ~/.cache."""
    folder = tmp_path_factory.mktemp("lexicon")
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    with serving(_handler(server)) as port:
        server.port = port
        yield server


class MailSink:
    """aiosmtpd handler that keeps what it receives, or refuses while ``refuse`` is set; the
    addresses in ``refuse_recipients`` get their answer at RCPT TO (a 550 for a bad address)."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[list[str], bytes]] = []
        self.refuse: str | None = None
        self.refuse_recipients: dict[str, str] = {}
        self.refusals: list[str] = []  # answers to the next DATA commands, one each, then accept
        self.data_commands = 0
        self.data_delay = 0.0  # seconds each DATA command takes: a slow server
        self.data_started = threading.Event()  # set at the first DATA command

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        self.data_started.set()
        await asyncio.sleep(self.data_delay)
        if self.refusals:
            return self.refusals.pop(0)
        if self.refuse:
            return self.refuse
        self.envelopes.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _, raw in self.envelopes]  # type: ignore[misc]


@dataclass
class SmtpServer:
    port: int
    sink: MailSink


def free_port() -> int:
    """A loopback port nothing listens on (for a moment): for servers that need a port up front."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer(controller.port, sink)
    controller.stop()


@dataclass
class Webhook:
    """A threaded HTTP server taking POSTs, as a chat service's or a webhook's endpoint would:
    it keeps each JSON body with the status it answered, the next of ``statuses`` (then 200)."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [body for status, body in self.received if status < 300]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            status = hook.statuses.pop(0) if hook.statuses else 200
            hook.received.append((status, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``hook.received``."""

    with serving(Handler) as port:
        hook.port = port
        yield hook


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database per test: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
