"""A second CRM, generated independently of knowledge/sample, for checking pipeline numbers.

Another company (Nordwerk, an industrial parts supplier selling across Europe), names from
Faker's European locales, its own products, regions, industries, stage mix and amount
distribution (lognormal), deals created and closed from 2016 to early 2019. Seeded, so the
files are the same on every run; the committed CSVs are its output:

    .venv/bin/python tests/data/outside_crm/generate.py
"""

from __future__ import annotations

import csv
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

SEED = 20161
HERE = Path(__file__).parent
AS_OF = date(2018, 9, 14)
"""The export day: deals closing later are still open, earlier ones are mostly closed."""
DEALS = 6000
ACCOUNTS = 96

TEAMS = {  # team: (region, Faker locale)
    "DACH Key Accounts": ("DACH", "de_DE"),
    "Benelux Distribution": ("Benelux", "nl_NL"),
    "Iberia Field Sales": ("Iberia", "es_ES"),
    "Nordics OEM": ("Nordics", "sv_SE"),
    "France Channel": ("France", "fr_FR"),
    "Italy Projects": ("Italy", "it_IT"),
}
REPS_PER_TEAM = (7, 6, 6, 5, 6, 6)
INDUSTRIES = (
    ("Automotive", 0.22), ("Food & Beverage", 0.14), ("Mining", 0.08), ("Chemicals", 0.14),
    ("Packaging", 0.12), ("Wind Energy", 0.10), ("Rail", 0.08), ("Pharmaceuticals", 0.12),
)  # fmt: skip
PRODUCTS = (  # name, median deal size (EUR)
    ("Spherical roller bearing SRB-220", 9_000),
    ("Hydraulic gear pump HGP-40", 14_000),
    ("Servo drive SD-7", 22_000),
    ("Linear guide rail LG-1200", 6_500),
    ("Pneumatic valve island PV-16", 11_000),
    ("Industrial gearbox IG-900", 38_000),
    ("Condition monitoring kit CM-3", 17_000),
    ("Stainless ball valve BV-50", 4_000),
    ("Conveyor drive package CDP-2", 52_000),
    ("Sealing system retrofit SSR", 26_000),
)
STAGE_PROBABILITY = {
    "prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 80,
    "closed_won": 100, "closed_lost": 0,
}  # fmt: skip
OPEN_MIX = (("prospecting", 0.3), ("qualification", 0.3), ("proposal", 0.25), ("negotiation", 0.15))


@dataclass(frozen=True)
class Rep:
    id: str
    name: str
    team: str
    skill: float
    """Win propensity: some reps close far more than others."""


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w for w, _ in weighted], [p for _, p in weighted])[0]


def _users(rng: random.Random) -> tuple[list[dict[str, str]], list[Rep]]:
    rows, reps, n = [], [], 1
    for (team, (_, locale)), count in zip(TEAMS.items(), REPS_PER_TEAM, strict=True):
        fake = Faker(locale)
        fake.seed_instance(SEED + n)
        for position in range(count + 1):
            name = f"{fake.first_name()} {fake.last_name()}"
            user_id = f"NW{n:03d}"
            role = "manager" if position == 0 else "rep"
            email = f"{_slug(name)}.{n}@nordwerk.example"
            rows.append({"id": user_id, "name": name, "email": email, "role": role,
                         "team": team, "slack_user_id": ""})  # fmt: skip
            if role == "rep":
                reps.append(Rep(user_id, name, team, rng.uniform(0.3, 0.75)))
            n += 1
    rows.append({"id": "NW900", "name": "Ops Admin", "email": "ops@nordwerk.example",
                 "role": "admin", "team": "", "slack_user_id": ""})  # fmt: skip
    return rows, reps


def _accounts(rng: random.Random, reps: list[Rep]) -> list[dict[str, str]]:
    rows = []
    names: set[str] = set()
    for n in range(1, ACCOUNTS + 1):
        team = list(TEAMS)[(n - 1) % len(TEAMS)]
        region, locale = TEAMS[team]
        fake = Faker(locale)
        fake.seed_instance(SEED * 7 + n)
        name = fake.company()
        while name in names or name in _real_companies(fake):
            name = fake.company()
        names.add(name)
        owner = rng.choice([r for r in reps if r.team == team])
        rows.append({
            "id": f"NWA{n:03d}", "name": name, "industry": _pick(rng, INDUSTRIES),
            "region": region, "size": rng.choice(["smb", "mid-market", "enterprise"]),
            "owner_id": owner.id, "created_at": f"2015-{rng.randint(1, 12):02d}-01",
        })  # fmt: skip
    return rows


def _real_companies(fake: Faker) -> tuple[str, ...]:
    """Some locales also draw from lists of real firms: an invented CRM uses invented names."""
    company = next(p for p in fake.get_providers() if hasattr(p, "company_suffix"))
    return tuple(getattr(company, "large_companies", ()))


def _deal(rng: random.Random, n: int, account: dict[str, str], rep: Rep) -> dict[str, str]:
    product, median = rng.choice(PRODUCTS)
    amount = round(rng.lognormvariate(math.log(median), 0.8), -1)
    first = date(2016, 1, 4)
    created = first + timedelta(days=rng.randint(0, (AS_OF - first).days - 2))
    cycle = max(3, int(rng.lognormvariate(math.log(55), 0.6)))
    close = created + timedelta(days=cycle)
    if close <= AS_OF:
        won = rng.random() < rep.skill * (0.8 if amount > 3 * median else 1.0)
        stage = "closed_won" if won else "closed_lost"
    else:
        stage = _pick(rng, OPEN_MIX)
        if rng.random() < 0.15:  # slipped: still open, its close date already past
            close = created + timedelta(days=rng.randint(1, (AS_OF - created).days - 1))
    probability = STAGE_PROBABILITY[stage]
    return {
        "id": f"NWO{n:05d}", "account_id": account["id"],
        "name": f"{account['name']} / {product}", "stage": stage, "amount": f"{amount:.2f}",
        "currency": "EUR", "close_date": close.isoformat(), "probability": str(probability),
        "owner_id": rep.id, "product": product if rng.random() > 0.03 else "",
        "created_date": created.isoformat() if rng.random() > 0.02 else "",
    }  # fmt: skip


def generate(directory: Path) -> None:
    rng = random.Random(SEED)
    users, reps = _users(rng)
    accounts = _accounts(rng, reps)
    weights = [rng.paretovariate(1.4) for _ in accounts]  # a few accounts buy most
    deals = []
    for n in range(1, DEALS + 1):
        account = rng.choices(accounts, weights)[0]
        team = next(r.team for r in reps if r.id == account["owner_id"])
        owner = next(r for r in reps if r.id == account["owner_id"])
        if rng.random() < 0.2:  # colleagues in the same team share accounts
            owner = rng.choice([r for r in reps if r.team == team])
        deals.append(_deal(rng, n, account, owner))
    for name, rows in (("users", users), ("accounts", accounts), ("opportunities", deals)):
        with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    generate(HERE)
