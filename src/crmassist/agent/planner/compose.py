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
    """From the top article: the sentences (and table rows) sharing most terms with the
    question, in reading order, cited."""
    if not results:
        return []
    top = results[0]
    body = top.get("text") or top.get("snippet", "")
    title = top.get("title", "")
    candidates = [
        s.strip(" -*#")
        for s in _SENTENCE.split(_tables_as_text(body))
        if _readable(s.strip(" -*#"), title)
    ]
    if not candidates:
        return [f"{title} {top['cite']}"]
    wanted = _terms(question)

    def relevance(n: int) -> tuple[float, int]:
        bonus = 0.5 if n == 0 else 0.0  # an opening sentence usually says what this is
        return (-(len(wanted & _terms(candidates[n])) + bonus), n)

    chosen = sorted(sorted(range(len(candidates)), key=relevance)[:limit])
    return [f"{candidates[n]} {top['cite']}" for n in chosen]


def _tables_as_text(body: str) -> str:
    """Markdown table rows become sentences ("PF-10 filter: 3 months, 45."), so an answer
    can quote the row a question is about; header rows and separators go."""
    lines = body.splitlines()
    out = []
    for n, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            out.append(line)
            continue
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if _separator(line) or _separator(following):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out.append(f"{cells[0]}: {', '.join(c for c in cells[1:] if c)}.")
    return "\n".join(out)


def _separator(line: str) -> bool:
    return line.lstrip().startswith("|") and set(line.strip()) <= set("|-: ")


def _readable(sentence: str, title: str) -> bool:
    """Prose, not a table row, a heading or the title again."""
    return len(sentence) >= 12 and sentence != title and not sentence.startswith("|")


def bullet(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def join(items: list[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(items)


def money(amount: Any, currency: str) -> str:
    return f"{float(amount):,.0f} {currency}"


def table(columns: list[str], rows: list[list[Any]], limit: int = 15) -> str:
    """A Markdown table: readable raw in a terminal, rendered by the console, and it stays
    aligned after pseudonyms are replaced by names of another length."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows[:limit]]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    return "" if value is None else str(value)
