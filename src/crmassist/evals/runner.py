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
from typing import Any

import sqlalchemy as sa

from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.agent.assistant import Reply
from crmassist.crm import records
from crmassist.crm.errors import NotFound
from crmassist.crm.overview import visible_account
from crmassist.crm.pipeline import PipelineQuery, run_pipeline
from crmassist.domain.models import Contact, Interaction, Message, ToolCallRecord
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
            ranked = self.retrieved(cited)
            self.scores["recall_at_5"] = metrics.recall_at(expected, ranked)
            self.scores["mrr"] = metrics.reciprocal_rank(expected, ranked)
            self.scores["ndcg_at_5"] = metrics.ndcg_at(expected, ranked)
            if self.scores["recall_at_5"] < 1:
                self.failures.append(
                    f"expected {expected} among the first 5 retrieved, got {ranked[:5]}"
                )
        facts = list(expect.get("facts", []))
        found = [f for f in facts if metrics.contains(answer, f)]
        missing = [f for f in facts if f not in found]
        if facts:
            self.scores["correctness"] = len(found) / len(facts)
        if missing:
            self.failures.append(f"missing facts: {missing}")
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

    def retrieved(self, cited: list[str]) -> list[str]:
        """What the answer cites, then what the tools returned, in rank order (search
        results, the customer an overview is about)."""
        found = re.findall(r'"cite": "\[([^\]]+)\]"|"account_id": "([^"]+)"', self.tool_text)
        return list(dict.fromkeys([*cited, *(a or b for a, b in found)]))

    def _pipeline(self, spec: dict[str, Any]) -> None:
        """Expected numbers come from the database at run time, never from the dataset."""
        with self.rt.sessions() as session:
            result = run_pipeline(
                session, self.principal, PipelineQuery(**spec), self.rt.clock.today()
            )
        if result.columns[0] == "id":
            wanted = [str(row[0]) for row in result.rows[:10]]
            hits = [w for w in wanted if w in self.reply.answer]
        else:
            wanted = [str(row[-1]) for row in result.rows]
            hits = [w for w in wanted if metrics.has_number(self.reply.answer, float(w))]
        self.scores["correctness"] = len(hits) / len(wanted) if wanted else 1.0
        if len(hits) < len(wanted):
            self.failures.append(f"pipeline values missing: {sorted(set(wanted) - set(hits))[:8]}")

    def _tool(self, name: str, args: dict[str, Any]) -> None:
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
                else:
                    records.get_record(session, self.principal, records.RecordKind(kind), record_id)
            except (NotFound, ValueError):
                return False
        return True


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
    overall["pii_leaks"] = sum(1 for r in results if r.scores.get("pii_leak_rate"))
    overall["unauthorized_disclosures"] = sum(
        1 for r in results if r.scores.get("unauthorized_rate")
    )
    by_category: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_category[r.category].append(r)
    return {
        "overall": overall,
        "categories": {
            name: {
                "cases": len(rs),
                "passed": sum(r.passed for r in rs),
                "latency_p50_ms": _percentile([r.latency_ms for r in rs], 50),
                "latency_p95_ms": _percentile([r.latency_ms for r in rs], 95),
            }
            for name, rs in sorted(by_category.items())
        },
    }


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return round(values[0], 1) if values else 0.0
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


def below_thresholds(summary: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Which bars were missed: minimums for rates of success, maximums for leaks."""
    overall = summary["overall"]
    missed = []
    for name, bar in thresholds.items():
        value = overall.get(name)
        if value is None:
            continue
        failing = value > bar if name in ("pii_leaks", "unauthorized_disclosures") else value < bar
        if failing:
            missed.append(f"{name} = {value} (bar {bar})")
    return missed
