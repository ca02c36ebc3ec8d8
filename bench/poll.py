"""Polling benchmark (issue 4): 5,000 feeds on loopback, in cold, warm and churn cycles.

    python bench/poll.py [--feeds 5000] [--baseline 200] [--repeat 3] [--profile]

Bodies are the real feeds in ../shared/corpus/feeds (relative to the repo root), each served
under many feed numbers; every copy's guids, ids and links carry its number, so items differ
per feed. A server process serves them (asyncio, keep-alive) as 100 publishers of 50 feeds
each, on the loopback addresses 127.0.0.1 to 127.0.0.100; half the feeds have an ETag, half
none. Cycles, each through ``Poller.poll`` over every feed, as ``poll --all``:

- cold: every feed new (empty SQLite database);
- warm: nothing changed: 304 for the feeds with an ETag, identical bodies for the others;
- churn: servers ignore conditional requests, every body differs (a new lastBuildDate), and 10%
  of the feeds carry one new item.

The parse floor, measured in the same run: feedparser's CPU time over all the bodies (each
distinct corpus body timed, times the number of feeds serving it) divided by the cores. Each
body is timed three times before the cold cycle and three times after it, and its median time
counts: the floor is an extrapolation (66 bodies stand for 5,000 feeds), so one stall of a
shared VM while a body was timed once moved it by 50% between runs. The
baseline: a sequential ``feedparser.parse(url)`` loop, as RSS-to-email scripts poll, on the first
``--baseline`` feeds. The monitor runs with the default limits: 32 requests at once, 2 per
host. CPU is the monitor's (main process and parse workers), not the server's; peak
RSS is the sum of the monitor's processes, sampled every 100 ms from /proc/PID/statm (the
sampler is a thread of the measured process, so it is kept cheap).

Warm and churn run ``--repeat`` times (3) and the targets use each cycle's fastest run: they take
seconds, and on a shared VM one stall of the machine was seen to double a single run.

With ``--reader --reader-python PATH``, the same run also times lemon24/reader against the same
served feeds, after monitor's cycles: a cold ``update_feeds()`` into its own SQLite in a temp
dir, then ``--repeat`` warm ones (the server in its warm mode), through ``bench/reader_update.py``
run by PATH, the interpreter of a separate venv with reader installed (reader is not a
dependency of monitor), e.g. ``python3 -m venv /tmp/reader-venv && /tmp/reader-venv/bin/pip
install reader``. Its CPU is that subprocess's, fetch threads included. reader fetches with
requests from a pool of ``--reader-workers`` threads (32, monitor's requests at once); it has
no per-host limit, unlike monitor's 2 per host.

Prints figures; targets are reported as met or NOT met, never as a failure.
"""

# ruff: noqa: RUF001  (the multiplication sign is the point here)
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import platform
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLE = ROOT / "config" / "monitor.example.toml"
NEW_ITEM_SHARE = 10  # per cent of feeds with a new item in the churn cycle
HOSTS = 100  # publishers, each on its own loopback address
_PAGE = os.sysconf("SC_PAGE_SIZE")


def feed_url(port: int, number: int) -> str:
    return f"http://127.0.0.{number % HOSTS + 1}:{port}/feed/{number}"


# ------------------------------------------------------------------------------------ bodies


def load_corpus(corpus: Path) -> list[bytes]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [(corpus / entry["file"]).read_bytes() for entry in manifest if entry.get("kind") == "feeds"]


_GUID = re.compile(rb"(<guid\b[^>]*>)(.*?)(</guid>)", re.DOTALL)
_ID = re.compile(rb"(<id>)(.*?)(</id>)", re.DOTALL)
_LINK = re.compile(rb"(<link>)(.*?)(</link>)", re.DOTALL)
_HREF = re.compile(rb'(<link\b[^>]*\bhref=")([^"]*)(")')
_BUILT = re.compile(rb"<(lastBuildDate|updated)>[^<]*</\1>")
_OPEN = re.compile(rb"<channel\b[^>]*>|<feed\b[^>]*>")


