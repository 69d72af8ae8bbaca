"""Customer lifetime value: the models against published figures and simulation, the CRM's
value on real SQL (SQLite and PostgreSQL), and the assistant's tool."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm.errors import AccessDenied
from crmassist.crm.value import BgNbd, GammaGamma, customer_values
from crmassist.db import session_scope
from crmassist.domain.enums import Role, Stage
from crmassist.domain.models import Account, AuditEvent, Opportunity, Order, User
from crmassist.runtime import Runtime
from tests.agent_support import ScriptedModel, call, say, who
from tests.conftest import DATA

TODAY = date(2026, 11, 20)
ADMIN = Principal("U9", Role.ADMIN, "ops")


def _cdnow() -> tuple[np.ndarray, ...]:
    """CDNOW's first-purchase cohort (2,357 customers, 39 weeks), as shipped by lifetimes."""
    with (DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv").open() as f:
        rows = list(csv.DictReader(f))
    return tuple(np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar"))


def test_bg_nbd_reproduces_the_published_cdnow_fit() -> None:
    """Fader, Hardie & Lee (2005), table 1: r=0.243, α=4.414, a=0.793, b=2.426, LL -9582.4."""
    x, t_x, T, _ = _cdnow()
    model = BgNbd.fit(x, t_x, T)
    assert (model.r, model.alpha, model.a, model.b) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=0.001
    )
    params = np.array([model.r, model.alpha, model.a, model.b])
    assert BgNbd.log_likelihood(params, x, t_x, T).sum() == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_fit() -> None:
    """Fader, Hardie & Lee (2005, "RFM and CLV"; Hardie's note 025): p=6.25, q=3.74, γ=15.44."""
    x, _, _, zbar = _cdnow()
    repeat = x > 0
    model = GammaGamma.fit(x[repeat], zbar[repeat])
    assert (model.p, model.q, model.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)


def test_conditional_formulas_by_hand() -> None:
    model = BgNbd(r=1.0, alpha=1.0, a=2.0, b=3.0)
    # odds of having dropped out: a/(b+x-1) * ((α+T)/(α+t_x))^(r+x) = 2/4 * (8/4)^3 = 4
    assert model.p_alive(x=2, t_x=3, T=7) == pytest.approx(0.2)
    assert model.p_alive(x=0, t_x=0, T=7) == 1.0  # no purchase yet, nothing to drop out after
    # (γ + m·x)·p / (p·x + q − 1) = (15 + 40)·6 / (12 + 3) = 22
    assert GammaGamma(p=6, q=4, gamma=15).expected_value(x=2, m=20) == pytest.approx(22.0)


def test_expected_purchases_match_a_simulated_population() -> None:
    """A brand-new customer (x = t_x = T = 0): E[X(t)] against 400k simulated customers
    buying at Poisson(λ), λ ~ Gamma(r, 1/α), each purchase their last with p ~ Beta(a, b)."""
    model = BgNbd(r=0.9, alpha=6.0, a=1.3, b=4.0)
    rng = np.random.default_rng(7)
    n, t = 400_000, 52.0
    lam = rng.gamma(model.r, 1 / model.alpha, n)
    p = rng.beta(model.a, model.b, n)
    bought = np.minimum(rng.poisson(lam * t), rng.geometric(p))
    assert model.expected_purchases(t, 0, 0, 0) == pytest.approx(bought.mean(), rel=0.01)


# --- on the CRM --------------------------------------------------------------------------------


def _crm(sessions: sessionmaker[Session]) -> None:
    """Four customers whose value can be worked out by hand."""
    with session_scope(sessions) as session:
        for uid in ("U1", "U2"):
            session.add(User(id=uid, name=f"Rep {uid}", email=f"{uid}@x.example", role=Role.REP))
        for aid, owner in (("A1", "U1"), ("A2", "U1"), ("A3", "U2"), ("A4", "U2")):
            session.add(Account(id=aid, name=f"Customer {aid}", owner_id=owner))
        session.flush()
        start = date(2026, 6, 1)
        for k in range(6):  # A1: 1,000 USD every 30 days, last 23 days ago
            _order(session, f"R1{k}", "A1", start + timedelta(days=30 * k), "1000.00")
        # ... and a won deal that became one of those orders: counted once
        _deal(session, "O1", "A1", start + timedelta(days=55), "1000.00")
        _deal(session, "O2", "A1", date(2025, 1, 10), "5000.00")  # never invoiced: counted
        _order(session, "R19", "A1", date(2026, 3, 3), "700.00", currency="EUR")
        for k in range(3):  # A2: every 30 days, but the last 200 days ago: lapsed
            _order(session, f"R2{k}", "A2", date(2026, 3, 4) + timedelta(days=30 * k), "500.00")
        _order(session, "R30", "A3", date(2026, 10, 1), "9000.00")  # A3: one purchase


def _order(s: Session, oid: str, aid: str, day: date, amount: str, currency: str = "USD") -> None:
    s.add(Order(id=oid, account_id=aid, order_date=day, amount=Decimal(amount),
                currency=currency, product="P"))  # fmt: skip


def _deal(s: Session, oid: str, aid: str, day: date, amount: str) -> None:
    won = Stage.CLOSED_WON
    s.add(Opportunity(id=oid, account_id=aid, name=oid, stage=won, amount=Decimal(amount),
                      currency="USD", close_date=day, probability=100))  # fmt: skip


def test_thin_data_gets_the_run_rate_worked_out_by_hand(
    session_factory: sessionmaker[Session],
) -> None:
    _crm(session_factory)
    with session_factory() as session:
        report = customer_values(session, ADMIN, TODAY)
    assert report.frequency_model.startswith("run-rate (too few customers for BG/NBD: 3")
    by_id = {v.account_id: v for v in report.values}
    assert set(by_id) == {"A1", "A2", "A3"}  # A4 never bought
    a1 = by_id["A1"]
    assert (a1.orders_value, a1.won_deals_value, a1.historical_value) == (6000.0, 5000.0, 11000.0)
    assert a1.other_currencies == {"EUR": 700.0}
    assert a1.model == "run-rate + own average purchase"
    assert a1.inputs.purchases == 7 and a1.inputs.repeat_purchases == 6  # the deal's day too
    # median gap 30 days: 30.4375 / 30 purchases a month, 1,000 each, discounted at 10 %/yr:
    # 1.0145833 × 1000 × Σ_{m=1..12} 1.1^(-m/12) = 1.0145833 × 1000 × 11.4004878
    assert a1.expected_purchases == pytest.approx(12.175, abs=0.005)  # shown to 2 places
    assert a1.projected_value == pytest.approx(11566.74, abs=0.01)
    assert by_id["A2"].projected_value == 0.0  # 200 days since, usually every 30
    assert by_id["A3"].projected_value == 0.0  # a single purchase projects nothing
    assert report.values[0].account_id == "A1"
    assert "run-rate" in a1.explanation and "USD" in a1.explanation


def test_value_follows_the_askers_scope(session_factory: sessionmaker[Session]) -> None:
    _crm(session_factory)
    with session_factory() as session:
        mine = customer_values(session, Principal("U2", Role.REP, None), TODAY)
        with pytest.raises(AccessDenied):
            customer_values(session, Principal("U3", Role.SUPPORT, None), TODAY)
    assert [v.account_id for v in mine.values] == ["A3"]


def test_the_published_models_answer_where_the_data_carries_them(
    session_factory: sessionmaker[Session],
) -> None:
    """300 customers simulated from BG/NBD with lognormal spend: the report names BG/NBD
    and Gamma-Gamma and their fits equal fits on the RFM worked out here from the days."""
    rng = np.random.default_rng(11)
    first_day = date(2025, 1, 1)
    rfm: list[tuple[int, float, float, float]] = []
    with session_scope(session_factory) as session:
        for n in range(300):
            aid = f"A{n:03d}"
            session.add(Account(id=aid, name=f"Firm {n}"))
            start = first_day + timedelta(days=int(rng.integers(0, 200)))
            lam, p = rng.gamma(2.0, 1 / 8.0), rng.beta(1.5, 6.0)
            days, day, value = [start], start, float(rng.lognormal(6, 0.5))
            while rng.random() > p:
                day += timedelta(days=max(1, round(rng.exponential(1 / lam) * 7)))
                if day > TODAY:
                    break
                days.append(day)
            session.flush()
            for k, d in enumerate(days):
                amount = Decimal(f"{value * rng.gamma(8, 1 / 8):.2f}")
                session.add(Order(id=f"R{n:03d}{k:03d}", account_id=aid, order_date=d,
                                  amount=amount, currency="USD", product="P"))  # fmt: skip
    with session_factory() as session:
        rows = session.execute(sa.select(Order.account_id, Order.order_date, Order.amount)).all()
    history: dict[str, dict[date, float]] = {}
    for aid, day, amount in rows:
        history.setdefault(aid, {}).setdefault(day, 0.0)
        history[aid][day] += float(amount)
    for days in history.values():
        ordered = sorted(days)
        repeat = [days[d] for d in ordered[1:]]
        mean = sum(repeat) / len(repeat) if repeat else 0.0
        weeks = (ordered[-1] - ordered[0]).days / 7, (TODAY - ordered[0]).days / 7
        rfm.append((len(repeat), *weeks, mean))
    x, t_x, T, m = (np.array([r[i] for r in rfm]) for i in range(4))
    expected = BgNbd.fit(x, t_x, T)
    with session_factory() as session:
        report = customer_values(session, ADMIN, TODAY)
    assert report.frequency_model.startswith(f"BG/NBD fitted on 300 customers ({(x > 0).sum()}")
    assert f"r={expected.r:.3f}, alpha={expected.alpha:.3f}" in report.frequency_model
    spend = GammaGamma.fit(x[x > 0], m[x > 0])
    assert report.spend_models["USD"].endswith(f"p={spend.p:.3f}, q={spend.q:.3f}, "
                                                f"gamma={spend.gamma:.2f}")  # fmt: skip
    top = report.values[0]
    assert top.model == "BG/NBD + Gamma-Gamma" and top.probability_alive is not None
    assert top.projected_value == max(v.projected_value for v in report.values)


def test_customer_value_tool_answers_through_the_assistant(sample_rt: Runtime) -> None:
    model = ScriptedModel(script=[call("customer_value", customer="Acme"), say("ok")])
    reply = sample_rt.assistant(model).ask(who(sample_rt, "U001"), "what is Acme worth?")
    assert [(c.name, c.status) for c in reply.tool_calls] == [("customer_value", "success")]
    result = json.loads(str(model.seen[1][-1].content))
    [acme] = result["values"]
    assert acme["account_id"] == "A001" and acme["model"] and acme["inputs"]["purchases"] > 0
    assert result["frequency_model"] and result["spend_models"]
    with sample_rt.sessions() as session:
        audited = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("%customer_value%"))
        ).all()
    assert audited, "every tool call is audited"
    top = ScriptedModel(script=[call("customer_value", limit=10), say("ok")])
    sample_rt.assistant(top).ask(who(sample_rt, "U013"), "top 10 customers by projected value")
    values = json.loads(str(top.seen[1][-1].content))["values"]
    assert len(values) == 10
    assert [v["projected_value"] for v in values] == sorted(
        (v["projected_value"] for v in values), reverse=True
    )
    support = ScriptedModel(script=[call("customer_value", customer="Acme"), say("ok")])
    refused = sample_rt.assistant(support).ask(who(sample_rt, "U010"), "Acme's value?")
    assert refused.tool_calls[0].status == "error"


def test_account_lists_carry_the_value_column(sample_rt: Runtime) -> None:
    """GET /v1/accounts: the same projected value as the tool, and none for support."""
    from fastapi.testclient import TestClient

    from crmassist.access.keys import issue_key
    from crmassist.api import create_app

    with session_scope(sample_rt.sessions) as session:
        keys = {u: issue_key(session, u, "value").key for u in ("U001", "U010")}
    with TestClient(create_app(runtime=sample_rt)) as client:
        rep = client.get("/v1/accounts", headers={"Authorization": f"Bearer {keys['U001']}"})
        support = client.get("/v1/accounts", headers={"Authorization": f"Bearer {keys['U010']}"})
    acme = next(a for a in rep.json()["items"] if a["id"] == "A001")
    with sample_rt.sessions() as session:
        expected = customer_values(session, who(sample_rt, "U001"), sample_rt.clock.today(), "A001")
    assert acme["projected_value"] == expected.values[0].projected_value
    assert acme["value_model"] == expected.values[0].model and acme["value_currency"] == "USD"
    assert all(a["projected_value"] is None for a in support.json()["items"])
