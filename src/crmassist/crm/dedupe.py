"""Duplicate accounts and contacts: found, proposed as a plan, merged, and undone.

Candidates come from blocking (same normalised name, name-token prefixes and suffixes,
the contacts' e-mails, phones and company e-mail domains), so a CRM of any size is never
compared pair by pair; each candidate pair is scored with rapidfuzz and kept only with
a reason a reviewer can check. Merging keeps every note, deal, order, ticket and task
(they move to the surviving record) and writes everything it changed to the audit log in
the same transaction, which is what `undo` replays backwards.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from rapidfuzz import fuzz, utils
from sqlalchemy.orm import Session

from crmassist.crm import lifecycle
from crmassist.crm.customers import normalise
from crmassist.crm.errors import NotFound
from crmassist.domain.enums import SourceType
from crmassist.domain.language import without_accents
from crmassist.domain.models import (
    Account,
    AccountTeamMember,
    AuditEvent,
    Contact,
    Interaction,
    Opportunity,
    Order,
    Task,
    Ticket,
)
from crmassist.errors import CrmassistError
from crmassist.privacy.detectors import PHONE_REGIONS

APPLY_ACTION = "dedupe.apply"
UNDO_ACTION = "dedupe.undo"
MIN_TYPO_KEY = 8
"""Shorter names one letter apart are as often two names ("Perret"/"Perrot") as a typo."""
MAX_BLOCK = 100
"""Blocks larger than this (a token every other company has) say nothing; skipped."""

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_CN_SUFFIX = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团公司|集团|控股|股份|公司)$")
_CN_PLACE = re.compile(
    r"^(中国|北京|上海|天津|重庆|杭州|深圳|广州|南京|苏州|成都|武汉|西安|青岛|宁波|厦门|大连|"
    r"香港|台北|长沙|郑州|济南|沈阳|合肥|福州|昆明|无锡|佛山|东莞)[市省]?"
)
_LEGAL_FORMS = re.compile(
    r"\b(incorporated|limited|llp|lp|mbh|kg|se|plc|holdings?|s\.?a\.?s|s\.?r\.?l|s\.?p\.?a|"
    r"b\.?v|n\.?v|oy|ab|a/s|pty|k\.?k|the|and)\b\.?|&",
    re.IGNORECASE,
)
"""Legal forms beyond those `customers.normalise` drops (Inc., Ltd, GmbH, Corp, Co., AG…)."""
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.jp",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "aliyun.com",
    }
)
"""Mailbox providers: a shared domain there says nothing about the company."""


# --- normalisation ---------------------------------------------------------------------------


def company_key(name: str) -> str:
    """A company name without legal form, brackets, Chinese suffix or leading city:
    "杭州西湖国际酒店有限公司" -> "西湖国际酒店", "ACME Corp." -> "acme"."""
    text = _BRACKETS.sub(" ", unicodedata.normalize("NFKC", name))
    text = without_accents(_LEGAL_FORMS.sub(" ", text))
    key = normalise(text) or utils.default_process(text)  # a name that is all legal form
    if _CJK.search(key):
        key = key.replace(" ", "")
        while (shorter := _CN_SUFFIX.sub("", key)) != key and len(shorter) >= 2:
            key = shorter
        if len(stripped := _CN_PLACE.sub("", key)) >= 2:
            key = stripped
    return key


def person_key(name: str) -> str:
    """A person's name with word order, case, accents and punctuation ignored."""
    text = utils.default_process(without_accents(unicodedata.normalize("NFKC", name)))
    if _CJK.search(text):
        return text.replace(" ", "")
    return " ".join(sorted(text.split()))


def email_key(email: str | None) -> str | None:
    """Lower case, without a `+tag`: the mailbox mail really goes to."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def company_domain(email: str | None) -> str | None:
    """The e-mail's domain when it can name a company (not a mailbox provider)."""
    key = email_key(email)
    if key is None:
        return None
    domain = key.rpartition("@")[2].removeprefix("www.").removeprefix("mail.")
    return None if domain in FREE_MAIL else domain