def vary(body: bytes, number: int) -> bytes:
    """The body as feed ``number`` serves it: its guids, ids and links carry the number."""
    mark = f"-f{number}".encode()
    query = f"feed={number}".encode()

    def linked(match: re.Match[bytes]) -> bytes:
        url = match.group(2)
        return match.group(1) + url + (b"&amp;" if b"?" in url else b"?") + query + match.group(3)

    body = _GUID.sub(lambda m: m.group(1) + m.group(2) + mark + m.group(3), body)
    body = _ID.sub(lambda m: m.group(1) + m.group(2) + mark + m.group(3), body)
    return _HREF.sub(linked, _LINK.sub(linked, body))


def churned(body: bytes, number: int, cycle: int, new_item: bool) -> bytes:
    """A new lastBuildDate (or Atom updated) and, if asked, one new entry first."""
    stamp = f"<lastBuildDate>Sun, 22 Nov 2026 08:{cycle:02d}:00 GMT</lastBuildDate>".encode()
    body, found = _BUILT.subn(stamp, body, count=1)
    opening = _OPEN.search(body)
    if opening is None:
        return body
    extra = b"" if found else stamp
    if new_item:
        extra += (
            f"<item><title>Novo {number}-{cycle}: BIA i relokanti</title>"
            f"<link>https://bench.example/{number}/{cycle}</link>"
            f'<guid isPermaLink="false">new-{number}-{cycle}</guid>'
            f"<description>Vest broj {number}, ciklus {cycle}.</description></item>"
        ).encode()
        if opening.group(0).startswith(b"<feed"):
            extra = extra.replace(b"<item>", b"<entry>").replace(b"</item>", b"</entry>")
    return body[: opening.end()] + extra + body[opening.end() :]


# ------------------------------------------------------------------------------------ server


def serve(bases: list[bytes], feeds: int, port: multiprocessing.Value, ready: Any) -> None:  # type: ignore[type-arg]
    """The feed server, in its own process: GET /feed/N; GET /_mode/NAME/CYCLE switches cycles."""
    bodies = [vary(bases[n % len(bases)], n) for n in range(feeds)]
    state = {"mode": "cold", "cycle": 0}
    churn: dict[int, bytes] = {}

    def answer(path: str, etag: str | None) -> tuple[bytes, bytes, bytes]:
        """Status, extra headers, body. Even feeds have an ETag and honour it, except in churn."""
        if path.startswith("/_mode/"):
            _, _, mode, cycle = path.split("/")
            state.update(mode=mode, cycle=int(cycle))
            churn.clear()
            return b"200 OK", b"", b""
        number = int(path.rsplit("/", 1)[1])
        if state["mode"] == "churn":
            if number not in churn:
                new_item = number % 100 < NEW_ITEM_SHARE
                churn[number] = churned(bodies[number], number, int(state["cycle"]), new_item)
            return b"200 OK", b"", churn[number]
        if number % 2:
            return b"200 OK", b"", bodies[number]
        tag = f'"{number}"'
        if etag == tag:
            return b"304 Not Modified", b"", b""
        return b"200 OK", f"ETag: {tag}\r\n".encode(), bodies[number]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.lower(): value
                    for name, value in (line.split(": ", 1) for line in lines[1:] if ": " in line)
                }
                status, extra, body = answer(lines[0].split(" ")[1], headers.get("if-none-match"))
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: application/rss+xml\r\n"
                    + extra
                    + b"Content-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        first = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port.value = first.sockets[0].getsockname()[1]
        others = [f"127.0.0.{n}" for n in range(2, HOSTS + 1)]
        rest = await asyncio.start_server(handle, others, port.value, backlog=1024)
        ready.set()
        async with first, rest:
            await asyncio.gather(first.serve_forever(), rest.serve_forever())

    asyncio.run(main())


# ------------------------------------------------------------------------------- measurement


@dataclass
class Sampler:
    """Peak RSS of the monitor's processes (this one and its parse workers), every 100 ms."""

    pids: Callable[[], list[int]]
    peak_mb: float = 0.0
    _stop: bool = False

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join()

    def _run(self) -> None:
        while not self._stop:
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(pid) for pid in [os.getpid(), *self.pids()]))
            time.sleep(0.1)


