"""`monitor feeds import` and `export`: OPML as Miniflux, FreshRSS, Feedly and Inoreader write it
(tests/data/opml, made from their documented exports) into the config file, folders as tags,
duplicates merged, comments kept; and the config's feeds out again, read back the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.checks import load
from tests.support.cli import monitor

OPML = Path(__file__).resolve().parents[1] / "data" / "opml"
CONFIG = """# the desk's monitor
[storage]
url = "sqlite:///monitor.db"

[[feeds]]
url = "https://www.danas.rs/feed/"   # polled already
name = "Danas"

[[watchlists]]
name = "bia"
queries = ["BIA"]
recipients = ["desk@example.org"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def feeds_of(path: Path) -> list[tuple[str, str, str, list[str], str | None]]:
    return [(f.name, f.url, f.type, f.tags, f.language) for f in load(path).feeds[1:]]


@pytest.mark.parametrize(
    ("export", "imported", "left_out"),
    [
        (
            "miniflux",
            [
                (
                    "N1 Srbija",
                    "https://n1info.rs/feed/",
                    "feed",
                    ["Srbija", "Русские СМИ"],
                    None,
                ),  # in two folders
                ("RTS / Vesti", "https://www.rts.rs/rss/ci.xml", "feed", ["Srbija"], None),
                ("Meduza", "https://meduza.io/rss/all", "feed", ["Русские СМИ"], None),
            ],
            [],
        ),
        (
            "freshrss",
            [
                ("Mediazona", "https://zona.media/rss", "feed", ["Diaspora"], None),
                (
                    "Al Jazeera: World",
                    "https://www.aljazeera.com/xml/rss/all.xml",
                    "feed",
                    ["Diaspora"],
                    None,
                ),
            ],
            ["https://www.danas.rs/feed/: polled already, as 'Danas'"],
        ),
        (
            "feedly",
            [
                ("Nova.rs", "https://nova.rs/feed/", "feed", ["Serbia"], None),
                ("Balkan Insight", "https://balkaninsight.com/feed/", "feed", ["Must Read"], None),
            ],
            ["https://www.danas.rs/feed/: polled already, as 'Danas'"],
        ),
        (
            "inoreader",
            [
                ("The Moscow Times", "https://www.themoscowtimes.com/rss/news", "feed", ["Russia"], None),
                ("TV Rain", "https://t.me/s/tvrain", "telegram", ["Russia", "Exile media"], None),  # nested
                ("Vreme", "https://vreme.com/feed/", "feed", [], None),
            ],
            ["feed://example.org/rss: not an http(s) address"],
        ),
    ],
)
def test_a_readers_export_is_imported_with_folders_as_tags_and_the_files_comments_kept(
    config, export, imported, left_out
):
    code, said, err = monitor(config, "feeds", "import", str(OPML / f"{export}.opml"))

    assert code == 0, err
    assert feeds_of(config) == imported
    assert config.read_text(encoding="utf-8").startswith(CONFIG)  # appended: the rest as written
    assert said.startswith(f"added {len(imported)} feeds to {config}:\n")
    assert [
        line.removeprefix("left out ") for line in said.splitlines() if line.startswith("left out")
    ] == left_out


def test_a_dry_run_imports_nothing(config):
    code, said, _ = monitor(config, "feeds", "import", "--dry-run", str(OPML / "feedly.opml"))

    assert code == 0 and said.startswith("would add 2 feeds") and 'name = "Nova.rs"' in said
    assert config.read_text(encoding="utf-8") == CONFIG


def test_names_are_made_unique_and_exported_feeds_come_back_the_same(config, tmp_path):
    config.write_text(
        CONFIG
        + '\n[[feeds]]\nurl = "https://meduza.io/rss/all"\nname = "Meduza"\nlanguage = "ru"\n'
        + 'tags = ["russian", "exile"]\n\n'
        + '[[feeds]]\nurl = "https://t.me/s/meduzalive"\nname = "Meduza - Telegram"\n',
        encoding="utf-8",
    )
    exported = tmp_path / "feeds.opml"
    code, said, _ = monitor(config, "feeds", "export", "--output", str(exported))
    assert code == 0 and said == f"wrote 3 feeds to {exported}\n"
    other = tmp_path / "other.toml"
    other.write_text(
        CONFIG.replace("https://www.danas.rs/feed/", "https://example.org/danas.xml"), encoding="utf-8"
    )

    code, _, err = monitor(other, "feeds", "import", str(exported))

    assert code == 0, err
    assert feeds_of(other) == [
        ("Danas (2)", "https://www.danas.rs/feed/", "feed", [], None),  # "Danas" was taken
        ("Meduza", "https://meduza.io/rss/all", "feed", ["russian", "exile"], "ru"),
        ("Meduza - Telegram", "https://t.me/s/meduzalive", "telegram", [], None),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html><body>not a list</body></html>", "not an OPML file (no <opml> with a <body>)"),
        (b"<opml><body><outline", "not an OPML file (not well-formed XML"),
    ],
)
def test_a_file_that_is_not_opml_is_refused_changing_nothing(config, tmp_path, body, says):
    wrong = tmp_path / "wrong.opml"
    wrong.write_bytes(body)

    code, _, err = monitor(config, "feeds", "import", str(wrong))

    assert code == 2 and says in err and str(wrong) in err
    assert config.read_text(encoding="utf-8") == CONFIG
