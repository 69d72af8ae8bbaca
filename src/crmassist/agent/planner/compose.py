"""Answers from tool results, in the asker's language, with [record] citations.

Only tool results supply facts; `prompts/answers.yaml` supplies the connecting words.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from crmassist.agent.planner import answer_types
from crmassist.retrieval.sparse import Bm25Encoder

_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"{_NUMBER}\s*%?\s*(?:-|–|to|up to|至|到)\s*{_NUMBER}")
_STEP = re.compile(r"\s*(\d{1,2})[.)]\s+")
_PROCEDURAL = re.compile(r"\bhow (?:do|can|should|to)\b|怎么(?!样)|如何|怎样(?!了)", re.IGNORECASE)
_MAX_STEPS = 10  # a procedure is quoted whole: leaving out the last step is worse than length
_TERMS = Bm25Encoder()  # the search index's own tokenizer: stems, stop words, Chinese words


@functools.lru_cache(maxsize=8)
def _read_yaml(path: Path, mtime_ns: int) -> dict[str, Any]:
    """Parsed once per file version: a planner is built per turn, and parsing the phrases
    took a fifth of an offline chat turn. Callers only read the result."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Phrases:
    """The words of `prompts/answers.yaml`: phrases per language, and `labels` for stored
    codes, table columns, dates and amounts, so every word an answer adds is in the
    asker's language."""

    directory: Path

    @cached_property
    def _loaded(self) -> dict[str, Any]:
        path = self.directory / "answers.yaml"
        return _read_yaml(path, path.stat().st_mtime_ns)

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

    def days(self, lang: str, count: int) -> str:
        """A number of days in words: "1 day", "3 days", "3天"."""
        one, many = self.labels[lang]["days"]
        return str(one if count == 1 else many).format(n=count)

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


def best_sentences(
    question: str, results: list[dict[str, Any]], limit: int = 3, wanted: set[int] | None = None
) -> Extract:
    """From the top article: the sentences (and table rows) sharing most terms with the
    question, each next one preferring the terms the chosen ones lack, in reading order,
    cited. A row is matched on its own cells and on the columns the question names. A row
    whose range holds a number asked about ("15%" in "above 10% up to 20%") counts as a
    strong match, as does a quantity of the kind the question asks for ("45 minutes" for
    "how long", see `answer_types`). A "how do I" question also gets the article's first
    numbered procedure, step by step. `wanted`: the terms to look for, when not the
    question's own (its translations, for an article in another language)."""
    if not results:
        return Extract([], [])
    top = results[0]
    title = top.get("title", "")
    candidates = [
        p for p in _passages(top.get("text") or top.get("snippet", "")) if _readable(p.shown, title)
    ]
    if not candidates:
        return Extract([f"{title} {top['cite']}"], [])
    wanted = _TERMS.terms(question) if wanted is None else wanted
    asked = [float(n) for n in re.findall(_NUMBER, question)]
    kinds = answer_types.asked_types(question)
    terms = [
        _TERMS.terms(p.matched) | _named_columns(p, wanted) | _section_terms(p) for p in candidates
    ]
    weight = _rarity(terms)
    telling = 1.0 + math.log(len(candidates))  # the weight of a term found on one line only

    def bonus(n: int) -> float:
        score = 1.0 if n == 0 else 0.0  # an opening sentence usually says what this is
        if _in_range(asked, candidates[n].matched):
            score += telling
        if kinds:  # a quantity of the kind asked for: "45 minutes" for "how long"
            score += telling * answer_types.holds(candidates[n].shown, kinds) / len(kinds)
        return score

    def relevance(n: int, covered: set[int]) -> tuple[float, int]:
        found = sum(weight[t] * (REPEATED if t in covered else 1.0) for t in wanted & terms[n])
        return (-(found + bonus(n)), n)

    steps = _first_procedure(candidates) if _PROCEDURAL.search(question) else []
    # With a procedure shown whole, other list items would be steps out of their context.
    pool = [n for n, p in enumerate(candidates) if not (steps and p.step is not None)]
    chosen: list[int] = []
    covered: set[int] = set()
    for _ in range(min(len(pool), limit - 1 if steps else limit)):
        best = min((n for n in pool if n not in chosen), key=lambda n: relevance(n, covered))
        chosen.append(best)
        covered |= terms[best]
    chosen.sort()
    answered = {n for n in chosen if _answered_next(candidates, n)}
    shown = [
        f"{candidates[n].shown} {candidates[n + 1].shown}" if n in answered else candidates[n].shown
        for n in chosen
        if n - 1 not in answered  # already quoted after its question
    ]
    return Extract(
        [f"{line} {top['cite']}" for line in shown],
        [f"{p.shown} {top['cite']}" for p in steps[:_MAX_STEPS]],
    )


