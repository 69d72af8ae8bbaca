"""One clock: with CRMASSIST_TODAY pinned, a note logged through chat, the API and the CLI is
dated on the pinned day, and "this week" finds it (real SQLite, real index)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist.access.keys import issue_key
from crmassist.api import create_app
from crmassist.cli import app
from crmassist.db import session_scope
from crmassist.domain.clock import PinnedClock, SystemClock, clock_for
from crmassist.domain.models import Interaction
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import who
from tests.conftest import DATA

MINI = DATA / "mini_crm"
PINNED = date(2026, 11, 20)  # a Friday; "this week" is 16-22 November
THIS_WEEK = "what happened with Acme this week?"


def test_a_pinned_clock_keeps_the_time_of_day_on_the_pinned_date() -> None:
    clock = PinnedClock(PINNED)
    before = datetime.now(UTC)
    now = clock.now()
    assert clock.today() == PINNED and now.date() == PINNED and now.tzinfo is not None
    wall = datetime.combine(before.date(), now.timetz())
    assert timedelta(0) <= wall - before < timedelta(seconds=5)
    assert clock.now() >= now  # notes logged one after another keep their order


def test_the_settings_choose_the_clock() -> None:
    assert clock_for(PINNED) == PinnedClock(PINNED)
    assert clock_for(None).today() == datetime.now(UTC).date()
    assert isinstance(Runtime(Settings(today=None)).clock, SystemClock)
    assert Runtime(Settings(today=PINNED)).clock.today() == PINNED


@pytest.fixture(scope="module")
def pinned_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime(Settings(data_dir=tmp_path_factory.mktemp("clock"), today=PINNED))
    import_directory(MINI, rt.sessions, as_of=rt.clock.today())
    rt.indexer().sync()
    yield rt
    rt.close()


def _note_day(rt: Runtime, note_id: str) -> date:
    with rt.sessions() as session:
        note = session.get(Interaction, note_id)
        assert note is not None
        return note.occurred_at.date()


def _cited(rt: Runtime, question: str) -> set[str]:
    reply = rt.assistant().ask(who(rt, "U1"), question)
    return {c.record_id for c in reply.citations}


@pytest.mark.slow
def test_a_note_logged_in_chat_is_dated_on_the_pinned_day(pinned_rt: Runtime) -> None:
    reply = pinned_rt.assistant().ask(
        who(pinned_rt, "U1"), "log a call with Acme: they asked about the descaler kit"
    )
    [call] = [c for c in reply.tool_calls if c.name == "log_interaction"]
    assert call.status == "success"
    with pinned_rt.sessions() as session:
        note_id = session.scalar(
            sa.select(Interaction.id).where(Interaction.body.contains("descaler kit"))
        )
    assert note_id is not None and _note_day(pinned_rt, note_id) == PINNED
    assert note_id in _cited(pinned_rt, THIS_WEEK)


@pytest.mark.slow
def test_a_note_logged_through_the_api_is_dated_on_the_pinned_day(pinned_rt: Runtime) -> None:
    with session_scope(pinned_rt.sessions) as session:
        key = issue_key(session, "U1", "clock").key
    with TestClient(create_app(runtime=pinned_rt)) as client:
        posted = client.post(
            "/v1/interactions",
            json={"account_id": "A1", "summary": "Walked them through the filter subscription."},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert posted.status_code == 201, posted.text
    note_id = posted.json()["interaction_id"]
    assert _note_day(pinned_rt, note_id) == PINNED
    assert note_id in _cited(pinned_rt, THIS_WEEK)


@pytest.mark.slow
def test_a_note_logged_from_the_cli_is_dated_on_the_pinned_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_TODAY", PINNED.isoformat())
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMASSIST_QDRANT_URL", raising=False)
    cli = CliRunner()
    assert cli.invoke(app, ["import", str(MINI)]).exit_code == 0
    logged = cli.invoke(
        app, ["ask", "log a call with Acme: they want a loaner unit", "--as", "U1", "--json"]
    )
    assert logged.exit_code == 0, logged.output
    note_id = json.loads(logged.stdout)["citations"][0]["record_id"]
    asked = cli.invoke(app, ["ask", THIS_WEEK, "--as", "U1", "--json"])
    assert asked.exit_code == 0, asked.output
    assert note_id in {c["record_id"] for c in json.loads(asked.stdout)["citations"]}
    rt = Runtime(Settings(data_dir=tmp_path / "data"))
    try:
        assert _note_day(rt, note_id) == PINNED
    finally:
        rt.close()
