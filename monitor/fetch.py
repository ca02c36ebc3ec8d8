"""HTTP only: download feed bodies with one shared client, politely and within limits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType

import httpx

from monitor import PROJECT_URL, __version__
from monitor.errors import FetchError
from monitor.models import Validators

USER_AGENT = f"monitor/{__version__} (+{PROJECT_URL})"


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch. ``body`` is None when the server said 304 Not Modified."""

    url: str
    status: int
    body: bytes | None
    headers: dict[str, str]
    validators: Validators


@dataclass(frozen=True)
class Limits:
    concurrency: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_bytes: int = 10 * 1024 * 1024


class Fetcher:
    """An async context manager owning the one ``httpx.AsyncClient`` of a run."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits = limits or Limits()
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._client = httpx.AsyncClient(
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            limits=httpx.Limits(max_connections=limits.concurrency),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        """GET ``url`` conditionally; raises FetchError for anything but 2xx or 304."""
        validators = validators or Validators()
        request_headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
        }
        if validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        async with self._slots:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await self._get(url, request_headers, validators)
            except TimeoutError:
                raise FetchError(url, f"no complete answer within {self.limits.deadline:g}s") from None
            except httpx.HTTPError as exc:
                raise FetchError(url, f"{type(exc).__name__}: {exc or 'no details'}") from exc

    async def _get(self, url: str, headers: dict[str, str], previous: Validators) -> Fetched:
        async with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            if response.status_code == 304:
                renewed = Validators(
                    response.headers.get("etag") or previous.etag,
                    response.headers.get("last-modified") or previous.last_modified,
                )
                return Fetched(final_url, 304, None, dict(response.headers), renewed)
            if not response.is_success:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    raise FetchError(url, f"body larger than {self.limits.max_bytes} bytes; not read")
                chunks.append(chunk)
            validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
            return Fetched(
                final_url,
                response.status_code,
                b"".join(chunks),
                dict(response.headers),
                validators,
            )
