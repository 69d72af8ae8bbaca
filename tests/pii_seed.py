"""A small CRM whose notes, tickets and tasks carry one value of each personal-data type,
for tests that follow those values to every exit: models, the index, every endpoint, Slack.

The sample's users, accounts, contacts, deals and orders, a few KB articles, and only the
seeded notes and tickets: small enough to import and index in seconds.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmassist.access.principal import Principal
from crmassist.db import session_scope
from crmassist.domain.enums import TaskStatus
from crmassist.domain.models import Task
from crmassist.ingest.importer import import_directory
from crmassist.privacy import EntityType
from crmassist.privacy.disclosure import revealed_types
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import SAMPLE, TODAY


@dataclass(frozen=True)
class Seeded:
    kind: EntityType
    value: str


def _restricted(name: str) -> EntityType:
    """The type a value belongs to; SSN where the redactor knows it, else the strictest."""
    return EntityType(name) if name in EntityType.__members__.values() else EntityType.CARD


VALUES = [
    Seeded(EntityType.PERSON, "Terence Vassiliev"),
    Seeded(EntityType.EMAIL, "terence.vassiliev@northwind-mail.example"),
    Seeded(EntityType.PHONE, "+44 20 7946 0321"),
    Seeded(EntityType.CARD, "4539 1488 0343 6467"),
    Seeded(EntityType.CARD, "4539 1488 0343 6468"),  # fails Luhn, right after "my card"
    Seeded(EntityType.IBAN, "GB33 BUKB 2020 1555 5555 55"),
    Seeded(_restricted("SSN"), "474-49-7577"),
    Seeded(EntityType.CN_ID, "11010519491231002X"),
]
NOTE = (
    "Call with Terence Vassiliev (terence.vassiliev@northwind-mail.example, +44 20 7946 0321) "
    "about the refund for the FlowGuard filters. He paid with card 4539 1488 0343 6467; "
    "refund to IBAN GB33 BUKB 2020 1555 5555 55. His social security number is 474-49-7577. "
    "身份证 11010519491231002X。"
)
TICKET = (
    "Terence Vassiliev asks for a callback on +44 20 7946 0321 or "
    "terence.vassiliev@northwind-mail.example. The charge on my card 4539 1488 0343 6468 "
    "was doubled; SSN 474-49-7577 for the insurance form."
)
TASK = "Call Terence Vassiliev on +44 20 7946 0321 about card 4539 1488 0343 6467"
NOTE_ID, TICKET_ID, TASK_ID = "I09001", "T09001", "K09001"
ACCOUNT, OWNER = "A001", "U001"
ROLES = {"rep": "U001", "rep_peer": "U002", "manager": "U003", "rep_other_team": "U004",
         "support": "U010", "admin": "U013"}  # fmt: skip
SLACK_IDS = {"U001": "U0DANA0001", "U002": "U0MARC0002", "U003": "U0GRAC0003",
             "U004": "U0OMAR0004", "U010": "U0PRIY0010", "U013": "U0SAMO0013"}  # fmt: skip


def seeded_runtime(data_dir: Path, extra_notes: Sequence[dict[str, Any]] = ()) -> Runtime:
    """Import the seeded CRM (and `extra_notes`, interaction rows) into `data_dir`; index it."""
    source = data_dir / "import"
    source.mkdir()
    for name in ("users.csv", "accounts.csv", "contacts.csv", "opportunities.csv", "orders.csv"):
        shutil.copy(SAMPLE / name, source / name)
    (source / "kb").mkdir()
    for article in sorted((SAMPLE / "kb").iterdir())[:3]:
        shutil.copy(article, source / "kb" / article.name)
    note = {"id": NOTE_ID, "account_id": ACCOUNT, "contact_id": "C0001", "author_id": OWNER,
            "channel": "call", "occurred_at": "2026-11-18T10:00:00Z",
            "subject": "Refund for Terence Vassiliev, +44 20 7946 0321", "body": NOTE}  # fmt: skip
    ticket = {"id": TICKET_ID, "account_id": ACCOUNT, "contact_id": "C0001",
              "subject": "Callback Terence Vassiliev terence.vassiliev@northwind-mail.example",
              "body": TICKET, "status": "open", "priority": "high",
              "created_at": "2026-11-17T09:00:00Z", "resolved_at": None}  # fmt: skip
    notes = [note, *extra_notes]
    (source / "interactions.jsonl").write_text(
        "".join(json.dumps(n, ensure_ascii=False) + "\n" for n in notes), encoding="utf-8"
    )
    (source / "tickets.jsonl").write_text(
        json.dumps(ticket, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    rt = Runtime(Settings(data_dir=data_dir, today=TODAY))
    import_directory(source, rt.sessions, as_of=TODAY)
    with session_scope(rt.sessions) as session:
        session.add(
            Task(
                id=TASK_ID,
                owner_id=OWNER,
                account_id=ACCOUNT,
                title=TASK,
                due_date=TODAY,
                status=TaskStatus.OPEN,
                created_at=datetime(2026, 11, 18, tzinfo=UTC),
            )
        )
    rt.refresh_known_names()
    rt.indexer().sync()
    return rt


def forms(value: str) -> list[str]:
    """The ways a value can show up: as written, and its digits run together."""
    digits = re.sub(r"\D", "", value)
    return [value, digits] if len(digits) >= 9 else [value]


def leaks(
    text: str, principal: Principal | None, ignore: frozenset[EntityType] = frozenset()
) -> list[str]:
    """Seeded values in `text` that `principal` may not see (None: nobody may, a model);
    `ignore`: types whose detection is the redactor's alone (names: no shape to gate on)."""
    allowed = ignore | (revealed_types(principal) if principal is not None else frozenset())
    digits = re.sub(r"\D", "", text)
    found = []
    for seeded in VALUES:
        if seeded.kind in allowed:
            continue
        value, *packed = forms(seeded.value)
        if value in text or any(p in digits for p in packed):
            found.append(seeded.value)
    return found


def shown(text: str) -> set[str]:
    """Seeded values that appear in `text` as written."""
    return {s.value for s in VALUES if s.value in text}
