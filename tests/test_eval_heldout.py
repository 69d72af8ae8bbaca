"""The held-out eval suite: big enough, Chinese enough, every tool, grounded in the sample,
and never a copy of what the planner was tuned on (its exemplars, the core suite).

Overlap failures name the held-out case only, never the exemplar it resembles: the fix is
to rewrite the held-out question without reading the exemplars.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session, sessionmaker

from crmassist.agent.tools import TOOL_CLASSES
from crmassist.evals import metrics
from crmassist.evals.dataset import Case, load_dataset
from crmassist.evals.runner import CaseResult, Scorer, below_thresholds, summarize
from crmassist.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "evals" / "heldout.yaml"
SAMPLE = ROOT / "knowledge" / "sample"
NEAR = 90
"""rapidfuzz score (0-100) from which two questions count as the same question."""
RECORD_ID = re.compile(r"\b(?:A\d{3}|C\d{4}|O\d{4}|I\d{5}|T\d{4}|KB-\d{4}|R\d{5}|U\d{3})\b")


@pytest.fixture(scope="module")
def cases(sessions: sessionmaker[Session]) -> list[Case]:
    with sessions() as session:
        return load_dataset(HELDOUT, session).cases


def test_the_heldout_suite_is_big_chinese_enough_and_covers_every_tool(cases: list[Case]) -> None:
    assert len(cases) >= 300
    langs = [c.lang for c in cases]
    assert langs.count("zh") / len(cases) >= 0.30  # Chinese only, mixed not counted
    assert {"en", "zh", "mixed"} <= set(langs)
    tools = {c.expect.get("tool") for c in cases}
    every_tool = {cls.model_fields["name"].default for cls in TOOL_CLASSES}
    assert len(every_tool) == len(TOOL_CLASSES) and all(isinstance(t, str) for t in every_tool)
    assert every_tool <= tools, f"no case expects {sorted(every_tool - tools)}"
    users = {c.user for c in cases}
    with (SAMPLE / "users.csv").open(encoding="utf-8") as f:
        roles = {row["id"]: row["role"] for row in csv.DictReader(f)}
    assert {roles[u] for u in users} == set(roles.values())  # every role asks
    assert sum(len(c.turns) > 1 for c in cases) >= 15  # follow-ups
    assert sum(bool(c.expect.get("clarify")) for c in cases) >= 10  # ask back


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _strings(node: Any) -> Iterator[str]:
    """Every string in a YAML tree: exemplars wherever prompts/ keeps them."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _tuned_questions() -> list[str]:
    texts = [
        text
        for path in sorted((ROOT / "prompts").glob("*.yaml"))
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    ]
    core = yaml.safe_load((ROOT / "evals" / "core.yaml").read_text(encoding="utf-8"))
    for case in core["cases"]:
        if "generate" not in case:
            texts += case.get("turns") or [case["ask"]]
    return [_normalised(t) for t in texts if t.strip()]


def _near(question: str, tuned: str, token_set: float) -> bool:
    """A superset match counts only when both are sentences of similar length, so a
    one-word label ("warranty") does not make every warranty question a duplicate."""
    shorter, longer = sorted((len(question.split()), len(tuned.split())))
    return token_set >= NEAR and shorter >= 3 and shorter / longer >= 0.6


def test_no_heldout_question_is_an_exemplar_or_a_core_question(cases: list[Case]) -> None:
    tuned = _tuned_questions()
    turns = [(c.id, _normalised(t)) for c in cases for t in c.turns]
    questions = [q for _, q in turns]
    exact = set(tuned)
    ratio = process.cdist(questions, tuned, scorer=fuzz.ratio)
    reordered = process.cdist(questions, tuned, scorer=fuzz.token_sort_ratio)
    superset = process.cdist(questions, tuned, scorer=fuzz.token_set_ratio)
    overlapping = sorted(
        {
            case_id
            for i, (case_id, question) in enumerate(turns)
            if question in exact
            or ratio[i].max() >= NEAR
            or reordered[i].max() >= NEAR
            or any(
                _near(question, tuned[j], superset[i][j])
                for j in (superset[i] >= NEAR).nonzero()[0]
            )
        }
    )
    assert not overlapping, (
        f"rewrite these held-out questions (too close to tuned ones): {overlapping}"
    )


