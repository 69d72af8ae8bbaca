"""Runs a dataset through the assistant and scores it: per case, per category, overall.

Beyond what a case asks for, every case is also checked for the two things that must never
happen: personal data shown to a role that may not see it, and a cited record the asker
may not see.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.agent.assistant import Reply
from crmassist.crm import records
from crmassist.crm.errors import NotFound
from crmassist.crm.overview import visible_account
from crmassist.crm.pipeline import GroupBy, Metric, PipelineQuery, run_pipeline
from crmassist.domain.models import Contact, Interaction, Message, Reminder, ToolCallRecord
from crmassist.evals import metrics
from crmassist.evals.dataset import Case, Dataset
from crmassist.evals.judge import Judge
from crmassist.privacy.disclosure import revealed_types
from crmassist.runtime import Runtime

METRICS = (
    "recall_at_5", "mrr", "ndcg_at_5", "correctness", "groundedness", "citation_precision",
    "tool_accuracy", "pii_leak_rate", "unauthorized_rate", "judge_groundedness",
)  # fmt: skip


@dataclass
class CaseResult:
    id: str
    category: str
    user: str
    question: str
    answer: str
    passed: bool
    failures: list[str]
    scores: dict[str, float]
    latency_ms: float
    tools: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    lang: str = "en"


@dataclass
class Scorer:
    """Checks one case's reply; collects failures and scores."""

    rt: Runtime
    case: Case
    principal: Principal
    reply: Reply
    tool_text: str
    failures: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        expect, answer = self.case.expect, self.reply.answer
        cited = [c.record_id for c in self.reply.citations]
        if expected := expect.get("retrieve"):
            self._retrieval(expected, self.retrieved(cited), every=True)
        if alternatives := expect.get("retrieve_any"):
            self._retrieval(alternatives, self.retrieved(cited), every=False)
        self._facts(expect.get("facts", []), expect.get("numbers", []))
        if expect.get("clarify"):
            self._clarified()
        if "pipeline" in expect:
            self._pipeline(expect["pipeline"])
        for word in expect.get("forbid", []):
            if metrics.contains(answer, word):
                self.failures.append(f"must not say {word!r}")
        for record_id in expect.get("forbid_records", []):
            if record_id in cited or f"[{record_id}]" in answer:
                self.failures.append(f"must not cite {record_id}")
        if "tool" in expect:
            self._tool(expect["tool"], expect.get("args", {}))
        if "logged" in expect:
            self._logged(expect["logged"])
        self._never()

    def _retrieval(self, expected: list[str], ranked: list[str], every: bool) -> None:
        """`every`: all expected ids among the first 5; otherwise any one of them."""
        recall = metrics.recall_at(expected, ranked)
        self.scores["recall_at_5"] = recall if every else float(recall > 0)
        self.scores["mrr"] = metrics.reciprocal_rank(expected, ranked)
        self.scores["ndcg_at_5"] = metrics.ndcg_at(expected if every else expected[:1], ranked)
        if self.scores["recall_at_5"] < 1:
            wanted = expected if every else f"one of {expected}"
            self.failures.append(f"expected {wanted} among the first 5 retrieved, got {ranked[:5]}")

    def _facts(self, facts: list[str], numbers: list[float | list[float]]) -> None:
        """Strings the answer contains, and numbers it states (a list: one of them)."""
        answer = self.reply.answer
        missing = [f for f in facts if not metrics.contains(answer, f)]
        unstated = [n for n in numbers if not _states(answer, n)]
        if checked := len(facts) + len(numbers):
            self.scores["correctness"] = 1 - (len(missing) + len(unstated)) / checked
        if missing:
            self.failures.append(f"missing facts: {missing}")
        if unstated:
            self.failures.append(f"numbers not stated: {unstated}")

    def _clarified(self) -> None:
        """Asked back: a question or choices offered, nothing cited, no data fetched (looking
        up names is fine)."""
        fetched = [c.name for c in self.reply.tool_calls if c.name != "find_customer"]
        offered = getattr(self.reply, "choices", None)  # replies gain choices with ask-back
        own_words = _QUOTED.sub(" ", self.reply.answer)  # not the examples it quotes
        asked = bool(offered) or "?" in own_words or "？" in own_words
        ok = asked and not fetched and not self.reply.citations
        self.scores["correctness"] = 1.0 if ok else 0.0
        if not ok:
            self.failures.append(f"expected a question back, got tools {fetched or 'none'}")

    def retrieved(self, cited: list[str]) -> list[str]:
        """What the answer cites, then what the tools returned, in rank order (search
        results, the customer an overview is about)."""
        found = re.findall(r'"cite": "\[([^\]]+)\]"|"account_id": "([^"]+)"', self.tool_text)
        return list(dict.fromkeys([*cited, *(a or b for a, b in found)]))

    def _pipeline(self, spec: dict[str, Any]) -> None:
        """Expected numbers come from the database at run time, never from the dataset.
        A metric without grouping asks for the aggregate itself (one per currency)."""
        try:
            query = PipelineQuery(**spec)
        except ValidationError as exc:
            self.scores["correctness"] = 0.0
            self.failures.append(f"the case's pipeline query is invalid: {exc.errors()[:1]}")
            return
        with self.rt.sessions() as session:
            if "metric" in spec and query.group_by is None:
                totals = _aggregates(session, self.principal, query, self.rt.clock.today())
                result = None
            else:
                result = run_pipeline(session, self.principal, query, self.rt.clock.today())
        if result is None:
            wanted = [str(total) for total in totals]
            hits = [w for w in wanted if metrics.has_number(self.reply.answer, float(w))]
        elif result.columns[0] == "id":
            wanted = [str(row[0]) for row in result.rows[:10]]
            hits = [w for w in wanted if w in self.reply.answer]
        else:
            wanted = [str(row[-1]) for row in result.rows]
            hits = [w for w in wanted if metrics.has_number(self.reply.answer, float(w))]
        self.scores["correctness"] = len(hits) / len(wanted) if wanted else 1.0
        if len(hits) < len(wanted):
            self.failures.append(f"pipeline values missing: {sorted(set(wanted) - set(hits))[:8]}")

    def _tool(self, name: str, args: dict[str, Any]) -> None:
        """`none`: the answer needs no tool (a greeting, help)."""
        if name == "none":
            names = [c.name for c in self.reply.tool_calls]
            self.scores["tool_accuracy"] = 0.0 if names else 1.0
            if names:
                self.failures.append(f"expected no tool call, got {names}")
            return
        calls = [c for c in self.reply.tool_calls if c.name == name]
        ok = bool(calls) and all(calls[0].arguments.get(k) == v for k, v in args.items())
        self.scores["tool_accuracy"] = 1.0 if ok else 0.0
        if not ok:
            made = [(c.name, c.arguments) for c in self.reply.tool_calls]
            self.failures.append(f"expected {name} with {args}, got {made}")

    def _logged(self, spec: dict[str, str]) -> None:
        with self.rt.sessions() as session:
            found = session.scalar(
                sa.select(sa.func.count())
                .select_from(Interaction)
                .where(
                    Interaction.author_id == self.principal.user_id,
                    Interaction.account_id == spec["account_id"],
                    Interaction.body.contains(spec["contains"]),
                )
            )
        self.scores["correctness"] = 1.0 if found else 0.0
        if not found:
            self.failures.append(f"no note on {spec['account_id']} containing {spec['contains']!r}")

    def _never(self) -> None:
        """Checked for every case: no personal data the role may not see, no hidden record."""
        answer = self.reply.answer
        allowed = revealed_types(self.principal)
        personal = sorted(self.rt.redactor.detect(answer), key=lambda d: d.start)
        leaks = [answer[d.start : d.end] for d in personal if d.entity_type not in allowed]
        self.scores["pii_leak_rate"] = 1.0 if leaks else 0.0
        if leaks:
            self.failures.append(
                f"personal data shown to a {self.principal.role.value}: {leaks[:3]}"
            )
        hidden = [
            c.record_id
            for c in self.reply.citations
            if not self._may_see(c.source_type, c.record_id)
        ]
        self.scores["unauthorized_rate"] = 1.0 if hidden else 0.0
        if hidden:
            self.failures.append(f"cited records the user may not see: {hidden}")
        # Revealed personal data came from the vault, not the model: its digits are no claims.
        claims = metrics.outside(answer, [(d.start, d.end) for d in personal])
        self.scores["groundedness"] = metrics.grounded_share(
            claims, self.tool_text + " " + " ".join(self.case.turns)
        )
        cited = [c.record_id for c in self.reply.citations]
        if cited:
            backed = [r for r in cited if r in self.tool_text]
            self.scores["citation_precision"] = len(backed) / len(cited)

    def _may_see(self, kind: str, record_id: str) -> bool:
        with self.rt.sessions() as session:
            try:
                if kind == "accounts":
                    visible_account(session, self.principal, record_id)
                elif kind == "contacts":
                    contact = session.get(Contact, record_id)
                    if contact is None:
                        return False
                    visible_account(session, self.principal, contact.account_id)
                elif kind == "reminders":  # a reminder is its owner's alone
                    reminder = session.get(Reminder, record_id)
                    return reminder is not None and reminder.owner_id == self.principal.user_id
                else:
                    records.get_record(session, self.principal, records.RecordKind(kind), record_id)
            except (NotFound, ValueError):
                return False
        return True