class _ParseWorkers:
    """The parse workers' pids: this process's grandchildren (the fork server's children), read
    from /proc at most once a second, since the sampler asks ten times a second."""

    def __init__(self) -> None:
        self._pids: list[int] = []
        self._read = 0.0

    def __call__(self) -> list[int]:
        if time.monotonic() - self._read > 1.0:
            parents = {pid: _parent(pid) for pid in map(int, filter(str.isdigit, os.listdir("/proc")))}
            children = {pid for pid, parent in parents.items() if parent == os.getpid()}
            self._pids = [pid for pid, parent in parents.items() if parent in children]
            self._read = time.monotonic()
        return self._pids


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _rss_mb(pid: int) -> float:
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident * _PAGE / 2**20


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_times(bases: list[bytes], rounds: int = 3) -> list[list[float]]:
    """feedparser's CPU seconds on each distinct body (as its first feed serves it), ``rounds`` times."""
    import feedparser

    bodies = [vary(body, index) for index, body in enumerate(bases)]
    times: list[list[float]] = [[] for _ in bodies]
    for _ in range(rounds):
        for index, body in enumerate(bodies):
            started = time.process_time()
            feedparser.parse(body)
            times[index].append(time.process_time() - started)
    return times


def parse_floor(times: Sequence[Sequence[float]], feeds: int) -> float:
    """feedparser's CPU seconds over every feed's body: each distinct body's median time, times
    its number of feeds."""
    return sum(
        statistics.median(taken) * len(range(index, feeds, len(times))) for index, taken in enumerate(times)
    )


def baseline(urls: Sequence[str]) -> float:
    """Feeds per second of a sequential feedparser.parse(url) loop (feedparser does the HTTP)."""
    import feedparser

    started = time.perf_counter()
    for url in urls:
        feedparser.parse(url)
    return len(urls) / (time.perf_counter() - started)


def write_config(folder: Path, urls: Sequence[str]) -> Path:
    """The example's watchlists over the benchmark's feeds, in a SQLite database in ``folder``."""
    example = EXAMPLE.read_text()
    watchlists = re.sub(r"(?m)^feeds = .*$", "", example[example.index("[[watchlists]]") :])  # all feeds
    feeds = "".join(f'[[feeds]]\nname = "Feed {n}"\nurl = "{url}"\n\n' for n, url in enumerate(urls))
    path = folder / "monitor.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{folder}/monitor.db"\n\n{feeds}{watchlists}')
    return path


def run_cycle(monitor: Any, name: str) -> dict[str, Any]:
    from monitor.http.fetch import Fetcher, Limits
    from monitor.loop import run

    workers = _ParseWorkers()

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime + sum(_cpu_seconds(pid) for pid in workers())

    async def poll() -> Any:
        async with Fetcher(Limits.from_config(monitor.config.polling)) as fetcher:
            return await monitor.poller.poll(monitor.config.feeds, fetcher)

    cpu_before, started = cpu(), time.perf_counter()
    with Sampler(workers) as sampler:
        summary = run(poll())
    wall = time.perf_counter() - started
    figures = {
        "cycle": name,
        "wall": wall,
        "cpu": cpu() - cpu_before,
        "peak_mb": sampler.peak_mb,
        "ok": summary.ok,
        "failed": summary.failed,
        "new_items": summary.new_items,
        "new_hits": summary.new_hits,
        "parsed": sum(1 for outcome in summary.outcomes if not outcome.unchanged and not outcome.error),
    }
    print(f"  {name}: {wall:.1f} s, {len(summary.outcomes) / wall:,.0f} feeds/s, {figures}", file=sys.stderr)
    return figures


