"""Answers from tool results, in the asker's language, with [record] citations.

Only tool results supply facts; `prompts/answers.yaml` supplies the connecting words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_STOP = frozenset(
    {"the", "a", "an", "is", "are", "do", "does", "how", "what", "why", "to", "of", "for",
     "in", "on", "my", "i", "we", "you", "it", "and", "or", "with", "can", "should", "be"}
)  # fmt: skip


@dataclass(frozen=True)
class Phrases:
    directory: Path

    @cached_property
    def table(self) -> dict[str, dict[str, str]]:
        text = (self.directory / "answers.yaml").read_text(encoding="utf-8")
        loaded: dict[str, dict[str, str]] = yaml.safe_load(text)
        return loaded

    def say(self, lang: str, key: str, **values: Any) -> str:
        return self.table[lang][key].format(**values)


def _terms(text: str) -> set[str]:
    """Words, plus character bigrams for Chinese (a single character says little)."""
    words = [w.lower() for w in _WORD.findall(text)]
    bigrams = {a + b for a, b in pairwise(words) if len(a) == len(b) == 1}
    return {w for w in words if w not in _STOP} | bigrams


def best_sentences(question: str, results: list[dict[str, Any]], limit: int = 3) -> list[str]:
    """The sentences of the top results that share most terms with the question, cited."""
    wanted = _terms(question)
    scored: list[tuple[float, int, str]] = []
    for rank, result in enumerate(results[:2]):
        body = result.get("text") or result.get("snippet", "")
        title = result.get("title", "")
        for n, sentence in enumerate(_SENTENCE.split(body)):
            sentence = sentence.strip(" -*#")
            if len(sentence) < 12 or sentence == title:
                continue
            overlap = len(wanted & _terms(sentence)) - rank * 0.5 - n * 0.01
            scored.append((overlap, -rank * 100 - n, f"{sentence} {result['cite']}"))
    scored.sort(reverse=True)
    chosen = {text for score, _, text in scored[:limit] if score > 0} or {
        text for _, _, text in scored[:1]
    }
    return [text for _, _, text in sorted(scored, key=lambda s: -s[1]) if text in chosen]


def bullet(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def join(items: list[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(items)


def money(amount: Any, currency: str) -> str:
    return f"{float(amount):,.0f} {currency}"


def table(columns: list[str], rows: list[list[Any]], limit: int = 15) -> str:
    """A plain-text table: readable in a terminal, in Slack code blocks and in the console."""
    cells = [[_cell(v) for v in row] for row in rows[:limit]]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    return "" if value is None else str(value)
