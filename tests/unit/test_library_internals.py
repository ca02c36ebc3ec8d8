"""The two places where monitor reaches under a library's public API, each for a measured speed-up.

Each is bounded in pyproject.toml below the library's next major version, and each test here fails,
naming the private thing, when an upgrade within that bound stops it applying. Then either bring it
back in line with the new release or drop it and accept the cost; never let it lapse silently.
"""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

from monitor.feeds.parse import parse_feed


def test_simplemma_still_keeps_each_dictionary_as_a_bytes_dict_in_private_dict():
    """monitor/match/forms.py reads simplemma's ``MappingStrToByteString._dict`` when it is there
    (``getattr``): a scan for the forms of a lemma takes 0.03 s of Serbian, 0.36 s through the
    public str view."""
    public = DefaultDictionaryFactory(cache_max_size=0).get_dictionary("en")
    raw = getattr(public, "_dict", None)

    assert isinstance(raw, dict), "simplemma's private Mapping._dict is gone: see monitor/match/forms.py"
    assert raw[b"went"] == public["went"].encode() == b"go", "simplemma's private _dict means something else"


def test_feedparser_still_resolves_base_uris_through_the_function_monitor_caches():
    """monitor/feeds/parse.py caches ``feedparser.mixin.make_safe_absolute_uri``, which feedparser calls
    at the start of every element with the same two strings: a fifth of its time on the corpus."""
    resolve = feedparser.mixin.make_safe_absolute_uri
    assert hasattr(resolve, "cache_info"), "feeds/parse.py no longer caches feedparser.mixin's base URIs"
    resolve.cache_clear()
    entries = "".join(
        f"<item><title>Vest {n}</title><link>https://n1info.rs/{n}</link><guid>{n}</guid></item>"
        for n in range(3)
    )
    body = f'<rss version="2.0"><channel><title>N1</title>{entries}</channel></rss>'.encode()

    parsed = parse_feed(body, {}, feed="N1", url="https://n1info.rs/feed/", now=datetime.now(UTC))

    # feedparser resolves permalink guids against the feed URL: the ids items are stored under
    assert [item.id for item in parsed.items] == [f"https://n1info.rs/feed/{n}" for n in range(3)]
    assert resolve.cache_info().hits > 0, (
        "feedparser no longer resolves base URIs through feedparser.mixin.make_safe_absolute_uri: "
        "monitor/feeds/parse.py's cache of it does nothing"
    )
