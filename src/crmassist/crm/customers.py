"""Finding customers by what people call them: partial names, typos, Chinese, contacts.

Only accounts in the principal's scope are candidates, so a lookup can never confirm
that someone else's customer exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import profile_scope
from crmassist.domain.models import Account, Contact

MIN_SCORE = 70.0
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LEGAL_SUFFIXES = re.compile(
    r"\b(inc|ltd|llc|gmbh|corp|corporation|co|company|group|plc|s\.?a|ag)\b\.?|有限公司|集团|公司",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CustomerMatch:
    account_id: str
    account_name: str
    score: float
    contact_id: str | None = None
    contact_name: str | None = None

    @property
    def label(self) -> str:
        who = f"{self.contact_name} at " if self.contact_name else ""
        return f"{who}{self.account_name} ({self.account_id})"


def normalise(name: str) -> str:
    """Lower case, no punctuation, no legal suffixes: "ACME Corp." ~ "Acme Corporation"."""
    return utils.default_process(_LEGAL_SUFFIXES.sub(" ", name)).strip()


def similarity(query: str, candidate: str) -> float:
    """0-100. Latin names by weighted fuzzy ratio; Chinese also by characters in order,
    because "西湖酒店" should find "杭州西湖国际酒店" and Chinese has no spaces to split on."""
    q, c = normalise(query), normalise(candidate)
    if not q or not c:
        return 0.0
    if " " in q or _CJK.search(q):
        score = fuzz.WRatio(q, c, processor=None)
    else:  # one word: compare word to word, or "acme" would half-match "grace ahmed"
        score = max(fuzz.ratio(q, word) for word in c.split())
    if _CJK.search(q) and _in_order(q.replace(" ", ""), c) and len(q) >= 2:
        score = max(score, 80.0 + 20.0 * len(q) / max(len(c), len(q)))
    return float(score)


def _in_order(needle: str, haystack: str) -> bool:
    chars = iter(haystack)
    return all(ch in chars for ch in needle)


def find_customers(
    session: Session, principal: Principal, query: str, limit: int = 5
) -> list[CustomerMatch]:
    """Best matches among visible accounts and their contacts, one entry per account."""
    accounts = dict(
        session.execute(sa.select(Account.id, Account.name).where(profile_scope(principal))).all()
    )
    contacts = session.execute(
        sa.select(Contact.id, Contact.name, Contact.account_id).where(
            Contact.account_id.in_(accounts)
        )
    ).all()
    choices: dict[tuple[str, str | None], str] = {
        (aid, None): name for aid, name in accounts.items()
    }
    choices |= {(aid, cid): name for cid, name, aid in contacts}
    ranked = process.extract(
        query, choices, scorer=_scorer, limit=limit * 4, score_cutoff=MIN_SCORE
    )
    best: dict[str, CustomerMatch] = {}
    for name, score, (account_id, contact_id) in ranked:
        if account_id in best and best[account_id].score >= score:
            continue
        best[account_id] = CustomerMatch(
            account_id,
            accounts[account_id],
            round(float(score), 1),
            contact_id,
            name if contact_id else None,
        )
    return sorted(best.values(), key=lambda m: (-m.score, m.account_name))[:limit]


def _scorer(query: str, candidate: str, **_: object) -> float:
    return similarity(query, candidate)


def unambiguous(matches: list[CustomerMatch], margin: float = 8.0) -> CustomerMatch | None:
    """The match to act on without asking back: clearly ahead of the runner-up."""
    if not matches:
        return None
    if len(matches) == 1 or matches[0].score - matches[1].score >= margin:
        return matches[0]
    return None
