"""Lifecycle stages with history: lead → opportunity → customer → loyal → at risk → churned.

A stage is derived from the records, never typed in, and recomputed after every import,
merge and logged note; each change is stored with the day it was seen and a reason a rep
can repeat ("no order for 210 days, usually every 30 days"). The stage and the churn risk
never contradict: "at risk" *is* a current customer whose churn risk (`health`) is medium
or high, loyal and customer accounts have a low one, and a churned account's risk is
reported as churned (`health.churn_risk`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, account_scope, may_see
from crmassist.crm import health
from crmassist.crm.errors import AccessDenied, NotFound
from crmassist.domain.enums import LifecycleStage, Stage
from crmassist.domain.models import Account, LifecycleTransition, Opportunity, Order
from crmassist.ingest.importer import lifecycle_stage

YEAR = timedelta(days=365)
LOYAL_PURCHASES = 4
"""Purchase days in the last 12 months, a year or more after the first, that make a
customer loyal (when their churn risk is low)."""


@dataclass
class Facts:
    purchases: list[date]
    open_deal: tuple[str, Stage] | None


class Judgement(BaseModel):
    stage: LifecycleStage
    reason: str
    details: dict[str, Any]


class TransitionView(BaseModel):
    account_id: str
    account_name: str
    from_stage: LifecycleStage | None
    to_stage: LifecycleStage
    on: date
    reason: str
    details: dict[str, Any] = {}
    """The reason as data (`code` and its values), for answers in the asker's language."""


def judge(facts: Facts, risk: health.ChurnRisk | None, today: date) -> Judgement:
    """The stage the facts put an account in, and why."""
    last = facts.purchases[-1] if facts.purchases else None
    base = lifecycle_stage(
        last_purchase=last,
        ever_bought=bool(facts.purchases),
        has_open_deal=facts.open_deal is not None,
        as_of=today,
    )
    if base is LifecycleStage.CUSTOMER and last is not None:
        return _customer(facts, risk, last, today)
    if base is LifecycleStage.OPPORTUNITY and facts.open_deal is not None:
        deal, stage = facts.open_deal
        return Judgement(
            stage=base,
            reason=f"open deal {deal} ({stage.value})",
            details={"code": "open_deal", "deal": deal, "stage": stage.value},
        )
    if base is LifecycleStage.CHURNED and last is not None:
        days = (today - last).days
        gaps = [(b - a).days for a, b in zip(facts.purchases, facts.purchases[1:], strict=False)]
        usual = f", usually every {sorted(gaps)[len(gaps) // 2]} days" if gaps else ""
        return Judgement(
            stage=base,
            reason=f"no purchase for {days} days (last on {last}){usual}",
            details={"code": "no_purchase", "days": days, "last": str(last)},
        )
    return Judgement(
        stage=LifecycleStage.LEAD, reason="no purchase and no open deal", details={"code": "lead"}
    )


def _customer(facts: Facts, risk: health.ChurnRisk | None, last: date, today: date) -> Judgement:
    if risk is not None and risk.level is not health.RiskLevel.LOW:
        signs = "; ".join(r.rsplit(" (+", 1)[0] for r in risk.reasons)
        return Judgement(
            stage=LifecycleStage.AT_RISK,
            reason=f"{signs} (churn risk {risk.score}, {risk.level.value})",
            details={
                "code": "churn_risk",
                "score": risk.score,
                "level": risk.level.value,
                "factors": [f.model_dump() for f in risk.factors],
            },
        )
    recent = [d for d in facts.purchases if today - d <= YEAR]
    first = facts.purchases[0]
    if len(recent) >= LOYAL_PURCHASES and today - first >= YEAR:
        return Judgement(
            stage=LifecycleStage.LOYAL,
            reason=f"{len(recent)} purchases in the last 12 months, a customer since {first}",
            details={"code": "loyal", "purchases_12m": len(recent), "since": str(first)},
        )
    days = (today - last).days
    return Judgement(
        stage=LifecycleStage.CUSTOMER,
        reason=f"last purchase {days} days ago (on {last})",
        details={"code": "purchase", "days": days, "last": str(last)},
    )


