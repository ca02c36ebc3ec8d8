"""The layers of monitor, read from its source, so that no import crosses one unseen.

Each table holds one kind of rule, a row each; add rows as the layers settle:
- ``ONLY``: the package's modules import nothing but these (and the standard library);
- ``NEVER``: the package's modules import none of these;
- ``OWNERS``: only these packages' modules import the module.
Every import counts: at the top, inside a function, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "monitor"

ONLY = {
    "monitor.config": {"monitor.config", "monitor.errors", "pydantic", "platformdirs", "tomlkit"},
    "monitor.errors": set(),
    "monitor.models": set(),
    "monitor.leases": {"monitor.models"},
}
IO = set("httpx sqlalchemy alembic psycopg smtplib apprise socket urllib.request http.client".split())
# the runtime: what does I/O, and what wires it
RUNTIME = set(
    "monitor.http monitor.store monitor.polling monitor.outbox monitor.history monitor.app monitor.daemon"
    " monitor.cli monitor.web".split()
)
NEVER = {
    "monitor.feeds": IO | RUNTIME,
    "monitor.match": IO | RUNTIME,
    "monitor.digest": IO | RUNTIME,
    "monitor.i18n": IO | RUNTIME | {"monitor.digest"},
    "monitor.http": RUNTIME - {"monitor.http"},
    "monitor.store": RUNTIME - {"monitor.store", "monitor.polling"},  # items apply a PollIntent
}
OWNERS = {
    "sqlalchemy": {"monitor.store"},
    "alembic": {"monitor.store"},
    "httpx": {"monitor.http"},
    "apprise": {"monitor.outbox.apprise"},
    "smtplib": {"monitor.outbox.smtp"},
    "jinja2": {"monitor.digest"},
    "babel": {"monitor.i18n"},
    "feedparser": {"monitor.feeds"},
    "tomlkit": {"monitor.config"},
    "trafilatura": {"monitor.feeds"},
    "lxml": {"monitor.feeds"},
    "apscheduler": {"monitor.daemon", "monitor.schedule"},
    "click": {"monitor.cli"},
    "monitor.store": {
        "monitor.store",
        "monitor.app",
        "monitor.history",
        "monitor.polling",
        "monitor.outbox",
        "monitor.cli.setup",
        "monitor.cli.database",
    },
    "rich": {"monitor.cli"},
    "starlette": {"monitor.web"},
    "hypercorn": {"monitor.web"},
    "prometheus_client": {"monitor.metrics", "monitor.web"},
}


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """The names ``module``'s source imports: ``a.b`` for ``import a.b``, ``a.b`` for ``from a
    import b`` (a module or a name in it), relative imports made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def _modules() -> dict[str, set[str]]:
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        found[module] = imported(path.read_text(encoding="utf-8"), module, is_package)
    return found


MODULES = _modules()


def within(name: str, prefixes: set[str]) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def standard(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def crossings(package: str, refused: Callable[[str], bool]) -> list[str]:
    """``module: name`` for each import of the package's modules that ``refused(name)``."""
    modules = {module: names for module, names in MODULES.items() if within(module, {package})}
    assert modules, f"no module in {package}: a row that checks nothing"
    return sorted(f"{module}: {name}" for module, names in modules.items() for name in names if refused(name))


@pytest.mark.parametrize("package", ONLY)
def test_package_imports_only_what_its_layer_allows(package):
    allowed = ONLY[package]

    assert crossings(package, lambda name: not standard(name) and not within(name, allowed)) == []


@pytest.mark.parametrize("package", NEVER)
def test_package_imports_none_of_what_its_layer_refuses(package):
    refused = NEVER[package]

    assert crossings(package, lambda name: within(name, refused)) == []


@pytest.mark.parametrize("library", OWNERS)
def test_library_is_imported_by_its_owners_only(library):
    owners = OWNERS[library]
    importers = [
        module for module, names in MODULES.items() if any(within(name, {library}) for name in names)
    ]

    assert importers, f"nothing imports {library}: a row that checks nothing"
    assert sorted(module for module in importers if not within(module, owners)) == []


@pytest.mark.parametrize(
    ("source", "module", "is_package", "names"),
    [
        ("import httpx", "monitor.config.types", False, {"httpx"}),
        ("import sqlalchemy.exc as e", "monitor.feeds", True, {"sqlalchemy.exc"}),
        ("from monitor.match import parse_query", "monitor.config", True, {"monitor.match.parse_query"}),
        ("from . import models", "monitor.config", True, {"monitor.config.models"}),
        ("from . import models", "monitor.config.load", False, {"monitor.config.models"}),
        ("from ..digest import render", "monitor.config.load", False, {"monitor.digest.render"}),
        ("def f():\n    import apprise\n", "monitor.config.edit", False, {"apprise"}),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from monitor.store import Store\n",
            "monitor.config.models",
            False,
            {"typing.TYPE_CHECKING", "monitor.store.Store"},
        ),
    ],
)
def test_every_kind_of_import_is_read(source, module, is_package, names):
    assert imported(source, module, is_package) == names
