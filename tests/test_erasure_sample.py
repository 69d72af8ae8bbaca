"""The erasure proof on the sample CRM, through the `crmassist` command as an operator runs
it: import and index knowledge/sample, erase a real contact with notes, and the printed
proof finds none of her values in any table or index chunk (exit 0)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmassist.cli import app
from tests.agent_support import SAMPLE, TODAY

pytestmark = pytest.mark.slow


def test_erasing_a_sample_contact_with_notes_proves_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CRMASSIST_DATABASE_URL", "CRMASSIST_QDRANT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())
    with (SAMPLE / "contacts.csv").open(encoding="utf-8") as handle:
        maria = next(row for row in csv.DictReader(handle) if row["id"] == "C0001")
    notes = [
        n
        for n in map(json.loads, (SAMPLE / "interactions.jsonl").read_text().splitlines())
        if n.get("contact_id") == "C0001"
    ]
    assert len(notes) >= 10 and any(maria["name"] in n["body"] for n in notes)

    imported = CliRunner().invoke(app, ["import", str(SAMPLE)])
    assert imported.exit_code == 0, imported.output
    erased = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C0001", "--yes", "--json"])
    assert erased.exit_code == 0, erased.output
    result = json.loads(erased.stdout)
    assert result["clean"] is True and result["changed"]["interactions"] >= len(notes)
    assert result["chunks_searched"] > 0 and result["reindexed"] > 0
    terms = {line["term"] for line in result["proof"]}
    assert {"name", "email", "phone"} <= terms
    assert all(line["sql"] == [] and line["index"] == [] for line in result["proof"])
    assert not [v for v in (maria["name"], maria["email"], maria["phone"]) if v in erased.stdout]
    again = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C0001", "--yes"])
    assert again.exit_code == 1 and "no contact 'C0001'" in again.output
