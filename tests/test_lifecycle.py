"""Lifecycle stages with history and reasons, on real SQL (SQLite and PostgreSQL); stage
and churn risk agree; recomputed after imports, notes and merges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm import lifecycle
from crmassist.crm.activity import NewInteraction, log_interaction
from crmassist.crm.errors import AccessDenied
from crmassist.crm.health import RiskLevel, churn_risk
from crmassist.db import session_scope
from crmassist.domain.enums import Channel, LifecycleStage, Priority, Role, Stage, TicketStatus
from crmassist.domain.models import (
    Account,
    Interaction,
    LifecycleTransition,
    Opportunity,
    Order,
    Ticket,
    User,
)
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from tests.agent_support import ScriptedModel, call, say, who
from tests.conftest import DATA

TODAY = date(2026, 11, 20)
LATER = date(2027, 3, 15)
ADMIN = Principal("U9", Role.ADMIN)
REP = Principal("U1", Role.REP)


def test_each_stage_and_its_reason_by_hand() -> None:
    monthly = [date(2025, 6, 1) + timedelta(days=30 * k) for k in range(18)]
    judge = lifecycle.judge
    loyal = judge(lifecycle.Facts(monthly, None), None, TODAY)
    assert (loyal.stage, loyal.reason) == (
        LifecycleStage.LOYAL, "12 purchases in the last 12 months, a customer since 2025-06-01"
    )  # fmt: skip
    once = judge(lifecycle.Facts([date(2026, 10, 1)], None), None, TODAY)
    assert (once.stage, once.reason) == (
        LifecycleStage.CUSTOMER, "last purchase 50 days ago (on 2026-10-01)"
    )  # fmt: skip
    deal = judge(lifecycle.Facts([], ("O3", Stage.PROPOSAL)), None, TODAY)
    assert (deal.stage, deal.reason) == (LifecycleStage.OPPORTUNITY, "open deal O3 (proposal)")
    gone = judge(lifecycle.Facts([date(2024, 1, 1), date(2024, 2, 1)], None), None, TODAY)
    assert gone.stage is LifecycleStage.CHURNED
    assert gone.reason == "no purchase for 1023 days (last on 2024-02-01), usually every 31 days"
    assert judge(lifecycle.Facts([], None), None, TODAY).stage is LifecycleStage.LEAD


def _crm(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        session.add(User(id="U1", name="Rep One", email="u1@x.example", role=Role.REP))
        for n in range(1, 7):
            session.add(Account(id=f"A{n}", name=f"Customer {n}", owner_id="U1"))
        session.flush()
        for k in range(18):  # A1 and A6 buy every 30 days
            for aid, start in (("A1", date(2025, 6, 1)), ("A6", date(2025, 6, 5))):
                session.add(Order(id=f"R{aid}{k:02d}", account_id=aid, amount=Decimal(100),
                                  order_date=start + timedelta(days=30 * k), currency="USD",
                                  product="P"))  # fmt: skip
        session.add(Order(id="R2", account_id="A2", order_date=date(2026, 10, 1),
                          amount=Decimal(100), currency="USD", product="P"))  # fmt: skip
        session.add(Opportunity(id="O3", account_id="A3", name="Deal", stage=Stage.PROPOSAL,
                                amount=Decimal(10), currency="USD", probability=40))  # fmt: skip
        for n, day in enumerate((date(2024, 1, 1), date(2024, 2, 1))):
            session.add(Order(id=f"R5{n}", account_id="A5", order_date=day,
                              amount=Decimal(100), currency="USD", product="P"))  # fmt: skip
        # A6: an urgent ticket (+15) and silence for 142 days (+20): churn risk 35, medium
        july = datetime(2026, 7, 1, tzinfo=UTC)
        session.add(Interaction(id="I6", account_id="A6", author_id="U1", channel=Channel.CALL,
                                occurred_at=july, body="Checked in."))  # fmt: skip
        session.add(Ticket(id="T6", account_id="A6", subject="Leak", body="Leak.",
                           status=TicketStatus.OPEN, priority=Priority.URGENT,
                           created_at=datetime(2026, 11, 1, tzinfo=UTC)))  # fmt: skip


def _stages(sessions: sessionmaker[Session]) -> dict[str, LifecycleStage]:
    with sessions() as session:
        return {a.id: a.lifecycle_stage for a in session.query(Account)}


def _agree(sessions: sessionmaker[Session], today: date) -> None:
    """Stage and churn risk never contradict."""
    stages = _stages(sessions)
    with sessions() as session:
        risks = {r.account_id: r for r in churn_risk(session, ADMIN, today)}
    for aid, risk in risks.items():
        if stages[aid] is LifecycleStage.CHURNED:
            assert (risk.score, risk.level) == (100, RiskLevel.HIGH), aid
            assert risk.reasons[0].startswith("churned: no order for")
        elif stages[aid] is LifecycleStage.AT_RISK:
            assert risk.level is not RiskLevel.LOW, aid
        elif stages[aid] in (LifecycleStage.CUSTOMER, LifecycleStage.LOYAL):
            assert risk.level is RiskLevel.LOW, aid


def test_stages_change_with_time_and_keep_their_history(
    session_factory: sessionmaker[Session],
) -> None:
    _crm(session_factory)
    with session_scope(session_factory) as session:
        first = lifecycle.recompute(session, TODAY)
    assert len(first) == 6 and all(t.from_stage is None for t in first)
    assert _stages(session_factory) == {
        "A1": LifecycleStage.LOYAL, "A2": LifecycleStage.CUSTOMER,
        "A3": LifecycleStage.OPPORTUNITY, "A4": LifecycleStage.LEAD,
        "A5": LifecycleStage.CHURNED, "A6": LifecycleStage.AT_RISK,
    }  # fmt: skip
    _agree(session_factory, TODAY)
    with session_scope(session_factory) as session:
        assert lifecycle.recompute(session, TODAY) == []  # nothing changed, nothing stored
    with session_scope(session_factory) as session:
        lifecycle.recompute(session, LATER)
    _agree(session_factory, LATER)
    with session_factory() as session:
        moved = lifecycle.transitions(
            session, ADMIN, LifecycleStage.AT_RISK, date(2027, 3, 1), date(2027, 4, 1)
        )
        a1 = lifecycle.history(session, REP, "A1")
        with pytest.raises(AccessDenied):
            lifecycle.history(session, Principal("U4", Role.SUPPORT), "A1")
    assert "A1" in [m.account_id for m in moved]
    assert [(m.from_stage, m.to_stage, m.on) for m in a1] == [
        (None, LifecycleStage.LOYAL, TODAY),
        (LifecycleStage.LOYAL, LifecycleStage.AT_RISK, LATER),
    ]
    assert a1[1].reason == (
        "no order for 142 days, usually every 30 days; orders fell from 6 to 2 per half-year; "
        "no recorded interaction with any contact (churn risk 60, high)"
    )


def test_a_logged_note_ends_a_silence_and_the_stage_follows(
    session_factory: sessionmaker[Session],
) -> None:
    _crm(session_factory)
    with session_scope(session_factory) as session:
        lifecycle.recompute(session, TODAY)
    note = NewInteraction(account_id="A6", channel=Channel.CALL, summary="Called about T6.")
    with session_scope(session_factory) as session:
        log_interaction(session, REP, note, now=datetime(2026, 11, 20, 12, tzinfo=UTC))
    with session_factory() as session:
        a6 = lifecycle.history(session, REP, "A6")
    assert [(m.from_stage, m.to_stage) for m in a6][-1] == (
        LifecycleStage.AT_RISK, LifecycleStage.LOYAL
    )  # fmt: skip
    _agree(session_factory, TODAY)


def test_imports_record_stages_once(session_factory: sessionmaker[Session]) -> None:
    import_directory(DATA / "mini_crm", session_factory, as_of=TODAY)
    import_directory(DATA / "mini_crm", session_factory, as_of=TODAY)
    with session_factory() as session:
        entries = session.query(LifecycleTransition).count()
        accounts = session.query(Account).count()
    assert entries == accounts  # the first import's entry per account, nothing twice


def test_lifecycle_tool_and_cli(sample_rt: Runtime, tmp_path: object) -> None:
    model = ScriptedModel(script=[call("lifecycle_history", customer="Olympic Peninsula"),
                                  say("ok")])  # fmt: skip
    reply = sample_rt.assistant(model).ask(who(sample_rt, "U001"), "when did it churn?")
    assert [(c.name, c.status) for c in reply.tool_calls] == [("lifecycle_history", "success")]
    moves = json.loads(str(model.seen[1][-1].content))
    assert moves and moves[-1]["account_id"] == "A019" and moves[-1]["reason"]
    later = ScriptedModel(script=[call("lifecycle_history", to_stage="at_risk",
                                       period="this month"), say("ok")])  # fmt: skip
    sample_rt.assistant(later).ask(who(sample_rt, "U003"), "who moved to at-risk this month?")
    assert json.loads(str(later.seen[1][-1].content)) == []  # one import: no moves yet
