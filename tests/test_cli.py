"""The command line as a user meets it: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmassist.cli import app
from tests.conftest import DATA

MINI = DATA / "mini_crm"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMASSIST_QDRANT_URL", raising=False)
    return CliRunner()


def test_help_is_instant_because_nothing_heavy_is_imported() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from crmassist.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = {'torch', 'sentence_transformers', 'presidio_analyzer', 'spacy', 'qdrant_edge'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_arguments_teaches_usage(cli: CliRunner) -> None:
    result = cli.invoke(app, [])
    assert result.exit_code == 2
    for command in ("import", "index", "search", "users", "demo"):
        assert command in result.output


def test_import_of_a_missing_directory_is_one_clear_line(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["import", str(tmp_path / "nope"), "--no-index"])
    assert result.exit_code == 1
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_import_reports_file_and_line_and_writes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(MINI, bad)
    lines = (bad / "opportunities.csv").read_text().splitlines()
    lines[2] = lines[2].replace("proposal", "almost-won")
    (bad / "opportunities.csv").write_text("\n".join(lines) + "\n")
    result = cli.invoke(app, ["import", str(bad), "--no-index"])
    assert result.exit_code == 1
    assert "opportunities.csv:3:" in result.stderr
    assert "nothing was imported" in result.stderr
    listed = cli.invoke(app, ["users", "list", "--json"])
    assert json.loads(listed.stdout) == []


def test_search_before_indexing_says_what_to_do(cli: CliRunner) -> None:
    assert cli.invoke(app, ["import", str(MINI), "--no-index"]).exit_code == 0
    result = cli.invoke(app, ["search", "leak", "--as", "U1"])
    assert result.exit_code == 1
    assert "crmassist index" in result.stderr


@pytest.mark.slow
def test_import_index_search_round_trip(cli: CliRunner) -> None:
    imported = cli.invoke(app, ["import", str(MINI)])
    assert imported.exit_code == 0, imported.output
    assert "Indexed" in imported.stdout

    result = cli.invoke(app, ["search", "E3 high TDS", "--as", "U1", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["record_id"] in {"KB-T1", "T2"}
    assert {"source_type", "record_id", "title", "snippet", "score"} <= set(hits[0])

    again = cli.invoke(app, ["index"])
    assert "Indexed 0 records" in again.stdout

    unknown = cli.invoke(app, ["search", "leak", "--as", "ghost"])
    assert unknown.exit_code == 1
    assert "unknown user 'ghost'" in unknown.stderr

    denied = cli.invoke(app, ["search", "leak", "--as", "U4", "--source", "interactions"])
    assert denied.exit_code == 1
    assert "may not search interactions" in denied.stderr

    bad_source = cli.invoke(app, ["search", "leak", "--as", "U4", "--source", "deals"])
    assert bad_source.exit_code == 2


def test_users_list(cli: CliRunner) -> None:
    cli.invoke(app, ["import", str(MINI), "--no-index"])
    result = cli.invoke(app, ["users", "list", "--json"])
    users = {u["id"]: u for u in json.loads(result.stdout)}
    assert users["U4"]["role"] == "support"
    assert users["U6"]["name"] == "陈静"


@pytest.mark.slow
def test_ask_json_and_a_chat_with_a_follow_up(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_TODAY", "2026-11-20")
    assert cli.invoke(app, ["import", str(MINI)]).exit_code == 0
    asked = cli.invoke(app, ["ask", "how do I fix error E3?", "--as", "U1", "--json"])
    assert asked.exit_code == 0, asked.output
    reply = json.loads(asked.stdout)
    assert {"conversation_id", "answer", "citations", "tool_calls"} <= set(reply)
    assert reply["citations"][0]["record_id"] == "KB-T1"
    assert reply["tool_calls"][0]["name"] == "search_knowledge"

    chat = cli.invoke(
        app,
        ["chat", "--as", "U6"],
        input="介绍一下杭州西湖国际酒店\nand their open tickets?\n\n",
    )
    assert chat.exit_code == 0, chat.output
    assert "[A3]" in chat.stdout and "没有未关闭的工单" in chat.stdout
    assert "No open tickets" in chat.stdout  # the follow-up resolved to the same hotel
    assert "conversation" in chat.stdout


def test_ask_as_an_unknown_user_is_one_line(cli: CliRunner) -> None:
    cli.invoke(app, ["import", str(MINI), "--no-index"])
    result = cli.invoke(app, ["ask", "hello", "--as", "ghost"])
    assert result.exit_code == 1 and "unknown user 'ghost'" in result.stderr


@pytest.mark.slow
def test_an_unsure_reading_is_offered_as_numbered_options_and_a_number_picks_one(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a confidence bar nothing reaches, a request no record settles is asked back; in
    `chat` the option's number runs that reading."""
    monkeypatch.setenv("CRMASSIST_INTENT_CONFIDENCE", "1.0")
    assert cli.invoke(app, ["import", str(MINI)]).exit_code == 0
    asked = cli.invoke(app, ["ask", "pipeline by stage", "--as", "U1"])
    assert asked.exit_code == 0, asked.output
    assert "Did you mean" in asked.stdout and "  1. pipeline numbers" in asked.stdout
    assert "| stage |" not in asked.stdout  # asked back, not answered

    chat = cli.invoke(app, ["chat", "--as", "U1"], input="pipeline by stage\n1\n\n")
    assert chat.exit_code == 0, chat.output
    assert "  1. pipeline numbers" in chat.stdout
    assert "| stage |" in chat.stdout  # the picked reading was answered


def test_search_discloses_by_role_like_the_api(cli: CliRunner) -> None:
    """A rep sees the contact's name and phone, support a masked phone; nobody a token."""
    assert cli.invoke(app, ["import", str(MINI)]).exit_code == 0
    query = ["search", "pressure drop FlowGuard skid plant 2", "--json", "-k", "1"]
    rep = json.loads(cli.invoke(app, [*query, "--as", "U1"]).stdout)[0]
    support = cli.invoke(app, [*query, "--as", "U4", "--source", "tickets"])
    assert "Maria Gonzalez" in rep["text"] and "+1 415 555 0134" in rep["text"]
    assert "<PERSON_" not in rep["text"] + rep["snippet"] and "<PHONE_" not in rep["text"]
    assert "+1 415 555 0134" not in support.stdout and "<PHONE_" not in support.stdout
