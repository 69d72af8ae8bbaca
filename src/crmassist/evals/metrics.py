"""Scoring one reply against a case: retrieval ranks, facts, numbers, grounding, tools.

Everything here is deterministic and needs no model: an LLM judge can be added on top
when a model is configured, but these checks are the bar CI holds the assistant to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# Not glued to Latin letters or digits ("E3", "v1.2"); Chinese text around a number is
# fine ("共7台"), and so is a full stop after it.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d[\d,]*(?:\.\d+)?(?![A-Za-z0-9_]|\.\d)")
_NOT_A_FACT = re.compile(
    r"\[[A-Z]{1,3}-?\d+\]|\b20\d\d-\d\d-\d\d(?:T[\d:]+Z?)?\b|<[A-Z_]+_[0-9a-f]+>"
)


def recall_at(expected: Sequence[str], ranked: Sequence[str], k: int = 5) -> float:
    if not expected:
        return 1.0
    return len(set(expected) & set(ranked[:k])) / len(set(expected))


def reciprocal_rank(expected: Sequence[str], ranked: Sequence[str]) -> float:
    for rank, item in enumerate(ranked, 1):
        if item in expected:
            return 1.0 / rank
    return 0.0


def ndcg_at(expected: Sequence[str], ranked: Sequence[str], k: int = 5) -> float:
    gains = sum(1 / math.log2(r + 1) for r, item in enumerate(ranked[:k], 1) if item in expected)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(k, len(set(expected))) + 1))
    return gains / ideal if ideal else 1.0


def numbers(text: str) -> list[float]:
    """Numbers a reader would take as facts: not dates, record ids or pseudonyms."""
    cleaned = _NOT_A_FACT.sub(" ", text)
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(cleaned)]


def has_number(text: str, value: float, tolerance: float = 0.005) -> bool:
    return any(abs(n - value) <= max(0.01, abs(value) * tolerance) for n in numbers(text))


def outside(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text without the (sorted, non-overlapping) spans."""
    starts = [0] + [end for _, end in spans]
    ends = [start for start, _ in spans] + [len(text)]
    return " ".join(text[a:b] for a, b in zip(starts, ends, strict=True))


def grounded_share(answer: str, sources: str) -> float:
    """Share of the answer's numbers that appear in what the tools returned (or was asked)."""
    found = numbers(answer)
    if not found:
        return 1.0
    available = numbers(sources)
    hits = sum(1 for n in found if any(abs(n - a) <= 0.01 for a in available))
    return hits / len(found)


def contains(answer: str, fact: str) -> bool:
    return fact.casefold() in answer.casefold()
