"""The config checked against the parts that will run it: the matcher reads every query and
language hint, Apprise knows every channel, the digest templates compile, APScheduler takes
every schedule. ``load`` is what running code (the CLI, the daemon, the benchmarks) loads a
config with; ``monitor.config`` alone checks only what the file itself can tell.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from monitor import config
from monitor.config import Config, Schedule
from monitor.digest import check_templates
from monitor.errors import ConfigError
from monitor.match import language_code, parse_query
from monitor.outbox.apprise import endpoint
from monitor.schedule import trigger


class RuntimeChecks:
    """``monitor.config.Checks`` answered by the matcher, Apprise, Jinja and APScheduler."""

    def query(self, text: str) -> None:
        parse_query(text)

    def language(self, hint: str) -> str:
        return language_code(hint)

    def channel(self, url: str) -> None:
        endpoint(url)

    def schedule(self, schedule: Schedule) -> None:
        try:
            trigger(schedule, ZoneInfo("UTC"))
        except ValueError as exc:
            raise ValueError(f"{schedule.text!r} is not a valid cron expression: {exc}") from exc

    def templates(self, folder: Path) -> None:
        try:
            check_templates(folder)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


def load(path: Path) -> Config:
    """The config at ``path``, checked by the parts that will run it; every problem, the
    file's own and theirs, in one ConfigError."""
    return config.load(path, RuntimeChecks())
