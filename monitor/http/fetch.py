"""HTTP only: download feed bodies with httpx's client, politely and within limits.

Politeness: a global limit and a per-host limit on concurrent requests, conditional GET, and
what the server says about when to come back (Retry-After, Cache-Control max-age) handed to
the caller. Safety: every fetch has a total deadline, bodies are read as a stream and
abandoned past a size cap, counted after decompression (a gzip bomb is stopped too), and a
feed at a public address is not redirected to a private one.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from monitor import PROJECT_URL, __version__
from monitor.config import PollingConfig
from monitor.errors import FetchError
from monitor.http.redirects import (
    PERMANENT,
    Address,
    absolute,
    addresses_of,
    check_location,
    check_redirect,
    get_request,
    redirect_target,
)
from monitor.http.response import ACCEPT_ENCODING, Body, max_age_of, status_error, too_large
from monitor.models import Validators

USER_AGENT = f"monitor/{__version__} (+{PROJECT_URL})"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"  # an item's article page
_HEADERS = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch. ``body`` is None when the server said 304 Not Modified.

    ``moved_to`` is the final URL when every redirect on the way was permanent (301/308): the
    caller may adopt it once it has seen it on consecutive polls. ``max_age`` is the server's
    Cache-Control max-age, a lower bound for the next poll.
    """

    url: str
    status: int
    body: bytes | None
    headers: dict[str, str]
    validators: Validators
    moved_to: str | None = None
    max_age: timedelta | None = None


@dataclass(frozen=True)
class Limits:
    concurrency: int = 32
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    keep_alive: float = 5.0  # seconds an idle host's connections are kept (httpx's own expiry)
    idle_hosts: int = 128  # most idle hosts whose connections are kept
    allow_private_redirects: bool = False  # may a feed at a public address redirect to a private one

    @classmethod
    def from_config(cls, polling: PollingConfig) -> Limits:
        return cls(
            concurrency=polling.concurrency,
            per_host=polling.per_host,
            deadline=polling.timeout.total_seconds(),
            max_bytes=polling.max_body_mb * 1024 * 1024,
            allow_private_redirects=polling.allow_private_redirects,
        )


@dataclass
class _Host:
    """One host's slots and its own client (per scheme and host).

    A client per host, because httpcore's pool under it rescans every connection it holds
    whenever a request starts or ends: one pool for all hosts cost up to twice the CPU per
    request of a pool per host (docs/benchmarks.md).
    """

    slots: asyncio.Semaphore
    client: httpx.AsyncClient
    pending: int = 0


