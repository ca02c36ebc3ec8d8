"""The wiring: a config and the parts that serve it, each made when first used, so a command
that only reads opens only the store, and nothing happens in the constructor."""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from monitor.config import Config
from monitor.match import Matcher
from monitor.match.cache import cache_directory, compile_matcher
from monitor.metrics import Metrics
from monitor.outbox.dispatcher import Outbox
from monitor.polling.poller import Poller
from monitor.store import Store
from monitor.store.sole import sole_daemon


def compile_watchlists(config: Config) -> Matcher:
    """Every watchlist's queries in one matcher (its words' forms from the word cache)."""
    return compile_matcher({w.name: w.queries for w in config.watchlists}, cache_directory())


class App:
    """One config's monitor: its store, its compiled watchlists, its poller and its outbox.
    ``parse_workers`` > 1 parses feeds in that many processes (see ParsePool)."""

    def __init__(self, config: Config, parse_workers: int = 0) -> None:
        self.config = config
        self.parse_workers = parse_workers

    @functools.cached_property
    def store(self) -> Store:
        return Store(self.config.storage.url)

    @functools.cached_property
    def matcher(self) -> Matcher:
        """Every watchlist's queries, compiled when first needed (from the word cache)."""
        return compile_watchlists(self.config)

    @functools.cached_property
    def metrics(self) -> Metrics:
        """What this process's polls and sends count, for /metrics."""
        return Metrics(watchlist.name for watchlist in self.config.watchlists)

    @functools.cached_property
    def poller(self) -> Poller:
        return Poller(self.config, self.store, lambda: self.matcher, self.parse_workers, self.metrics)

    @functools.cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.config, self.store, self.metrics)

    def reconfigure(self, config: Config, matcher: Matcher) -> None:
        """Run ``config`` from now on, ``matcher`` its watchlists compiled (``compile_watchlists``,
        off the event loop): the parts made so far take it, keeping the store, the parse workers
        and the messages being sent. The store stays on the old ``[storage] url``."""
        self.config = config
        self.matcher = matcher
        if "poller" in self.__dict__:
            self.poller.reconfigure(config)
        if "outbox" in self.__dict__:
            self.outbox.reconfigure(config)

    def daemon_lock(self) -> AbstractContextManager[None]:
        """Held while this process is the config's daemon: a second daemon on the same SQLite
        file is refused (see monitor.store.sole)."""
        return sole_daemon(self.config.storage.url)

    def close(self) -> None:
        """Stop the parse workers and close the database, if they were started."""
        if "poller" in self.__dict__:
            self.poller.close()
        if "store" in self.__dict__:
            self.store.close()
