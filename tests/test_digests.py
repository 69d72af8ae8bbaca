"""Morning digests on a generated CRM (tests/ownership_data.py): each role's lists equal
the access matrix read plainly (hand-computed from the generator's tuples), churn risk
that rose since the last digest, the user's time zone and hour, PII as the role may see
it, one sender among two schedulers (the lease), and no digest twice across a restart
that crashes mid-run; on SQLite and PostgreSQL."""

from __future__ import annotations

import time as wall
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.audit import AuditQuery
from crmassist.access.directory import principal_for
from crmassist.domain.enums import Priority, TaskStatus, TicketStatus
from crmassist.domain.models import AuditEvent, DigestSend, SchedulerLease, Task, Ticket, User
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.scheduler.digests import Digest, DigestKind, build_digest, kind_for
from crmassist.scheduler.service import Recipient
from crmassist.settings import Settings
from crmassist.slack.bot import SlackSender, web_client
from tests import ownership_data as gen
from tests.conftest import BACKENDS, fresh_database
from tests.slack_stub import SlackStub, serve

DAY = date(2026, 12, 5)  # every generated deal closes on 2026-12-01: open ones have slipped
MORNING = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
PHONE = "415-555-0199"


def due_of(task_id: str) -> date:
    """Due today, overdue or later, by the task's number."""
    n = int(task_id[1:])
    return [DAY, date(2026, 12, 1), date(2026, 12, 20)][n % 3]


@pytest.fixture(scope="module", params=BACKENDS)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, gen.Crm]]:
    tmp = tmp_path_factory.mktemp("digests")
    crm = gen.generate()
    with fresh_database(request.param, request, tmp) as url:
        rt = Runtime(Settings(data_dir=tmp, database_url=url, pii_ner=False, digest_hour=8))
        import_directory(gen.write_export(crm, tmp / "export"), rt.sessions, as_of=DAY)
        with rt.sessions.begin() as session:
            session.add_all(
                Task(id=k, owner_id=o, account_id=a, title=f"Call back {k}", due_date=due_of(k),
                     status=TaskStatus.OPEN, created_at=datetime(2026, 6, 1, tzinfo=UTC))
                for k, (a, o) in crm.tasks.items()
            )  # fmt: skip
            session.add(
                Task(id="KPII", owner_id="S1", title=f"Ring the caller back on {PHONE}",
                     due_date=DAY, status=TaskStatus.OPEN, created_at=MORNING)
            )  # fmt: skip
            for user in session.scalars(sa.select(User)):
                user.slack_user_id = f"SL{user.id}"
        yield rt, crm
        rt.close()


@pytest.fixture
def rt(generated: tuple[Runtime, gen.Crm]) -> Iterator[Runtime]:
    runtime = generated[0]
    yield runtime
    with runtime.sessions.begin() as session:  # each test starts without sends
        session.execute(sa.delete(DigestSend))
        session.execute(sa.delete(SchedulerLease))
        session.execute(sa.delete(AuditEvent))
        session.execute(sa.delete(Ticket).where(Ticket.id.like("TX%")))


def expected(crm: gen.Crm, user: str) -> dict[str, set[str]]:
    """The digest's lists, read plainly: what the user (a manager: their teams) owns."""
    role = next(r for u, r, _ in gen.USERS if u == user)
    who = gen.owners(user)
    lists = {"Tasks due": {k for k, (_, o) in crm.tasks.items() if o in who and due_of(k) <= DAY}}
    if user == "S1":
        lists["Tasks due"].add("KPII")
    if role.value != "support":
        open_ = set(gen.OPEN_STAGES)
        lists["Deals past their close date"] = {
            d for d, (_, o, s) in crm.deals.items() if o in who and s in open_
        }
        lists["Churn risk rose"] = set()
    lists["Tickets waiting on you"] = {t for t, (_, a) in crm.tickets.items() if a in who}
    return lists


def digest_of(rt: Runtime, user: str, baseline: dict[str, str] | None = None) -> Digest:
    with rt.sessions() as session:
        principal = principal_for(session, user)
        kind = kind_for(principal.role)
        assert kind is not None
        return build_digest(session, principal, kind, DAY, baseline)


@pytest.mark.parametrize("user", ["E1", "W2", "I1", "ME", "MW", "V1", "MX", "S1"])
def test_each_roles_digest_is_the_matrix_read_plainly(
    generated: tuple[Runtime, gen.Crm], user: str
) -> None:
    rt, crm = generated
    digest = digest_of(rt, user)
    got = {s.title: {line.record_id for line in s.lines} for s in digest.sections}
    want = expected(crm, user)
    assert got == {
        title: set(sorted(ids)[:20]) if len(ids) > 20 else ids for title, ids in want.items()
    }
    assert {s.title: s.total for s in digest.sections} == {t: len(i) for t, i in want.items()}
    assert digest.kind is (DigestKind.TEAM if user[0] in "MV" else DigestKind.PERSONAL)
    assert any(want.values()), "the generated data should give everyone something"


def test_admins_get_no_digest() -> None:
    from crmassist.domain.enums import Role

    assert kind_for(Role.ADMIN) is None


