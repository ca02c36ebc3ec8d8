"""The catalog check CI runs (tools/catalogs.py --check): every message of the code and the
templates translated in every language, Serbian Latin made from Serbian Cyrillic, and the
compiled catalogs those of their sources. Its failures are shown on a copy of the sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALE = Path("monitor/i18n/locale")


def check(root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "catalogs.py"), "--check", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_message_is_translated_in_every_language_and_compiled():
    done = check()

    assert done.returncode == 0, done.stderr
    assert "every message translated in every language" in done.stdout


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of the package's sources and catalogs, for the check to find fault with."""
    shutil.copytree(ROOT / "monitor", tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_new_message_in_a_template_is_missing_from_every_catalog(sources):
    template = sources / "monitor/digest/templates/digest.txt"
    template.write_text(template.read_text() + '{{ _("A sentence nobody translated") }}\n')

    done = check(sources)

    assert done.returncode == 1
    for name in ("ru", "sr", "sr_Latn"):
        assert (
            f"{LOCALE}/{name}/LC_MESSAGES/monitor.po: 'A sentence nobody translated' is not in it"
            in done.stderr
        )


def test_an_untranslated_or_misformatted_message_and_a_stale_compiled_catalog_are_named(sources):
    russian = sources / LOCALE / "ru/LC_MESSAGES/monitor.po"
    edit(russian, 'msgstr "Источники с перебоями"', 'msgstr ""')
    edit(russian, 'msgstr "не работает с %(date)s"', 'msgstr "не работает"')

    done = check(sources)

    assert done.returncode == 1
    assert "'Sources with problems' is not translated" in done.stderr
    assert "'failing since %(date)s': " in done.stderr  # its placeholder is gone
    assert f"{LOCALE}/ru/LC_MESSAGES/monitor.mo: not compiled from monitor.po" in done.stderr


def test_serbian_latin_edited_by_hand_is_not_serbian_cyrillic_transliterated(sources):
    latin = sources / LOCALE / "sr_Latn/LC_MESSAGES/monitor.po"
    edit(latin, 'msgstr "Izvori sa smetnjama"', 'msgstr "Izvori sa problemima"')

    done = check(sources)

    assert f"{LOCALE}/sr_Latn/LC_MESSAGES/monitor.po: not sr transliterated" in done.stderr
