"""Answers from tool results, in the asker's language, with [record] citations.

Only tool results supply facts; `prompts/answers.yaml` supplies the connecting words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from crmassist.retrieval.sparse import Bm25Encoder

_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"{_NUMBER}\s*%?\s*(?:-|–|to|up to|至|到)\s*{_NUMBER}")
_STEP = re.compile(r"\s*(\d{1,2})[.)]\s+")
_PROCEDURAL = re.compile(r"\bhow (?:do|can|should|to)\b|怎么(?!样)|如何|怎样(?!了)", re.IGNORECASE)
_MAX_STEPS = 10  # a procedure is quoted whole: leaving out the last step is worse than length
_TERMS = Bm25Encoder()  # the search index's own tokenizer: stems, stop words, Chinese words


@dataclass(frozen=True)
class Phrases:
    """The words of `prompts/answers.yaml`: phrases per language, and `labels` for stored
    codes, table columns, dates and amounts, so every word an answer adds is in the
    asker's language."""

    directory: Path

    @cached_property
    def _loaded(self) -> dict[str, Any]:
        text = (self.directory / "answers.yaml").read_text(encoding="utf-8")
        loaded: dict[str, Any] = yaml.safe_load(text)
        return loaded

    @cached_property
    def table(self) -> dict[str, dict[str, str]]:
        return {lang: words for lang, words in self._loaded.items() if lang != "labels"}

    @cached_property
    def labels(self) -> dict[str, dict[str, Any]]:
        labels: dict[str, dict[str, Any]] = self._loaded["labels"]
        return labels

    def say(self, lang: str, key: str, **values: Any) -> str:
        return self.table[lang][key].format(**values)

    def label(self, lang: str, group: str, code: Any) -> str:
        """A stored code ("call", "negotiation", "high-value") in words; unknown codes are
        data and stay as stored."""
        text = "" if code is None else str(code)
        return str(self.labels[lang][group].get(text, text))

    def columns(self, lang: str, names: list[str]) -> list[str]:
        return [self.label(lang, "column", name) for name in names]

    def day(self, lang: str, value: date | datetime | str | None, today: date | None = None) -> str:
        """A day in words ("Tuesday 24 November", "11月24日（周二）"); the year only when it
        is not this one."""
        words = self.labels[lang]
        if not value:
            return str(words["no_date"])
        day = as_date(value)
        if day is None:
            return str(value)  # not a date (a pseudonym, free text): shown as it came
        key = "date" if today is not None and day.year == today.year else "date_year"
        return str(words[key]).format(
            weekday=words["weekdays"][day.weekday()],
            day=day.day,
            month=words["months"][day.month - 1],
            year=day.year,
        )

    def money(self, lang: str, amount: Any, currency: str) -> str:
        """Cents only when there are any: 76,000 USD, 384.75 USD, 76,000美元; never rounded."""
        unit = self.label(lang, "currency", currency)
        return str(self.labels[lang]["money"]).format(amount=_cell(float(amount)), currency=unit)


def as_date(value: date | datetime | str) -> date | None:
    """A date from a tool result's value; None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Extract:
    """What a KB answer quotes from an article, each line cited."""

    sentences: list[str]
    steps: list[str]

    def markdown(self) -> str:
        """Sentences as bullets, then the procedure as a numbered list."""
        numbered = [f"{n}. {step}" for n, step in enumerate(self.steps, 1)]
        gap = [""] if numbered and self.sentences else []
        return "\n".join([bullet(self.sentences), *gap, *numbered]).strip("\n")


def best_sentences(question: str, results: list[dict[str, Any]], limit: int = 3) -> Extract:
    """From the top article: the sentences (and table rows) sharing most terms with the
    question, in reading order, cited. A row whose range holds a number asked about ("15%"
    in "above 10% up to 20%") counts as a strong match. A "how do I" question also gets the
    article's first numbered procedure, step by step."""
    if not results:
        return Extract([], [])
    top = results[0]
    title = top.get("title", "")
    candidates = [
        p for p in _passages(top.get("text") or top.get("snippet", "")) if _readable(p.shown, title)
    ]
    if not candidates:
        return Extract([f"{title} {top['cite']}"], [])
    wanted = _TERMS.terms(question)
    asked = [float(n) for n in re.findall(_NUMBER, question)]
    terms = [_TERMS.terms(p.matched) for p in candidates]
    weight = _rarity(terms)

    def relevance(n: int) -> tuple[float, int]:
        bonus = 1.0 if n == 0 else 0.0  # an opening sentence usually says what this is
        if _in_range(asked, candidates[n].matched):
            bonus += 1.0 + math.log(len(candidates))  # as telling as a term found nowhere else
        return (-(sum(weight[t] for t in wanted & terms[n]) + bonus), n)

    steps = _first_procedure(candidates) if _PROCEDURAL.search(question) else []
    # With a procedure shown whole, other list items would be steps out of their context.
    pool = [n for n, p in enumerate(candidates) if not (steps and p.step is not None)]
    chosen = sorted(sorted(pool, key=relevance)[: limit - 1 if steps else limit])
    return Extract(
        [f"{candidates[n].shown} {top['cite']}" for n in chosen],
        [f"{p.shown} {top['cite']}" for p in steps[:_MAX_STEPS]],
    )


