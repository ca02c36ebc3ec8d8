"""Which similarity tells one story from another? Precision and recall of "same story" on the
labelled pairs (tests/data/story_pairs.json), for each candidate method and threshold.

    python bench/stories.py            # the table, and each method's best threshold

A pair is "same" when both are within the time window and the score reaches the threshold.
Cross-language pairs (the stretch goal) are reported apart and left out of the main figures.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from rapidfuzz.fuzz import token_set_ratio, token_sort_ratio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.feeds.links import story_key
from monitor.match.story import same_story, telling
from monitor.match.text import fold_russian, fold_serbian, words

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "story_pairs.json"
WINDOW = timedelta(hours=36)
PRECISION_WANTED = 0.95  # a wrong merge hides a story: precision first


def load() -> list[dict]:
    return json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]


def tokens(text: str, lang: str, prefix: int | None) -> list[str]:
    fold = fold_russian if lang == "ru" else fold_serbian  # Serbian Cyrillic folded to Latin
    folded = [fold(word) for word in words(text)]
    return [word[:prefix] if prefix else word for word in folded if len(word) > 1]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    left, right = set(a), set(b)
    return 100 * len(left & right) / len(left | right) if left | right else 0.0


def shingles(found: list[str]) -> list[str]:
    return [f"{one} {two}" for one, two in itertools.pairwise(found)]


Method = Callable[[dict, dict], float]


def method(name: str, prefix: int | None, field: str) -> Method:
    def text(item: dict) -> str:
        return item["title"] if field == "title" else f"{item['title']} {item['lead']}"

    def score(a: dict, b: dict) -> float:
        left, right = tokens(text(a), a["lang"], prefix), tokens(text(b), b["lang"], prefix)
        if name == "token_set":
            return token_set_ratio(" ".join(left), " ".join(right))
        if name == "token_sort":
            return token_sort_ratio(" ".join(left), " ".join(right))
        if name == "jaccard":
            return jaccard(left, right)
        return jaccard(shingles(left), shingles(right))

    return score


def baseline(a: dict, b: dict) -> float:
    """What the digest does today: token_sort_ratio of the titles' first characters."""
    return token_sort_ratio(story_key(a["title"]), story_key(b["title"]))


METHODS: dict[str, Method] = {"digest today (title, token_sort)": baseline}
for name in ("token_sort", "token_set", "jaccard", "shingles"):
    for field in ("title", "title+lead"):
        for prefix in (None, 5):
            METHODS[f"{name}, {field}, {'prefix 5' if prefix else 'words'}"] = method(name, prefix, field)


def within(a: dict, b: dict) -> bool:
    return abs(datetime.fromisoformat(a["published"]) - datetime.fromisoformat(b["published"])) <= WINDOW


def figures(scores: list[tuple[float, bool, bool]], threshold: float) -> tuple[float, float]:
    said = [(score >= threshold and near, same) for score, same, near in scores]
    true = sum(1 for guess, same in said if guess and same)
    guessed = sum(1 for guess, _ in said if guess)
    actual = sum(1 for _, same in said if same)
    return (true / guessed if guessed else 1.0), (true / actual if actual else 0.0)


def main() -> None:
    pairs = load()
    main_pairs = [pair for pair in pairs if pair["case"] != "cross_language"]
    cross = [pair for pair in pairs if pair["case"] == "cross_language"]
    print(
        f"{len(main_pairs)} pairs (+{len(cross)} cross-language); window {WINDOW}; "
        f"precision wanted {PRECISION_WANTED}"
    )
    print(f"{'method':44} {'thr':>4} {'prec':>5} {'rec':>5} | {'best F1 thr':>11} {'prec':>5} {'rec':>5}")
    for label, score in METHODS.items():
        scores = [(score(p["a"], p["b"]), p["same"], within(p["a"], p["b"])) for p in main_pairs]
        rows = [(t, *figures(scores, t)) for t in range(0, 101, 2)]
        safe = [row for row in rows if row[1] >= PRECISION_WANTED]
        best_safe = max(safe, key=lambda row: (row[2], row[1])) if safe else (0, 0.0, 0.0)
        best = max(rows, key=lambda row: 2 * row[1] * row[2] / (row[1] + row[2] or 1))
        print(
            f"{label:44} {best_safe[0]:>4} {best_safe[1]:5.2f} {best_safe[2]:5.2f} | "
            f"{best[0]:>11} {best[1]:5.2f} {best[2]:5.2f}"
        )


def product(pairs: list[dict], leads: bool = True) -> tuple[float, float, dict[str, float]]:
    """monitor.match.story.same_story within the window: precision, recall, and each case's
    share of pairs it gets right; ``leads`` False: on their titles alone."""
    said = []
    for pair in pairs:
        a, b = (telling(item["title"], item["lead"] if leads else "") for item in (pair["a"], pair["b"]))
        said.append((within(pair["a"], pair["b"]) and same_story(a, b), pair["same"], pair["case"]))
    true = sum(1 for guess, same, _ in said if guess and same)
    guessed = sum(1 for guess, _, _ in said if guess)
    actual = sum(1 for _, same, _ in said if same)
    cases: dict[str, list[bool]] = {}
    for guess, same, case in said:
        cases.setdefault(case, []).append(guess == same)
    right = {case: sum(found) / len(found) for case, found in cases.items()}
    return (true / guessed if guessed else 1.0), (true / actual if actual else 0.0), right


def report_product(pairs: list[dict]) -> None:
    main_pairs = [pair for pair in pairs if pair["case"] != "cross_language"]
    precision, recall, right = product(main_pairs)
    print(f"\nmonitor.match.story.same_story: precision {precision:.2f}, recall {recall:.2f}")
    titles = product(main_pairs, leads=False)
    print(f"  titles only: precision {titles[0]:.2f}, recall {titles[1]:.2f}")
    for half, name in ((main_pairs[0::2], "even pairs"), (main_pairs[1::2], "odd pairs")):
        got = product(half)
        print(f"  {name:10}: precision {got[0]:.2f}, recall {got[1]:.2f}")
    for case, share in sorted(right.items()):
        print(f"  {case:28} {share:5.2f} right")
    cross = [pair for pair in pairs if pair["case"] == "cross_language"]
    print(f"  cross_language (stretch)     {product(cross)[1]:5.2f} found")


if __name__ == "__main__":
    main()
    report_product(load())