def _sample_ids() -> set[str]:
    ids = {p.stem for p in (SAMPLE / "kb").glob("*.md")}
    for name in ("accounts", "contacts", "opportunities", "orders", "users"):
        with (SAMPLE / f"{name}.csv").open(encoding="utf-8") as f:
            ids |= {row["id"] for row in csv.DictReader(f)}
    for name in ("interactions", "tickets"):
        with (SAMPLE / f"{name}.jsonl").open(encoding="utf-8") as f:
            ids |= {json.loads(line)["id"] for line in f if line.strip()}
    return ids


def test_every_record_and_fact_the_suite_expects_is_in_the_sample(cases: list[Case]) -> None:
    ids = _sample_ids()
    corpus = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(SAMPLE.rglob("*")) if p.is_file()
    ).casefold()
    unknown = {
        (c.id, record)
        for c in cases
        for record in RECORD_ID.findall(json.dumps(c.expect, default=str))
        if record not in ids
    }
    assert not unknown, f"record ids not in knowledge/sample: {sorted(unknown)}"
    ungrounded = [
        (c.id, fact)
        for c in cases
        for fact in c.expect.get("facts", [])
        if fact.casefold() not in corpus
    ]
    assert not ungrounded, f"facts not found in knowledge/sample: {ungrounded}"


def test_the_heldout_suite_has_its_own_bars() -> None:
    bars = yaml.safe_load((ROOT / "evals" / "thresholds-heldout.yaml").read_text(encoding="utf-8"))
    assert bars["pii_leaks"] == 0 and bars["unauthorized_disclosures"] == 0
    for lang in ("en", "zh"):
        assert bars["languages"][lang]["pass_rate"] >= 0.90
        assert bars["languages"][lang]["correctness"] >= 0.90


# --- the scoring and reporting the held-out suite relies on ---------------------------------


def _result(case_id: str, lang: str, passed: bool, **scores: float) -> CaseResult:
    return CaseResult(case_id, "kb", "U1", "q", "a", passed, [], scores, 1.0, lang=lang)


def test_scores_are_reported_and_barred_per_language() -> None:
    results = [
        _result("a", "en", True, correctness=1.0, tool_accuracy=1.0),
        _result("b", "en", False, correctness=0.0),
        _result("c", "zh", True, tool_accuracy=1.0),
    ]
    summary = summarize(results)
    assert summary["languages"]["en"] == {
        "cases": 2, "passed": 1, "pass_rate": 0.5, "correctness": 0.5, "tool_accuracy": 1.0,
    }  # fmt: skip
    assert summary["languages"]["zh"]["pass_rate"] == 1.0
    assert summary["overall"]["pass_rate"] == 0.6667
    bars = {"pii_leaks": 0, "languages": {"en": {"pass_rate": 0.9}, "zh": {"pass_rate": 0.9}}}
    assert below_thresholds(summary, bars) == ["en pass_rate = 0.5 (bar 0.9)"]
    assert below_thresholds(summary, {"languages": {"mixed": {"pass_rate": 0.9}}}) == [
        "mixed: no cases in this language"
    ]


