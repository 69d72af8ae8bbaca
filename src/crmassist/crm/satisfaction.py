"""CSAT (the 1-5 rating a customer gives a ticket) month by month, in the asker's scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, record_scope
from crmassist.crm.errors import AccessDenied
from crmassist.domain.models import Ticket


class CsatMonth(BaseModel):
    month: str
    """YYYY-MM of the rating: the ticket's resolution (its creation if never resolved)."""
    average: float
    ratings: int


def csat_trend(
    session: Session, principal: Principal, today: date, months: int = 12
) -> list[CsatMonth]:
    """Average CSAT per month over the last `months` months (this one included), oldest
    first; months without a rating are left out rather than shown as zero."""
    if not may_see(principal, Section.TICKETS):
        raise AccessDenied("your role may not see tickets, so no CSAT")
    start = _month_start(today, months - 1)
    rated = session.execute(
        sa.select(sa.func.coalesce(Ticket.resolved_at, Ticket.created_at), Ticket.csat).where(
            Ticket.csat.is_not(None), record_scope(principal, Ticket)
        )
    )
    by_month: dict[str, list[int]] = defaultdict(list)
    for at, csat in rated:
        if csat is not None and start <= at.date() <= today:
            by_month[at.strftime("%Y-%m")].append(csat)
    return [
        CsatMonth(month=month, average=round(sum(r) / len(r), 2), ratings=len(r))
        for month, r in sorted(by_month.items())
    ]


def _month_start(today: date, back: int) -> date:
    """The first day of the month `back` months before today's."""
    index = today.year * 12 + today.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)