def test_churn_risk_that_rose_since_the_last_digest(generated: tuple[Runtime, gen.Crm]) -> None:
    rt, _ = generated
    first = digest_of(rt, "E1")
    account = next(a for a, level in sorted(first.snapshot.items()) if level == "medium")
    with rt.sessions.begin() as session:  # two urgent tickets: +30 points, medium -> high
        for n in (1, 2):
            session.add(
                Ticket(id=f"TX{n}", account_id=account, subject="Outage", body="Down.",
                       status=TicketStatus.OPEN, priority=Priority.URGENT, created_at=MORNING)
            )  # fmt: skip
    again = digest_of(rt, "E1", baseline=first.snapshot)
    rose = next(s for s in again.sections if s.title == "Churn risk rose")
    assert [line.record_id for line in rose.lines] == [account]
    assert "medium → high" in rose.lines[0].text and "2 urgent" in rose.lines[0].text
    assert not next(s for s in digest_of(rt, "E1").sections if s.title == "Churn risk rose").lines


@dataclass
class Clock:
    at: datetime

    def today(self) -> date:
        return self.at.date()

    def now(self) -> datetime:
        return self.at


class Killed(BaseException):
    """The process dies: after Slack took the message, before the send is recorded."""


class DyingSender:
    def __init__(self, real: SlackSender, after: int) -> None:
        self.real, self.left = real, after

    def send(self, to: Recipient, text: str) -> str:
        message = self.real.send(to, text)
        self.left -= 1
        if self.left == 0:
            raise Killed
        return message


def posts(stub: SlackStub) -> list[str]:
    return [a["channel"] for m, a in stub.calls if m == "chat.postMessage"]


def test_a_restart_mid_run_sends_no_digest_twice(rt: Runtime) -> None:
    stub = SlackStub()
    with serve(stub) as url:
        slack = SlackSender(web_client("xoxb-test", url))
        first = rt.scheduler(DyingSender(slack, after=3))
        first._clock = Clock(MORNING)
        with pytest.raises(Killed):
            first.tick()
        assert len(posts(stub)) == 3
        later = datetime.now(UTC) + timedelta(seconds=rt.settings.scheduler_lease_seconds + 1)
        second = rt.scheduler(slack)  # the restarted process: the dead one's lease expires
        second._clock = Clock(MORNING)
        second.lease._now = lambda: later
        report = second.tick()
        assert report.leader and report.digests
        assert second.tick().digests == []
    sent = posts(stub)
    assert len(sent) == len(set(sent)), "a digest was sent twice"
    with rt.sessions() as session:
        states = {
            u: st for u, st in session.execute(sa.select(DigestSend.user_id, DigestSend.state))
        }
    assert sorted(s for s in states.values() if s == "sending") == ["sending"]  # the crash's
    sellers = {u for u, r, _ in gen.USERS if r.value != "admin"}
    assert set(states) == sellers
    assert {f"SL{u}" for u, s in states.items() if s == "sent"} | {
        f"SL{u}" for u, s in states.items() if s == "sending"
    } == set(sent)
    events, _ = rt.audit.events(AuditQuery(action="digest:sent", limit=100))
    assert len(events) == len(sent) - 1  # the crashed send was never recorded


def test_two_schedulers_running_one_sends_and_pii_follows_the_role(rt: Runtime) -> None:
    stub = SlackStub()
    fast = rt.settings.model_copy(update={"scheduler_tick_seconds": 0.2})
    with serve(stub) as url:
        slack = SlackSender(web_client("xoxb-test", url))
        workers = []
        for _ in range(2):
            worker = rt.scheduler(slack)
            worker.settings = fast
            worker._clock = Clock(MORNING)
            workers.append(worker)
        for worker in workers:
            worker.start()
        deadline = wall.monotonic() + 60
        sellers = sum(1 for _, r, _ in gen.USERS if r.value != "admin")
        while wall.monotonic() < deadline and _done(rt.sessions) < sellers:
            wall.sleep(0.2)
        wall.sleep(1.0)  # more ticks of both: still nothing twice
        for worker in workers:
            worker.stop()
    sent = posts(stub)
    assert len(sent) == len(set(sent)) == sellers - _empty(rt.sessions)
    events, _ = rt.audit.events(AuditQuery(action="digest:sent", limit=100))
    assert len(events) == len(sent)
    texts = {a["channel"]: a["text"] for m, a in stub.calls if m == "chat.postMessage"}
    assert PHONE not in texts["SLS1"] and "Ring the caller back" in texts["SLS1"]  # support: masked
    assert "[KPII]" not in texts.get("SLE1", "")


def test_the_digest_waits_for_the_hour_in_the_users_zone(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        session.execute(sa.update(User).where(User.id == "E1").values(time_zone="Asia/Shanghai"))
    stub = SlackStub()
    try:
        with serve(stub) as url:
            scheduler = rt.scheduler(SlackSender(web_client("xoxb-test", url)))
            scheduler._clock = Clock(datetime(2026, 12, 5, 0, 30, tzinfo=UTC))  # 08:30 there
            assert scheduler.tick().digests == ["E1/2026-12-05/personal"]
            scheduler._clock = Clock(datetime(2026, 12, 5, 7, 59, tzinfo=UTC))
            assert scheduler.tick().digests == []
    finally:
        with rt.sessions.begin() as session:
            session.execute(sa.update(User).where(User.id == "E1").values(time_zone=None))
    assert posts(stub) == ["SLE1"]


def _done(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(DigestSend)
                .where(DigestSend.state != "sending")
            )
            or 0
        )


def _empty(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(DigestSend)
                .where(DigestSend.state == "empty")
            )
            or 0
        )
