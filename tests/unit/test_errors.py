"""Every MonitorError survives pickling with its message and fields: parse workers send them."""

import importlib
import pickle
import pkgutil

import pytest

import monitor
from monitor.errors import (
    ArticleError,
    ClaimedError,
    ConfigError,
    DatabaseAway,
    DeliveryError,
    FeedError,
    FetchError,
    MonitorError,
    ParseError,
    StorageError,
)

EXAMPLES = [
    MonitorError("something failed"),
    ConfigError("monitor.toml: feeds[0].url: not a URL"),
    FeedError("https://example.org/rss", "odd", kind="gone"),
    FetchError("https://example.org/rss", "HTTP 429", kind="http", status=429, retry_after=30.0),
    FetchError("https://example.org/rss", "timed out"),
    ParseError("https://example.org/rss", "an HTML page, not a feed"),
    ParseError("https://example.org/rss", "the parser process died", kind="parser_died"),
    ArticleError("https://example.org/story", "no article text on the page"),
    StorageError("database is locked"),
    ClaimedError("digest 3 is held by another run"),
    DatabaseAway("terminating connection due to administrator command"),
    DeliveryError("421 try later", temporary=True),
    DeliveryError("550 no such user"),
]


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_error_class_is_in_the_table() -> None:
    for module in pkgutil.walk_packages(monitor.__path__, "monitor."):
        # Alembic's env.py runs a migration when imported, and __main__ runs the CLI
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    classes = _all_subclasses(MonitorError) | {MonitorError}
    assert classes == {type(example) for example in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: f"{type(e).__name__}:{e}")
def test_error_round_trips_through_pickle(error: MonitorError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
