"""The command line run through click's runner, as a user types it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main


def monitor(config: Path, *args: str) -> tuple[int, str, str]:
    """``monitor -c CONFIG ARGS``: its exit code, stdout and stderr."""
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr
