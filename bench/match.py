"""Matcher benchmark (issue 3): throughput, compile time and memory at 1 to 10,000 queries.

    /tmp/venv/bin/python bench/match.py [--items 20000] [--quick] [--sizes 1,100,1000,10000]
                                        [--workload dense|selective]
    /tmp/venv/bin/python bench/match.py --profile [--workload selective]  # 2,000 items, 1,000 queries

Items (~100 words; 30% English, 30% Russian, 20% Serbian Latin, 20% Serbian Cyrillic) are built at
run time from the real feeds in ../shared/corpus/feeds (relative to the repo root), parsed with
``monitor.feeds.parse.parse_feed``; Serbian Cyrillic is the Serbian/Bosnian/Croatian Latin text
transliterated. Half the items carry a language hint, half None. Queries come from the items'
vocabulary with a fixed seed, so some hit: words, phrases, AND, OR, prefixes, NEAR/5, acronyms;
each language's 100 most frequent words (that, этом, који) are left out, as watchlists leave them.

Two workloads. "dense": queries drawn from the items' whole vocabulary; the items reuse ~6,200
corpus sentences, so at 10,000 queries every item hits about a hundred queries. "selective": only
queries that can hit at most 0.1% of the items (a dictionary-free estimate: words sharing the
query word's first five letters), as alert terms are specific (names, institutions, rare words):
the number of matches then grows with the queries much as it would in real watchlists.

When both 100 and 10,000 queries are measured, one more process holds both matchers and lets
them take turns on 250-item chunks: the ratio of their throughputs there does not move with the
VM's speed, which drifts between the separate processes.

Each query count runs in a fresh process, so "cold" is the first compile of that process
(dictionary loading included) and RSS is that size's own; "from the word cache" compiles the
same queries after ``release()`` with the cold compile's lexicon read from disk, as a restart
does. In the same process: the baseline, one compiled ``re`` per distinct term searched in every
item (title + " " + summary), a query matching when all its terms do (OR, NOT and NEAR ignored),
on a sample of items when it is slow.
Everything is end to end: ``Matcher.match`` normalises, matches and builds spans for hits.

The script prints figures and never fails on timing: targets are reported as met or NOT met.
"""

# ruff: noqa: RUF001, RUF003  (Cyrillic beside Latin and "×" are the point here)
from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SEED = 20260101
SIZES = (1, 100, 1_000, 10_000)
WATCHLISTS = 10
COMMON_WORDS = 100  # per language, left out of queries: a watchlist has no "that" or "этом"
THROUGHPUT_BUDGET = 60.0  # seconds: fewer than the asked runs (at least one) beyond this
BASELINE_SECONDS = 3.0  # aim for a baseline run this long: sample items when it is slower
BASELINE_MIN_SAMPLE = 200
ONE_RUN_ABOVE = 10.0  # a baseline run longer than this is done once, not three times
QUICK_COMPILE_LIMIT = 10.0  # --quick skips the warm and traced compiles when the cold one is slower
WORKLOADS = ("dense", "selective")
SELECTIVE_SHARE = 0.001  # selective workload: a query can hit at most this share of the items
INTERLEAVE_CHUNK = 250  # items per turn when 100 and 10,000 queries take turns in one process

# Which corpus feeds feed which item language, by the manifest's "lang" (its first word).
GROUPS = {"en": {"en"}, "ru": {"ru"}, "sr": {"sr", "sr-Latn", "bs", "bs/sh", "hr"}}
# Item kinds: (name, share, sentence group, transliterate to Cyrillic, language hint).
KINDS = (
    ("en", 3, "en", False, "en"),
    ("ru", 3, "ru", False, "ru"),
    ("sr-Latn", 2, "sr", False, "sr"),
    ("sr-Cyrl", 2, "sr", True, "sr"),
)

_LATIN_TO_CYRILLIC_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ"}
_LATIN_TO_CYRILLIC = dict(
    zip(
        "a b c č ć d đ e f g h i j k l m n o p r s š t u v z ž q w x y".split(),
        "а б ц ч ћ д ђ е ф г х и ј к л м н о п р с ш т у в з ж к в кс и".split(),
        strict=True,
    )
)
_DIGRAPH = re.compile("|".join(_LATIN_TO_CYRILLIC_DIGRAPHS), re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def cyrillic(text: str) -> str:
    """Serbian Latin → Cyrillic: the digraphs lj, nj, dž first, then letter by letter, case kept."""

    def digraph(match: re.Match[str]) -> str:
        found = match.group()
        letter = _LATIN_TO_CYRILLIC_DIGRAPHS[found.lower()]
        return letter.upper() if found[0].isupper() else letter

    text = _DIGRAPH.sub(digraph, text)
    out = []
    for char in text:
        mapped = _LATIN_TO_CYRILLIC.get(char.lower())
        out.append(char if mapped is None else mapped.upper() if char.isupper() else mapped)
    return "".join(out)


# ---------------------------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class Pool:
    """A language's sentences from the corpus: titles, and summaries cut into sentences."""

    titles: list[str]
    sentences: list[str]


def load_pools(corpus: Path) -> dict[str, Pool]:
    from monitor.feeds.parse import parse_feed

    manifest = json.loads((corpus / "manifest.json").read_text())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pools = {group: Pool([], []) for group in GROUPS}
    for entry in manifest:
        if entry.get("kind") != "feeds":
            continue
        language = entry["lang"].split()[0]
        group = next((g for g, langs in GROUPS.items() if language in langs), None)
        if group is None:
            continue
        path = corpus / entry["file"]
        items = parse_feed(path.read_bytes(), {}, feed=path.stem, url="http://127.0.0.1/", now=now).items
        for item in items:
            if len(item.title.split()) >= 3:
                pools[group].titles.append(" ".join(item.title.split()[:20]))
            for sentence in _SENTENCE_END.split(item.summary):
                words = sentence.split()
                for start in range(0, len(words), 40):  # very long "sentences" in 40-word pieces
                    if len(words[start : start + 40]) >= 4:
                        pools[group].sentences.append(" ".join(words[start : start + 40]))
    for pool in pools.values():
        pool.sentences.extend(pool.titles)  # titles are sentences too
    return pools


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    summary: str
    language: str | None
    kind: str


def build_items(pools: dict[str, Pool], count: int, seed: int = SEED) -> list[Item]:
    """``count`` items of shuffled corpus sentences, ~100 words each, in the KINDS mix."""
    rng = random.Random(seed)
    cycle = [kind for kind in KINDS for _ in range(kind[1])]
    seen: Counter[str] = Counter()
    items = []
    for number in range(count):
        name, _, group, to_cyrillic, hint = cycle[number % len(cycle)]
        pool = pools[group]
        title = rng.choice(pool.titles)
        target = rng.randint(85, 110)
        parts: list[str] = []
        words = len(title.split())
        while words < target:
            sentence = rng.choice(pool.sentences)
            parts.append(sentence)
            words += len(sentence.split())
        summary = " ".join(parts)
        if to_cyrillic:
            title, summary = cyrillic(title), cyrillic(summary)
        language = hint if seen[name] % 2 == 0 else None
        seen[name] += 1
        items.append(Item(title, summary, language, name))
    rng.shuffle(items)
    return items


# -------------------------------------------------------------------------------------- queries


@dataclass(frozen=True, slots=True)
class Query:
    """A query, and its terms as the baseline sees them: (words, is a prefix)."""

    text: str
    kind: str
    terms: tuple[tuple[tuple[str, ...], bool], ...]


# query kind → share (per cent)
QUERY_KINDS = (
    ("word", 50),
    ("phrase", 20),
    ("and", 8),
    ("or", 8),
    ("prefix", 8),
    ("near", 3),
    ("acronym", 3),
)


class _Vocabulary:
    def __init__(self, pool: Pool, to_cyrillic: bool) -> None:
        self.convert: Callable[[str], str] = cyrillic if to_cyrillic else str
        self.sentences = [_LETTERS.findall(s) for s in pool.sentences]
        self.sentences = [words for words in self.sentences if len(words) >= 2]
        counts = Counter(
            w.lower() for words in self.sentences for w in words if len(w) >= 4 and not _upper(w)
        )
        # A language's most frequent words (that, said, этом, који) are nobody's watchlist term.
        self.common = {self.convert(word) for word, _ in counts.most_common(COMMON_WORDS)}
        self.words = sorted(set(counts) - {word for word, _ in counts.most_common(COMMON_WORDS)})
        self.acronyms = sorted({w for words in self.sentences for w in words if _upper(w)})

    def word(self, rng: random.Random, minimum: int = 4) -> str:
        while True:
            word = rng.choice(self.words)
            if len(word) >= minimum:
                return self.convert(word)

    def sentence(self, rng: random.Random, length: int) -> list[str]:
        while True:
            words = rng.choice(self.sentences)
            if len(words) >= length:
                return [self.convert(w if _upper(w) else w.lower()) for w in words]


def _upper(word: str) -> bool:
    return word.isupper() and 2 <= len(word) <= 5


def document_frequency(items: Sequence[Item]) -> Callable[[str], int]:
    """How many items a word can be in, counting every word that shares its first five letters
    (a four-letter word: its four): a generous, dictionary-free stand-in for its inflected forms."""
    from monitor.match.text import fold_serbian  # a pure folding (Cyrillic → Latin): no dictionaries

    five: Counter[str] = Counter()
    four: Counter[str] = Counter()
    for item in items:
        tokens = {fold_serbian(token) for token in _LETTERS.findall(f"{item.title} {item.summary}")}
        five.update({token[:5] for token in tokens})
        four.update({token[:4] for token in tokens})

    def frequency(word: str) -> int:
        key = fold_serbian(word)
        return four[key] if len(key) <= 4 else five[key[:5]]

    return frequency


def _bound(query: Query, frequency: Callable[[str], int]) -> int:
    """At most how many items the query can hit: an OR adds its terms, everything else needs its
    rarest word."""
    per_term = [min(frequency(word) for word in words) for words, _ in query.terms]
    return sum(per_term) if query.kind == "or" else min(per_term)


def build_queries(
    pools: dict[str, Pool],
    count: int = max(SIZES),
    seed: int = SEED,
    frequency: Callable[[str], int] | None = None,
    most: int = 0,
) -> list[Query]:
    """``count`` distinct queries; the first n of them are the n-query set. With ``frequency``,
    only queries that can hit at most ``most`` items (the selective workload)."""
    rng = random.Random(seed)
    vocabularies = [(_Vocabulary(pools[group], cyr), share) for _, share, group, cyr, _ in KINDS]
    kinds = [kind for kind, _ in QUERY_KINDS]
    shares = [share for _, share in QUERY_KINDS]
    queries: dict[str, Query] = {}
    while len(queries) < count:
        vocabulary = rng.choices([v for v, _ in vocabularies], [s for _, s in vocabularies])[0]
        kind = rng.choices(kinds, shares)[0]
        if len(queries) == 0:
            kind = "word"
        query = _query(kind, vocabulary, rng)
        if query is None or query.text in queries:
            continue
        if frequency is None or _bound(query, frequency) <= most:
            queries[query.text] = query
    return list(queries.values())


def _query(kind: str, vocabulary: _Vocabulary, rng: random.Random) -> Query | None:
    if kind == "word":
        word = vocabulary.word(rng)
        return Query(word, kind, (((word,), False),))
    if kind == "phrase":
        words = vocabulary.sentence(rng, 2)
        start = rng.randrange(len(words) - 1)
        pair = tuple(words[start : start + 2])
        if not any(len(w) >= 4 and w not in vocabulary.common for w in pair):
            return None
        return Query(f'"{pair[0]} {pair[1]}"', kind, ((pair, False),))
    if kind in ("and", "near"):
        words = [w for w in vocabulary.sentence(rng, 3) if len(w) >= 4 and w not in vocabulary.common]
        if len(words) < 2:
            return None
        first = rng.randrange(len(words) - 1)
        second = min(len(words) - 1, first + rng.randint(1, 3))
        a, b = words[first], words[second]
        if a.lower() == b.lower():
            return None
        operator = "AND" if kind == "and" else "NEAR/5"
        return Query(f"{a} {operator} {b}", kind, (((a,), False), ((b,), False)))
    if kind == "or":
        a, b = vocabulary.word(rng), vocabulary.word(rng)
        return None if a == b else Query(f"{a} OR {b}", kind, (((a,), False), ((b,), False)))
    if kind == "prefix":
        word = vocabulary.word(rng, minimum=6)
        prefix = word[: max(5, len(word) - 2)]
        return Query(prefix + "*", kind, (((prefix,), True),))
    if not vocabulary.acronyms:
        return None
    acronym = vocabulary.convert(rng.choice(vocabulary.acronyms))
    return Query(acronym, kind, (((acronym,), False),))


def watchlists(queries: Sequence[Query]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for number, query in enumerate(queries):
        lists.setdefault(f"watchlist-{number % WATCHLISTS}", []).append(query.text)
    return lists


# ------------------------------------------------------------------------------------- baseline


class Baseline:
    """One compiled ``re`` per distinct term, each searched in every item; spans for the hits."""

    def __init__(self, queries: Sequence[Query]) -> None:
        ids: dict[tuple[tuple[str, ...], bool], int] = {}
        self.patterns: list[re.Pattern[str]] = []
        self.queries: list[tuple[str, tuple[int, ...]]] = []
        for query in queries:
            terms = []
            for words, prefix in query.terms:
                if (words, prefix) not in ids:
                    ids[words, prefix] = len(self.patterns)
                    body = r"\s+".join(map(re.escape, words))
                    self.patterns.append(re.compile(r"\b" + body + ("" if prefix else r"\b"), re.IGNORECASE))
                terms.append(ids[words, prefix])
            self.queries.append((query.text, tuple(terms)))

    def match(self, title: str, summary: str) -> dict[str, list[tuple[int, int]]]:
        text = f"{title} {summary}"
        present = {number for number, pattern in enumerate(self.patterns) if pattern.search(text)}
        return {
            query: [m.span() for term in terms for m in self.patterns[term].finditer(text)]
            for query, terms in self.queries
            if all(term in present for term in terms)
        }


# ---------------------------------------------------------------------------------- measurement


def rss_mb() -> float:
    """Resident set size now (VmRSS), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def throughput(run: Callable[[], Any], count: int, runs: int) -> tuple[float, int, Any]:
    """Median items per second over up to ``runs`` runs (fewer when they exceed the time budget),
    the number of runs, and the first run's result."""
    rates, first, spent = [], None, 0.0
    for number in range(runs):
        gc.collect()
        seconds, result = timed(run)
        rates.append(count / seconds)
        spent += seconds
        if number == 0:
            first = result
        if spent > THROUGHPUT_BUDGET:
            break
    return statistics.median(rates), len(rates), first


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    size: int,
    items: Sequence[Item],
    queries: Sequence[Query],
    others: Sequence[Query],
    runs: int,
    quick: bool,
) -> dict[str, Any]:
    """Everything for one query count, in this (fresh) process; ``others`` are as many other
    queries, for a warm compile that the matcher's cache of expanded words cannot answer."""
    from monitor.match import Lexicon, Matcher, release
    from monitor.match.cache import compile_matcher, save

    config = watchlists(queries)
    gc.collect()
    rss_before = rss_mb()
    lexicon = Lexicon()
    cold, matcher = timed(functools.partial(Matcher, config, lexicon))
    rss_after = rss_mb()
    log(f"  {size:>6} queries: compile cold {cold:.2f} s")
    kept = Path(tempfile.mkdtemp())  # the cold compile's words, read back as a restart reads them
    save(kept, lexicon, time.time())
    del lexicon
    warm = again = peak = retained = restart = None
    if not (quick and cold > QUICK_COMPILE_LIMIT):
        other = watchlists(others)
        warm, _ = timed(lambda: Matcher(other))
        again, _ = timed(lambda: Matcher(config))
        log(f"  {size:>6} queries: compile warm {warm:.2f} s, the same queries again {again:.2f} s")
        release()  # so the traced compile loads the dictionaries again, as a cold one does
        gc.collect()
        tracemalloc.start()
        traced = Matcher(config)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        release()
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] / 2**20  # the matcher alone, dictionaries dropped
        tracemalloc.stop()
        del traced
        restart, _ = timed(lambda: compile_matcher(config, kept))
        log(f"  {size:>6} queries: compile from the word cache {restart:.2f} s")
    shutil.rmtree(kept)

    def run_matcher() -> list[set[str]]:
        found = []
        for item in items:
            result = matcher.match(item.title, item.summary, item.language)
            found.append({m.query for matches in result.values() for m in matches})
        return found

    rate, matcher_runs, found = throughput(run_matcher, len(items), runs)
    log(f"  {size:>6} queries: matcher {rate:,.0f} items/s × {matcher_runs}")

    baseline = Baseline(queries)
    pilot = min(len(items), 20)
    pilot_seconds, _ = timed(lambda: [baseline.match(i.title, i.summary) for i in items[:pilot]])
    estimate = pilot / pilot_seconds
    sample = min(len(items), max(BASELINE_MIN_SAMPLE, math.ceil(estimate * BASELINE_SECONDS)))
    baseline_runs = runs if sample / estimate <= ONE_RUN_ABOVE else 1
    sampled = items[:sample]
    baseline_rate, baseline_runs, expected = throughput(
        lambda: [set(baseline.match(i.title, i.summary)) for i in sampled], sample, baseline_runs
    )
    log(f"  {size:>6} queries: baseline {baseline_rate:,.1f} items/s on {sample:,} items × {baseline_runs}")

    # Sanity: single-word queries, matcher against baseline, on the baseline's items.
    words = {q.text for q in queries if q.kind == "word"}
    pairs_b = {(n, q) for n, got in enumerate(expected) for q in got & words}
    pairs_m = {(n, q) for n, got in enumerate(found[:sample]) for q in got & words}
    missed = sorted(pairs_b - pairs_m)
    return {
        "size": size,
        "terms": len(baseline.patterns),
        "items": len(items),
        "matcher_runs": matcher_runs,
        "commit": commit(),
        "matcher_rate": rate,
        "baseline_rate": baseline_rate,
        "baseline_sample": sample,
        "baseline_runs": baseline_runs,
        "compile_cold": cold,
        "compile_warm": warm,
        "compile_again": again,
        "compile_restart": restart,
        "tracemalloc_peak_mb": peak,
        "retained_mb": retained,
        "rss_before_mb": rss_before,
        "rss_mb": rss_after,
        "items_hit": sum(1 for got in found if got),
        "matches": sum(len(got) for got in found),
        "baseline_items_hit": sum(1 for got in expected if got),
        "word_queries": len(words),
        "word_pairs_baseline": len(pairs_b),
        "word_pairs_matcher": len(pairs_m),
        "word_pairs_missed": len(missed),
        "missed_examples": [
            {"query": q, "title": sampled[n].title, "language": sampled[n].language, "kind": sampled[n].kind}
            for n, q in missed[:5]
        ],
    }


def interleaved(
    items: Sequence[Item], small: Sequence[Query], large: Sequence[Query], runs: int
) -> dict[str, Any]:
    """The 10,000 : 100 throughput ratio with both matchers in one process, taking turns on
    250-item chunks (who goes first alternates): a shared VM's speed drifts by tens of per cent
    between the separate processes of the main table, and here both sizes see the same drift."""
    from monitor.match import Matcher

    matchers = [Matcher(watchlists(small)), Matcher(watchlists(large))]
    for matcher in matchers:  # the reach tables filled, as in the runs that the median takes
        for item in items:
            matcher.match(item.title, item.summary, item.language)
    chunks = [items[start : start + INTERLEAVE_CHUNK] for start in range(0, len(items), INTERLEAVE_CHUNK)]
    ratios, seconds = [], [[], []]
    for run in range(runs):
        spent = [0.0, 0.0]
        for number, chunk in enumerate(chunks):
            for which in (0, 1) if (number + run) % 2 == 0 else (1, 0):
                matcher, started = matchers[which], time.process_time()
                for item in chunk:
                    matcher.match(item.title, item.summary, item.language)
                spent[which] += time.process_time() - started
        ratios.append(spent[0] / spent[1])
        for which in (0, 1):
            seconds[which].append(spent[which])
    return {
        "ratio": statistics.median(ratios),
        "lowest": min(ratios),
        "highest": max(ratios),
        "runs": runs,
        "rates": [len(items) / statistics.median(taken) for taken in seconds],
    }


# --------------------------------------------------------------------------------------- report


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions() -> str:
    names = ("PyStemmer", "pymorphy3", "simplemma")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return ", ".join(found)


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        )
    except OSError:
        return "unknown commit"
    return head.stdout.strip() or "unknown commit"


def report(
    results: list[dict[str, Any]], paired: dict[str, dict[str, Any]], items: int, runs: int, seconds: float
) -> str:
    lines = [
        f"Matcher benchmark, {date.today().isoformat()}, commit {commit()}: "
        f"{os.cpu_count()} × {cpu_model()}, Python {platform.python_version()}, {versions()}; "
        f"the run took {seconds / 60:.1f} min.",
        f"{items:,} items (~100 words; 30% en, 30% ru, 20% sr-Latn, 20% sr-Cyrl; half with a language "
        f"hint); throughput is the median of {runs} run(s) (fewer where runs passed "
        f"{THROUGHPUT_BUDGET:.0f} s: see the runs column), end to end (normalise, match, spans).",
        f"Query words are drawn from {sum(results[0]['vocabulary'].values()):,} distinct words "
        f"({', '.join(f'{k} {v:,}' for k, v in results[0]['vocabulary'].items())}).",
    ]
    for workload in WORKLOADS:
        chosen = [r for r in results if r["workload"] == workload]
        if chosen:
            lines += ["", f"Workload: {workload}", "", *_tables(chosen), "", "Targets:"]
            lines += targets({r["size"]: r for r in chosen}, paired.get(workload))
    lines += [
        "",
        "Baseline: one `re.compile(r'\\b' + re.escape(term) + r'\\b', re.IGNORECASE)` per distinct term "
        "(phrase words joined by `\\s+`; a prefix without the closing `\\b`), searched in every item "
        "(title + ' ' + summary); a query matches when all its terms do: OR, NOT and NEAR are ignored "
        "(an OR query needs both words, a NEAR query both anywhere). Spans via finditer for hits. It "
        "finds no inflected forms and folds no scripts. Where slow it runs on the first N items.",
        "Compile cold: the first compile in a fresh process, dictionary loading included; warm: then "
        "as many other queries (another seed), dictionaries loaded; again: the first queries once "
        "more, which the matcher's cache of expanded words mostly answers; from the word cache: the "
        "first queries after `release()`, their words read from the file the cold compile's lexicon "
        "was saved to (a restart: no dictionary loaded). Tracemalloc peak: a "
        "fourth compile after `release()`, so it includes "
        "loading the dictionaries. RSS: VmRSS right after the cold compile, dictionaries loaded. "
        "Matcher MB after release(): what tracemalloc still holds once the dictionaries are dropped.",
    ]
    commits = {r["commit"] for r in results} | {commit()}
    if len(commits) > 1:
        lines += ["", f"WARNING: the code changed during the run (commits {', '.join(sorted(commits))})."]
    for r in results:
        if r["size"] == 100:
            lines += [
                "",
                f"Sanity ({r['workload']}, 100 queries, single-word queries, on the baseline's items):",
            ]
            lines.append(
                f"  {r['word_queries']} single-word queries: baseline {r['word_pairs_baseline']:,} "
                f"(item, query) pairs, matcher {r['word_pairs_matcher']:,}; "
                f"{r['word_pairs_baseline'] - r['word_pairs_missed']:,} of the baseline's found by the "
                f"matcher, {r['word_pairs_missed']:,} missed "
                f"(the matcher's extra pairs are inflected forms and the other script)."
            )
        for example in r["missed_examples"]:
            lines.append(f"  missed at {r['size']:,} queries ({r['workload']}): {example}")
    return "\n".join(lines)


def _tables(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| queries | baseline items/s | matcher items/s | ratio | compile cold s | compile warm s "
        "| tracemalloc peak MB | RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {_rate(r['baseline_rate'])} | {_rate(r['matcher_rate'])} "
            f"| {_ratio(r['matcher_rate'] / r['baseline_rate'])} | {r['compile_cold']:.2f} "
            f"| {_figure(r['compile_warm'], '.2f')} | {_figure(r['tracemalloc_peak_mb'], ',.0f')} "
            f"| {r['rss_mb']:,.0f} |"
        )
    lines += [
        "",
        "| queries | distinct terms | matcher runs | baseline items (runs) | items hit | matches per item "
        "| baseline items hit | compile same queries again s | compile from the word cache s "
        "| matcher MB after release() | RSS before compile MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['terms']:,} | {r['matcher_runs']} "
            f"| {r['baseline_sample']:,} ({r['baseline_runs']}) "
            f"| {r['items_hit']:,} of {r['items']:,} | {r['matches'] / r['items']:,.2f} "
            f"| {r['baseline_items_hit']:,} of {r['baseline_sample']:,} "
            f"| {_figure(r['compile_again'], '.2f')} | {_figure(r['compile_restart'], '.2f')} "
            f"| {_figure(r['retained_mb'], ',.1f')} "
            f"| {r['rss_before_mb']:,.0f} |"
        )
    return lines