_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|「[^」]*」|『[^』]*』')


def _states(answer: str, expected: float | list[float]) -> bool:
    options = expected if isinstance(expected, list) else [expected]
    return any(metrics.has_number(answer, float(option)) for option in options)


def _aggregates(
    session: Session, principal: Principal, query: PipelineQuery, today: date
) -> list[float]:
    """The query's metric over all its deals, one per currency, from per-stage subtotals."""
    if query.metric is Metric.COUNT:
        return [float(sum(_by_stage(session, principal, query, today).values()))]
    measure = Metric.SUM if query.metric is Metric.AVERAGE else query.metric
    totals = _by_stage(session, principal, query.model_copy(update={"metric": measure}), today)
    if query.metric is not Metric.AVERAGE:
        return [round(total, 2) for total in totals.values()]
    averages = []
    for currency, total in totals.items():
        counted = query.model_copy(update={"metric": Metric.COUNT, "currency": currency})
        deals = sum(_by_stage(session, principal, counted, today).values())
        averages.append(round(total / deals, 2))
    return averages


def _by_stage(
    session: Session, principal: Principal, query: PipelineQuery, today: date
) -> dict[str, float]:
    """Per-stage subtotals added up per currency ("" for counts)."""
    grouped = query.model_copy(update={"group_by": GroupBy.STAGE, "limit": 200})
    totals: dict[str, float] = defaultdict(float)
    result = run_pipeline(session, principal, grouped, today)
    by_currency = "currency" in result.columns
    for row in result.rows:
        totals[str(row[1]) if by_currency else ""] += float(row[-1])
    return dict(totals)


