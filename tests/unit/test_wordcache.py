"""The matcher's lexicon: what one compile learns, the next one uses, and how it is kept on disk."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from monitor import wordcache
from monitor.match import Lexicon, Matcher, forms, frequency, release
from monitor.wordcache import cache_directory, compile_matcher, fingerprint, load, save

WATCHLISTS = {
    "expulsions": ['"ruska dijaspora" AND protjerivanje', "высылка OR релокант*", "BIA"],
    "relocants": ["relocant AND Serbia"],
}
HEADLINES = [
    ("Protjerivanje: ruske dijaspore u strahu", "", "sr"),
    ("Высылки релокантов из Сербии", "", "ru"),
    ("Relocants in Serbia face expulsion after a BIA assessment", "", "en"),
]


def matches(matcher: Matcher) -> list[dict[str, list[tuple[str, tuple[str, ...]]]]]:
    return [
        {name: [(m.query, m.terms) for m in found] for name, found in matcher.match(*line).items()}
        for line in HEADLINES
    ]


def test_a_compile_with_a_lexicon_needs_no_dictionary_for_the_words_it_knows() -> None:
    lexicon = Lexicon()
    expected = matches(Matcher(WATCHLISTS, lexicon))
    assert lexicon.learned and "protjerivanje" in lexicon.forms and ("релокант", True) in lexicon.frequencies
    release()
    known = Lexicon(dict(lexicon.forms), dict(lexicon.frequencies))
    again = Matcher(WATCHLISTS, known)
    assert forms._simplemma.cache_info().currsize == 0 and forms._morph.cache_info().currsize == 0
    assert not known.learned
    assert matches(again) == expected and all(expected)


def test_the_lexicon_is_kept_on_disk_and_read_back(tmp_path: Path) -> None:
    first = compile_matcher(WATCHLISTS, tmp_path)
    (kept,) = tmp_path.glob("lexicon-*.msgpack")
    assert kept.name == f"lexicon-{fingerprint()}.msgpack"
    written = kept.stat().st_mtime_ns
    lexicon = load(tmp_path)
    assert lexicon.forms["protjerivanje"] == forms.expand("protjerivanje")
    release()
    assert matches(compile_matcher(WATCHLISTS, tmp_path)) == matches(first)
    assert forms._simplemma.cache_info().currsize == 0
    assert kept.stat().st_mtime_ns == written  # nothing new to save


def test_a_new_word_is_learned_and_saved_beside_the_known_ones(tmp_path: Path) -> None:
    compile_matcher(WATCHLISTS, tmp_path)
    compile_matcher({**WATCHLISTS, "more": ["izbačen"]}, tmp_path)
    assert {"protjerivanje", "izbačen"} <= load(tmp_path).forms.keys()


def test_other_word_lists_are_another_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprint()
    edited = tmp_path / "en.txt.gz"
    edited.write_bytes(gzip.compress(b"\n\nthe"))
    monkeypatch.setattr(frequency, "LIST_FILES", (edited, *frequency.LIST_FILES[1:]))
    fingerprint.cache_clear()
    try:
        assert fingerprint() != before
    finally:
        fingerprint.cache_clear()


def test_files_of_other_versions_are_removed_at_the_next_save(tmp_path: Path) -> None:
    stale = tmp_path / "lexicon-0123456789abcdef.msgpack"
    stale.write_bytes(b"from older libraries")
    compile_matcher(WATCHLISTS, tmp_path)
    assert not stale.exists() and len(list(tmp_path.glob("lexicon-*.msgpack"))) == 1


@pytest.mark.parametrize("damage", [b"", b"\x93\x01\x02", b"\x81\xa5forms\x01", b"not msgpack at all \xc1"])
def test_a_damaged_file_is_ignored_logged_and_replaced(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"lexicon-{fingerprint()}.msgpack"
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        matcher = compile_matcher(WATCHLISTS, tmp_path)
    assert all(matches(matcher))
    assert [(r.getMessage(), r.fields["path"]) for r in caplog.records] == [("lexicon.unreadable", str(path))]
    assert "protjerivanje" in load(tmp_path).forms


def test_a_folder_that_cannot_be_written_costs_only_the_speed_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        matcher = compile_matcher(WATCHLISTS, blocked / "monitor")
    assert all(matches(matcher))
    assert [r.getMessage() for r in caplog.records] == ["lexicon.unwritable"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


def test_only_the_most_recently_used_words_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordcache, "KEEP", 2)
    lexicon = Lexicon()
    Matcher({"a": ["alpha", "beta"]}, lexicon)
    Matcher({"b": ["gamma", "alpha"]}, lexicon)
    save(tmp_path, lexicon)
    assert list(load(tmp_path).forms) == ["gamma", "alpha"]


def test_the_cache_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_directory() == tmp_path / "mine"
    monkeypatch.setenv("MONITOR_CACHE_DIR", "")
    assert cache_directory() is None
    monkeypatch.delenv("MONITOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "monitor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_directory() == tmp_path / "home" / ".cache" / "monitor"


def test_no_folder_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert all(matches(compile_matcher(WATCHLISTS, None)))
    assert list(tmp_path.iterdir()) == []
