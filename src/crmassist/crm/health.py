"""Customer value tiers (RFM on orders) and an explainable churn-risk score.

Both are computed from records, never guessed, and every result carries the reasons that
produced it, in words a rep can repeat to a manager. RFM quintiles are taken over all
customers (the population), results are returned only for accounts in scope. Amounts in
different currencies are ranked within their own currency, never converted.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, account_scope, may_see
from crmassist.crm.errors import AccessDenied
from crmassist.domain.enums import LifecycleStage as Stage
from crmassist.domain.enums import Priority, TicketStatus
from crmassist.domain.models import Account, Interaction, Order, Ticket

YEAR = timedelta(days=365)
HALF_YEAR = timedelta(days=182)


class Tier(StrEnum):
    HIGH_VALUE = "high-value"
    POTENTIAL = "potential"
    REGULAR = "regular"
    LAPSED = "lapsed"


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Segment(BaseModel):
    account_id: str
    account_name: str
    tier: Tier
    recency_days: int
    orders_12m: int
    revenue_12m: float
    currency: str
    scores: dict[str, int]
    reasons: list[str]


class RiskFactor(BaseModel):
    """One warning sign, typed, so an answer can say it in the asker's language."""

    code: str
    points: int
    values: dict[str, float]


REASONS = {
    "order_gap": "no order for {days:.0f} days, usually every {usual:.0f} days",
    "orders_fell": "orders fell from {before:.0f} to {recent:.0f} per half-year",
    "tickets": "{urgent:.0f} urgent and {high:.0f} high-priority ticket(s) open",
    "csat": "average CSAT {average:.1f} over the last {ratings:.0f} rating(s)",
    "no_contact": "no recorded interaction with any contact",
    "silence": "no interaction for {days:.0f} days",
    "churned": "churned: no order for {days:.0f} days",
}
"""The API's English wording of each factor (the planner words them from prompts/)."""


class ChurnRisk(BaseModel):
    account_id: str
    account_name: str
    score: int
    level: RiskLevel
    reasons: list[str]
    factors: list[RiskFactor]


@dataclass
class _History:
    """One account's facts that both analyses read."""

    name: str
    order_days: list[date] = field(default_factory=list)
    revenue_12m: Decimal = Decimal(0)
    currency: str = "USD"
    open_tickets: dict[Priority, int] = field(default_factory=dict)
    recent_csat: list[int] = field(default_factory=list)
    last_contact: date | None = None


def _require_orders(principal: Principal) -> None:
    if not may_see(principal, Section.ORDERS):
        raise AccessDenied("your role may not see orders, so no value or churn analysis")


def _histories(session: Session, today: date) -> dict[str, _History]:
    """Facts for every account (the RFM population); callers filter to scope afterwards."""
    facts = {
        aid: _History(name) for aid, name in session.execute(sa.select(Account.id, Account.name))
    }
    orders = session.execute(
        sa.select(Order.account_id, Order.order_date, Order.amount, Order.currency).order_by(
            Order.order_date
        )
    )
    for account_id, day, amount, currency in orders:
        history = facts[account_id]
        history.order_days.append(day)
        if today - day <= YEAR:
            history.revenue_12m += amount
            history.currency = currency
    tickets = session.execute(
        sa.select(Ticket.account_id, Ticket.status, Ticket.priority, Ticket.csat).order_by(
            Ticket.created_at
        )
    )
    for account_id, status, priority, csat in tickets:
        history = facts[account_id]
        if status in (TicketStatus.OPEN, TicketStatus.PENDING):
            history.open_tickets[priority] = history.open_tickets.get(priority, 0) + 1
        if csat is not None:
            history.recent_csat = [*history.recent_csat[-4:], csat]
    last_notes = session.execute(
        sa.select(Interaction.account_id, sa.func.max(Interaction.occurred_at)).group_by(
            Interaction.account_id
        )
    )
    for account_id, last in last_notes:
        facts[account_id].last_contact = last.date()
    return facts


def _visible(session: Session, principal: Principal) -> set[str]:
    return set(session.scalars(sa.select(Account.id).where(account_scope(principal))))


def _quintile(value: float, population: list[float]) -> int:
    """1-5: where `value` falls in the sorted population."""
    if not population:
        return 3
    rank = bisect.bisect_right(population, value) / len(population)
    return min(5, max(1, int(rank * 5 + 0.9999)))


def customer_segments(
    session: Session, principal: Principal, today: date, tier: Tier | None = None
) -> list[Segment]:
    """Value tiers for visible customers that ever ordered, best first."""
    _require_orders(principal)
    facts = _histories(session, today)
    buyers = {aid: h for aid, h in facts.items() if h.order_days}
    recency = sorted(float(-(today - h.order_days[-1]).days) for h in buyers.values())
    frequency = sorted(float(_orders_within(h, today, YEAR)) for h in buyers.values())
    revenue: dict[str, list[float]] = defaultdict(list)
    for h in buyers.values():
        revenue[h.currency].append(float(h.revenue_12m))
    for values in revenue.values():
        values.sort()
    visible = _visible(session, principal)
    segments = [
        _segment(aid, h, today, recency, frequency, revenue[h.currency])
        for aid, h in buyers.items()
        if aid in visible
    ]
    if tier is not None:
        segments = [s for s in segments if s.tier is tier]
    return sorted(segments, key=lambda s: (list(Tier).index(s.tier), -sum(s.scores.values())))


def _orders_within(history: _History, today: date, window: timedelta) -> int:
    return sum(1 for d in history.order_days if today - window < d <= today)