def _figure(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _ratio(value: float) -> str:
    return f"{value:.2f}×" if value < 1 else f"{value:,.1f}×"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def targets(by_size: dict[int, dict[str, Any]], paired: dict[str, Any] | None = None) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    if 1_000 in by_size:
        r = by_size[1_000]
        ratio = r["matcher_rate"] / r["baseline_rate"]
        lines.append(f"- 1,000 queries at least 50× the baseline: {ratio:,.1f}× — {verdict(ratio >= 50)}")
    else:
        lines.append("- 1,000 queries at least 50× the baseline: not measured")
    if 100 in by_size and 10_000 in by_size:
        low, high = by_size[100]["matcher_rate"], by_size[10_000]["matcher_rate"]
        lines.append(
            f"- throughput at 10,000 queries at least half of that at 100: {high:,.0f} vs {low:,.0f} items/s "
            f"({high / low:.0%}) — {verdict(high >= low / 2)}"
        )
    else:
        lines.append("- throughput at 10,000 queries at least half of that at 100: not measured")
    if paired is not None:
        small, large = paired["rates"]
        lines.append(
            f"  - the same with both in one process, taking turns ({paired['runs']} run(s)): "
            f"{large:,.0f} vs {small:,.0f} items/s ({paired['ratio']:.0%}; "
            f"runs {paired['lowest']:.0%}–{paired['highest']:.0%}) — {verdict(paired['ratio'] >= 0.5)}"
        )
    if 10_000 in by_size:
        r = by_size[10_000]
        warm = (
            "not measured"
            if r["compile_warm"] is None
            else (f"{r['compile_warm']:.2f} s — {verdict(r['compile_warm'] < 1)}")
        )
        restart = (
            "not measured"
            if r["compile_restart"] is None
            else (f"{r['compile_restart']:.2f} s — {verdict(r['compile_restart'] < 1)}")
        )
        lines.append(
            f"- compile 10,000 queries under 1 s: warm {warm}; "
            f"cold {r['compile_cold']:.2f} s — {verdict(r['compile_cold'] < 1)}; "
            f"from the word cache (a restart) {restart}"
        )
    else:
        lines.append("- compile 10,000 queries under 1 s: not measured")
    return lines


# ---------------------------------------------------------------------------------------- main


def profile(items: Sequence[Item], queries: Sequence[Query]) -> None:
    from monitor.match import Matcher

    config = watchlists(queries)
    profiler = cProfile.Profile()
    profiler.enable()
    matcher = Matcher(config)
    profiler.disable()
    print(f"== compile, {len(queries):,} queries (cold), by internal time ==")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    profiler = cProfile.Profile()
    profiler.enable()
    for item in items:
        matcher.match(item.title, item.summary, item.language)
    profiler.disable()
    print(f"== match, {len(items):,} items × {len(queries):,} queries, by internal time ==")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    print("== match, by cumulative time ==")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, help="items to match (default 20,000; 2,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2,000 items and one run")
    parser.add_argument("--runs", type=int, help="runs per measurement, median taken (default 3)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="query counts, comma-separated")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="corpus: manifest.json and feeds/")
    parser.add_argument("--profile", action="store_true", help="cProfile 1,000 queries on 2,000 items")
    parser.add_argument("--workload", choices=WORKLOADS, help="one workload (default: both)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # one size, in a fresh process
    parser.add_argument(
        "--interleave", action="store_true", help=argparse.SUPPRESS
    )  # 100 and 10,000 in turns
    args = parser.parse_args(argv)
    items_count = args.items or (2_000 if args.quick or args.profile else 20_000)
    runs = args.runs or (1 if args.quick else 3)

    if args.worker is not None or args.profile or args.interleave:
        pools = load_pools(args.corpus)
        items = build_items(pools, items_count)
        size = 10_000 if args.interleave else args.worker or 1_000
        selective: dict[str, Any] = {}
        if args.workload == "selective":
            most = max(1, int(len(items) * SELECTIVE_SHARE))
            selective = {"frequency": document_frequency(items), "most": most}
        queries = build_queries(pools, size, **selective)  # the first n of any longer list
        if args.profile:
            profile(items, queries)
        elif args.interleave:
            print(json.dumps(interleaved(items, queries[:100], queries, runs)))
        else:
            others = build_queries(pools, size, seed=SEED + 1, **selective)
            result = measure(size, items, queries, others, runs, args.quick)
            result["workload"] = args.workload
            result["vocabulary"] = {
                kind[0]: len(_Vocabulary(pools[kind[2]], kind[3]).words) for kind in KINDS
            }
            print(json.dumps(result))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    workloads = [args.workload] if args.workload else list(WORKLOADS)
    log(f"{items_count:,} items, sizes {sizes}, {runs} run(s), {' and '.join(workloads)}; one process each")
    started = time.perf_counter()
    results = []
    paired: dict[str, dict[str, Any]] = {}
    for workload in workloads:
        log(f"{workload}:")
        for size in sizes:
            command = [sys.executable, __file__, "--worker", str(size), "--items", str(items_count)]
            command += ["--runs", str(runs), "--corpus", str(args.corpus), "--workload", workload]
            command += ["--quick"] if args.quick else []
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if 100 in sizes and 10_000 in sizes:
            command = [sys.executable, __file__, "--interleave", "--items", str(items_count)]
            command += ["--runs", str(runs), "--corpus", str(args.corpus), "--workload", workload]
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            paired[workload] = json.loads(done.stdout.strip().splitlines()[-1])
            log(f"  100 and 10,000 queries taking turns: {paired[workload]['ratio']:.0%}")
    print(report(results, paired, items_count, runs, time.perf_counter() - started))


if __name__ == "__main__":
    main()
