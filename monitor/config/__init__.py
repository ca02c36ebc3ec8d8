"""The config: the TOML file read into typed, validated values, and written back when a feed
is added. Pure: pydantic and the standard library, so anything may import it.

``load(path)`` checks what the file alone can tell; ``monitor.checks.load(path)`` also asks the
parts that will run it (the matcher, Apprise, the templates), and is what running code uses.
"""

from monitor.config.edit import Imported, append_feed, feed_name, import_feeds, remove_feed
from monitor.config.load import (
    DEFAULT_PATH,
    PACKAGED_EXAMPLE,
    STORAGE_URL_ENV,
    load,
    resolve_path,
    user_data_dir,
)
from monitor.config.models import (
    Config,
    FeedConfig,
    LoggingConfig,
    OutboxConfig,
    PollingConfig,
    ServerConfig,
    SmtpConfig,
    StorageConfig,
    WatchlistConfig,
)
from monitor.config.types import Checks, Schedule, parse_duration, parse_schedule, split_listen

__all__ = [
    "DEFAULT_PATH",
    "PACKAGED_EXAMPLE",
    "STORAGE_URL_ENV",
    "Checks",
    "Config",
    "FeedConfig",
    "Imported",
    "LoggingConfig",
    "OutboxConfig",
    "PollingConfig",
    "Schedule",
    "ServerConfig",
    "SmtpConfig",
    "StorageConfig",
    "WatchlistConfig",
    "append_feed",
    "feed_name",
    "import_feeds",
    "load",
    "parse_duration",
    "parse_schedule",
    "remove_feed",
    "resolve_path",
    "split_listen",
    "user_data_dir",
]