def _segment(
    account_id: str,
    h: _History,
    today: date,
    recency: list[float],
    frequency: list[float],
    revenue: list[float],
) -> Segment:
    days = (today - h.order_days[-1]).days
    count = _orders_within(h, today, YEAR)
    scores = {
        "R": _quintile(-days, recency),
        "F": _quintile(count, frequency),
        "M": _quintile(float(h.revenue_12m), revenue),
    }
    reasons = [
        f"last order {days} days ago (R{scores['R']})",
        f"{count} order(s) in the last 12 months (F{scores['F']})",
        f"{h.revenue_12m:,.2f} {h.currency} in the last 12 months (M{scores['M']})",
    ]
    return Segment(
        account_id=account_id,
        account_name=h.name,
        tier=_tier(days, scores),
        recency_days=days,
        orders_12m=count,
        revenue_12m=float(h.revenue_12m),
        currency=h.currency,
        scores=scores,
        reasons=reasons,
    )


def _tier(days: int, scores: dict[str, int]) -> Tier:
    if days > YEAR.days:
        return Tier.LAPSED
    if scores["R"] >= 3 and scores["F"] >= 4 and scores["M"] >= 4:
        return Tier.HIGH_VALUE
    if scores["R"] >= 4 and (scores["F"] + scores["M"]) >= 5:
        return Tier.POTENTIAL
    return Tier.REGULAR


def churn_risk(
    session: Session, principal: Principal, today: date, account_id: str | None = None
) -> list[ChurnRisk]:
    """Risk for visible customers (or one), highest first; each point of score has a reason.

    An account whose lifecycle stage is churned (crm.lifecycle) is reported as churned,
    score 100, so the stage and the risk never disagree."""
    _require_orders(principal)
    facts = _histories(session, today)
    visible = _visible(session, principal)
    churned = set(
        session.scalars(sa.select(Account.id).where(Account.lifecycle_stage == Stage.CHURNED))
    )
    wanted = [account_id] if account_id else sorted(visible)
    risks = [
        _churned(aid, facts[aid], today) if aid in churned else _risk(aid, facts[aid], today)
        for aid in wanted
        if aid in visible and aid in facts and facts[aid].order_days
    ]
    return sorted(risks, key=lambda r: (-r.score, r.account_name))


def account_risks(session: Session, today: date) -> dict[str, ChurnRisk]:
    """The signs-based risk of every account that ever ordered, unscoped: what the
    lifecycle stage is judged from (callers filter to scope)."""
    facts = _histories(session, today)
    return {aid: _risk(aid, h, today) for aid, h in facts.items() if h.order_days}


def _churned(account_id: str, h: _History, today: date) -> ChurnRisk:
    factor = _factor("churned", 100, days=(today - h.order_days[-1]).days)
    return ChurnRisk(
        account_id=account_id,
        account_name=h.name,
        score=100,
        level=RiskLevel.HIGH,
        reasons=[REASONS["churned"].format(**factor.values)],
        factors=[factor],
    )


def _risk(account_id: str, h: _History, today: date) -> ChurnRisk:
    factors = [
        _recency_factor(h, today),
        _frequency_factor(h, today),
        _ticket_factor(h),
        _csat_factor(h),
        _silence_factor(h, today),
    ]
    found = [f for f in factors if f is not None]
    score = min(100, sum(f.points for f in found))
    level = RiskLevel.HIGH if score >= 60 else RiskLevel.MEDIUM if score >= 35 else RiskLevel.LOW
    reasons = [f"{REASONS[f.code].format(**f.values)} (+{f.points})" for f in found] or [
        "no warning signs"
    ]
    return ChurnRisk(
        account_id=account_id,
        account_name=h.name,
        score=score,
        level=level,
        reasons=reasons,
        factors=found,
    )


Factor = RiskFactor | None


def _factor(code: str, points: int, **values: float) -> RiskFactor:
    return RiskFactor(code=code, points=points, values=values)


def _recency_factor(h: _History, today: date) -> Factor:
    days = (today - h.order_days[-1]).days
    gaps = [(b - a).days for a, b in zip(h.order_days, h.order_days[1:], strict=False)]
    usual = statistics.median(gaps) if gaps else 90
    if days > max(3 * usual, 180):
        return _factor("order_gap", 35, days=days, usual=round(usual))
    if days > max(1.5 * usual, 90):
        return _factor("order_gap", 20, days=days, usual=round(usual))
    return None


def _frequency_factor(h: _History, today: date) -> Factor:
    recent = _orders_within(h, today, HALF_YEAR)
    before = _orders_within(h, today - HALF_YEAR, HALF_YEAR)
    if before >= 2 and recent <= before / 2:
        return _factor("orders_fell", 20, before=before, recent=recent)
    return None


def _ticket_factor(h: _History) -> Factor:
    urgent = h.open_tickets.get(Priority.URGENT, 0)
    high = h.open_tickets.get(Priority.HIGH, 0)
    points = min(30, 15 * urgent + 8 * high)
    if points:
        return _factor("tickets", points, urgent=urgent, high=high)
    return None


def _csat_factor(h: _History) -> Factor:
    if not h.recent_csat:
        return None
    average = statistics.mean(h.recent_csat)
    if average <= 3:
        points = 20 if average <= 2 else 15
        return _factor("csat", points, average=round(average, 1), ratings=len(h.recent_csat))
    return None


def _silence_factor(h: _History, today: date) -> Factor:
    if h.last_contact is None:
        return _factor("no_contact", 20)
    days = (today - h.last_contact).days
    if days > 120:
        return _factor("silence", 20, days=days)
    if days > 60:
        return _factor("silence", 10, days=days)
    return None
