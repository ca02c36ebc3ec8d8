"""Every command is in the README and every config key in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from monitor.cli import main
from monitor.config import (
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

ROOT = Path(__file__).resolve().parents[2]


def command_names(group: click.Group, prefix: str = "monitor") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", command_names(main))
def test_every_command_is_in_the_readme(command):
    assert f"`{command}" in (ROOT / "README.md").read_text()


TOP_LEVEL = ("templates", "locale", "script")  # the keys before the first table


@pytest.mark.parametrize(
    "key",
    [
        f"`{field.alias or name}`"
        for model in (
            StorageConfig,
            SmtpConfig,
            OutboxConfig,
            PollingConfig,
            ServerConfig,
            LoggingConfig,
            FeedConfig,
            WatchlistConfig,
        )
        for name, field in model.model_fields.items()
    ]
    + [
        f"`[{name}]`"
        if name in ("storage", "smtp", "outbox", "polling", "server", "logging")
        else f"`[[{name}]]`"
        for name in Config.model_fields
        if name not in ("path", *TOP_LEVEL)
    ]
    + [f"`{name} = " for name in TOP_LEVEL],
)
def test_every_config_key_is_documented(key):
    assert key in (ROOT / "docs" / "configuration.md").read_text()