def phone_keys(phone: str | None) -> frozenset[str]:
    """Every E.164 number `phone` can be: one for `+cc …`; for a number written without
    a country code, one per numbering plan we serve in which it is valid ("(0571) 5943
    4351" is Hangzhou and a German number at once); else its digits."""
    if not phone:
        return frozenset()
    import phonenumbers

    e164 = phonenumbers.PhoneNumberFormat.E164
    regions = (None,) if phone.strip().startswith("+") else PHONE_REGIONS
    keys = set()
    for region in regions:
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        if region is None or phonenumbers.is_valid_number(number):
            keys.add(phonenumbers.format_number(number, e164))
    digits = re.sub(r"\D", "", phone)
    return frozenset(keys or ({digits} if len(digits) >= 7 else set()))


def name_similarity(a: str, b: str) -> float:
    """0-100 over normalised keys: word order ignored for Latin, characters for Chinese."""
    if not a or not b:
        return 0.0
    return float(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)))


# --- the plan ---------------------------------------------------------------------------------


class Duplicate(BaseModel):
    id: str
    name: str
    score: float
    reasons: list[str]


class MergeGroup(BaseModel):
    """Records that are one and the same; the duplicates merge into the survivor."""

    kind: str  # "account" or "contact"
    survivor_id: str
    survivor_name: str
    duplicates: list[Duplicate]


class MergePlan(BaseModel):
    groups: list[MergeGroup]

    def of(self, kind: str) -> list[MergeGroup]:
        return [g for g in self.groups if g.kind == kind]

    def pairs(self, kind: str) -> set[frozenset[str]]:
        """Every pair of records the plan would make one (for precision and recall)."""
        found: set[frozenset[str]] = set()
        for group in self.of(kind):
            ids = [group.survivor_id, *(d.id for d in group.duplicates)]
            found |= {frozenset(p) for p in itertools.combinations(ids, 2)}
        return found


@dataclass
class _Account:
    id: str
    name: str
    key: str
    created_at: datetime | None
    links: int = 0
    emails: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


@dataclass
class _Contact:
    id: str
    account_id: str
    name: str
    key: str
    email: str | None
    phones: frozenset[str]
    filled: int
    links: int = 0


def plan_merges(session: Session, kinds: Iterable[str] = ("account", "contact")) -> MergePlan:
    """The merge plan for the whole CRM: accounts first, then contacts (whose accounts
    may be merged by the same plan)."""
    wanted = set(kinds)
    accounts = _load_accounts(session)
    account_groups = _account_groups(accounts) if "account" in wanted else []
    merged_into = {d.id: g.survivor_id for g in account_groups for d in g.duplicates}
    contact_groups = _contact_groups(_load_contacts(session), merged_into)
    return MergePlan(groups=account_groups + (contact_groups if "contact" in wanted else []))


def _load_accounts(session: Session) -> dict[str, _Account]:
    accounts = {
        aid: _Account(aid, name, company_key(name), created)
        for aid, name, created in session.execute(
            sa.select(Account.id, Account.name, Account.created_at)
        )
    }
    for model in (Opportunity, Order, Interaction, Ticket):
        counts = sa.select(model.account_id, sa.func.count()).group_by(model.account_id)
        for aid, n in session.execute(counts):
            if aid in accounts:
                accounts[aid].links += n
    for aid, email, phone in session.execute(
        sa.select(Contact.account_id, Contact.email, Contact.phone)
    ):
        account = accounts.get(aid)
        if account is None:
            continue
        account.links += 1
        if key := email_key(email):
            account.emails.add(key)
        if domain := company_domain(email):
            account.domains.add(domain)
        account.phones |= phone_keys(phone)
    return accounts


def _load_contacts(session: Session) -> dict[str, _Contact]:
    contacts = {
        c.id: _Contact(
            c.id,
            c.account_id,
            c.name,
            person_key(c.name),
            email_key(c.email),
            phone_keys(c.phone),
            sum(1 for v in (c.title, c.email, c.phone) if v),
        )
        for c in session.scalars(sa.select(Contact))
    }
    for model in (Interaction, Ticket):
        counts = sa.select(model.contact_id, sa.func.count()).group_by(model.contact_id)
        for cid, n in session.execute(counts):
            if cid in contacts:
                contacts[cid].links += n
    return contacts


