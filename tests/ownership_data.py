"""A generated CRM where many people sell to one account, and the visibility matrix of
docs/access.md read plainly over it: the oracle the SQL scope and the vector filter
must both match.

Nothing here comes from knowledge/sample: a team hierarchy three levels deep (a VP over
two managers, one of whom manages a sub-team), reps who own deals and work tickets on
colleagues' accounts, account teams, a manager without a team, support and an admin.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crmassist.domain.enums import Role

TEAMS = {  # team name -> parent team name
    "Sales": None,
    "East": "Sales",
    "West": "Sales",
    "West Inside": "West",
    "Support": None,
}
USERS = [  # id, role, team
    ("V1", Role.MANAGER, "Sales"),
    ("ME", Role.MANAGER, "East"),
    ("MW", Role.MANAGER, "West"),
    ("MI", Role.MANAGER, "West Inside"),
    ("MX", Role.MANAGER, None),
    ("E1", Role.REP, "East"),
    ("E2", Role.REP, "East"),
    ("E3", Role.REP, "East"),
    ("W1", Role.REP, "West"),
    ("W2", Role.REP, "West"),
    ("I1", Role.REP, "West Inside"),
    ("I2", Role.REP, "West Inside"),
    ("S1", Role.SUPPORT, "Support"),
    ("S2", Role.SUPPORT, "Support"),
    ("AD", Role.ADMIN, None),
]
SELLERS = [u for u, role, _ in USERS if role in (Role.REP, Role.MANAGER)]
REPS = [u for u, role, _ in USERS if role is Role.REP]
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
STAGES = (*OPEN_STAGES, "closed_won", "closed_lost")
T0 = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class Crm:
    """The generated records, as plain tuples the oracle reads."""

    accounts: dict[str, str | None] = field(default_factory=dict)  # id -> owner
    team: set[tuple[str, str]] = field(default_factory=set)  # (account, user)
    deals: dict[str, tuple[str, str | None, str]] = field(
        default_factory=dict
    )  # account, owner, stage
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)  # account, author
    tickets: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # account, assignee
    orders: dict[str, str] = field(default_factory=dict)  # account
    tasks: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # account, owner


def generate(seed: int = 12) -> Crm:
    rng = random.Random(seed)
    crm = Crm()
    for i in range(30):
        crm.accounts[f"A{i:02}"] = None if i % 10 == 9 else rng.choice(REPS)
    accounts = sorted(crm.accounts)
    while len(crm.team) < 25:
        crm.team.add((rng.choice(accounts), rng.choice(SELLERS)))
    for i in range(70):  # deals mostly owned by someone other than the account's owner
        crm.deals[f"D{i:02}"] = (
            rng.choice(accounts),
            rng.choice([*REPS, None]),
            rng.choice(STAGES),
        )
    for i in range(90):
        author = rng.choice([*SELLERS, "S1", "AD"])
        crm.notes[f"N{i:02}"] = (rng.choice(accounts), author)
    for i in range(40):
        crm.tickets[f"T{i:02}"] = (rng.choice(accounts), rng.choice([*REPS, "S1", "S2", None]))
    for i in range(30):
        crm.orders[f"O{i:02}"] = rng.choice(accounts)
    for i in range(30):
        crm.tasks[f"K{i:02}"] = (rng.choice([*accounts, None]), rng.choice(SELLERS))
    return crm


def write_export(crm: Crm, directory: Path) -> Path:
    """The records in the import format (docs/data-format.md); tasks are not part of it."""
    directory.mkdir(parents=True, exist_ok=True)
    _csv(directory / "teams.csv", ["name", "parent"], [[t, p or ""] for t, p in TEAMS.items()])
    _csv(
        directory / "users.csv",
        ["id", "name", "email", "role", "team"],
        [[u, f"User {u}", f"{u.lower()}@example.test", r.value, t or ""] for u, r, t in USERS],
    )
    _csv(
        directory / "accounts.csv",
        ["id", "name", "industry", "owner_id"],
        [[a, f"Company {a}", "Water", o or ""] for a, o in crm.accounts.items()],
    )
    _csv(
        directory / "account_team.csv",
        ["account_id", "user_id", "role"],
        [[a, u, "Sales engineer"] for a, u in sorted(crm.team)],
    )
    _csv(
        directory / "opportunities.csv",
        [
            "id",
            "account_id",
            "name",
            "stage",
            "amount",
            "currency",
            "close_date",
            "probability",
            "owner_id",
        ],
        [
            [d, a, f"Deal {d}", s, "1000", "USD", "2026-12-01", "50", o or ""]
            for d, (a, o, s) in crm.deals.items()
        ],
    )
    _csv(
        directory / "orders.csv",
        ["id", "account_id", "order_date", "amount", "currency", "product"],
        [[o, a, "2026-05-01", "500", "USD", "Filter"] for o, a in crm.orders.items()],
    )
    _jsonl(
        directory / "interactions.jsonl",
        [
            {"id": n, "account_id": a, "author_id": u, "channel": "call",
             "occurred_at": (T0 + timedelta(hours=i)).isoformat(),
             "body": f"Call {n} about filter cartridges for Company {a}."}
            for i, (n, (a, u)) in enumerate(crm.notes.items())
        ],
    )  # fmt: skip
    _jsonl(
        directory / "tickets.jsonl",
        [
            {"id": t, "account_id": a, "subject": f"Leak {t}", "body": f"Ticket {t}: a leak.",
             "status": "open", "priority": "normal", "assignee_id": u,
             "created_at": (T0 + timedelta(hours=i)).isoformat()}
            for i, (t, (a, u)) in enumerate(crm.tickets.items())
        ],
    )  # fmt: skip
    return directory


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


# --- the matrix, read plainly -----------------------------------------------------------


def owners(user: str) -> set[str]:
    """The user, plus for a manager everyone in their team and the teams below it."""
    role, team = next((r, t) for u, r, t in USERS if u == user)
    if role is not Role.MANAGER or team is None:
        return {user}
    below, grew = {team}, True
    while grew:
        more = {t for t, parent in TEAMS.items() if parent in below} - below
        below |= more
        grew = bool(more)
    return {user} | {u for u, _, t in USERS if t in below}


@dataclass(frozen=True)
class Visible:
    profiles: set[str]
    deals: set[str]
    notes: set[str]
    tickets: set[str]
    tasks: set[str]
    orders: set[str]


def visible(crm: Crm, user: str) -> Visible:
    role = next(r for u, r, _ in USERS if u == user)
    if role is Role.ADMIN:
        return Visible(
            set(crm.accounts), set(crm.deals), set(crm.notes), set(crm.tickets),
            set(crm.tasks), set(crm.orders),
        )  # fmt: skip
    if role is Role.SUPPORT:  # profiles, tickets and tasks; never deals, notes or orders
        return Visible(set(crm.accounts), set(), set(), set(crm.tickets), set(crm.tasks), set())
    who = owners(user)
    full = {a for a, o in crm.accounts.items() if o in who} | {a for a, u in crm.team if u in who}
    deals = {d for d, (a, o, _) in crm.deals.items() if a in full or o in who}
    tickets = {t for t, (a, u) in crm.tickets.items() if a in full or u in who}
    granted = {crm.deals[d][0] for d in deals if crm.deals[d][1] in who}
    granted |= {crm.tickets[t][0] for t in tickets if crm.tickets[t][1] in who}
    return Visible(
        profiles=full | granted,
        deals=deals,
        notes={n for n, (a, u) in crm.notes.items() if a in full or u in who},
        tickets=tickets,
        tasks={k for k, (a, o) in crm.tasks.items() if a in full or o in who},
        orders={o for o, a in crm.orders.items() if a in full},
    )