def profiled(run: Callable[[Any, str], dict[str, Any]], monitor: Any, name: str) -> dict[str, Any]:
    """A cycle under cProfile: the main process's functions by their own time, on stderr (the
    parse workers are other processes, not profiled)."""
    profiler = cProfile.Profile()
    figures = profiler.runcall(run, monitor, name)
    for order in ("tottime", "cumulative"):
        print(f"== {name}: main process, by {order} ==", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(25)
    return figures


def reader_cycles(
    python: str, workers: int, urls: Sequence[str], base_url: str, repeat: int
) -> list[dict[str, Any]]:
    """lemon24/reader's cold update, then ``repeat`` warm ones, in a subprocess run by ``python``."""
    import httpx

    cycles = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(__file__).with_name("reader_update.py")
        process = subprocess.Popen(
            [python, str(script), folder, str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin and process.stdout
        process.stdin.write("".join(f"{url}\n" for url in urls) + "\n")
        process.stdin.flush()
        print(f"  reader: {json.loads(process.stdout.readline())}", file=sys.stderr)
        for cycle, name in enumerate(["cold"] + ["warm"] * repeat):
            httpx.get(f"{base_url}/_mode/{name}/{cycle}")
            process.stdin.write("update\n")
            process.stdin.flush()
            figures = {"cycle": f"reader {name}", **json.loads(process.stdout.readline())}
            print(f"  {figures}", file=sys.stderr)
            cycles.append(figures)
        process.stdin.close()
        process.wait()
    return cycles


# ------------------------------------------------------------------------------------- report


def report(
    feeds: int,
    floor_cpu: float,
    floors: tuple[float, float],
    base_rate: float,
    base_feeds: int,
    cycles: list[dict[str, Any]],
    seconds: float,
    readers: list[dict[str, Any]],
    reader_workers: int,
) -> str:
    cores = os.cpu_count() or 1
    floor = floor_cpu / cores
    best: dict[str, dict[str, Any]] = {}
    for c in cycles:
        if c["cycle"] not in best or c["wall"] < best[c["cycle"]]["wall"]:
            best[c["cycle"]] = c
    rate = {name: feeds / c["wall"] for name, c in best.items()}
    peak = max(c["peak_mb"] for c in cycles)
    lines = [
        f"Polling benchmark, {date.today().isoformat()}, commit {_commit()}: {cores} × {_cpu_model()}, "
        f"Python {platform.python_version()}, {_versions()}; the run took {seconds / 60:.1f} min.",
        f"{feeds:,} feeds from {HOSTS} loopback addresses; parse floor: feedparser {floor_cpu:.1f} CPU s "
        f"(medians of {floors[0]:.1f} before the cold cycle and {floors[1]:.1f} after) "
        f"÷ {cores} cores = {floor:.1f} s; baseline: sequential feedparser.parse(url), "
        f"{base_rate:,.1f} feeds/s on {base_feeds} feeds.",
        "",
        "| cycle | wall s | feeds/s | vs floor | CPU s | peak RSS MB | parsed | new items | new hits "
        "| failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cycles:
        lines.append(
            f"| {c['cycle']} | {c['wall']:.1f} | {feeds / c['wall']:,.0f} | {c['wall'] / floor:.2f}× "
            f"| {c['cpu']:.1f} | {c['peak_mb']:,.0f} | {c['parsed']:,} | {c['new_items']:,} "
            f"| {c['new_hits']:,} | {c['failed']} |"
        )
    cold_floor = best["cold"]["wall"] / floor
    targets = [
        ("cold within 1.3× of the parse floor", f"{cold_floor:.2f}×", cold_floor <= 1.3),
        (
            "cold at least 1.8× the baseline's feeds/s",
            f"{rate['cold'] / base_rate:.1f}×",
            rate["cold"] >= 1.8 * base_rate,
        ),
        (
            "warm at least 20× the cold feeds/s",
            f"{rate['warm'] / rate['cold']:.1f}×",
            rate["warm"] >= 20 * rate["cold"],
        ),
        (
            "churn at least 5× the cold feeds/s",
            f"{rate['churn'] / rate['cold']:.1f}×",
            rate["churn"] >= 5 * rate["cold"],
        ),
        ("peak RSS under 300 MB", f"{peak:,.0f} MB", peak < 300),
    ]
    lines += ["", "Targets (the fastest run of each cycle):"]
    lines += [f"- {name}: {figure} — {'met' if ok else 'NOT met'}" for name, figure, ok in targets]
    if readers:
        lines += [
            "",
            f"lemon24/reader {_reader_version(readers)}, update_feeds(workers={reader_workers}) "
            "(threads; no per-host limit), same feeds, same run:",
            "",
            "| cycle | wall s | feeds/s | CPU s | updated | unchanged | failed |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {c['cycle']} | {c['wall']:.1f} | {feeds / c['wall']:,.0f} | {c['cpu']:.1f} "
            f"| {c['updated']:,} | {c['unchanged']:,} | {c['failed']} |"
            for c in readers
        ]
    return "\n".join(lines)


def _reader_version(readers: list[dict[str, Any]]) -> str:
    return str(readers[0].get("version", ""))


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return " ".join(line.split(":", 1)[1].split()[:3])
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    return ", ".join(
        f"{name} {metadata.version(name)}" for name in ("feedparser", "httpx", "lxml", "SQLAlchemy")
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=5_000)
    parser.add_argument("--baseline", type=int, default=200, help="feeds for the sequential baseline")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the warm and churn cycles")
    parser.add_argument("--profile", action="store_true", help="cProfile the main process in each cycle")
    parser.add_argument("--reader", action="store_true", help="also time lemon24/reader's updates")
    parser.add_argument("--reader-python", default="python", help="an interpreter that has reader")
    parser.add_argument("--reader-workers", type=int, default=32, help="update_feeds(workers=...)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    bases = load_corpus(args.corpus)
    context = multiprocessing.get_context("spawn")
    port, ready = context.Value("i", 0), context.Event()
    server = context.Process(target=serve, args=(bases, args.feeds, port, ready), daemon=True)
    server.start()
    ready.wait(120)
    base_url = f"http://127.0.0.1:{port.value}"
    urls = [feed_url(port.value, n) for n in range(args.feeds)]
    print(f"{args.feeds:,} feeds served at {urls[0]} … {urls[-1]}", file=sys.stderr)

    before = parse_times(bases)
    print(f"  parse floor before the cycles: {parse_floor(before, args.feeds):.1f} CPU s", file=sys.stderr)
    base_rate = baseline(urls[: args.baseline])
    print(f"  baseline: {base_rate:.1f} feeds/s", file=sys.stderr)

    import httpx

    from monitor import checks
    from monitor.app import App
    from monitor.match import release

    cycles = []
    with tempfile.TemporaryDirectory() as folder:
        config = checks.load(write_config(Path(folder), urls))
        monitor = App(config, parse_workers=os.cpu_count() or 1)
        monitor.poller.sync_feeds()
        assert monitor.matcher  # compiled now, as the daemon does before it polls
        release()
        try:
            runs = ["cold"] + ["warm"] * args.repeat + ["churn"] * args.repeat
            for cycle, name in enumerate(runs):
                httpx.get(f"{base_url}/_mode/{name}/{cycle}")
                cycles.append(
                    profiled(run_cycle, monitor, name) if args.profile else run_cycle(monitor, name)
                )
                if name == "cold":
                    after = parse_times(bases)
                    print(
                        f"  parse floor after cold: {parse_floor(after, args.feeds):.1f} CPU s",
                        file=sys.stderr,
                    )
        finally:
            monitor.close()
    readers = (
        reader_cycles(args.reader_python, args.reader_workers, urls, base_url, args.repeat)
        if args.reader
        else []
    )
    server.terminate()
    floors = (parse_floor(before, args.feeds), parse_floor(after, args.feeds))
    floor_cpu = parse_floor([b + a for b, a in zip(before, after, strict=True)], args.feeds)
    seconds = time.perf_counter() - started
    print(
        report(
            args.feeds,
            floor_cpu,
            floors,
            base_rate,
            args.baseline,
            cycles,
            seconds,
            readers,
            args.reader_workers,
        )
    )


if __name__ == "__main__":
    main()
