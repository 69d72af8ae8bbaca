"""The data-quality report: what in the CRM is missing, invalid or left behind.

Each check is one query over the records in the asker's scope (everything for the
operator), and each finding names the record and says what is wrong with it, so a
report is a to-do list, not a score. E-mails and phones are judged by the same
validators the redactor uses (public suffix list, `phonenumbers`).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session, aliased

from crmassist.access.principal import Principal
from crmassist.access.scope import account_scope
from crmassist.domain.enums import Stage
from crmassist.domain.models import (
    Account,
    Contact,
    Interaction,
    Opportunity,
    Order,
    Task,
    Ticket,
    User,
)
from crmassist.privacy import validators
from crmassist.privacy.detectors import PHONE_REGIONS

_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")
_OPEN = [s for s in Stage if s.is_open]


class Check(StrEnum):
    MISSING_OWNER = "missing_owner"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    ORPHAN = "orphan"
    STALE_DEAL = "stale_deal"
    NO_CONTACTS = "no_contacts"


LABELS = {
    Check.MISSING_OWNER: "without an owner",
    Check.INVALID_EMAIL: "invalid e-mail(s)",
    Check.INVALID_PHONE: "invalid phone(s)",
    Check.ORPHAN: "orphan(s)",
    Check.STALE_DEAL: "stale deal(s)",
    Check.NO_CONTACTS: "account(s) without contacts",
}


class Issue(BaseModel):
    check: Check
    record_kind: str
    record_id: str
    account_id: str | None
    detail: str


class QualityReport(BaseModel):
    as_of: date
    records_checked: int
    counts: dict[Check, int]
    issues: list[Issue]

    def summary(self) -> str:
        """One line: what an import prints after loading."""
        found = [f"{self.counts[c]} {LABELS[c]}" for c in Check if self.counts.get(c)]
        if not found:
            return f"Data quality: no issues in {self.records_checked} records."
        return "Data quality: " + ", ".join(found) + " (details: crmassist quality)."


def quality_report(
    session: Session, today: date, principal: Principal | None = None
) -> QualityReport:
    """Every check over the accounts `principal` reaches (None: the operator, all of them)."""
    scope = account_scope(principal) if principal else sa.true()
    accounts = sa.select(Account.id).where(scope).scalar_subquery()
    issues = [
        *_missing_owners(session, scope, accounts),
        *_contact_details(session, accounts),
        *(
            _orphans(session, accounts)
            if principal is None
            else _foreign_contacts(session, accounts)
        ),
        *_stale_deals(session, accounts, today),
        *_no_contacts(session, scope),
    ]
    checked = sum(
        session.scalar(sa.select(sa.func.count()).select_from(m).where(m.account_id.in_(accounts)))
        or 0
        for m in (Contact, Opportunity, Order, Interaction, Ticket)
    ) + (session.scalar(sa.select(sa.func.count()).select_from(Account).where(scope)) or 0)
    return QualityReport(
        as_of=today,
        records_checked=checked,
        counts=dict(Counter(i.check for i in issues)),
        issues=issues,
    )


def _missing_owners(
    session: Session, scope: sa.ColumnElement[bool], accounts: sa.ScalarSelect[str]
) -> list[Issue]:
    found = [
        Issue(
            check=Check.MISSING_OWNER,
            record_kind="accounts",
            record_id=aid,
            account_id=aid,
            detail=f"account {name!r} has no owner",
        )
        for aid, name in session.execute(
            sa.select(Account.id, Account.name).where(scope, Account.owner_id.is_(None))
        )
    ]
    deals = sa.select(Opportunity.id, Opportunity.account_id, Opportunity.name).where(
        Opportunity.account_id.in_(accounts),
        Opportunity.owner_id.is_(None),
        Opportunity.stage.in_(_OPEN),
    )
    found += [
        Issue(
            check=Check.MISSING_OWNER,
            record_kind="opportunities",
            record_id=oid,
            account_id=aid,
            detail=f"open deal {name!r} has no owner",
        )
        for oid, aid, name in session.execute(deals)
    ]
    return found


def email_ok(email: str) -> bool:
    """An address shape whose domain ends in a public suffix (or a private-network TLD)."""
    match = _EMAIL.match(email.strip())
    return match is not None and validators.email_domain_ok(match.group(1))


def phone_ok(phone: str) -> bool:
    """7-15 digits (E.164's range; shorter are extensions and service codes), and `+cc …`
    possible for that country or else valid in one of the numbering plans we serve."""
    text = phone.strip()
    if not 7 <= sum(c.isdigit() for c in text) <= 15:
        return False
    if text.startswith("+"):
        return validators.international_phone_ok(text)
    return validators.national_phone_ok(text, PHONE_REGIONS)


def _contact_details(session: Session, accounts: sa.ScalarSelect[str]) -> list[Issue]:
    found = []
    rows = session.execute(
        sa.select(Contact.id, Contact.account_id, Contact.name, Contact.email, Contact.phone)
        .where(Contact.account_id.in_(accounts))
        .order_by(Contact.id)
    )
    for cid, aid, name, email, phone in rows:
        if email and not email_ok(email):
            found.append(
                Issue(
                    check=Check.INVALID_EMAIL,
                    record_kind="contacts",
                    record_id=cid,
                    account_id=aid,
                    detail=f"{name}: e-mail {email!r} is not valid",
                )
            )
        if phone and not phone_ok(phone):
            found.append(
                Issue(
                    check=Check.INVALID_PHONE,
                    record_kind="contacts",
                    record_id=cid,
                    account_id=aid,
                    detail=f"{name}: phone {phone!r} is not valid",
                )
            )
    return found


def _orphans(session: Session, accounts: sa.ScalarSelect[str]) -> list[Issue]:
    """Records whose account, contact or owner does not exist (the database cannot always
    enforce it: SQLite files written without foreign keys, hand edits), then contacts
    named on a record of another account."""
    found = []
    for kind, model in (
        ("contacts", Contact),
        ("opportunities", Opportunity),
        ("orders", Order),
        ("interactions", Interaction),
        ("tickets", Ticket),
    ):
        missing = (
            sa.select(model.id, model.account_id)
            .outerjoin(Account, model.account_id == Account.id)
            .where(Account.id.is_(None))
        )
        found += _orphaned(session, kind, missing, "belongs to account {!r}, which does not exist")
    owned: tuple[tuple[str, Any, Any], ...] = (
        ("accounts", Account, Account.owner_id),
        ("opportunities", Opportunity, Opportunity.owner_id),
    )
    for kind, model, column in owned:
        unknown = (
            sa.select(model.id, column)
            .outerjoin(User, column == User.id)
            .where(column.is_not(None), User.id.is_(None))
        )
        found += _orphaned(session, kind, unknown, "owner {!r} is not a user")
    tasks = (
        sa.select(Task.id, Task.account_id)
        .outerjoin(Account, Task.account_id == Account.id)
        .where(Task.account_id.is_not(None), Account.id.is_(None))
    )
    found += _orphaned(session, "tasks", tasks, "about account {!r}, which does not exist")
    return found + _foreign_contacts(session, accounts)


def _orphaned(session: Session, kind: str, query: sa.Select[str, Any], detail: str) -> list[Issue]:
    """One issue per (record id, missing reference) row of `query`."""
    return [
        Issue(
            check=Check.ORPHAN,
            record_kind=kind,
            record_id=rid,
            account_id=None,
            detail=detail.format(ref),
        )
        for rid, ref in session.execute(query)
    ]


def _foreign_contacts(session: Session, accounts: sa.ScalarSelect[str]) -> list[Issue]:
    found = []
    person = aliased(Contact)
    for kind, model in (("interactions", Interaction), ("tickets", Ticket)):
        rows = session.execute(
            sa.select(model.id, model.account_id, model.contact_id, person.account_id)
            .outerjoin(person, model.contact_id == person.id)
            .where(
                model.account_id.in_(accounts),
                model.contact_id.is_not(None),
                sa.or_(person.id.is_(None), person.account_id != model.account_id),
            )
            .order_by(model.id)
        )
        for rid, aid, cid, their in rows:
            where = "does not exist" if their is None else f"belongs to account {their!r}"
            found.append(
                Issue(
                    check=Check.ORPHAN,
                    record_kind=kind,
                    record_id=rid,
                    account_id=aid,
                    detail=f"contact {cid!r} {where}",
                )
            )
    return found


def _stale_deals(session: Session, accounts: sa.ScalarSelect[str], today: date) -> list[Issue]:
    rows = session.execute(
        sa.select(
            Opportunity.id,
            Opportunity.account_id,
            Opportunity.name,
            Opportunity.stage,
            Opportunity.close_date,
        )
        .where(
            Opportunity.account_id.in_(accounts),
            Opportunity.stage.in_(_OPEN),
            Opportunity.close_date < today,
        )
        .order_by(Opportunity.close_date, Opportunity.id)
    )
    return [
        Issue(
            check=Check.STALE_DEAL,
            record_kind="opportunities",
            record_id=oid,
            account_id=aid,
            detail=f"{name!r}: close date {close} passed {(today - close).days} days ago, "
            f"still {stage.value}",
        )
        for oid, aid, name, stage, close in rows
        if close is not None
    ]


def _no_contacts(session: Session, scope: sa.ColumnElement[bool]) -> list[Issue]:
    rows = session.execute(
        sa.select(Account.id, Account.name)
        .where(scope, ~sa.exists().where(Contact.account_id == Account.id))
        .order_by(Account.id)
    )
    return [
        Issue(
            check=Check.NO_CONTACTS,
            record_kind="accounts",
            record_id=aid,
            account_id=aid,
            detail=f"account {name!r} has no contacts",
        )
        for aid, name in rows
    ]