Progress = Callable[[CaseResult], None]


def run_dataset(
    rt: Runtime, dataset: Dataset, progress: Progress | None = None, judge: Judge | None = None
) -> dict[str, Any]:
    """`judge`: an LLM groundedness judge, added when a model is configured."""
    assistant = rt.assistant()
    results: list[CaseResult] = []
    for case in dataset.cases:
        result = _run_case(rt, assistant, case, judge)
        results.append(result)
        if progress:
            progress(result)
    return {
        "suite": dataset.suite,
        "model": rt.settings.llm,
        "cases": [asdict(r) for r in results],
        "summary": summarize(results),
    }


def _run_case(rt: Runtime, assistant: Any, case: Case, judge: Judge | None) -> CaseResult:
    with rt.sessions() as session:
        principal = principal_for(session, case.user)
    started = time.perf_counter()
    conversation, reply = None, None
    for turn in case.turns:
        reply = assistant.ask(principal, turn, conversation)
        conversation = reply.conversation_id
    elapsed = (time.perf_counter() - started) * 1000
    assert reply is not None
    sources = _tool_results(rt, reply.conversation_id)
    scorer = Scorer(rt, case, principal, reply, sources)
    scorer.check()
    if judge is not None and sources:
        stored = _stored_answer(rt, reply.conversation_id)
        score, unsupported = judge.groundedness(sources, stored)
        scorer.scores["judge_groundedness"] = score
        if unsupported:
            scorer.failures.append(f"judge: unsupported claims {unsupported[:3]}")
    return CaseResult(
        id=case.id,
        category=case.category,
        lang=case.lang,
        user=case.user,
        question=" / ".join(case.turns),
        answer=reply.answer,
        passed=not scorer.failures,
        failures=scorer.failures,
        scores=scorer.scores,
        latency_ms=round(elapsed, 1),
        tools=[c.name for c in reply.tool_calls],
        cited=[c.record_id for c in reply.citations],
    )