def test_numbers_next_to_chinese_or_at_a_sentence_end_are_read() -> None:
    assert metrics.numbers("寿命9000小时，共7台。It costs 9,000. Error E3, v1.2") == [
        9000.0, 7.0, 9000.0,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def mini_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The mini CRM imported (not indexed): enough for the scorer's database checks."""
    from crmassist.ingest.importer import import_directory
    from crmassist.settings import Settings
    from tests.conftest import DATA

    rt = Runtime(Settings(data_dir=tmp_path_factory.mktemp("mini"), today="2026-11-20"))
    import_directory(DATA / "mini_crm", rt.sessions, as_of=rt.clock.today())
    yield rt
    rt.close()


def _scored(
    rt: Runtime, expect: dict[str, Any], answer: str, tools: list[str], cites: bool = True
) -> Scorer:
    from crmassist.access.directory import principal_for
    from crmassist.agent.assistant import CitationOut, Reply, ToolCallOut

    with rt.sessions() as session:
        principal = principal_for(session, "U1")
    reply = Reply(
        conversation_id="c",
        answer=answer,
        citations=[CitationOut(source_type="kb", record_id="KB-T1", title="t", snippet="s")]
        * cites,
        tool_calls=[ToolCallOut(name=t, arguments={}, status="ok", duration_ms=1) for t in tools],
        focus={},
    )
    scorer = Scorer(rt, Case("c", "kb", "U1", ["q"], expect), principal, reply, "")
    scorer._facts(expect.get("facts", []), expect.get("numbers", []))
    if "pipeline" in expect:
        scorer._pipeline(expect["pipeline"])
    if "retrieve_any" in expect:
        scorer._retrieval(expect["retrieve_any"], ["KB-T1"], every=False)
    if "tool" in expect:
        scorer._tool(expect["tool"], {})
    if expect.get("clarify"):
        scorer._clarified()
    return scorer


def test_the_scorer_checks_meaning_not_wording(mini_rt: Runtime) -> None:
    total = {"pipeline": {"open_only": True, "metric": "sum"}}  # U1's open deal: 76,000
    assert not _scored(mini_rt, total, "Open pipeline: USD 76,000.00 (1 deal).", []).failures
    assert _scored(mini_rt, total, "Here are your deals: O1.", []).failures
    count = {"pipeline": {"open_only": True, "metric": "count"}}
    assert not _scored(mini_rt, count, "你有1个在跟的商机。", []).failures
    alternatives = {"numbers": [[72.7, 0.727]]}
    assert not _scored(mini_rt, alternatives, "Win rate: 73%", []).failures
    assert _scored(mini_rt, alternatives, "Win rate: 65%", []).failures
    assert not _scored(mini_rt, {"retrieve_any": ["KB-T9", "KB-T1"]}, "x", []).failures
    assert _scored(mini_rt, {"retrieve_any": ["KB-T9"]}, "x", []).failures
    assert not _scored(mini_rt, {"tool": "none"}, "Hi! I can help with…", []).failures
    assert _scored(mini_rt, {"tool": "none"}, "Hi", ["search_knowledge"]).failures
    # Asking back means no records: this reply cites one, so it did not ask back.
    assert _scored(mini_rt, {"clarify": True}, "Acme or Harbor Lights?", []).failures
    # A question back names the candidates; a refusal quoting an example question is none.
    asking = {"clarify": True, "facts": ["Acme"]}
    assert not _scored(mini_rt, asking, "Acme or Harbor Lights?", ["find_customer"], False).failures
    refusal = 'I did not understand. Try "what happened with Acme last week?"'
    assert _scored(mini_rt, asking, refusal, [], cites=False).failures
    invalid = _scored(mini_rt, {"pipeline": {"group_by": "planet"}}, "x", [])
    assert "invalid" in invalid.failures[0]


@pytest.mark.slow
def test_eval_runs_tuned_and_heldout_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from crmassist.cli import app
    from tests.conftest import DATA

    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "untouched"))
    tuned, held = tmp_path / "tuned.yaml", tmp_path / "held.yaml"
    for path, suite, question in ((tuned, "tuned", "how do I fix error E3?"),
                                  (held, "held", "E3报警怎么处理")):  # fmt: skip
        path.write_text(
            f"suite: {suite}\ntoday: 2026-11-20\ncases:\n"
            f'  - {{id: e3, category: kb, user: U1, ask: "{question}", '
            "expect: {retrieve_any: [KB-T1, KB-T2, KB-T3]}}\n",
            encoding="utf-8",
        )
    # The held-out suite's own bars sit beside it and cannot be met.
    (tmp_path / "thresholds-held.yaml").write_text(
        "languages:\n  zh: {pass_rate: 1.01}\n", encoding="utf-8"
    )
    report = tmp_path / "out" / "both.json"
    args = ["eval", "--dataset", str(tuned), "--dataset", str(held), "--data"]
    args += [str(DATA / "mini_crm"), "--thresholds", "/dev/null", "--report", str(report)]
    reported = CliRunner().invoke(app, [*args, "--report-only"])
    assert reported.exit_code == 0, reported.output
    assert "suites side by side" in reported.output and "held: zh pass_rate" in reported.stderr
    for suite in ("tuned", "held"):
        result = json.loads((tmp_path / "out" / f"both.{suite}.json").read_text(encoding="utf-8"))
        assert result["suite"] == suite and result["summary"]["overall"]["cases"] == 1
    assert "| zh pass_rate |" in report.with_suffix(".md").read_text(encoding="utf-8")
    gated = CliRunner().invoke(app, args)
    assert gated.exit_code == 1 and "below the bar: held: zh pass_rate" in gated.stderr
    assert not (tmp_path / "untouched").exists()