def _answered_next(passages: list[Passage], n: int) -> bool:
    """A question line (an FAQ's "What are the payment terms?") is quoted with the line
    after it, which answers it: the question alone matches best and says nothing."""
    asks = [p.shown.rstrip().endswith(("?", "？")) for p in passages[n : n + 2]]
    return asks == [True, False]


REPEATED = 0.75
"""A question word already held by a chosen line counts three quarters: the next line should
rather hold what the answer still lacks than say the same again. (0.5 drops the one sentence
that answers a core case, "first response time for urgent tickets", for rows that repeat
"first response"; see docs/evals.md.)"""


def _named_columns(passage: Passage, wanted: set[int]) -> set[int]:
    """The terms of a row's columns that the question names in full ("first response" names
    the column "First response", not "Time since ticket created")."""
    named: set[int] = set()
    for column in passage.columns:
        if (terms := _TERMS.terms(column)) and terms <= wanted:
            named |= terms
    return named


@functools.lru_cache(maxsize=256)
def _heading_terms(heading: str) -> frozenset[int]:
    return frozenset(_TERMS.terms(heading))


def _section_terms(passage: Passage) -> frozenset[int]:
    return _heading_terms(passage.section) if passage.section else frozenset()


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
    would make every row look relevant; a row matches on its own cells (and on `columns`
    the question names)."""
    step: int | None = None
    """The number of a numbered-list item."""
    columns: tuple[str, ...] = ()
    """A table row's column names: "first response for a high ticket" asks for the row
    "High" in the column "First response", not for a sentence about first responses."""
    section: str = ""
    """The heading the passage stands under: "设备序列号" answers "报修要准备什么" because it
    stands under "报修时请准备"."""


def _passages(body: str) -> list[Passage]:
    """Sentences of prose, and table rows as sentences that read on their own ("Part: PF-10;
    Replace every: 3 months."); headings, header rows and separators go."""
    lines = body.splitlines()
    out: list[Passage] = []
    header: list[str] = []
    section = ""
    for n, line in enumerate(lines):
        if line.startswith("#"):
            section = line.strip("# ")
        if not line.lstrip().startswith("|"):
            header = []
            if numbered := _STEP.match(line):
                item = _plain(line[numbered.end() :])
                out.append(Passage(item, item, int(numbered.group(1)), section=section))
            else:
                sentences = map(_plain, _SENTENCE.split(line))
                out += [Passage(s, s, section=section) for s in sentences if s]
            continue
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if _separator(line):
            continue
        if _separator(following):
            header = _cells(line)
            continue
        named = _zip_header(header, _cells(line))
        shown = "; ".join(f"{name}: {cell}" if name else cell for name, cell in named)
        cells = _plain("; ".join(cell for _, cell in named))
        columns = tuple(n for n, _ in named if n)
        out.append(Passage(_plain(shown) + ".", cells, columns=columns, section=section))
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


# --- pipeline answers: the number asked for first, then the rows, then "and N more" ----------

PIPELINE_ROWS = 20
_ZH_QUARTERS = "一二三四"
_STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")


def pipeline_answer(phrases: Phrases, lang: str, result: dict[str, Any], winner: bool) -> str:
    """A pipeline result as an answer: a sentence with the number asked for, in the asker's
    language; for "which rep won the most", the winner first; then at most 20 rows."""
    query = result.get("query", {})
    scope = _pipeline_scope(phrases, lang, query)
    if not result["deal_count"]:
        return phrases.say(lang, "pipeline_none", scope=scope)
    grouped = result["columns"][0] != "id"
    if winner and grouped and result["rows"]:
        head = _winner_line(phrases, lang, result, query)
    else:
        group = query.get("group_by")
        by = phrases.say(lang, f"pipeline_group_{group}") if grouped and group else ""
        head = _headline(phrases, lang, result, by, scope)
    rows = result["rows"][:PIPELINE_ROWS]
    lines = [head, _pipeline_table(phrases, lang, result["columns"], rows)]
    total = result["group_count"] if grouped else result["deal_count"]
    if total and total > len(rows):
        kind = "pipeline_more_groups" if grouped else "pipeline_more_deals"
        lines.append(phrases.say(lang, kind, more=_count(total - len(rows))))
    if not grouped:
        lines.append(" ".join(f"[{row[0]}]" for row in rows))
    return "\n".join(lines)


def _pipeline_table(phrases: Phrases, lang: str, columns: list[str], rows: list[list[Any]]) -> str:
    """Column names and stages in the asker's words; ids, names and amounts as stored."""
    if "stage" in columns:
        at = columns.index("stage")
        rows = [[*r[:at], phrases.label(lang, "stage", r[at]), *r[at + 1 :]] for r in rows]
    return table(phrases.columns(lang, columns), rows, limit=PIPELINE_ROWS)


def _headline(phrases: Phrases, lang: str, result: dict[str, Any], by: str, scope: str) -> str:
    metric = result.get("metric", "count")
    totals = result.get("totals") or []
    values = {"scope": scope + by, "deals": _count(result["deal_count"])}
    if metric in ("win_rate", "win_rate_value") and len(totals) == 1:
        won, closed = totals[0].get("won"), totals[0].get("closed")
        value_of = (
            (lambda v: _money(v, totals[0]["currency"])) if metric.endswith("value") else _count
        )
        values.update(won=value_of(won or 0), closed=value_of(closed or 0))
    values["value"] = " + ".join(_measure_value(metric, t) for t in totals) or "-"
    if len(totals) > 1:
        deals = ", ".join(f"{t['currency']} {_count(t['deals'])}" for t in totals)
        values["deals"] = f"{values['deals']} ({deals})"
    return phrases.say(lang, f"pipeline_head_{metric}", **values)


def _winner_line(phrases: Phrases, lang: str, result: dict[str, Any], query: dict[str, Any]) -> str:
    columns, top = result["columns"], result["rows"][0]
    metric = result.get("metric", "count")
    currency = top[1] if "currency" in columns else None
    deals = top[columns.index("deals")] if "deals" in columns else top[-1]
    values = {
        "winner": top[0],
        "value": _measure_value(metric, {"value": top[-1], "currency": currency}),
        "deals": _count(deals),
        "period": _period_phrase(phrases, lang, query),
        "scope": _pipeline_scope(phrases, lang, query),
        "measure": phrases.say(lang, f"pipeline_measure_{metric}"),
    }
    lowest = query.get("sort") == "value_asc"
    stages = query.get("stages", [])
    if stages in (["closed_won"], ["closed_lost"]) and metric in ("sum", "count") and not lowest:
        key = f"pipeline_winner_{stages[0].removeprefix('closed_')}_{metric}"
    else:
        key = "pipeline_winner_lowest" if lowest else "pipeline_winner"
    return phrases.say(lang, key, **values)


def _measure_value(metric: str, total: dict[str, Any]) -> str:
    value = total.get("value")
    if value is None:
        return "-"
    if metric == "count":
        return _count(value)
    if metric in ("win_rate", "win_rate_value"):
        return f"{float(value):.1f}%"
    if metric == "sales_cycle":
        return f"{float(value):,.1f}"
    return _money(value, total.get("currency"))


def _money(value: Any, currency: str | None) -> str:
    """Currency first, cents only when there are any: "USD 2,982,255", "EUR 1,234.50"."""
    return f"{currency} {_cell(float(value))}" if currency else _cell(float(value))


def _count(value: Any) -> str:
    return f"{int(value):,}"


def _pipeline_scope(phrases: Phrases, lang: str, query: dict[str, Any]) -> str:
    """What was counted, in words: "Won in Q3 2017 (EMEA, over 100,000)", "2017年第三季度赢单"."""
    stages = query.get("stages") or []
    if query.get("slipped"):
        kind = "slipped"
    elif query.get("open_only") or query.get("metric") == "weighted_sum":
        kind = "open"
    elif stages in (["closed_won"], ["closed_lost"]):
        kind = stages[0].removeprefix("closed_")
    elif sorted(stages) == ["closed_lost", "closed_won"]:
        kind = "closed"
    else:
        kind = "stages" if stages else "all"
    owner = {"me": "mine", "my_team": "my_team"}.get(query.get("mine") or "", "")
    names = dict(zip(_STAGES, phrases.say(lang, "pipeline_stage_names").split(","), strict=True))
    shown = ("/" if lang == "en" else "、").join(names.get(s, s) for s in stages)
    words = phrases.say(lang, f"pipeline_scope_{kind}", stages=shown)
    if owner:
        words = phrases.say(lang, f"pipeline_owner_{owner}", scope=words)
    filters = _filters(phrases, lang, query)
    return phrases.say(
        lang, "pipeline_scope", what=words, period=_period_phrase(phrases, lang, query),
        filters=phrases.say(lang, "pipeline_filters", filters=filters) if filters else "",
    )  # fmt: skip


def _filters(phrases: Phrases, lang: str, query: dict[str, Any]) -> str:
    names = [
        v
        for key in ("owner_names", "team_names", "regions", "industries", "products")
        for v in query.get(key, [])
    ]
    names += query.get("account_names", []) + query.get("account_ids", [])
    if (low := query.get("min_amount")) is not None:
        names.append(phrases.say(lang, "pipeline_over", amount=_cell(float(low))))
    if (high := query.get("max_amount")) is not None:
        names.append(phrases.say(lang, "pipeline_up_to", amount=_cell(float(high))))
    return join(names, lang).replace("；", "，")


def _period_phrase(phrases: Phrases, lang: str, query: dict[str, Any]) -> str:
    parts = []
    for field, key in (("close", "pipeline_closed_in"), ("created", "pipeline_created_in")):
        start, end = query.get(f"{field}_from"), query.get(f"{field}_to")
        if start or end:
            parts.append(phrases.say(lang, key, period=period_name(start, end, lang)))
    return "".join(parts)


def period_name(start: str | None, end: str | None, lang: str) -> str:
    """A date range by its calendar name where it is one: "Q3 2017", "2017年第三季度",
    "December 2017", "H1 2017", "2017"; otherwise the two dates."""
    from datetime import date, timedelta

    if start and end:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        following = last + timedelta(days=1)
        months = (following.year - first.year) * 12 + following.month - first.month
        if first.day == 1 and following.day == 1:
            name = _calendar_name(first, months, lang)
            if name:
                return name
        return f"{start}至{end}" if lang == "zh" else f"{start} to {end}"
    if start:
        return f"{start}起" if lang == "zh" else f"from {start}"
    return f"{end}前" if lang == "zh" else f"until {end}"


def _calendar_name(first: Any, months: int, lang: str) -> str | None:
    zh = lang == "zh"
    if months == 12 and first.month == 1:
        return f"{first.year}年" if zh else str(first.year)
    if months == 6 and first.month in (1, 7):
        half = 1 if first.month == 1 else 2
        return f"{first.year}年{'上下'[half - 1]}半年" if zh else f"H{half} {first.year}"
    if months == 3 and first.month % 3 == 1:
        quarter = (first.month - 1) // 3 + 1
        return (
            f"{first.year}年第{_ZH_QUARTERS[quarter - 1]}季度" if zh else f"Q{quarter} {first.year}"
        )
    if months == 1:
        return f"{first.year}年{first.month}月" if zh else first.strftime("%B %Y")
    return None
