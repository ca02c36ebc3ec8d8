"""HTTP only: download feed bodies with httpx's client, politely and within limits.

Politeness: a global limit and a per-host limit on concurrent requests, conditional GET, and
what the server says about when to come back (Retry-After, Cache-Control max-age) handed to
the caller. Safety: every fetch has a total deadline, bodies are read as a stream and
abandoned past a size cap, counted after decompression (a gzip bomb is stopped too), and a
feed at a public address is not redirected to a private one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from monitor import PROJECT_URL, __version__
from monitor.errors import FetchError
from monitor.models import Validators

USER_AGENT = f"monitor/{__version__} (+{PROJECT_URL})"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_PERMANENT = {301, 308}
MAX_RETRY_AFTER = 7 * 24 * 3600.0
ACCEPT_ENCODING = "gzip, deflate"  # what _Body can inflate within the cap
_HEADERS = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
_REDIRECTS = {301, 302, 303, 307, 308}
_SCHEMES = ("http", "https")
_SECONDS = re.compile(r"[0-9]+")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


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


@dataclass
class _Host:
    """One host's slots and its own client (per scheme and host).

    A client per host, because httpcore's pool under it rescans every connection it holds
    whenever a request starts or ends: one pool for all hosts cost up to twice the CPU per
    request of a pool per host (measured on 100 loopback hosts: 2.2 against 1.3 ms a request).
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
        self._tls = httpx.create_ssl_context()  # loading the CA bundle takes ~50 ms: once per run
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

    async def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        """GET ``url`` conditionally; raises FetchError for anything but 2xx or 304.

        The per-host slot is taken before the global one, so a busy host never holds a slot
        another host could use.
        """
        validators = validators or Validators()
        headers = dict(_HEADERS)
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
                return await self._fetch(host.client, url, headers, validators)
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
                event_hooks={"response": [_check_location]},
            )
        except (ValueError, ImportError) as exc:  # a proxy httpx cannot use, such as ftp://
            raise FetchError(
                url, f"the proxy in the environment is unusable: {exc}", kind="network"
            ) from None
        return _Host(asyncio.Semaphore(self.limits.per_host), client)

    async def _fetch(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], validators: Validators
    ) -> Fetched:
        try:
            async with asyncio.timeout(self.limits.deadline):
                return await self._follow(client, url, headers, validators)
        except TimeoutError:
            raise FetchError(
                url, f"no complete answer within {self.limits.deadline:g} s", kind="timeout"
            ) from None
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc or 'timed out'}", kind="timeout") from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc or 'no details'}", kind="network") from exc

    async def _follow(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], previous: Validators
    ) -> Fetched:
        """GET, following redirects here, to tell permanent moves from loops and to refuse a
        redirect from a public address to a private one."""
        visited = [_absolute(url)]
        permanent = True
        origin: list[Address] | None = None  # the configured URL's addresses, once a redirect needs them
        while True:
            request = _request(client, visited[-1], headers)
            response = await client.send(request, follow_redirects=False, stream=True)
            try:
                target = _redirect_target(response)
                if target is not None:
                    permanent = permanent and response.status_code in _PERMANENT
                    if target in visited:
                        raise FetchError(
                            url, f"redirect loop: {' → '.join([*visited, target])}", kind="redirect"
                        )
                    if len(visited) > self.limits.max_redirects:
                        raise FetchError(
                            url, f"more than {self.limits.max_redirects} redirects", kind="redirect"
                        )
                    if not self.limits.allow_private_redirects:
                        origin = await _addresses(visited[0]) if origin is None else origin
                        await _check_redirect(url, origin, target)
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
        max_age = _max_age(headers.get("cache-control"))
        if response.status_code == 304:
            async for _ in response.aiter_raw():  # to the end of the message, so the connection is kept
                pass
            renewed = Validators(
                headers.get("etag") or previous.etag,
                headers.get("last-modified") or previous.last_modified,
            )
            return Fetched(final_url, 304, None, headers, renewed, moved_to, max_age)
        if not 200 <= response.status_code < 300:
            raise _status_error(url, response.status_code, headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise _too_large(url, self.limits.max_bytes, f" (it declares {int(declared):,})")
        body = _Body(url, headers.get("content-encoding", ""), self.limits.max_bytes)
        async for raw in response.aiter_raw():
            body.feed(raw)
        validators = Validators(headers.get("etag"), headers.get("last-modified"))
        return Fetched(final_url, response.status_code, body.done(), headers, validators, moved_to, max_age)


def _request(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Request:
    """A GET of ``url``; an address httpx cannot use is an error that names it."""
    try:
        request = client.build_request("GET", url, headers=headers)
    except httpx.InvalidURL as exc:
        raise httpx.InvalidURL(f"not a usable address: {url} ({exc})") from None
    if request.url.scheme not in _SCHEMES or not request.url.host:
        raise httpx.InvalidURL(f"not an http or https address: {url}")
    return request


def _absolute(url: str) -> str:
    """``url`` as sent: ASCII, with a non-ASCII host in IDNA and other characters
    percent-encoded (httpx's rules), so feeds at such addresses work and redirect loops are
    seen whatever the spelling."""
    if url.isascii() and " " not in url:
        return url
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL as exc:
        raise httpx.InvalidURL(f"not a usable address: {url} ({exc})") from None


def _redirect_target(response: httpx.Response) -> str | None:
    """Where a redirect points, absolute; None if ``response`` is no redirect."""
    location = response.headers.get("location")
    if response.status_code not in _REDIRECTS or location is None:
        return None
    try:
        target = _absolute(urljoin(str(response.request.url), location))
        url = httpx.URL(target)
    except (ValueError, httpx.InvalidURL):  # ValueError: urllib's word for "http://[::1"
        raise httpx.InvalidURL(f"not a usable address: {location}") from None
    if url.scheme not in _SCHEMES or not url.host:
        raise httpx.InvalidURL(f"not an http or https address: {location}")
    return target


async def _check_location(response: httpx.Response) -> None:
    """A response hook: a redirect to an unusable address is an error that names it (httpx
    parses the Location of every redirect, even one it does not follow, and its own error
    does not say which address it was)."""
    _redirect_target(response)


# --- redirects to private addresses -------------------------------------------------------------


def redirect_allowed(origin: Iterable[Address], target: Iterable[Address], allow_private: bool) -> bool:
    """Whether a feed whose configured URL has the ``origin`` addresses may be redirected to a
    host with the ``target`` addresses: a feed at a public address must not reach the poller's
    own machine or network (loopback, link-local, private and other non-public ranges), unless
    the setting allows it; a feed configured at a private address may go anywhere."""
    return (
        allow_private or any(_private(each) for each in origin) or not any(_private(each) for each in target)
    )


def _private(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global


async def _check_redirect(url: str, origin: list[Address], target: str) -> None:
    addresses = await _addresses(target)
    if not redirect_allowed(origin, addresses, allow_private=False):
        private = next(str(each) for each in addresses if _private(each))
        raise FetchError(
            url,
            f"redirect to {target} refused: it reaches the private address {private}; "
            "set [polling] allow_private_redirects = true to follow such redirects",
            kind="redirect",
        )


async def _addresses(url: str) -> list[Address]:
    """The addresses ``url``'s host names: the literal itself, or what the resolver says (none
    when it says nothing: the connection will fail on its own)."""
    host = urlsplit(url).hostname or ""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]


# --- bodies and statuses ---------------------------------------------------------------------


class _Body:
    """A response body decompressed here, never more than the cap at a time: httpx would
    inflate each network read whole, so a gzip bomb could take 100+ MB before being counted."""

    def __init__(self, url: str, encoding: str, cap: int) -> None:
        self.url, self.cap = url, cap
        self.chunks: list[bytes] = []
        self.size = 0
        coding = encoding.strip().lower()
        if coding in ("", "identity"):
            self._inflate: zlib._Decompress | None = None
        elif coding in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        else:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}", kind="http")

    def feed(self, data: bytes) -> None:
        if self._inflate is None:
            self._keep(data)
            return
        try:
            while data:
                self._keep(self._inflate.decompress(data, self.cap - self.size + 1))
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(self.url, f"corrupt compressed body: {exc}", kind="http") from exc

    def done(self) -> bytes:
        if self._inflate is not None:
            self._keep(self._inflate.flush())
        return b"".join(self.chunks)

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.cap:
            raise _too_large(self.url, self.cap, "")
        self.chunks.append(piece)


def _too_large(url: str, cap: int, detail: str) -> FetchError:
    return FetchError(url, f"body larger than {cap:,} bytes{detail}; not read", kind="too_large")


def _status_error(url: str, status: int, headers: dict[str, str]) -> FetchError:
    message = f"HTTP {status} {_phrase(status)}".rstrip()
    if status == 410:
        return FetchError(url, f"{message}: the publisher removed the feed", kind="gone", status=status)
    retry_after = retry_after_seconds(headers.get("retry-after"), datetime.now(UTC))
    if retry_after is not None and status in (429, 503):
        message += f"; asked to retry after {retry_after:g} s"
    return FetchError(url, message, kind="http", status=status, retry_after=retry_after)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``: either delay-seconds or an HTTP date; at most a week
    (a server's typo must not silence a source for a century)."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def _max_age(cache_control: str | None) -> timedelta | None:
    found = _MAX_AGE.search(cache_control or "")
    return timedelta(seconds=int(found.group(1))) if found else None
