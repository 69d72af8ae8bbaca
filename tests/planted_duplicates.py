"""A CRM with planted duplicates, generated with Faker (outside names, not the sample's).

Base companies and people come from Faker's en_US, en_GB, de_DE, fr_FR and zh_CN
locales; duplicates are made the way CRMs get them — a second account typed with another
legal form, case, a typo, a Chinese city prefix or suffix, brackets; a contact entered
twice with a reordered or misspelt name, an e-mail in other case, a phone in another
format. The ground truth is every planted pair. Nothing here was tuned on the sample CRM.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "zh_CN")
LEGAL = {
    "en_US": ["Inc.", "Inc", "LLC", "Corp.", "Corporation", "Co.", ""],
    "en_GB": ["Ltd", "Limited", "plc", "Ltd.", ""],
    "de_DE": ["GmbH", "AG", "GmbH & Co. KG", "KG", ""],
    "fr_FR": ["SA", "SAS", "S.A.", "SARL", ""],
}
CN_CITIES = ["北京", "上海", "杭州", "深圳", "广州", "南京", "成都"]
CN_FORMS = ["有限公司", "集团有限公司", "股份有限公司", ""]


@dataclass
class Planted:
    directory: Path
    account_pairs: set[frozenset[str]] = field(default_factory=set)
    contact_pairs: set[frozenset[str]] = field(default_factory=set)


def _typo(rng: random.Random, text: str) -> str:
    """One deleted, swapped or replaced letter inside the longest word."""
    words = text.split(" ")
    i = max(range(len(words)), key=lambda n: len(words[n]))
    word = words[i]
    if len(word) < 4:
        return text
    at = rng.randrange(1, len(word) - 1)
    how = rng.choice(("delete", "swap", "replace"))
    if how == "delete":
        word = word[:at] + word[at + 1 :]
    elif how == "swap":
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    else:
        word = word[:at] + rng.choice("aeiourstn") + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def _company(fake: Faker, locale: str, rng: random.Random) -> tuple[str, str]:
    """(name as typed, base without legal form)."""
    if locale == "zh_CN":
        base = fake.company_prefix() + rng.choice(["科技", "网络", "信息", "传媒", "贸易"])
        return base + rng.choice(CN_FORMS[:3]), base
    base = re.sub(r"\s+(Inc\.?|LLC|Ltd\.?|PLC|plc|GmbH|AG|KG|SA|SARL|Group|and Sons)$", "",
                  fake.company().replace(",", ""))  # fmt: skip
    return f"{base} {rng.choice(LEGAL[locale])}".strip(), base


def _account_variant(rng: random.Random, locale: str, name: str, base: str) -> str:
    if locale == "zh_CN":
        how = rng.choice(("city", "form", "bracket", "bare"))
        if how == "city":
            return rng.choice(CN_CITIES) + name
        if how == "form":
            return base + rng.choice([f for f in CN_FORMS if not name.endswith(f or "∅")])
        if how == "bracket":
            return base + "（中国）" + rng.choice(CN_FORMS[:3])
        return base
    how = rng.choice(("form", "upper", "typo", "the", "bracket", "and"))
    if how == "form":
        return f"{base} {rng.choice([f for f in LEGAL[locale] if f not in name] or [''])}".strip()
    if how == "upper":
        return name.upper()
    if how == "typo":
        return _typo(rng, name)
    if how == "the":
        return f"The {name}"
    if how == "bracket":
        return f"{name} ({rng.choice(['Europe', 'US', 'HQ', 'Holding'])})"
    return name.replace(" and ", " & ") if " and " in name else _typo(rng, name)


def _person_variant(rng: random.Random, locale: str, name: str) -> str:
    if locale == "zh_CN":
        return rng.choice((" ".join(name), name[0] + " " + name[1:]))
    first, _, last = name.partition(" ")
    how = rng.choice(("order", "case", "typo"))
    if how == "order":
        return f"{last}, {first}"
    if how == "case":
        return name.upper()
    return _typo(rng, name)


def _phone_variant(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone)
    return digits if digits != phone else "-".join(re.findall(r"\d{1,3}", phone))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30] or "firm"


def generate(directory: Path, seed: int, accounts: int = 300, dup_rate: float = 0.15) -> Planted:
    """Write users.csv, accounts.csv and contacts.csv in the import format."""
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for n, fake in enumerate(fakers.values()):
        fake.seed_instance(seed * 10 + n)
    planted = Planted(directory)
    account_rows: list[list[str]] = []
    contact_rows: list[list[str]] = []
    used: set[str] = set()
    for n in range(accounts):
        locale = rng.choice(LOCALES)
        fake = fakers[locale]
        name, base = _company(fake, locale, rng)
        if name in used:
            continue
        used.add(name)
        aid = f"A{n:04d}"
        account_rows.append([aid, name, "U1"])
        domain = f"{_slug(fake.company() if locale == 'zh_CN' else base)}-{n}.example"
        people = []
        for m in range(rng.randint(1, 4)):
            person = fake.name().replace(" ", "") if locale == "zh_CN" else fake.name()
            local = _slug(fake.user_name())
            email = f"{local}@{domain}" if rng.random() < 0.8 else f"{local}{m}@gmail.com"
            phone = fake.phone_number() if rng.random() < 0.7 else ""
            cid = f"C{n:04d}{m}"
            people.append((cid, person, email, phone))
            contact_rows.append([cid, aid, person, email, phone])
        if rng.random() < dup_rate:  # a second account for the same company
            did = f"D{n:04d}"
            account_rows.append([did, _account_variant(rng, locale, name, base), "U1"])
            planted.account_pairs.add(frozenset((aid, did)))
            for cid, person, email, phone in rng.sample(people, rng.randint(1, len(people))):
                copy = f"{cid}d"
                kept_email = email.capitalize() if rng.random() < 0.6 else ""
                kept_phone = _phone_variant(phone) if phone and rng.random() < 0.6 else ""
                if not kept_email and not kept_phone:
                    kept_email = email
                contact_rows.append([copy, did, person, kept_email, kept_phone])
                planted.contact_pairs.add(frozenset((cid, copy)))
        for cid, person, email, phone in people:  # a contact entered twice
            if rng.random() < 0.06:
                copy = f"{cid}x"
                choice = rng.random()
                e = email.upper() if choice < 0.5 else ""
                p = _phone_variant(phone) if phone and 0.5 <= choice < 0.8 else ""
                contact_rows.append([copy, aid, _person_variant(rng, locale, person), e, p])
                planted.contact_pairs.add(frozenset((cid, copy)))
    _write(directory / "users.csv", ["id", "name", "email", "role", "team", "slack_user_id"],
           [["U1", "Pat Admin", "pat@crm.example", "admin", "Operations", ""]])  # fmt: skip
    _write(directory / "accounts.csv", ["id", "name", "owner_id"], account_rows)
    _write(directory / "contacts.csv", ["id", "account_id", "name", "email", "phone"], contact_rows)
    return planted


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def closure(pairs: set[frozenset[str]]) -> set[frozenset[str]]:
    """Every pair within each group the pairs connect (a contact entered three times
    makes three pairs)."""
    groups: list[set[str]] = []
    for pair in pairs:
        touching = [g for g in groups if g & pair]
        merged = set(pair).union(*touching)
        groups = [g for g in groups if not g & pair] + [merged]
    return {frozenset((a, b)) for g in groups for a in g for b in g if a < b}


def precision_recall(found: set[frozenset[str]], true: set[frozenset[str]]) -> tuple[float, float]:
    """Pairwise precision and recall of the records a plan would merge."""
    true = closure(true)
    hits = len(found & true)
    return (hits / len(found) if found else 1.0, hits / len(true) if true else 1.0)
