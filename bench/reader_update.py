"""lemon24/reader's update of the benchmark's feeds, for ``bench/poll.py --reader``.

Runs under the interpreter of a separate venv that has reader (reader is not a dependency of
monitor): ``python reader_update.py FOLDER WORKERS < urls``. Reads the feed URLs (one a line, up
to an empty line) and adds them to a reader database in FOLDER; then, for each further line
"update", runs ``update_feeds(workers=WORKERS, scheduled=False)`` (every feed, as monitor polls
them) and prints one JSON line: wall and CPU seconds (this process, its fetch threads included)
and the feeds updated, unchanged and failed.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from importlib import metadata

from reader import make_reader


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    folder, workers = sys.argv[1], int(sys.argv[2])
    reader = make_reader(f"{folder}/reader.sqlite")
    for line in sys.stdin:
        if not line.strip():
            break
        reader.add_feed(line.strip())
    version = metadata.version("reader")
    print(json.dumps({"added": reader.get_feed_counts().total, "version": version}), flush=True)
    for line in sys.stdin:
        if line.strip() != "update":
            continue
        cpu_before, started = cpu(), time.perf_counter()
        updated = unchanged = failed = 0
        for result in reader.update_feeds_iter(workers=workers, scheduled=False):
            if isinstance(result.value, Exception):
                failed += 1
            elif result.value is None:
                unchanged += 1
            else:
                updated += 1
        wall = time.perf_counter() - started
        figures = {"wall": wall, "cpu": cpu() - cpu_before}
        figures |= {"updated": updated, "unchanged": unchanged, "failed": failed, "version": version}
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