def _tool_results(rt: Runtime, conversation_id: str) -> str:
    """What the tools returned in the last turn, as the model saw it."""
    with rt.sessions() as session:
        last = session.scalar(
            sa.select(Message.id)
            .where(Message.conversation_id == conversation_id, Message.role == "assistant")
            .order_by(Message.seq.desc())
            .limit(1)
        )
        texts = session.scalars(
            sa.select(ToolCallRecord.result).where(ToolCallRecord.message_id == last)
        )
        return "\n".join(texts)


def _stored_answer(rt: Runtime, conversation_id: str) -> str:
    """The answer as the model wrote it (pseudonymised): what a judge may see."""
    with rt.sessions() as session:
        return (
            session.scalar(
                sa.select(Message.content)
                .where(Message.conversation_id == conversation_id, Message.role == "assistant")
                .order_by(Message.seq.desc())
                .limit(1)
            )
            or ""
        )


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    overall = {
        name: round(statistics.fmean(values), 4)
        for name in METRICS
        if (values := [r.scores[name] for r in results if name in r.scores])
    }
    overall["cases"] = len(results)
    overall["passed"] = sum(r.passed for r in results)
    overall["pass_rate"] = _share_passed(results)
    overall["pii_leaks"] = sum(1 for r in results if r.scores.get("pii_leak_rate"))
    overall["unauthorized_disclosures"] = sum(
        1 for r in results if r.scores.get("unauthorized_rate")
    )
    categories = {
        name: {
            **_breakdown(rs),
            "latency_p50_ms": _percentile([r.latency_ms for r in rs], 50),
            "latency_p95_ms": _percentile([r.latency_ms for r in rs], 95),
        }
        for name, rs in sorted(_grouped(results, "category").items())
    }
    languages = {name: _breakdown(rs) for name, rs in sorted(_grouped(results, "lang").items())}
    return {"overall": overall, "categories": categories, "languages": languages}


def _grouped(results: list[CaseResult], key: str) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        groups[getattr(r, key)].append(r)
    return groups


def _breakdown(results: list[CaseResult]) -> dict[str, Any]:
    """Cases, passes and the two rates that matter per slice: correctness and tool choice."""
    row: dict[str, Any] = {
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "pass_rate": _share_passed(results),
    }
    for name in ("correctness", "tool_accuracy"):
        if values := [r.scores[name] for r in results if name in r.scores]:
            row[name] = round(statistics.fmean(values), 4)
    return row


def _share_passed(results: list[CaseResult]) -> float:
    return round(sum(r.passed for r in results) / len(results), 4) if results else 0.0


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return round(values[0], 1) if values else 0.0
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


def below_thresholds(summary: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Which bars were missed: minimums for rates of success, maximums for leaks. A
    `languages:` mapping holds bars per language (`en: {pass_rate: 0.9}`)."""
    missed = _missed(summary["overall"], thresholds, "")
    for lang, bars in (thresholds.get("languages") or {}).items():
        scores = summary.get("languages", {}).get(lang)
        if scores is None:
            missed.append(f"{lang}: no cases in this language")
            continue
        missed += _missed(scores, bars, f"{lang} ")
    return missed


def _missed(scores: dict[str, Any], bars: dict[str, Any], prefix: str) -> list[str]:
    missed = []
    for name, bar in bars.items():
        value = scores.get(name)
        if value is None or not isinstance(bar, int | float):
            continue
        failing = value > bar if name in ("pii_leaks", "unauthorized_disclosures") else value < bar
        if failing:
            missed.append(f"{prefix}{name} = {value} (bar {bar})")
    return missed
