"""The exception tree. Everything the tool raises on purpose is a MonitorError.

    MonitorError
    ├── ConfigError            the config file is missing, unreadable or invalid
    ├── FeedError(url)         one feed could not be used; the poll moves on
    │   ├── FetchError         transport failure or a bad HTTP status
    │   └── ParseError         the body is not a feed we can read
    ├── StorageError           the database refused or is unreachable
    └── DeliveryError          the mail server refused or is unreachable

Third-party exceptions are translated at the module boundary with ``raise ... from``.
"""


class MonitorError(Exception):
    """Root of every error the tool reports to the user."""


class ConfigError(MonitorError):
    """The configuration cannot be used; the message says where and how to fix it."""


class FeedError(MonitorError):
    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url


class FetchError(FeedError):
    """The feed could not be downloaded."""


class ParseError(FeedError):
    """The downloaded body is not a usable feed."""


class StorageError(MonitorError):
    """The database could not be read or written."""


class DeliveryError(MonitorError):
    """A message could not be handed to the mail server."""
