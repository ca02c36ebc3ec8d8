"""The exception tree. Everything the tool raises on purpose is a MonitorError.

    MonitorError
    ├── ConfigError            the config file is missing, unreadable or invalid
    ├── FeedError(url)         one feed could not be used; the poll moves on
    │   ├── FetchError         transport failure or a bad HTTP status
    │   ├── ParseError         the body is not a feed we can read
    │   └── ArticleError       an item's page holds no article text we can read
    ├── StorageError           the database refused or is unreachable
    │   ├── ClaimedError       another run holds what this one meant to take; try again
    │   └── DatabaseAway       the connection failed or was cut; the same work later succeeds
    └── DeliveryError          the mail server refused or is unreachable

Third-party exceptions are translated at the module boundary with ``raise ... from``.
Every error pickles with its fields, since parse workers send them to the main process.
"""

from typing import Any


def _restore(cls: type[BaseException], args: tuple[Any, ...], fields: dict[str, Any]) -> BaseException:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(fields)
    return error


class MonitorError(Exception):
    """Root of every error the tool reports to the user."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt from its message and fields, not by calling ``__init__`` again with
        ``args``: a subclass's constructor takes more than its message."""
        return _restore, (type(self), self.args, self.__dict__)


class ConfigError(MonitorError):
    """The configuration cannot be used; the message says where and how to fix it."""


class FeedError(MonitorError):
    """``kind`` names the failure in a word for health reports: timeout, network, http, gone,
    redirect, too_large (fetching); not_a_feed, parser_died (parsing); storage (the database
    refused what the poll brought); bug (anything else that went wrong with this feed's data: a
    defect of ours, contained to the feed)."""

    kind = "error"

    def __init__(self, url: str, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        if kind:
            self.kind = kind


class FetchError(FeedError):
    """The feed could not be downloaded. ``status`` is the HTTP status, if one came, and
    ``retry_after`` the seconds a 429 or 503 asked us to wait."""

    kind = "network"

    def __init__(
        self,
        url: str,
        message: str,
        *,
        kind: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(url, message, kind=kind)
        self.status = status
        self.retry_after = retry_after


class ParseError(FeedError):
    """The downloaded body is not a usable feed."""

    kind = "not_a_feed"


class ArticleError(FeedError):
    """An item's page holds no article text we can read. Its feed's poll goes on: the item is
    matched and stored on what the feed said."""

    kind = "no_article"


class StorageError(MonitorError):
    """The database could not be read or written."""


class ClaimedError(StorageError):
    """Another run took what this one meant to take (a digest's hits) a moment before."""


class DatabaseAway(StorageError):
    """The database could not be reached, or cut the connection or the transaction short (a
    restart, a failover, a terminated backend, a lock held too long): nothing was written, and
    the same work tried again later succeeds. Not a refusal of what was written."""


class DeliveryError(MonitorError):
    """A message could not be handed to the mail server. ``temporary``: worth another try
    soon (a 4xx answer, a dropped connection, a timeout); not a refused connection or other
    wrong settings, whose message says what to change."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
