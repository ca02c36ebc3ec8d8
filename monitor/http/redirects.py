"""Addresses and redirects: requests built for usable http(s) addresses only, redirect
targets made absolute, and a feed at a public address kept from being redirected to a private
one (the poller's own machine or network)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.errors import FetchError

REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
SCHEMES = ("http", "https")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def get_request(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Request:
    """A GET of ``url``; an address httpx cannot use is an error that names it."""
    try:
        request = client.build_request("GET", url, headers=headers)
    except httpx.InvalidURL as exc:
        raise httpx.InvalidURL(f"not a usable address: {url} ({exc})") from None
    if request.url.scheme not in SCHEMES or not request.url.host:
        raise httpx.InvalidURL(f"not an http or https address: {url}")
    return request


def absolute(url: str) -> str:
    """``url`` as sent: ASCII, with a non-ASCII host in IDNA and other characters
    percent-encoded (httpx's rules), so feeds at such addresses work and redirect loops are
    seen whatever the spelling."""
    if url.isascii() and " " not in url:
        return url
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL as exc:
        raise httpx.InvalidURL(f"not a usable address: {url} ({exc})") from None


def redirect_target(response: httpx.Response) -> str | None:
    """Where a redirect points, absolute; None if ``response`` is no redirect."""
    location = response.headers.get("location")
    if response.status_code not in REDIRECTS or location is None:
        return None
    try:
        target = absolute(urljoin(str(response.request.url), location))
        url = httpx.URL(target)
    except (ValueError, httpx.InvalidURL):  # ValueError: urllib's word for "http://[::1"
        raise httpx.InvalidURL(f"not a usable address: {location}") from None
    if url.scheme not in SCHEMES or not url.host:
        raise httpx.InvalidURL(f"not an http or https address: {location}")
    return target


async def check_location(response: httpx.Response) -> None:
    """A response hook: a redirect to an unusable address is an error that names it (httpx
    parses the Location of every redirect, even one it does not follow, and its own error
    does not say which address it was)."""
    redirect_target(response)


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


async def check_redirect(url: str, origin: list[Address], target: str, step: str = "redirect") -> None:
    """Refuse ``target`` when it reaches a private address and ``origin`` is public; ``step``
    names what led there (a redirect, or a feed's link to an item's page)."""
    addresses = await addresses_of(target)
    if not redirect_allowed(origin, addresses, allow_private=False):
        private = next(str(each) for each in addresses if _private(each))
        raise FetchError(
            url,
            f"{step} to {target} refused: it reaches the private address {private}; "
            f"set [polling] allow_private_redirects = true to follow such {step}s",
            kind="redirect",
        )


async def addresses_of(url: str) -> list[Address]:
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