class Fetcher:
    """An async context manager owning the httpx clients of a run, one per host.

    A host's client outlives its fetches by ``Limits.keep_alive`` seconds, so the next feed of
    the same publisher reuses the connection; past that, or past ``Limits.idle_hosts`` idle
    hosts (oldest first), it is closed, which bounds the sockets held open. Each client takes
    its proxy from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY; SOCKS too).
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._slots = asyncio.Semaphore(self.limits.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._idle: OrderedDict[str, float] = OrderedDict()  # host → when it went idle, oldest first
        self._tls = httpx.create_ssl_context()  # the CA bundle is slow to load: once per run
        read, connect = self.limits.read_timeout, self.limits.connect_timeout
        self._timeout = httpx.Timeout(read, connect=connect)
        per_host = self.limits.per_host
        self._pool = httpx.Limits(
            max_connections=per_host,
            max_keepalive_connections=per_host,
            keepalive_expiry=self.limits.keep_alive,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        hosts, self._hosts = list(self._hosts.values()), {}
        self._idle.clear()
        for host in hosts:
            await host.client.aclose()

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        accept: str = ACCEPT,
        linked_from: str | None = None,
    ) -> Fetched:
        """GET ``url`` conditionally; raises FetchError for anything but 2xx or 304.

        ``linked_from``: the feed whose item links here. A feed's links are its publisher's to
        write, so one at a public address may not send us to a private one, as a redirect may
        not. The per-host slot is taken before the global one, so a busy host never holds a
        slot another host could use.
        """
        validators = validators or Validators()
        headers = dict(_HEADERS, Accept=accept)
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        await self._close_idle_hosts()
        parts = urlsplit(url)
        name = f"{parts.scheme}://{parts.hostname or ''}"
        host = self._hosts.get(name) or self._hosts.setdefault(name, self._new_host(url))
        self._idle.pop(name, None)
        host.pending += 1
        try:
            async with host.slots, self._slots:
                return await self._fetch(host.client, url, headers, validators, linked_from)
        finally:
            host.pending -= 1
            if not host.pending and self._hosts.get(name) is host:
                self._idle[name] = time.monotonic()
                await self._close_idle_hosts()

    async def _close_idle_hosts(self) -> None:
        expired = time.monotonic() - self.limits.keep_alive
        while self._idle:
            name, since = next(iter(self._idle.items()))
            if since > expired and len(self._idle) <= self.limits.idle_hosts:
                return
            del self._idle[name]
            await self._hosts.pop(name).client.aclose()

    def _new_host(self, url: str) -> _Host:
        """A host's slots and client, through the proxy the environment names for the URL, if any."""
        try:
            client = httpx.AsyncClient(
                verify=self._tls,
                http2=True,
                timeout=self._timeout,
                limits=self._pool,
                trust_env=True,
                event_hooks={"response": [check_location]},
            )
        except (ValueError, ImportError) as exc:  # a proxy httpx cannot use, such as ftp://
            raise FetchError(
                url, f"the proxy in the environment is unusable: {exc}", kind="network"
            ) from None
        return _Host(asyncio.Semaphore(self.limits.per_host), client)

    async def _fetch(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        validators: Validators,
        linked_from: str | None,
    ) -> Fetched:
        try:
            async with asyncio.timeout(self.limits.deadline):
                return await self._follow(client, url, headers, validators, linked_from)
        except TimeoutError:
            raise FetchError(
                url, f"no complete answer within {self.limits.deadline:g} s", kind="timeout"
            ) from None
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc or 'timed out'}", kind="timeout") from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc or 'no details'}", kind="network") from exc

    async def _follow(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        previous: Validators,
        linked_from: str | None,
    ) -> Fetched:
        """GET, following redirects here, to tell permanent moves from loops and to refuse a
        redirect (or a feed's link) from a public address to a private one."""
        visited = [absolute(url)]
        permanent = True
        origin: list[Address] | None = None  # the configured URL's addresses, once a redirect needs them
        if linked_from is not None and not self.limits.allow_private_redirects:
            origin = await addresses_of(linked_from)
            await check_redirect(url, origin, visited[0], step="link")
        while True:
            request = get_request(client, visited[-1], headers)
            response = await client.send(request, follow_redirects=False, stream=True)
            try:
                target = redirect_target(response)
                if target is not None:
                    permanent = permanent and response.status_code in PERMANENT
                    if target in visited:
                        raise FetchError(
                            url, f"redirect loop: {' → '.join([*visited, target])}", kind="redirect"
                        )
                    if len(visited) > self.limits.max_redirects:
                        raise FetchError(
                            url, f"more than {self.limits.max_redirects} redirects", kind="redirect"
                        )
                    if not self.limits.allow_private_redirects:
                        origin = await addresses_of(visited[0]) if origin is None else origin
                        await check_redirect(url, origin, target)
                    visited.append(target)
                    continue
                moved_to = visited[-1] if permanent and len(visited) > 1 else None
                return await self._read(url, visited[-1], response, previous, moved_to)
            finally:
                await response.aclose()

    async def _read(
        self,
        url: str,
        final_url: str,
        response: httpx.Response,
        previous: Validators,
        moved_to: str | None,
    ) -> Fetched:
        headers = dict(response.headers.items())  # lower-case names; repeated ones joined by commas
        max_age = max_age_of(headers.get("cache-control"))
        if response.status_code == 304:
            async for _ in response.aiter_raw():  # to the end of the message, so the connection is kept
                pass
            renewed = Validators(
                headers.get("etag") or previous.etag,
                headers.get("last-modified") or previous.last_modified,
            )
            return Fetched(final_url, 304, None, headers, renewed, moved_to, max_age)
        if not 200 <= response.status_code < 300:
            raise status_error(url, response.status_code, headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise too_large(url, self.limits.max_bytes, f" (it declares {int(declared):,})")
        body = Body(url, headers.get("content-encoding", ""), self.limits.max_bytes)
        async for raw in response.aiter_raw():
            body.feed(raw)
        validators = Validators(headers.get("etag"), headers.get("last-modified"))
        return Fetched(final_url, response.status_code, body.done(), headers, validators, moved_to, max_age)
