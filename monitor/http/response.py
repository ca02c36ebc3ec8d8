"""What a response says: its body, inflated here within the cap; its status as an error; and
when the server wants to be asked again (Retry-After, Cache-Control max-age)."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from monitor.errors import FetchError

MAX_RETRY_AFTER = 7 * 24 * 3600.0
ACCEPT_ENCODING = "gzip, deflate"  # what Body can inflate within the cap
_SECONDS = re.compile(r"[0-9]+")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class Body:
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
            raise too_large(self.url, self.cap, "")
        self.chunks.append(piece)


def too_large(url: str, cap: int, detail: str) -> FetchError:
    return FetchError(url, f"body larger than {cap:,} bytes{detail}; not read", kind="too_large")


def status_error(url: str, status: int, headers: dict[str, str]) -> FetchError:
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


def max_age_of(cache_control: str | None) -> timedelta | None:
    found = _MAX_AGE.search(cache_control or "")
    return timedelta(seconds=int(found.group(1))) if found else None
