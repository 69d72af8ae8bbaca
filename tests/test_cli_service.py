"""The CLI beside a running service: it finds the service through `<data_dir>/service.json`
and asks it, instead of dying on the embedded index the service holds.

A real `crmassist serve` runs as its own OS process on the indexed mini CRM; the CLI runs
as further OS processes, as a user would start them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist import discovery
from crmassist.api import create_app
from crmassist.cli import app as cli_app
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.api_support import bearer_keys
from tests.conftest import DATA

MINI = DATA / "mini_crm"
CRMASSIST = Path(sys.executable).parent / "crmassist"


@pytest.fixture(autouse=True)
def _embedded_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMASSIST_DATABASE_URL", "CRMASSIST_QDRANT_URL", "CRMASSIST_QDRANT_PATH"):
        monkeypatch.delenv(name, raising=False)


# -- the discovery file --------------------------------------------------------------------


def test_the_discovery_file_is_private_and_withdrawn_only_by_its_service(tmp_path: Path) -> None:
    info = discovery.publish(tmp_path, "http://127.0.0.1:1", "secret-a")
    path = discovery.path_for(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert discovery.discover(tmp_path) == info
    discovery.withdraw(tmp_path, "secret-b")  # another service's token: not its file
    assert path.exists()
    discovery.withdraw(tmp_path, "secret-a")
    assert not path.exists()
    assert discovery.discover(tmp_path) is None


def test_a_file_left_by_a_dead_service_is_stale_and_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = discovery.path_for(tmp_path)
    record = {"url": "http://127.0.0.1:1", "pid": gone.pid, "token": "t", "started_at": "x"}
    path.write_text(json.dumps(record))
    assert discovery.discover(tmp_path) is None
    assert not path.exists()
    path.write_text("{not json")  # unreadable: ignored, never a traceback
    assert discovery.discover(tmp_path) is None


# -- the local credential ------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini CRM imported and indexed once, through the CLI."""
    data = tmp_path_factory.mktemp("template") / "data"
    result = CliRunner().invoke(cli_app, ["--data-dir", str(data), "import", str(MINI)])
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(template, copy)
    return copy


def test_the_local_credential_acts_as_the_named_user_and_nothing_else(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data))
    try:
        app = create_app(runtime=rt)
        app.state.local_token = "local-secret"
        with TestClient(app) as client:
            local = {"Authorization": "Bearer local-secret"}
            me = client.get("/v1/me", headers={**local, "X-Crmassist-User": "U3"})
            assert me.status_code == 200 and me.json()["user_id"] == "U3"
            nobody = client.get("/v1/me", headers=local)
            assert nobody.status_code == 401 and "X-Crmassist-User" in nobody.json()["detail"]
            unknown = client.get("/v1/me", headers={**local, "X-Crmassist-User": "U999"})
            assert unknown.status_code == 401 and "unknown user" in unknown.json()["detail"]
            wrong = {"Authorization": "Bearer local-secreT", "X-Crmassist-User": "U3"}
            assert client.get("/v1/me", headers=wrong).status_code == 401
            # The header means nothing with an API key: a rep cannot become someone else.
            rep = bearer_keys(rt, "U1")["U1"]
            as_rep = client.get("/v1/me", headers={**rep, "X-Crmassist-User": "U3"})
            assert as_rep.json()["user_id"] == "U1"
    finally:
        rt.close()


def test_without_a_service_there_is_no_local_credential(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data))
    try:
        with TestClient(create_app(runtime=rt)) as client:
            response = client.get(
                "/v1/me", headers={"Authorization": "Bearer None", "X-Crmassist-User": "U3"}
            )
            assert response.status_code == 401
    finally:
        rt.close()


# -- the CLI through a running service -----------------------------------------------------


def run_cli(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(data)}
    return subprocess.run(
        [str(CRMASSIST), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180
    )


@pytest.fixture
def service(data: Path) -> Iterator[discovery.ServiceInfo]:
    """`crmassist serve --port 0` on `data`, until it has published where it listens."""
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [str(CRMASSIST), "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while (info := discovery.discover(data)) is None:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the service never published service.json"
            time.sleep(0.2)
        assert info.pid == proc.pid
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)


@pytest.mark.slow
def test_the_cli_answers_through_the_service_that_holds_the_index(
    data: Path, service: discovery.ServiceInfo
) -> None:
    asked = run_cli(data, "ask", "what are the open tickets of Acme?", "--as", "U1", "--json")
    assert asked.returncode == 0, asked.stderr
    reply = json.loads(asked.stdout)
    assert reply["answer"] and reply["conversation_id"]
    follow = run_cli(
        data, "ask", "and their contacts?", "--as", "U1", "-c", reply["conversation_id"]
    )
    assert follow.returncode == 0 and reply["conversation_id"] in follow.stdout, follow.stderr

    searched = run_cli(data, "search", "pressure drop", "--as", "U1", "--json", "-k", "3")
    assert searched.returncode == 0, searched.stderr
    hits = json.loads(searched.stdout)
    assert hits and all({"record_id", "source_type", "title", "snippet"} <= set(h) for h in hits)
    table = run_cli(data, "search", "pressure drop", "--as", "U1")
    assert "as U1 (rep)" in table.stdout, table.stderr

    chatted = run_cli(data, "chat", "--as", "U1", stdin="open tickets of Acme?\n\n")
    assert chatted.returncode == 0, chatted.stderr
    assert "chatting as U1 (rep)" in chatted.stdout and "conversation " in chatted.stdout


@pytest.mark.slow
def test_beside_the_service_errors_are_one_line_and_index_writers_refuse(
    data: Path, service: discovery.ServiceInfo
) -> None:
    unknown = run_cli(data, "ask", "hello", "--as", "U999")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "error: unknown user 'U999' (see `crmassist users list`)"
    ]
    for args in (["index"], ["import", str(MINI)], ["serve", "--port", "0"]):
        refused = run_cli(data, *args)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 1 and len(lines) == 1, (args, refused.stderr)
        assert service.url in lines[0] and "stop it first" in lines[0], lines
    assert run_cli(data, "users", "list", "--json").returncode == 0  # SQL only: still local


@pytest.mark.slow
def test_once_the_service_stops_the_cli_works_alone_again(data: Path) -> None:
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(data)}
    proc = subprocess.Popen([str(CRMASSIST), "serve", "--port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 180
    while discovery.discover(data) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) in (0, 130, -signal.SIGINT)  # uvicorn re-raises SIGINT
    assert not discovery.path_for(data).exists()  # withdrawn on shutdown
    alone = run_cli(data, "search", "pressure drop", "--as", "U1", "--json")
    assert alone.returncode == 0 and json.loads(alone.stdout), alone.stderr
