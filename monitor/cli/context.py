"""What the commands share: the config named by ``-c`` and the App over it, each opened when a
command asks for it, so that ``--help`` and completion load neither."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.config import Config

PARALLEL_FROM = 20  # feeds; fewer are parsed in a thread, sparing the start of worker processes


@dataclass
class Context:
    option: str | None

    @functools.cached_property
    def path(self) -> Path:
        """The config file, found once (see ``resolve_path``: it may say which it took)."""
        from monitor.config import resolve_path

        return resolve_path(self.option)

    def config(self) -> Config:
        """The config, checked; its log level applies from now on (see monitor.log)."""
        from monitor import checks
        from monitor.log import follow_config

        config = checks.load(self.path)
        follow_config(config.logging.level)
        return config

    @contextmanager
    def app(self, parallel: bool = False) -> Iterator[App]:
        """The config's App, closed after; ``parallel`` parses in a process per core when there
        are enough feeds to repay starting them."""
        from monitor.app import App

        config = self.config()
        workers = (os.cpu_count() or 1) if parallel and len(config.feeds) >= PARALLEL_FROM else 0
        app = App(config, workers)
        try:
            yield app
        finally:
            app.close()