def _name_blocks(key: str) -> Iterator[str]:
    """Blocking keys of a name: itself, and each word's first and last three characters
    (a typo rarely hits both ends); Chinese names by character pairs."""
    yield f"n:{key}"
    if _CJK.search(key):
        yield from (f"c:{key[i : i + 2]}" for i in range(len(key) - 1))
        return
    for word in key.split():
        if len(word) >= 3:
            yield f"p:{word[:3]}"
            yield f"s:{word[-3:]}"


def _candidate_pairs(blocks: dict[str, list[str]]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for members in blocks.values():
        if 1 < len(members) <= MAX_BLOCK:
            ordered = sorted(set(members))
            pairs |= set(itertools.combinations(ordered, 2))
    return pairs


def _account_groups(accounts: dict[str, _Account]) -> list[MergeGroup]:
    blocks: dict[str, list[str]] = defaultdict(list)
    for a in accounts.values():
        keys = [*_name_blocks(a.key)] if a.key else []
        keys += [f"e:{e}" for e in a.emails] + [f"d:{d}" for d in a.domains]
        keys += [f"t:{p}" for p in a.phones]
        for key in keys:
            blocks[key].append(a.id)
    common = Counter(a.key for a in accounts.values())
    matches = []
    for left, right in _candidate_pairs(blocks):
        found = _account_match(accounts[left], accounts[right], common)
        if found is not None:
            matches.append((left, right, *found))
    return _groups("account", matches, accounts, _account_rank)


def _account_match(
    a: _Account, b: _Account, common: Counter[str]
) -> tuple[float, list[str]] | None:
    """(score, reasons) when a and b are the same company; None otherwise.

    A name alone is not enough where it is common ("Martin" is three firms here) or where
    each has contacts at its own company domain and none shared (two firms' websites);
    a near-miss name alone only when it is long enough to make a typo the likelier story."""
    similar = name_similarity(a.key, b.key)
    evidence, strong = [], False
    if shared := sorted(a.emails & b.emails):
        evidence.append(f"a contact e-mail in both ({shared[0]})")
        strong = True
    if shared := sorted(a.phones & b.phones):
        evidence.append(f"a contact phone in both ({shared[0]})")
        strong = True
    if shared := sorted(a.domains & b.domains):
        evidence.append(f"contacts at the same domain ({shared[0]})")
    other_domains = bool(a.domains and b.domains and not a.domains & b.domains)
    if (other_domains or common[a.key] > 2 or common[b.key] > 2) and not strong:
        return None
    name = f"names {similar:.0f}% alike after normalising ({a.key!r} / {b.key!r})"
    if a.key and a.key == b.key:
        return 100.0, [f"the same name after normalising ({a.key!r})", *evidence]
    distinctive = min(len(a.key), len(b.key)) >= MIN_TYPO_KEY
    if (similar >= 90 and distinctive) or (similar >= 75 and evidence):
        return similar, [name, *evidence]
    if similar >= 60 and len(evidence) >= 2:
        return similar, [name, *evidence]
    return None


def _contact_groups(contacts: dict[str, _Contact], merged_into: dict[str, str]) -> list[MergeGroup]:
    """Contacts of one company (after the account merges) that are one person."""

    def company(c: _Contact) -> str:
        return merged_into.get(c.account_id, c.account_id)

    blocks: dict[str, list[str]] = defaultdict(list)
    for c in contacts.values():
        blocks[f"a:{company(c)}"].append(c.id)
        if c.email:
            blocks[f"e:{c.email}"].append(c.id)
        for number in c.phones:
            blocks[f"t:{number}"].append(c.id)
    matches = []
    for left, right in _candidate_pairs(blocks):
        a, b = contacts[left], contacts[right]
        if company(a) != company(b):
            continue  # one person at two unrelated companies is a job change, not a duplicate
        found = _contact_match(a, b)
        if found is not None:
            matches.append((left, right, *found))
    return _groups("contact", matches, contacts, _contact_rank)


def _contact_match(a: _Contact, b: _Contact) -> tuple[float, list[str]] | None:
    similar = name_similarity(a.key, b.key)
    name = f"names {similar:.0f}% alike ({a.name!r} / {b.name!r})"
    if a.email and a.email == b.email:
        return 100.0, [f"the same e-mail ({a.email})", name]
    if (shared := sorted(a.phones & b.phones)) and similar >= 70:
        return max(similar, 90.0), [f"the same phone ({shared[0]})", name]
    if similar >= 88 and not (a.email and b.email) and not (a.phones and b.phones):
        return similar, [name, "no e-mail or phone that tells them apart"]
    if similar >= 95:
        return similar, [name]
    return None


def _account_rank(a: _Account) -> tuple[Any, ...]:
    """Survivor first: most linked records, then the oldest, then the lowest id."""
    created = a.created_at or datetime.max.replace(tzinfo=UTC)
    return (-a.links, created, a.id)


def _contact_rank(c: _Contact) -> tuple[Any, ...]:
    return (-c.links, -c.filled, c.id)


def _groups(
    kind: str,
    matches: list[tuple[str, str, float, list[str]]],
    records: dict[str, Any],
    rank: Any,
) -> list[MergeGroup]:
    """Matched pairs joined into groups (union-find), each with its best survivor."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for left, right, _, _ in matches:
        parent[root(left)] = root(right)
    members: dict[str, set[str]] = defaultdict(set)
    for left, right, _, _ in matches:
        members[root(left)] |= {left, right}
    by_pair = {frozenset((left, right)): (score, why) for left, right, score, why in matches}
    best: dict[str, tuple[float, list[str]]] = {}
    for left, right, score, reasons in sorted(matches, key=lambda m: -m[2]):
        for x in (left, right):
            best.setdefault(x, (score, reasons))
    groups = []
    for ids in members.values():
        ordered = sorted((records[i] for i in ids), key=rank)
        survivor = ordered[0]
        dups = []
        for r in ordered[1:]:  # why it is the survivor's duplicate, else its best link
            score, reasons = by_pair.get(frozenset((r.id, survivor.id)), best[r.id])
            dups.append(Duplicate(id=r.id, name=r.name, score=score, reasons=reasons))
        groups.append(
            MergeGroup(
                kind=kind, survivor_id=survivor.id, survivor_name=survivor.name, duplicates=dups
            )
        )
    return sorted(groups, key=lambda g: (-len(g.duplicates), g.survivor_name, g.survivor_id))


# --- applying and undoing ---------------------------------------------------------------------


class DedupeError(CrmassistError):
    """A plan or undo that cannot be carried out as asked; nothing was changed."""


@dataclass
class MergeResult:
    audit_id: int
    accounts_merged: int
    contacts_merged: int
    records_moved: int
    affected: dict[SourceType, set[str]]
    """Records whose indexed text or access changed: index them again."""


_ACCOUNT_CHILDREN: tuple[tuple[str, Any], ...] = (
    ("contacts", Contact),
    ("opportunities", Opportunity),
    ("orders", Order),
    ("interactions", Interaction),
    ("tickets", Ticket),
    ("tasks", Task),
)
_CONTACT_CHILDREN: tuple[tuple[str, Any], ...] = (
    ("interactions", Interaction),
    ("tickets", Ticket),
)
_FILLABLE = {
    "account": ("industry", "region", "size", "owner_id", "created_at"),
    "contact": ("title", "email", "phone"),
}
_MODEL: dict[str, Any] = {"account": Account, "contact": Contact}


def apply_plan(
    session: Session, plan: MergePlan, actor_id: str | None, now: datetime
) -> MergeResult:
    """Merge every group of `plan` in `session`'s transaction and audit it there too."""
    affected: dict[SourceType, set[str]] = defaultdict(set)
    undo: dict[str, list[dict[str, Any]]] = {"account": [], "contact": []}
    moved = 0
    for kind in ("account", "contact"):
        for group in plan.of(kind):
            entry, count = _merge_group(session, group, affected)
            undo[kind].append(entry)
            moved += count
    event = AuditEvent(
        at=now,
        actor_id=actor_id,
        action=APPLY_ACTION,
        target=f"{len(undo['account'])} account and {len(undo['contact'])} contact group(s)",
        details={"undo": undo, "plan": plan.model_dump(mode="json")},
    )
    session.add(event)
    lifecycle.recompute(session, now.date(), affected[SourceType.ACCOUNT], now)
    session.flush()
    return MergeResult(
        audit_id=event.id,
        accounts_merged=sum(len(g.duplicates) for g in plan.of("account")),
        contacts_merged=sum(len(g.duplicates) for g in plan.of("contact")),
        records_moved=moved,
        affected=dict(affected),
    )


def _merge_group(
    session: Session, group: MergeGroup, affected: dict[SourceType, set[str]]
) -> tuple[dict[str, Any], int]:
    model = _MODEL[group.kind]
    survivor = session.get(model, group.survivor_id)
    if survivor is None:
        raise DedupeError(f"{group.kind} {group.survivor_id} no longer exists; plan again")
    before = {name: _to_json(getattr(survivor, name)) for name in _FILLABLE[group.kind]}
    removed, moved = [], 0
    for dup in group.duplicates:
        record = session.get(model, dup.id)
        if record is None or dup.id == group.survivor_id:
            raise DedupeError(f"{group.kind} {dup.id} no longer exists; plan again")
        children = _move_children(session, group.kind, dup.id, group.survivor_id, affected)
        moved += sum(len(ids) for ids in children.values())
        for name in _FILLABLE[group.kind]:
            if getattr(survivor, name) is None and getattr(record, name) is not None:
                setattr(survivor, name, getattr(record, name))
        team = _move_team(session, dup.id, group.survivor_id) if group.kind == "account" else {}
        removed.append({"row": _row(record), "moved": children, "team": team})
        session.delete(record)
        session.flush()
    account_id = survivor.id if group.kind == "account" else survivor.account_id
    affected[SourceType.ACCOUNT] |= {
        account_id,
        *(d.id for d in group.duplicates if group.kind == "account"),
    }
    _reindex_account(session, account_id, affected)
    entry = {"survivor": group.survivor_id, "before": before, "removed": removed}
    return entry, moved


def _move_team(session: Session, old: str, new: str) -> dict[str, list[Any]]:
    """The duplicate's account team joins the survivor's (a membership id names its
    account, so members are re-added, not moved); both halves are kept for undo."""
    rows = list(
        session.scalars(sa.select(AccountTeamMember).where(AccountTeamMember.account_id == old))
    )
    present = set(
        session.scalars(
            sa.select(AccountTeamMember.user_id).where(AccountTeamMember.account_id == new)
        )
    )
    added = []
    for member in rows:
        if member.user_id not in present:
            joined = AccountTeamMember(
                id=f"{new}\t{member.user_id}",
                account_id=new,
                user_id=member.user_id,
                role=member.role,
            )
            session.add(joined)
            added.append(joined.id)
        session.delete(member)
    session.flush()
    return {"removed": [_row(m) for m in rows], "added": added}


def _reindex_account(
    session: Session, account_id: str, affected: dict[SourceType, set[str]]
) -> None:
    """Every note and ticket of an account whose owner or team may have changed: their
    access payload carries both."""
    for source, model in ((SourceType.INTERACTION, Interaction), (SourceType.TICKET, Ticket)):
        affected[source] |= set(
            session.scalars(sa.select(model.id).where(model.account_id == account_id))
        )


def _move_children(
    session: Session, kind: str, old: str, new: str, affected: dict[SourceType, set[str]]
) -> dict[str, list[str]]:
    children = _ACCOUNT_CHILDREN if kind == "account" else _CONTACT_CHILDREN
    column = "account_id" if kind == "account" else "contact_id"
    moved: dict[str, list[str]] = {}
    for table, model in children:
        fk = getattr(model, column)
        ids = sorted(session.scalars(sa.select(model.id).where(fk == old)))
        if ids:
            session.execute(sa.update(model).where(fk == old).values({column: new}))
            moved[table] = ids
    affected[SourceType.INTERACTION] |= set(moved.get("interactions", []))
    affected[SourceType.TICKET] |= set(moved.get("tickets", []))
    session.flush()
    return moved


def undo_merge(session: Session, audit_id: int, actor_id: str | None, now: datetime) -> MergeResult:
    """Put back what the merge `audit_id` changed, in reverse, or change nothing and say why."""
    event = session.get(AuditEvent, audit_id)
    if event is None or event.action != APPLY_ACTION:
        raise NotFound(f"audit event {audit_id} is not a dedupe merge")
    undone = sa.select(AuditEvent.id).where(
        AuditEvent.action == UNDO_ACTION, AuditEvent.target == str(audit_id)
    )
    if (earlier := session.scalar(undone)) is not None:
        raise DedupeError(f"merge {audit_id} was already undone (audit event {earlier})")
    undo = event.details["undo"]
    _check_undoable(session, undo)
    affected: dict[SourceType, set[str]] = defaultdict(set)
    moved = 0
    for kind in ("contact", "account"):
        for entry in reversed(undo[kind]):
            moved += _unmerge(session, kind, entry, affected)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor_id,
            action=UNDO_ACTION,
            target=str(audit_id),
            details={"restored": _restored(undo)},
        )
    )
    lifecycle.recompute(session, now.date(), affected[SourceType.ACCOUNT], now)
    session.flush()
    return MergeResult(
        audit_id=audit_id,
        accounts_merged=-sum(len(e["removed"]) for e in undo["account"]),
        contacts_merged=-sum(len(e["removed"]) for e in undo["contact"]),
        records_moved=moved,
        affected=dict(affected),
    )


