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
