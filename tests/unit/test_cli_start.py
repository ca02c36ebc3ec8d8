"""`monitor --help`, `--version` and each Tab of shell completion load click and the standard
library only: the config, the store, the fetcher, the channels and the matcher are imported by
the command that runs them. Checked by what a fresh interpreter has imported, not by a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = {
    "alembic",
    "apprise",
    "apscheduler",
    "feedparser",
    "httpx",
    "jinja2",
    "pydantic",
    "pymorphy3",
    "rich",
    "simplemma",
    "sqlalchemy",
}
# the parts of monitor the command tree needs: no config, store, pipeline or matcher
LIGHT = {"monitor", "monitor.errors", "monitor.log", "monitor.signals"}

# Runs the command line in this interpreter, then prints what it imported, as the last line.
SCRIPT = """
import json, sys
from monitor.cli import main
try:
    main(sys.argv[1:], prog_name="monitor")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def run(*args: str, **environment: str) -> tuple[str, list[str]]:
    """What running ``monitor ARGS`` wrote, and what it imported of HEAVY's libraries and of
    monitor outside the CLI and LIGHT."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=os.environ | environment,
    )
    *written, last = result.stdout.splitlines()
    modules = json.loads(last)
    assert "monitor.cli" in modules
    return "\n".join(written), [
        name
        for name in modules
        if name.partition(".")[0] in HEAVY
        or (name.startswith("monitor") and name not in LIGHT and not name.startswith("monitor.cli"))
    ]


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (("--help",), "Usage: monitor [OPTIONS] COMMAND [ARGS]..."),
        (("--version",), "SQLAlchemy "),
        (("hits", "--help"), "--since TEXT"),
        (("digest", "send", "--help"), "--watchlist NAME"),
        (("feeds", "add", "--help"), "--dry-run"),
    ],
)
def test_help_and_version_import_no_part_of_the_application(args, shows):
    written, modules = run(*args)

    assert shows in written
    assert modules == []


@pytest.mark.parametrize(
    ("words", "word", "offered"),
    [
        ("monitor ", 1, "plain,check-config"),
        ("monitor hits --since 7d --", 4, "plain,--json"),  # its callback parses nothing meanwhile
        ("monitor match --language sr --", 4, "plain,--explain"),
        ("monitor feeds a", 2, "plain,add"),
    ],
)
def test_shell_completion_imports_no_part_of_the_application(words, word, offered):
    written, modules = run(_MONITOR_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(word))

    assert offered in written.splitlines()
    assert modules == []
