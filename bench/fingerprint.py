"""What monitor stores and matches for the corpus, as one hash: a check that a refactoring
changed no behaviour.

    python bench/fingerprint.py [--dump FILE]

Every capture of ../shared/corpus/feeds and corpus/tricky is served from 127.0.0.1, and a real
``monitor poll --all`` runs three times against one SQLite file: the captures as they are; then
with one entry's title edited in every capture that has three or more titles; then the same
again (everything known). The config watches the example's watchlists plus 400 queries drawn
from the captures' titles (words, phrases, prefixes, AND, OR, NOT, NEAR). The script goes only
through the command line and the tables, so it runs unchanged on the code before and after a
refactoring: run it on both (``PYTHONPATH=<old checkout>``) and compare the hashes; ``--dump``
writes the rows for a diff.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from served import captures, serving

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "monitor" / "example.toml"
TITLE = re.compile(rb"<title>(?:<!\[CDATA\[)?([^<\]]{3,})")
WORD = re.compile(r"[^\W\d_]{4,}")


def edited(body: bytes) -> bytes:
    """The third title (an entry's, after the channel's and usually the image's) edited."""
    found = list(TITLE.finditer(body))
    if len(found) < 3:
        return body
    start = found[2].start(1)
    return body[:start] + b"EDITED " + body[start:]


def queries(bodies: dict[str, bytes], count: int = 400, seed: int = 15) -> list[str]:
    words = sorted(
        {
            word
            for body in bodies.values()
            for title in TITLE.findall(body)
            for word in WORD.findall(title.decode("utf-8", "replace"))
        }
    )
    rng = random.Random(seed)
    made: list[str] = []
    while len(made) < count:
        a, b = rng.choice(words), rng.choice(words)
        kind = len(made) % 7
        made.append(
            [
                a,
                f'"{a} {b}"',
                f"{a[:5]}*",
                f"{a} AND {b}",
                f"{a} OR {b}",
                f"{a} NOT {b}",
                f"{a} NEAR/5 {b}",
            ][kind]
        )
    return made


def write_config(folder: Path, port: int, names: list[str], extra: list[str]) -> Path:
    example = EXAMPLE.read_text(encoding="utf-8")
    watchlists = example[example.index("[[watchlists]]") :]
    watchlists = "\n".join(line for line in watchlists.splitlines() if not line.startswith("feeds ="))
    feeds = "".join(
        f'[[feeds]]\nname = "f{number}"\nurl = "http://127.0.0.1:{port}/{name}"\n\n'
        for number, name in enumerate(names)
    )
    generated = "".join(
        f'\n[[watchlists]]\nname = "generated-{number}"\nrecipients = ["desk@example.org"]\n'
        f"queries = {json.dumps(extra[number::8], ensure_ascii=False)}\n"
        for number in range(8)
    )
    path = folder / "monitor.toml"
    storage = f'[storage]\nurl = "sqlite:///{folder}/monitor.db"\n\n'
    path.write_text(storage + feeds + watchlists + generated, encoding="utf-8")
    return path


def poll(config: Path) -> None:
    environment = {
        **os.environ,
        "MONITOR_CONFIG": str(config),
        "MONITOR_CACHE_DIR": str(config.parent / "cache"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "poll", "--all"], env=environment, capture_output=True, text=True
    )
    if run.returncode not in (0, 1):  # 1: some captures fail, as they should
        sys.exit(f"monitor poll failed ({run.returncode}):\n{run.stderr[-3000:]}")


def rows(database: Path, started: str) -> list[str]:
    """Every row compared, by name; ports, and the poll time that undated entries take, masked."""
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    queries_ = {
        "feed": "SELECT name, url, etag, last_modified, last_error_kind, last_error, failures, warning,"
        " body_hash, entry_hashes, fetch_url, moved_to FROM feeds",
        "item": "SELECT f.name AS feed, i.guid, i.title, i.summary, i.link, i.published_at, i.canonical_link"
        " FROM items i JOIN feeds f ON f.id = i.feed_id",
        "sighting": "SELECT f.name AS feed, s.guid, s.content_hash, i.guid AS item_guid, fi.name AS item_feed"
        " FROM sightings s JOIN feeds f ON f.id = s.feed_id JOIN items i ON i.id = s.item_id"
        " JOIN feeds fi ON fi.id = i.feed_id",
        "hit": "SELECT h.watchlist, h.matches, fi.name AS item_feed, i.guid AS item_guid"
        " FROM hits h JOIN items i ON i.id = h.item_id JOIN feeds fi ON fi.id = i.feed_id",
    }
    lines = []
    for kind, sql in queries_.items():
        for row in connection.execute(sql):
            values = dict(row)
            if (values.get("published_at") or "") >= started:
                values["published_at"] = "the poll's time"
            line = json.dumps(values, ensure_ascii=False, sort_keys=True)
            lines.append(kind + " " + re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line))
    connection.close()
    return sorted(lines)


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--dump", type=Path, help="write the rows compared, one per line")
    options = arguments.parse_args()
    bodies = captures()
    names = list(bodies)
    served = dict(bodies)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with serving(served) as port, tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), port, names, queries(bodies))
        poll(config)
        served.update({name: edited(body) for name, body in bodies.items()})
        poll(config)
        poll(config)
        lines = rows(Path(folder) / "monitor.db", started)
    if options.dump:
        options.dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = {
        kind: sum(line.startswith(kind + " ") for line in lines)
        for kind in ("feed", "item", "sighting", "hit")
    }
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print(f"{digest}  " + ", ".join(f"{count} {kind}s" for kind, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