def _first_procedure(passages: list[Passage]) -> list[Passage]:
    """The first numbered list: steps 1, 2, 3... in a row."""
    steps: list[Passage] = []
    for passage in passages:
        if passage.step == len(steps) + 1:
            steps.append(passage)
        elif steps:
            break
    return steps


def _rarity(term_sets: list[set[int]]) -> dict[int, float]:
    """Within one article, a term on every line (a column name, the product) says less
    about which line answers than a term on one line: weight by inverse line frequency."""
    lines = Counter(t for terms in term_sets for t in terms)
    return {t: 1.0 + math.log(len(term_sets) / count) for t, count in lines.items()}


def _in_range(numbers: list[float], sentence: str) -> bool:
    return any(
        float(low) < number <= float(high)
        for low, high in _RANGE.findall(sentence)
        for number in numbers
    )


@dataclass(frozen=True)
class Passage:
    shown: str
    """What an answer quotes: a sentence, a numbered step, or a table row with its column
    names."""
    matched: str
    """What the question is matched against: column names repeat on every row, so they
    would make every row look relevant; a row matches on its own cells."""
    step: int | None = None
    """The number of a numbered-list item."""


def _passages(body: str) -> list[Passage]:
    """Sentences of prose, and table rows as sentences that read on their own ("Part: PF-10;
    Replace every: 3 months."); headings, header rows and separators go."""
    lines = body.splitlines()
    out: list[Passage] = []
    header: list[str] = []
    for n, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            header = []
            if numbered := _STEP.match(line):
                item = _plain(line[numbered.end() :])
                out.append(Passage(item, item, int(numbered.group(1))))
            else:
                out += [Passage(s, s) for s in map(_plain, _SENTENCE.split(line)) if s]
            continue
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if _separator(line):
            continue
        if _separator(following):
            header = _cells(line)
            continue
        named = _zip_header(header, _cells(line))
        shown = "; ".join(f"{name}: {cell}" if name else cell for name, cell in named)
        out.append(Passage(_plain(shown) + ".", _plain("; ".join(cell for _, cell in named))))
    return out


def _plain(text: str) -> str:
    return text.replace("**", "").strip(" -*")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _zip_header(header: list[str], cells: list[str]) -> list[tuple[str, str]]:
    names = (header + [""] * len(cells))[: len(cells)]
    return [(name, cell) for name, cell in zip(names, cells, strict=True) if cell]


def _separator(line: str) -> bool:
    return line.lstrip().startswith("|") and set(line.strip()) <= set("|-: ")


def _readable(sentence: str, title: str) -> bool:
    """Prose, not a table row, a heading or the title again."""
    return len(sentence) >= 12 and sentence != title and not sentence.startswith(("|", "#"))


def bullet(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def join(items: list[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(items)


def table(columns: list[str], rows: list[list[Any]], limit: int = 15) -> str:
    """A Markdown table: readable raw in a terminal, rendered by the console, and it stays
    aligned after pseudonyms are replaced by names of another length."""
    shown = rows[:limit]
    cents = [any(isinstance(r[i], float) and r[i] % 1 for r in shown) for i in range(len(columns))]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join(_cell(v, c) for v, c in zip(row, cents, strict=True)) + " |"
        for row in shown
    ]
    return "\n".join(lines)


def _cell(value: Any, cents: bool = False) -> str:
    """Numbers with cents only when they have any, or when their column does."""
    if isinstance(value, float):
        return f"{value:,.2f}" if cents or value % 1 else f"{value:,.0f}"
    return "" if value is None else str(value)
