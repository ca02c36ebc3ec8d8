"""The Apprise channel: a message's short notice to Telegram, Slack, webhooks, …. The only
Apprise code.

Each endpoint is configured as an Apprise URL, whose secrets (a bot token, a password) may be
written ``${NAME}``: read from the environment when the config loads, to check the URL, and
again at each send. What is stored and shown is the endpoint's ``name``: the URL without its
query, its secrets masked by Apprise and the environment's values put back as ``${NAME}``, in
whatever form Apprise wrote them (percent-encoded, or cut to its first and last characters).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import apprise

from monitor.config import WatchlistConfig
from monitor.models import Attempt, Message

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_MAX = 320  # what the deliveries table holds for a recipient


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One Apprise URL of a watchlist's ``notify``: a recipient of the Apprise channel."""

    url: str  # as written, ${NAME} and all: never logged
    name: str  # secret-free: what is stored as the recipient, and shown


class AppriseChannel:
    """The watchlist's endpoints, as configured now: the outbox keeps only their names."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = urls

    @functools.cached_property
    def endpoints(self) -> dict[str, Endpoint]:
        """By name; their secrets read from the environment when first needed."""
        return {found.name: found for found in map(endpoint, self.urls)}

    def send(self, message: Message, recipients: Sequence[str]) -> dict[str, Attempt]:
        """Apprise does not say whether a failure is for good, so every failure is tried again;
        an endpoint no longer in the config has no URL to send to (nor a message recorded
        before channels had notices)."""
        attempts: dict[str, Attempt] = {}
        for name in recipients:
            found = self.endpoints.get(name)
            if found is None or message.notice is None:
                unknown = "no longer in the watchlist's notify: its URL (and secrets) are unknown"
                attempts[name] = Attempt("refused", unknown)
            elif (why := _send_notice(found, message.notice.title, message.notice.body)) is None:
                attempts[name] = Attempt("sent")
            else:
                attempts[name] = Attempt("failed_temporary", why)
        return attempts


def _expand(url: str, environ: Mapping[str, str]) -> str:
    def value(found: re.Match[str]) -> str:
        variable = found.group(1)
        if not environ.get(variable):
            raise ValueError(
                f"the environment variable {variable} is not set; export it (the URL's ${{{variable}}})"
            )
        return environ[variable]

    return _VARIABLE.sub(value, url)


def _forms(value: str) -> list[str]:
    """``value`` as it may stand in a URL that Apprise wrote, longest first: as is,
    percent-encoded as ``quote`` and ``quote_plus`` do (with "/" kept or not), and cut as
    Apprise's privacy mode cuts a token (``t...n``, ``...oken``)."""
    forms = {value, quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="/")}
    if len(value) > 4:
        forms |= {f"{value[0]}...{value[-1]}", f"...{value[-4:]}"}
    return sorted(forms - {""}, key=len, reverse=True)


def _hide(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each of ``values`` (a variable's), in every form, written ``${NAME}``."""
    for variable, value in values.items():
        for form in _forms(value):
            text = text.replace(form, f"${{{variable}}}")
    return text


def _as_written_userinfo(name: str, url: str) -> str:
    """``name`` with the user as ``url`` writes it, when a ``${NAME}`` is in it: a value with
    ":" in it moves Apprise's split between user and password, and would leave part of it
    where no mask reaches. The password stays as Apprise masked it."""
    user, colon, _ = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0].partition(":")
    scheme, separator, rest = name.partition("://")
    host, slash, path = rest.partition("/")
    if "${" not in user or "@" not in host:
        return name
    return f"{scheme}{separator}{user}{colon and ':****'}@{host.rpartition('@')[2]}{slash}{path}"


def endpoint(url: str, environ: Mapping[str, str] = os.environ) -> Endpoint:
    """The endpoint at ``url``; a ValueError, naming no secret, if Apprise cannot use it."""
    plugin = apprise.Apprise.instantiate(_expand(url, environ))
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        raise ValueError(
            f"Apprise cannot use this URL (scheme {scheme + '://' if scheme else 'missing'}); write it as "
            "its docs show, e.g. tgram://${BOT_TOKEN}/CHAT_ID or json://host:port/path, "
            "and check it with `apprise -vv -b test URL`"
        )
    name = _as_written_userinfo(str(plugin.url(privacy=True)).split("?", 1)[0], url)  # type: ignore[no-untyped-call]
    name = _hide(name, {variable: environ[variable] for variable in _VARIABLE.findall(url)})
    if len(name) > _NAME_MAX:
        raise ValueError(f"the URL is too long (over {_NAME_MAX} characters without its secrets)")
    return Endpoint(url, name)


def notify_channels(watchlist: WatchlistConfig) -> list[Endpoint]:
    """The watchlist's ``notify`` endpoints, their secrets read from the environment now."""
    return [endpoint(url) for url in watchlist.notify]


def _send_notice(target: Endpoint, title: str, body: str) -> str | None:
    """Send ``title`` and ``body`` (plain text) to the endpoint: None once it took them, else
    why not, in Apprise's words, without the endpoint's secrets."""
    try:
        url = _expand(target.url, os.environ)
    except ValueError as exc:
        return f"{target.name}: {exc}"
    notifier = apprise.Apprise()
    notifier.add(url)
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with capture as captured:
        delivered = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if delivered:
        return None
    said = " ".join(line for line in str(captured.getvalue()).splitlines() if line.strip())
    said = _hide(
        said.replace(url, target.name), {v: os.environ.get(v, "") for v in _VARIABLE.findall(target.url)}
    )
    return f"{target.name}: {said or 'Apprise could not send it'}"
