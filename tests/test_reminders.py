"""Reminders: due times read in the user's time zone against a pinned clock (English and
Chinese), set through the agent's tool, fired once as a Slack DM through the loopback
Slack, listed and cancelled through the API; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crmassist.access.audit import AuditQuery
from crmassist.access.directory import principal_for
from crmassist.api import create_app
from crmassist.domain.enums import Role
from crmassist.domain.models import Account, Reminder, Team, User
from crmassist.runtime import Runtime
from crmassist.scheduler.reminders import create_reminder, has_time_of_day, read_when
from crmassist.settings import Settings
from crmassist.slack.bot import SlackSender, web_client
from tests.api_support import bearer_keys
from tests.slack_stub import SlackStub, serve

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday, 10:00 in Shanghai


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("call Acme on Tuesday at 9", at(24, 9)),
        ("tomorrow at 3pm", at(21, 15)),
        ("next Tuesday at 9:30", at(24, 9, 30)),
        ("Monday at 3", at(23, 15)),  # a bare 1-6 is the afternoon
        ("at 9", at(21, 9)),  # 09:00 has passed today
        ("at 11am", at(20, 11)),
        ("in 2 hours", at(20, 12)),
        ("in 45 minutes", at(20, 10, 45)),
        ("on Dec 3 at 14:30", at(3, 14, 30, month=12)),
        ("Wednesday", at(25, 9)),  # a day alone: 09:00
        ("tomorrow morning", at(21, 9)),
        ("下周二上午9点", at(24, 9)),
        ("明天下午3点半", at(21, 15, 30)),
        ("周一晚上8点", at(23, 20)),
        ("半小时后", at(20, 10, 30)),
        ("两个小时后", at(20, 12)),
        ("12月1日14:30", at(1, 14, 30, month=12)),
        ("明天中午12点", at(21, 12)),
        ("后天早上七点", at(22, 7)),
    ],
)
def test_due_times_are_read_in_the_users_zone(text: str, due: datetime) -> None:
    assert read_when(text, NOW) == due


def test_text_without_a_time_is_not_a_reminder_time() -> None:
    assert read_when("call Acme", NOW) is None
    assert not has_time_of_day("remind me to call Acme next Tuesday")  # a task, not a ping
    assert has_time_of_day("remind me to call Acme on Tuesday at 9")
    assert has_time_of_day("提醒我明天下午3点给王芳回电话")


@dataclass
class FixedClock:
    at: datetime

    def today(self) -> object:
        return self.at.date()

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def runtime(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path, database_url=db_url, pii_ner=False, default_time_zone="UTC"
    )
    rt = Runtime(settings)
    with rt.sessions.begin() as session:
        session.add(Team(id="T1", name="East"))
        session.flush()
        session.add_all(
            [
                User(id="U1", name="Ann Rep", email="ann@example.test", role=Role.REP,
                     team_id="T1", slack_user_id="USLACKANN", time_zone="Asia/Shanghai"),
                User(id="U2", name="Bo Rep", email="bo@example.test", role=Role.REP, team_id="T1"),
            ]
        )  # fmt: skip
        session.flush()
        session.add(Account(id="A1", name="Acme", owner_id="U1"))
    yield rt
    rt.close()


def test_a_reminder_fires_once_in_slack_at_its_time(runtime: Runtime) -> None:
    created = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with runtime.sessions.begin() as session:
        ann = principal_for(session, "U1")
        reminder = create_reminder(
            session, ann, "Call Acme about 415-555-0199", "Tuesday at 9", "Asia/Shanghai",
            created, account_id="A1",
        )  # fmt: skip
    assert reminder.due_at == at(24, 9)
    with runtime.sessions() as session:
        stored = session.get(Reminder, reminder.id)
        assert stored is not None and stored.due_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    stub = SlackStub()
    with serve(stub) as url:
        sender = SlackSender(web_client("xoxb-test", url))
        clock = FixedClock(datetime(2026, 11, 24, 0, 59, tzinfo=UTC))
        first = runtime.scheduler(sender)
        first._clock = clock
        assert first.tick().reminders == []  # a minute early
        clock.at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
        other = runtime.scheduler(sender)  # a second worker: the lease is taken
        other._clock = clock
        assert not other.tick().leader
        assert first.tick().reminders == [reminder.id]
        assert first.tick().reminders == []
    posts = [a for m, a in stub.calls if m == "chat.postMessage"]
    assert len(posts) == 1 and posts[0]["channel"] == "USLACKANN"
    assert (
        "Call Acme about 415-555-0199" in posts[0]["text"]
        and "Tue 24 Nov 09:00" in posts[0]["text"]
    )
    with runtime.sessions() as session:
        assert session.scalar(sa.select(Reminder.state)) == "sent"
    events, _ = runtime.audit.events(AuditQuery(action="reminder:sent"))
    assert [e.target for e in events] == [f"reminders/{reminder.id}"]


def test_a_reminder_for_someone_without_slack_fails_once_and_is_audited(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        bo = principal_for(session, "U2")
        reminder = create_reminder(
            session, bo, "Chase the PO", "in 1 hour", "UTC", datetime(2026, 11, 20, 9, tzinfo=UTC)
        )
    stub = SlackStub()
    with serve(stub) as url:
        scheduler = runtime.scheduler(SlackSender(web_client("xoxb-test", url)))
        scheduler._clock = FixedClock(datetime(2026, 11, 20, 10, tzinfo=UTC))
        assert scheduler.tick().reminders == []
        assert scheduler.tick().reminders == []
    assert not [a for m, a in stub.calls if m == "chat.postMessage"]
    events, _ = runtime.audit.events(AuditQuery(action="reminder:failed"))
    assert [e.target for e in events] == [f"reminders/{reminder.id}"]


def test_reminders_are_listed_and_cancelled_through_the_api(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        ann = principal_for(session, "U1")
        mine = create_reminder(session, ann, "Call Acme", "in 2 hours", "UTC", datetime.now(UTC))
    keys = bearer_keys(runtime, "U1", "U2")
    with TestClient(create_app(runtime=runtime)) as client:
        listed = client.get("/v1/reminders", headers=keys["U1"]).json()
        assert [r["id"] for r in listed] == [mine.id]
        assert client.get("/v1/reminders", headers=keys["U2"]).json() == []
        assert client.delete(f"/v1/reminders/{mine.id}", headers=keys["U2"]).status_code == 404
        cancelled = client.delete(f"/v1/reminders/{mine.id}", headers=keys["U1"])
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert client.get("/v1/reminders", headers=keys["U1"]).json() == []
        again = client.delete(f"/v1/reminders/{mine.id}", headers=keys["U1"])
        assert again.status_code == 404
        bad = client.put("/v1/me/time-zone", json={"time_zone": "Mars/Olympus"}, headers=keys["U2"])
        assert bad.status_code == 400 and "Mars/Olympus" in bad.text
        ok = client.put("/v1/me/time-zone", json={"time_zone": "Europe/Berlin"}, headers=keys["U2"])
        assert ok.status_code == 200
    with runtime.sessions() as session:
        assert session.scalar(sa.select(User.time_zone).where(User.id == "U2")) == "Europe/Berlin"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("request_text", "tool", "args"),
    [
        ("remind me to call Acme on Tuesday at 9", "set_reminder",
         {"text": "Call Acme", "when": "call Acme on Tuesday at 9"}),
        ("明天下午3点提醒我给王芳回电话", "set_reminder", None),
        ("ping me in 2 hours to send the quote", "set_reminder", None),
        ("remind me to call Acme next Tuesday", "create_task", None),
    ],
)  # fmt: skip
def test_the_offline_planner_sets_reminders_at_a_time(
    tmp_path_factory: pytest.TempPathFactory,
    request_text: str,
    tool: str,
    args: dict[str, str] | None,
) -> None:
    from crmassist.agent.planner.intents import IntentClassifier
    from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder
    from tests.test_planner_understanding import TOOLS, planner, turn

    cache = Path(tmp_path_factory.getbasetemp()) / "intent-cache-shared"
    classifier = IntentClassifier.build(Settings().prompts_dir, E5Encoder(), E5_MODEL, cache, 0.5)
    step = planner(classifier).next_step(turn(request_text), TOOLS | {"set_reminder"})
    assert isinstance(step, tuple)
    name, got = step
    if name == "find_customer":  # the customer is looked up first
        return
    assert name == tool
    if args is not None:
        assert got == args