def _restored(undo: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        r["row"]["id"] for kind in ("account", "contact") for e in undo[kind] for r in e["removed"]
    ]


def _check_undoable(session: Session, undo: dict[str, list[dict[str, Any]]]) -> None:
    for kind in ("account", "contact"):
        model = _MODEL[kind]
        for entry in undo[kind]:
            if session.get(model, entry["survivor"]) is None:
                raise DedupeError(
                    f"{kind} {entry['survivor']} (the merge's survivor) is gone; nothing undone"
                )
            for removed in entry["removed"]:
                if session.get(model, removed["row"]["id"]) is not None:
                    raise DedupeError(
                        f"{kind} {removed['row']['id']} exists again (imported since?); "
                        "nothing undone"
                    )


def _unmerge(
    session: Session, kind: str, entry: dict[str, Any], affected: dict[SourceType, set[str]]
) -> int:
    model = _MODEL[kind]
    survivor = session.get(model, entry["survivor"])
    assert survivor is not None  # checked first
    column = "account_id" if kind == "account" else "contact_id"
    children = dict(_ACCOUNT_CHILDREN if kind == "account" else _CONTACT_CHILDREN)
    moved = 0
    for removed in entry["removed"]:
        session.add(_restore(model, removed["row"]))
        session.flush()
        for table, ids in removed["moved"].items():
            child = children[table]
            result = session.execute(
                sa.update(child)
                .where(child.id.in_(ids), getattr(child, column) == entry["survivor"])
                .values({column: removed["row"]["id"]})
            )
            moved += result.rowcount  # type: ignore[attr-defined]
            if table in ("interactions", "tickets"):
                source = SourceType.INTERACTION if table == "interactions" else SourceType.TICKET
                affected[source] |= set(ids)
        if kind == "account":
            affected[SourceType.ACCOUNT].add(removed["row"]["id"])
            _restore_team(session, removed.get("team") or {})
    for name, value in entry["before"].items():
        setattr(survivor, name, _from_json(model, name, value))
    account_id = survivor.id if kind == "account" else survivor.account_id
    affected[SourceType.ACCOUNT].add(account_id)
    session.flush()
    _reindex_account(session, account_id, affected)
    return moved


def _restore_team(session: Session, team: dict[str, list[Any]]) -> None:
    if team.get("added"):
        session.execute(sa.delete(AccountTeamMember).where(AccountTeamMember.id.in_(team["added"])))
        session.flush()
    for row in team.get("removed", []):
        session.add(_restore(AccountTeamMember, row))
    session.flush()


def _row(record: Any) -> dict[str, Any]:
    return {c.key: _to_json(getattr(record, c.key)) for c in sa.inspect(type(record)).columns}


def _restore(model: Any, row: dict[str, Any]) -> Any:
    return model(**{name: _from_json(model, name, value) for name, value in row.items()})


def _to_json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _from_json(model: Any, name: str, value: Any) -> Any:
    if value is None:
        return None
    column_type = sa.inspect(model).columns[name].type
    if isinstance(column_type, sa.TypeDecorator):
        column_type = column_type.impl_instance
    kind = column_type.python_type
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value
