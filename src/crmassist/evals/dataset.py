"""Eval datasets: YAML files of cases, written by hand or generated from the data itself.

A case names the user it runs as, one or more turns, and what must hold. Generated cases
(`generate:` entries) are derived from the CRM being evaluated — every KB article's
title must find that article, every account of another team must stay invisible — so the
suite also works on data it was not written for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from crmassist.access.directory import principal_for
from crmassist.access.scope import profile_scope
from crmassist.domain.enums import Audience, Role
from crmassist.domain.models import Account, KnowledgeArticle, User
from crmassist.errors import CrmassistError


@dataclass
class Case:
    id: str
    category: str
    user: str
    turns: list[str]
    expect: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"
    """en, zh or mixed: scores are reported per language."""


@dataclass
class Dataset:
    suite: str
    today: date | None
    cases: list[Case]


class DatasetError(CrmassistError):
    pass


LANGUAGES = ("en", "zh", "mixed")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def language_of(turns: list[str]) -> str:
    """A case's language when the dataset does not say: Chinese if any turn has Chinese."""
    return "zh" if any(_CJK.search(turn) for turn in turns) else "en"


def load_dataset(path: Path, session: Session) -> Dataset:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the dataset ({exc})") from exc
    if not isinstance(raw, dict) or "cases" not in raw:
        raise DatasetError(f"{path}: expected a mapping with `cases`")
    cases: list[Case] = []
    for n, spec in enumerate(raw["cases"], 1):
        if "generate" in spec:
            cases += GENERATORS[spec["generate"]](session, spec)
            continue
        turns = spec.get("turns") or [spec.get("ask")]
        if not spec.get("id") or not spec.get("user") or not all(turns):
            raise DatasetError(f"{path}: case #{n} needs id, user and ask (or turns)")
        lang = spec.get("lang") or language_of(turns)
        if lang not in LANGUAGES:
            raise DatasetError(f"{path}: case {spec['id']}: lang must be one of {LANGUAGES}")
        cases.append(
            Case(
                spec["id"],
                spec.get("category", "other"),
                spec["user"],
                turns,
                spec.get("expect", {}),
                lang,
            )
        )
    ids = [c.id for c in cases]
    if duplicated := sorted({i for i in ids if ids.count(i) > 1}):
        raise DatasetError(f"{path}: duplicate case ids: {', '.join(duplicated)}")
    today = raw.get("today")
    return Dataset(
        raw.get("suite", path.stem), date.fromisoformat(str(today)) if today else None, cases
    )


def _first_user(session: Session, role: Role) -> str | None:
    return session.scalar(sa.select(User.id).where(User.role == role).order_by(User.id))


def _kb_titles(session: Session, spec: dict[str, Any]) -> list[Case]:
    """Each article's title, asked as a question, must retrieve that article."""
    user = spec.get("user") or _first_user(session, Role.SUPPORT) or ""
    articles = session.execute(
        sa.select(KnowledgeArticle.id, KnowledgeArticle.title)
        .where(KnowledgeArticle.audience == Audience.PUBLIC)
        .order_by(KnowledgeArticle.id)
    ).all()
    return [
        Case(
            f"kb-title-{aid}",
            "kb",
            user,
            [question := f"how do I handle this: {title}?"],
            {"retrieve": [aid]},
            language_of([question]),
        )
        for aid, title in articles[: spec.get("limit", 100)]
    ]


def _invisible_accounts(session: Session, spec: dict[str, Any]) -> list[Case]:
    """A rep asks about customers of other teams: nothing of theirs may come back."""
    user = spec.get("user") or _first_user(session, Role.REP) or ""
    principal = principal_for(session, user)
    hidden = session.execute(
        sa.select(Account.id, Account.name).where(~profile_scope(principal)).order_by(Account.id)
    ).all()
    return [
        Case(
            f"perm-{user}-{aid}",
            "permission",
            user,
            [question := f"prepare me for my meeting with {name}"],
            {"forbid_records": [aid]},  # the answer may echo the name the user typed
            language_of([question]),
        )
        for aid, name in hidden[: spec.get("limit", 25)]
    ]


def _overviews(session: Session, spec: dict[str, Any]) -> list[Case]:
    """An owner's meeting prep cites the account."""
    cases = []
    for user_id in session.scalars(
        sa.select(User.id).where(User.role == Role.REP).order_by(User.id)
    ):
        principal = principal_for(session, user_id)
        own = session.execute(
            sa.select(Account.id, Account.name).where(profile_scope(principal)).order_by(Account.id)
        ).all()
        cases += [
            Case(
                f"prep-{user_id}-{aid}",
                "customer",
                user_id,
                [question := f"prepare me for my meeting with {name}"],
                {"retrieve": [aid], "facts": [name]},
                language_of([question]),
            )
            for aid, name in own[: spec.get("per_user", 4)]
        ]
    return cases


GENERATORS = {
    "kb_titles": _kb_titles,
    "invisible_accounts": _invisible_accounts,
    "overviews": _overviews,
}
