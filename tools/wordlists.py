"""Regenerate the matcher's word lists (monitor/match/wordlists/) from wordfreq's published ones.

A maintainer's tool, run by hand; neither CI nor an install runs it. wordfreq is no longer a
dependency of monitor: install the release the lists come from beside it first, then run this
and commit the files it writes if their hashes changed (the word cache then starts afresh):

    pip install 'wordfreq==3.1.1'
    python tools/wordlists.py

Each file is wordfreq's "small" list of one language (every word at least once per million)
as gzipped UTF-8 text: line n holds the words at n centibels (share 10 ** (-n / 100)),
separated by spaces, in wordfreq's order; the order matters, since a prefix's share is summed
in it. The lists are CC BY-SA 4.0 (see NOTICE).
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from importlib import metadata
from pathlib import Path

import wordfreq

LANGUAGES = ("en", "ru", "sh")  # English, Russian, Serbo-Croatian (Latin letters)
FOLDER = Path(__file__).resolve().parent.parent / "monitor" / "match" / "wordlists"


def encoded(buckets: list[list[str]]) -> bytes:
    if any(" " in word or "\n" in word or not word for bucket in buckets for word in bucket):
        raise SystemExit("a word holds a space or a line break: the text format cannot keep it")
    text = "\n".join(" ".join(bucket) for bucket in buckets)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)  # mtime 0: the same bytes each run


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    print(f"wordfreq {metadata.version('wordfreq')}")
    for language in LANGUAGES:
        buckets = wordfreq.get_frequency_list(language, wordlist="small")
        packed = encoded(buckets)
        path = FOLDER / f"{language}.txt.gz"
        path.write_bytes(packed)
        words = sum(map(len, buckets))
        digest = hashlib.sha256(packed).hexdigest()[:16]
        print(f"{path.name}: {words} words, {len(packed)} bytes, sha256 {digest}")


if __name__ == "__main__":
    sys.exit(main())
