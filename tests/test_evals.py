"""The eval suite's scoring and runner: metrics by hand, then a small dataset end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmassist.evals import metrics
from crmassist.evals.dataset import DatasetError, load_dataset
from crmassist.evals.runner import below_thresholds, run_dataset
from crmassist.runtime import Runtime


def test_ranking_metrics() -> None:
    assert metrics.recall_at(["a", "b"], ["x", "a", "y", "z", "w", "b"], k=5) == 0.5
    assert metrics.reciprocal_rank(["b"], ["a", "b"]) == 0.5
    assert metrics.ndcg_at(["a"], ["a", "b"]) == 1.0
    assert 0 < metrics.ndcg_at(["b"], ["a", "b"]) < 1


def test_numbers_ignore_dates_ids_and_pseudonyms() -> None:
    text = "On 2026-11-17 [I90001] <PHONE_1a2b> agreed 76,000 USD at 8% for 2 skids"
    assert metrics.numbers(text) == [76000.0, 8.0, 2.0]
    assert metrics.has_number("total 1,234.56", 1234.5)
    assert metrics.grounded_share("76,000 and 5", '{"amount": 76000.0}') == 0.5
    assert (
        metrics.outside("call +1 206 555 0142 about 3 units", [(5, 20)]) == "call   about 3 units"
    )
    # Tool results are JSON: numbers inside its arrays count as sources.
    tool_json = '[{"id": "O0001", "amount": "76000.00", "items": [3, 4]}]'
    assert metrics.grounded_share("76,000 USD for 3 units [O0001]", tool_json) == 1.0


def test_thresholds_are_minimums_except_leaks() -> None:
    summary = {"overall": {"recall_at_5": 0.9, "pii_leaks": 1, "tool_accuracy": 1.0}}
    bars = {"recall_at_5": 0.95, "pii_leaks": 0, "tool_accuracy": 0.95, "correctness": 0.9}
    assert below_thresholds(summary, bars) == [
        "recall_at_5 = 0.9 (bar 0.95)",
        "pii_leaks = 1 (bar 0)",
    ]


@pytest.mark.slow
def test_a_small_suite_end_to_end(sample_rt: Runtime, tmp_path: Path) -> None:
    dataset = tmp_path / "small.yaml"
    dataset.write_text(
        """
suite: small
cases:
  - {id: kb, category: kb, user: U001, ask: "how do I fix error E3?", expect: {retrieve: [KB-0003], tool: search_knowledge}}
  - {id: pipe, category: pipeline, user: U003, ask: "pipeline by stage", expect: {pipeline: {group_by: stage}}}
  - {id: perm, category: permission, user: U004, ask: "prepare me for my meeting with Acme", expect: {forbid_records: [A001]}}
  - {id: wrong, category: kb, user: U001, ask: "how do I fix error E3?", expect: {facts: ["a fact that is not there"]}}
  - {generate: invisible_accounts, user: U001, limit: 2}
""",  # noqa: E501
        encoding="utf-8",
    )
    with sample_rt.sessions() as session:
        cases = load_dataset(dataset, session)
    assert len(cases.cases) == 6
    result = run_dataset(sample_rt, cases)
    passed = {c["id"]: c["passed"] for c in result["cases"]}
    assert passed["kb"] and passed["pipe"] and passed["perm"] and not passed["wrong"]
    overall = result["summary"]["overall"]
    assert overall["recall_at_5"] == 1.0 and overall["pii_leaks"] == 0
    assert overall["unauthorized_disclosures"] == 0
    assert result["summary"]["categories"]["kb"]["cases"] == 2


def test_a_broken_dataset_is_a_clear_error(sample_rt: Runtime, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases:\n  - {id: x}\n", encoding="utf-8")
    with sample_rt.sessions() as session, pytest.raises(DatasetError, match="needs id, user"):
        load_dataset(broken, session)


@pytest.mark.parametrize(
    ("verdict", "score", "unsupported"),
    [
        ('{"supported": true, "unsupported": []}', 1.0, []),
        ('Sure! {"supported": false, "unsupported": ["a 20% discount"]}', 0.0, ["a 20% discount"]),
    ],
)
def test_the_llm_judge_reads_its_verdict(
    verdict: str, score: float, unsupported: list[str]
) -> None:
    from crmassist.evals.judge import Judge
    from crmassist.settings import Settings
    from tests.agent_support import ScriptedModel, say

    model = ScriptedModel(script=[say(verdict)])
    judge = Judge(model, Settings().prompts_dir)
    assert judge.groundedness("O0001: 76,000 USD", "The deal is 76,000 USD.") == (
        score,
        unsupported,
    )
    sent = str(model.seen[0][-1].content)
    assert "O0001: 76,000 USD" in sent and "The deal is 76,000 USD." in sent


def test_an_unreadable_verdict_counts_as_unsupported() -> None:
    from crmassist.evals.judge import Judge
    from crmassist.settings import Settings
    from tests.agent_support import ScriptedModel, say

    judge = Judge(ScriptedModel(script=[say("I think it is fine")]), Settings().prompts_dir)
    score, why = judge.groundedness("s", "a")
    assert score == 0.0 and why[0].startswith("unreadable verdict")


@pytest.mark.slow
def test_the_eval_command_on_other_data_writes_reports_and_fails_below_the_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from crmassist.cli import app
    from tests.conftest import DATA

    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "untouched"))
    cases = tmp_path / "mini.yaml"
    cases.write_text(
        """
today: 2026-11-20
cases:
  - {id: e3, category: kb, user: U1, ask: "how do I fix error E3?", expect: {retrieve: [KB-T1]}}
  - {id: hidden, category: permission, user: U2, ask: "prepare me for my meeting with Acme", expect: {forbid_records: [A1]}}
  - {generate: invisible_accounts, user: U1}
""",  # noqa: E501
        encoding="utf-8",
    )
    report = tmp_path / "out" / "mini.json"
    ok = CliRunner().invoke(
        app,
        [
            "eval",
            "--dataset",
            str(cases),
            "--data",
            str(DATA / "mini_crm"),
            "--report",
            str(report),
        ],
    )
    assert ok.exit_code == 0, ok.output
    result = json.loads(report.read_text(encoding="utf-8"))
    assert (
        result["summary"]["overall"]["cases"] == 4 and result["summary"]["overall"]["passed"] == 4
    )
    assert "# Eval report" in report.with_suffix(".md").read_text(encoding="utf-8")
    same = CliRunner().invoke(app, ["eval", "--compare", str(report), str(report)])
    assert same.exit_code == 0 and "comparison" in same.output
    notes = report.with_suffix(".md")
    wrong = CliRunner().invoke(app, ["eval", "--compare", str(report), str(notes)])
    assert wrong.exit_code == 1 and "not JSON" in wrong.stderr and "Traceback" not in wrong.output
    strict = tmp_path / "strict.yaml"
    strict.write_text("recall_at_5: 1.01\n", encoding="utf-8")
    failed = CliRunner().invoke(
        app,
        [
            "eval",
            "--dataset",
            str(cases),
            "--data",
            str(DATA / "mini_crm"),
            "--thresholds",
            str(strict),
        ],
    )
    assert failed.exit_code == 1 and "below the bar" in failed.stderr
    assert not (tmp_path / "untouched").exists()  # evals never touch the user's data dir
