"""Scoring a redactor on labelled text: per-type precision, recall, F2 and leaks.

Two ways to match. `exact` (the project's own set): a prediction counts only on the same
span and type. `overlap` (the outside set, whose gold spans follow another team's
conventions, e.g. a phone with its "x123" extension): a gold value is found when a
prediction of its type overlaps it, and a prediction is right when it overlaps a gold
value of its type. `leaked` counts gold values with any letter or digit left outside
every prediction, whatever its type: what would reach a model.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmassist.privacy.entities import Detection

Example = dict[str, Any]
Span = tuple[int, int, str]


def load_examples(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class Scores:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    leaked: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    def precision(self, key: str | None = None) -> float:
        tp, fp = self._get(self.tp, key), self._get(self.fp, key)
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, key: str | None = None) -> float:
        tp, fn = self._get(self.tp, key), self._get(self.fn, key)
        return tp / (tp + fn) if tp + fn else 1.0

    def f2(self, key: str | None = None) -> float:
        """F-beta with beta 2: recall weighs four times precision (a leak costs more)."""
        p, r = self.precision(key), self.recall(key)
        return 5 * p * r / (4 * p + r) if p + r else 0.0

    def gold(self, key: str | None = None) -> int:
        return self._get(self.tp, key) + self._get(self.fn, key)

    def keys(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn), key=_row_order)

    @staticmethod
    def _get(counter: Counter[str], key: str | None) -> int:
        if key is None:
            return sum(v for k, v in counter.items() if "(" not in k)
        return counter[key]

    def as_dict(self) -> dict[str, dict[str, float | int]]:
        return {
            key or "overall": {
                "precision": round(self.precision(key), 4),
                "recall": round(self.recall(key), 4),
                "f2": round(self.f2(key), 4),
                "gold": self.gold(key),
                "found": self._get(self.tp, key) + self._get(self.fp, key),
                "leaked": self._get(self.leaked, key),
            }
            for key in [*self.keys(), None]
        }

    def table(self, title: str) -> str:
        head = f"{'type':<22}{'precision':>10}{'recall':>8}{'F2':>7}{'gold':>6}{'leaked':>7}"
        rows = [title, head]
        for key, row in self.as_dict().items():
            rows.append(
                f"{key:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f2']:>7.3f}"
                f"{row['gold']:>6}{row['leaked']:>7}"
            )
        return "\n".join(rows)


def _row_order(key: str) -> tuple[str, str]:
    return (key.split(" ")[0], key)


def score(
    examples: Sequence[Example],
    predictions: Iterable[Sequence[Detection]],
    *,
    exact: bool,
    extra_rows: Callable[[Example, Span], Iterable[str]] = lambda _ex, _span: (),
) -> Scores:
    """Compare predictions with the gold spans; `extra_rows` adds recall-only rows."""
    scores = Scores()
    for ex, dets in zip(examples, predictions, strict=True):
        gold = [(e["start"], e["end"], e["type"]) for e in ex["entities"]]
        pred = [(d.start, d.end, d.entity_type.value) for d in dets]
        _score_one(scores, ex, gold, pred, exact, extra_rows)
    return scores


def _score_one(
    scores: Scores,
    ex: Example,
    gold: list[Span],
    pred: list[Span],
    exact: bool,
    extra_rows: Callable[[Example, Span], Iterable[str]],
) -> None:
    text = ex["text"]
    match = (lambda a, b: a == b) if exact else _same_type_overlap
    for g in gold:
        hit = any(match(g, p) for p in pred)
        for key in (g[2], *extra_rows(ex, g)):
            (scores.tp if hit else scores.fn)[key] += 1
            if _leaks(text, g, pred):
                scores.leaked[key] += 1
        if not hit:
            scores.misses.append(f"FN {ex['id']} {g[2]} {text[g[0] : g[1]]!r}")
    for p in pred:
        if any(match(g, p) for g in gold):
            continue  # counted once, as the gold's tp
        scores.fp[p[2]] += 1
        scores.misses.append(f"FP {ex['id']} {p[2]} {text[p[0] : p[1]]!r}")


def _same_type_overlap(a: Span, b: Span) -> bool:
    return a[2] == b[2] and a[0] < b[1] and b[0] < a[1]


def _leaks(text: str, gold: Span, pred: list[Span]) -> bool:
    covered = [False] * (gold[1] - gold[0])
    for start, end, _ in pred:
        for i in range(max(start, gold[0]), min(end, gold[1])):
            covered[i - gold[0]] = True
    return any(not covered[i - gold[0]] and text[i].isalnum() for i in range(gold[0], gold[1]))
