"""The digest as a mail client would show it: `monitor digest preview` rendered by headless Chromium
(Debian's chromium; .ci/run installs it), in each language. The page loads nothing but its own file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss

CHROMIUM = shutil.which("chromium")
HIGHLIGHT = (253, 230, 138)  # the <mark> background, #fde68a
# Quiet and offline: no sandbox (CI runs as root), no background or first-run traffic.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


def chromium(tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize(
    ("settings", "lang", "said", "marked"),
    [
        ("", "en", "1 new item", ">BIA</mark>"),
        ('locale = "ru"', "ru", "1 новый материал", ">BIA</mark>"),
        ('locale = "sr-Cyrl"\nscript = "cyrl"', "sr-Cyrl", "1 нова вест", ">БИА</mark>"),
        ('locale = "sr"', "sr-Latn", "1 nova vest", ">BIA</mark>"),
    ],
)
def test_the_previewed_digest_renders_with_its_text_and_highlights(
    feed_server, tmp_path, write_config, settings, lang, said, marked
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config(
        {"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25, extra=settings
    )
    monitor(config, "poll", "--all")
    page = tmp_path / "digest.html"
    code, _, _ = monitor(config, "digest", "preview", "--output", str(page))
    shot = tmp_path / "digest.png"

    chromium(tmp_path, "--window-size=600,900", f"--screenshot={shot}", page.as_uri())
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())

    assert code == 0
    assert "relocants" in dom and said in dom and marked in dom
    assert f'<html lang="{lang}">' in dom
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=600 * 900) or []
    background = max(colours)[1]
    inked = sum(count for count, colour in colours if colour != background)
    assert image.size == (600, 900)
    assert inked > 0.05 * 600 * 900, "the screenshot is (nearly) blank"
    assert any(colour == HIGHLIGHT for _, colour in colours), "no highlighted match is visible"
