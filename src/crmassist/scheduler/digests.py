"""The morning digest: what each person should act on today, in their own scope.

A rep's (and support's) digest is personal: their open tasks due today or overdue, their
open deals whose close date has passed, accounts they reach in full whose churn risk
moved up a level since their last digest, and open tickets assigned to them (open, not
pending: waiting on us, not on the customer). A manager's is the team digest: the same
lists over everyone they stand in for (`Principal.owners`). Admins get none.

Every list is read through the access matrix (`record_scope`, `may_see`, the pipeline
query and `health.churn_risk`), so a digest shows exactly what the person could ask for
in chat; its text leaves through `Disclosure`, like every answer.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, profile_scope, record_scope
from crmassist.crm import health
from crmassist.crm.pipeline import PipelineQuery, SortBy, run_pipeline
from crmassist.domain.enums import Role, TaskStatus, TicketStatus
from crmassist.domain.models import Account, Task, Ticket, User

LIMIT = 20
"""Items per section; the digest says how many more there are."""
_LEVELS = [level.value for level in (health.RiskLevel.LOW, health.RiskLevel.MEDIUM,
                                      health.RiskLevel.HIGH)]  # fmt: skip


class DigestKind(StrEnum):
    PERSONAL = "personal"
    TEAM = "team"


def kind_for(role: Role) -> DigestKind | None:
    """Reps and support get their own digest, managers their team's, admins none."""
    if role is Role.MANAGER:
        return DigestKind.TEAM
    return DigestKind.PERSONAL if role in (Role.REP, Role.SUPPORT) else None


class Line(BaseModel):
    record_id: str
    text: str


class Section_(BaseModel):
    title: str
    lines: list[Line]
    total: int


class Digest(BaseModel):
    user_id: str
    kind: DigestKind
    day: date
    sections: list[Section_]
    snapshot: dict[str, str] = {}
    """Churn-risk level of every account in scope: the next digest's baseline."""

    @property
    def items(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def records(self) -> list[str]:
        return [line.record_id for s in self.sections for line in s.lines]


def build_digest(
    session: Session,
    principal: Principal,
    kind: DigestKind,
    day: date,
    baseline: dict[str, str] | None,
) -> Digest:
    """The digest for `day`; `baseline` is the previous digest's snapshot (None: first)."""
    team = kind is DigestKind.TEAM
    names = _user_names(session) if team else {}
    sections = [_tasks(session, principal, day, names)]
    if may_see(principal, Section.DEALS):
        sections.append(_slipped_deals(session, principal, day, team))
    snapshot: dict[str, str] = {}
    if may_see(principal, Section.ORDERS):
        risks = health.churn_risk(session, principal, day)
        snapshot = {r.account_id: r.level.value for r in risks}
        sections.append(_risen(risks, baseline or {}))
    if may_see(principal, Section.TICKETS):
        sections.append(_tickets(session, principal, names))
    return Digest(
        user_id=principal.user_id, kind=kind, day=day, sections=sections, snapshot=snapshot
    )


def _section(title: str, lines: list[Line]) -> Section_:
    return Section_(title=title, lines=lines[:LIMIT], total=len(lines))


def _user_names(session: Session) -> dict[str, str]:
    return {uid: name for uid, name in session.execute(sa.select(User.id, User.name))}


def _whose(names: dict[str, str], owner: str | None) -> str:
    """In a team digest, whose item it is."""
    return f" ({names.get(owner or '', owner or 'unassigned')})" if names else ""


def _visible_name(principal: Principal) -> Any:
    return sa.select(Account.id).where(profile_scope(principal)).correlate(None)


def _tasks(session: Session, principal: Principal, day: date, names: dict[str, str]) -> Section_:
    rows = session.execute(
        sa.select(Task.id, Task.title, Task.due_date, Task.owner_id, Account.name)
        .outerjoin(
            Account, (Task.account_id == Account.id) & Account.id.in_(_visible_name(principal))
        )
        .where(
            record_scope(principal, Task),
            Task.owner_id.in_(principal.owners),
            Task.status == TaskStatus.OPEN,
            Task.due_date <= day,
        )
        .order_by(Task.due_date, Task.id)
    )
    lines = [
        Line(
            record_id=task_id,
            text=f"{title} — {'due today' if due == day else f'overdue since {due}'}"
            + (f", {account}" if account else "")
            + _whose(names, owner),
        )
        for task_id, title, due, owner, account in rows
    ]
    return _section("Tasks due", lines)


def _slipped_deals(session: Session, principal: Principal, day: date, team: bool) -> Section_:
    """Open deals past their close date: the pipeline query chat runs for "slipped"."""
    query = PipelineQuery(
        slipped=True, owner_ids=list(principal.owners), sort=SortBy.CLOSE_DATE_ASC, limit=200
    )
    result = run_pipeline(session, principal, query, day)
    lines = [
        Line(
            record_id=str(row[0]),
            text=f"{row[1]} ({row[2]}), {row[3]}, {row[4]:,.2f} {row[5]}, close date was "
            f"{row[6]}" + (f" ({row[8]})" if team else ""),
        )
        for row in result.rows
    ]
    return Section_(title="Deals past their close date", lines=lines[:LIMIT], total=len(lines))


def _risen(risks: list[health.ChurnRisk], baseline: dict[str, str]) -> Section_:
    """Accounts whose risk level is higher than in the last digest (none on the first)."""
    lines = [
        Line(
            record_id=r.account_id,
            text=f"{r.account_name}: churn risk {baseline[r.account_id]} → {r.level.value} "
            f"({r.score}/100; {'; '.join(r.reasons)})",
        )
        for r in risks
        if r.account_id in baseline
        and _LEVELS.index(r.level.value) > _LEVELS.index(baseline[r.account_id])
    ]
    return _section("Churn risk rose", lines)


def _tickets(session: Session, principal: Principal, names: dict[str, str]) -> Section_:
    rows = session.execute(
        sa.select(Ticket.id, Ticket.subject, Ticket.priority, Ticket.assignee_id, Account.name)
        .join(Account, Ticket.account_id == Account.id)
        .where(
            record_scope(principal, Ticket),
            Ticket.assignee_id.in_(principal.owners),
            Ticket.status == TicketStatus.OPEN,
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    lines = [
        Line(
            record_id=ticket_id,
            text=f"{subject} — {priority.value}, {account}" + _whose(names, assignee),
        )
        for ticket_id, subject, priority, assignee, account in rows
    ]
    return _section("Tickets waiting on you", lines)


def render(digest: Digest) -> str:
    """Markdown (bold and bullets) that Slack's `mrkdwn` conversion takes as it is."""
    who = "Your team's" if digest.kind is DigestKind.TEAM else "Your"
    out = [f"**{who} digest for {digest.day:%A %d %B %Y}**"]
    for section in digest.sections:
        if not section.total:
            continue
        out.append(f"\n**{section.title} ({section.total})**")
        out += [f"• {line.text} [{line.record_id}]" for line in section.lines]
        if section.total > len(section.lines):
            out.append(f"• … and {section.total - len(section.lines)} more")
    return "\n".join(out)