def _facts(session: Session, today: date) -> dict[str, Facts]:
    """Purchase days (orders and won deals) and an open deal of every account."""
    days: dict[str, set[date]] = defaultdict(set)
    for aid, day in session.execute(
        sa.select(Order.account_id, Order.order_date).where(Order.order_date <= today)
    ):
        days[aid].add(day)
    won = sa.select(Opportunity.account_id, Opportunity.close_date).where(
        Opportunity.stage == Stage.CLOSED_WON, Opportunity.close_date <= today
    )
    for aid, closed in session.execute(won):
        if closed is not None:
            days[aid].add(closed)
    open_deals: dict[str, tuple[str, Stage]] = {}
    for aid, oid, stage in session.execute(
        sa.select(Opportunity.account_id, Opportunity.id, Opportunity.stage)
        .where(Opportunity.stage.in_([s for s in Stage if s.is_open]))
        .order_by(Opportunity.id)
    ):
        open_deals.setdefault(aid, (oid, stage))
    ids = session.scalars(sa.select(Account.id))
    return {aid: Facts(sorted(days.get(aid, ())), open_deals.get(aid)) for aid in ids}


def recompute(
    session: Session,
    today: date,
    account_ids: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[LifecycleTransition]:
    """Set every account's (or these accounts') stage and store each change; an account
    without any history gets its first entry. Runs in the caller's transaction."""
    facts = _facts(session, today)
    risks = health.account_risks(session, today)
    seen = set(session.scalars(sa.select(LifecycleTransition.account_id).distinct()))
    query = sa.select(Account)
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    changes = []
    for account in session.scalars(query):
        verdict = judge(facts[account.id], risks.get(account.id), today)
        if verdict.stage == account.lifecycle_stage and account.id in seen:
            continue
        changes.append(
            LifecycleTransition(
                account_id=account.id,
                from_stage=account.lifecycle_stage if account.id in seen else None,
                to_stage=verdict.stage,
                on=today,
                reason=verdict.reason[:500],
                details=verdict.details,
                recorded_at=now or datetime.now(UTC),
            )
        )
        account.lifecycle_stage = verdict.stage
    session.add_all(changes)
    session.flush()
    return changes


def _require_orders(principal: Principal) -> None:
    if not may_see(principal, Section.ORDERS):
        raise AccessDenied("your role may not see orders, so not why lifecycle stages changed")


def history(session: Session, principal: Principal, account_id: str) -> list[TransitionView]:
    """One visible account's stages, oldest first."""
    _require_orders(principal)
    name = session.scalar(
        sa.select(Account.name).where(Account.id == account_id, account_scope(principal))
    )
    if name is None:
        raise NotFound(f"no account {account_id!r} that you can see")
    return _views(
        session,
        sa.select(LifecycleTransition, Account.name)
        .join(Account, Account.id == LifecycleTransition.account_id)
        .where(LifecycleTransition.account_id == account_id),
    )


def transitions(
    session: Session,
    principal: Principal,
    to_stage: LifecycleStage | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[TransitionView]:
    """Changes in visible accounts, optionally into one stage and within [since, until)."""
    _require_orders(principal)
    query = (
        sa.select(LifecycleTransition, Account.name)
        .join(Account, Account.id == LifecycleTransition.account_id)
        .where(account_scope(principal), LifecycleTransition.from_stage.is_not(None))
    )
    if to_stage is not None:
        query = query.where(LifecycleTransition.to_stage == to_stage)
    if since is not None:
        query = query.where(LifecycleTransition.on >= since)
    if until is not None:
        query = query.where(LifecycleTransition.on < until)
    return _views(session, query)


def _views(session: Session, query: sa.Select[LifecycleTransition, str]) -> list[TransitionView]:
    rows = session.execute(query.order_by(LifecycleTransition.on, LifecycleTransition.id))
    return [
        TransitionView(
            account_id=t.account_id,
            account_name=name,
            from_stage=t.from_stage,
            to_stage=t.to_stage,
            on=t.on,
            reason=t.reason,
            details=t.details or {},
        )
        for t, name in rows
    ]
