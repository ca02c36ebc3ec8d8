"""The matcher's lexicon: what one compile learns, the next one uses, and how it is kept on disk."""

from __future__ import annotations

import gzip
import logging
import os
import time
from pathlib import Path

import pytest

from monitor.match import Lexicon, Matcher, forms, frequency, release
from monitor.match import cache as wordcache
from monitor.match.cache import DAY, cache_directory, compile_matcher, fingerprint, load

NOW = (time.time() // DAY) * DAY + DAY / 2  # today at noon: a minute later is still today

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
    assert "protjerivanje" in lexicon.forms and ("релокант", True) in lexicon.frequencies
    assert lexicon.used == set("ruska dijaspora protjerivanje высылка релокант BIA relocant Serbia".split())
    release()
    known = Lexicon(dict(lexicon.forms), dict(lexicon.frequencies))
    again = Matcher(WATCHLISTS, known)
    assert forms._simplemma.cache_info().currsize == 0 and forms._morph.cache_info().currsize == 0
    assert known.forms == lexicon.forms and known.frequencies == lexicon.frequencies
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


def test_files_of_other_versions_are_removed_only_when_unused_for_30_days(tmp_path: Path) -> None:
    recent, stale = (
        tmp_path / "lexicon-0123456789abcdef.msgpack",
        tmp_path / "lexicon-fedcba9876543210.msgpack",
    )
    left = tmp_path / ".lexicon-k1ll3d"  # a write killed half-way
    for path, days_ago in ((recent, 29), (stale, 31), (left, 31)):
        path.write_bytes(b"from another install")
        os.utime(path, (NOW - days_ago * DAY, NOW - days_ago * DAY))
    compile_matcher(WATCHLISTS, tmp_path, now=NOW)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [recent.name, f"lexicon-{fingerprint()}.msgpack"]
    )


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


def test_a_compile_keeps_its_own_words_and_at_most_keep_others_the_most_recent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordcache, "KEEP", 2)
    compile_matcher({"a": ["alpha", "beta", "gamma"]}, tmp_path, now=NOW - 2 * DAY)
    compile_matcher({"b": ["delta", "epsilon", "zeta"]}, tmp_path, now=NOW - DAY)
    kept = load(tmp_path).forms.keys()
    assert len(kept) == 5 and kept > {"delta", "epsilon", "zeta"}  # its own 3, and 2 others
    compile_matcher({"c": ["eta"]}, tmp_path, now=NOW)
    kept = load(tmp_path).forms.keys()
    assert len(kept) == 3 and kept - {"eta"} < {"delta", "epsilon", "zeta"}  # the 2 others most recent


def test_one_odd_compile_of_many_words_is_pruned_by_the_next_even_if_it_learns_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordcache, "KEEP", 2)
    compile_matcher({"usual": ["alpha"]}, tmp_path, now=NOW)
    compile_matcher({"odd": ["beta", "gamma", "delta", "epsilon", "zeta"]}, tmp_path, now=NOW)
    assert len(load(tmp_path).forms) == 6
    compile_matcher({"usual": ["alpha"]}, tmp_path, now=NOW)  # nothing to learn
    assert len(load(tmp_path).forms) == 3 and "alpha" in load(tmp_path).forms


def test_words_unused_for_30_days_are_dropped_and_words_in_use_are_kept(tmp_path: Path) -> None:
    compile_matcher({"a": ["alpha"]}, tmp_path, now=NOW)
    compile_matcher({"b": ["beta"]}, tmp_path, now=NOW)
    compile_matcher({"b": ["beta"]}, tmp_path, now=NOW + 20 * DAY)  # used again: a new day noted
    assert load(tmp_path).days == {"alpha": NOW // DAY, "beta": NOW // DAY + 20}
    compile_matcher({"c": ["gamma"]}, tmp_path, now=NOW + 31 * DAY)
    assert load(tmp_path).forms.keys() == {"beta", "gamma"}


def test_a_file_is_written_at_most_once_a_day_when_nothing_is_learned(tmp_path: Path) -> None:
    compile_matcher(WATCHLISTS, tmp_path, now=NOW)
    (kept,) = tmp_path.glob("lexicon-*.msgpack")
    marked = NOW - 7 * DAY  # a writing sets the file's time to the clock's, whatever ``now`` says
    os.utime(kept, (marked, marked))
    compile_matcher(WATCHLISTS, tmp_path, now=NOW + 60)
    assert kept.stat().st_mtime == marked
    compile_matcher(WATCHLISTS, tmp_path, now=NOW + DAY)
    assert kept.stat().st_mtime != marked


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
