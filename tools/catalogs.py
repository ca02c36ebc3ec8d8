#!/usr/bin/env python3
"""The digest's message catalogs (monitor/i18n/locale), kept in step with the sources.

`tools/catalogs.py` extracts the messages of monitor's code and digest templates (Babel, with
jinja2's extractor for the templates), adds the new ones to each translated catalog and drops
those gone, writes Serbian Latin from Serbian Cyrillic by transliteration (so the two cannot
drift), and compiles every catalog. Then translate what it lists as untranslated, and run it
again.

`tools/catalogs.py --check` changes nothing and fails, saying what to do, when a message is
missing from a catalog or left untranslated there, a translation's placeholders differ from
its message's, Serbian Latin is not Serbian Cyrillic transliterated, or a compiled catalog is
not its source's. CI runs it through tests/unit/test_catalogs.py.

`tools/catalogs.py --new LANG` starts the catalog of another language (a Babel locale name);
add it to LOCALES in monitor/config/types.py and monitor/i18n/locales.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.i18n.locales import DOMAIN  # noqa: E402
from monitor.i18n.script import to_latin  # noqa: E402

TRANSLATED = ("ru", "sr")  # written by translators; sr is Serbian in Cyrillic, as Babel names it
TRANSLITERATED = {"sr_Latn": ("sr", to_latin)}  # written here, from the catalog named
METHODS = [("monitor/**.py", "python"), ("monitor/digest/templates/**", "jinja2.ext:babel_extract")]
OPTIONS = {"monitor/digest/templates/**": {"newstyle_gettext": "true", "trim_blocks": "true"}}
WIDTH = 100


def extract(root: Path) -> Catalog:
    """Every message the code and the packaged templates say, where they say it."""
    template = Catalog(domain=DOMAIN, project="monitor", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(root, METHODS, OPTIONS):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return template


def source(root: Path, name: str) -> Path:
    return root / "monitor" / "i18n" / "locale" / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, domain=DOMAIN)


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True)
    with path.with_suffix(".mo").open("wb") as file:
        write_mo(file, catalog)


def strings(catalog: Catalog) -> dict[object, object]:
    """Each message's translation, by message (the header left out); a plural's forms as a
    tuple, whichever file they were read from."""
    return {_frozen(message.id): _frozen(message.string) for message in catalog if message.id}


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def transliterated(original: Catalog, name: str, convert: Callable[[str], str]) -> Catalog:
    """``original`` with every translation passed through ``convert``."""
    catalog = Catalog(
        locale=name,
        domain=DOMAIN,
        project="monitor",
        fuzzy=False,
        header_comment=f"# Written by tools/catalogs.py from {original.locale_identifier}: edit that one.\n#",
        last_translator=original.last_translator,
        language_team=original.language_team,
    )
    catalog.creation_date = original.creation_date
    catalog.revision_date = original.revision_date
    for message in original:
        if message.id:
            string = message.string
            converted = tuple(map(convert, string)) if isinstance(string, (tuple, list)) else convert(string)
            catalog.add(message.id, converted, locations=message.locations, flags=message.flags)
    return catalog


def untranslated(catalog: Catalog) -> list[str]:
    found = []
    for message in catalog:
        string = message.string
        forms = string if isinstance(string, (tuple, list)) else (string,)
        if message.id and (message.fuzzy or not all(forms)):
            found.append(message.id[0] if isinstance(message.id, tuple) else message.id)
    return found


PLACEHOLDER = re.compile(r"%\(\w+\)\w")


def placeholders(catalog: Catalog) -> Iterator[str]:
    """Translations whose placeholders are not their message's: each form must say them all,
    as Russian and Serbian say 21 with the form for 1."""
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        wanted = {found for text in ids for found in PLACEHOLDER.findall(text)}
        for form in forms:
            if form and set(PLACEHOLDER.findall(form)) != wanted:
                yield f"{ids[0]!r}: {form!r} does not say {', '.join(sorted(wanted))} and nothing else"


def update(root: Path) -> int:
    template = extract(root)
    waiting = 0
    for name in TRANSLATED:
        path = source(root, name)
        catalog = read(path) if path.exists() else Catalog(locale=name, domain=DOMAIN, project="monitor")
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.fuzzy = False
        write(path, catalog)
        for message in untranslated(catalog):
            print(f"{path.relative_to(root)}: translate {message!r}")
            waiting += 1
    for name, (original, convert) in TRANSLITERATED.items():
        write(source(root, name), transliterated(read(source(root, original)), name, convert))
    return 1 if waiting else 0


def problems(root: Path) -> Iterator[str]:
    template = extract(root)
    wanted = set(strings(template))
    for name in (*TRANSLATED, *TRANSLITERATED):
        path = source(root, name)
        where = path.relative_to(root)
        if not path.exists():
            yield f"{where}: missing; run tools/catalogs.py"
            continue
        catalog = read(path)
        have = strings(catalog)
        for message in wanted - set(have):
            yield f"{where}: {message!r} is not in it; run tools/catalogs.py, then translate it"
        for message in set(have) - wanted:
            yield f"{where}: {message!r} is no longer said; run tools/catalogs.py"
        for message in untranslated(catalog):
            yield f"{where}: {message!r} is not translated (or marked fuzzy); translate it"
        for message, errors in catalog.check():
            for error in errors:
                yield f"{where}: {message.id!r}: {error}"
        yield from (f"{where}: {problem}" for problem in placeholders(catalog))
        with path.with_suffix(".mo").open("rb") as file:
            compiled = strings(read_mo(file))
        if compiled != have:
            yield f"{where.with_suffix('.mo')}: not compiled from {where.name}; run tools/catalogs.py"
    for name, (original, convert) in TRANSLITERATED.items():
        path = source(root, name)
        if path.exists() and source(root, original).exists():
            expected = strings(transliterated(read(source(root, original)), name, convert))
            if strings(read(path)) != expected:
                yield f"{path.relative_to(root)}: not {original} transliterated; run tools/catalogs.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail on a problem")
    parser.add_argument("--new", metavar="LANG", help="start the catalog of another language")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # tests: a copy
    options = parser.parse_args()
    root = options.root.resolve()
    if options.check:
        found = list(problems(root))
        for problem in found:
            print(problem, file=sys.stderr)
        if not found:
            print("catalogs: every message translated in every language, compiled catalogs up to date")
        return 1 if found else 0
    if options.new:
        catalog = Catalog(locale=options.new, domain=DOMAIN, project="monitor")
        catalog.update(extract(root), no_fuzzy_matching=True)
        write(source(root, options.new), catalog)
        print(f"{source(root, options.new).relative_to(root)}: written; add {options.new!r} to TRANSLATED")
        return 0
    return update(root)


if __name__ == "__main__":
    sys.exit(main())
