"""Admin-only data rights: export or erase a person (with proof), enforce retention.

The person is named in the body, never in the URL, so no address or id lands in access
logs or proxies' caches.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from crmassist import governance
from crmassist.api.deps import AdminDep, RuntimeDep
from crmassist.api.inputs import ID, NO_CONTROL, Number

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])


class PersonRef(BaseModel):
    """Exactly one of the two (both or neither: 400)."""

    contact_id: str | None = Field(None, pattern=ID)
    email: str | None = Field(None, min_length=3, max_length=320, pattern=NO_CONTROL)


class PersonExport(BaseModel):
    """Everything held about the person, values revealed."""

    exported_at: str
    contact: dict[str, Any]
    account: dict[str, Any]
    interactions: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    conversations: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]
    pseudonyms: dict[str, str] = Field(description="token -> value")
    index: dict[str, Any] = Field(description="Indexed records holding the person.")


class ProofLineOut(BaseModel):
    term: str = Field(description="What was sought: name, email, phone or a pseudonym.")
    sql: list[str] = Field(description="`table.column: N row(s)` still holding it.")
    index: list[str] = Field(description="`source/record` chunks still holding it.")


class ErasureOut(BaseModel):
    contact_id: str
    changed: dict[str, int]
    reindexed: int = Field(description="Chunks indexed again from the scrubbed text.")
    proof: list[ProofLineOut]
    columns_searched: int
    chunks_searched: int | None
    clean: bool = Field(description="Nothing of the person was found afterwards.")


class PurgeOut(BaseModel):
    conversations: int
    messages: int
    audit_questions: int
    before: str


class PurgeIn(BaseModel):
    days: Annotated[int, Field(ge=1, le=36_500), Number] | None = Field(
        None, description="Default: CRMASSIST_CONVERSATION_RETENTION_DAYS."
    )


@router.post("/export", response_model=PersonExport)
def export_person(rt: RuntimeDep, admin: AdminDep, person: PersonRef) -> PersonExport:
    """Everything held about one contact (GDPR art. 15 / PIPL art. 45), values revealed."""
    data = governance.export_person(rt, admin, via="api", **person.model_dump())
    return PersonExport.model_validate(data)


@router.post("/erase", response_model=ErasureOut)
def erase_person(rt: RuntimeDep, admin: AdminDep, person: PersonRef) -> ErasureOut:
    """Erase one contact everywhere (GDPR art. 17 / PIPL art. 47) and prove it: `clean`
    is true when no value or pseudonym of theirs is found in SQL or the index."""
    erasure = governance.erase_person(rt, admin, via="api", **person.model_dump())
    return ErasureOut.model_validate(erasure.as_dict())


@router.post("/purge", response_model=PurgeOut)
def purge(rt: RuntimeDep, admin: AdminDep, body: PurgeIn) -> PurgeOut:
    """Delete conversations idle past the retention period."""
    done = governance.purge(rt, admin, via="api", days=body.days)
    return PurgeOut(
        conversations=done.conversations,
        messages=done.messages,
        audit_questions=done.audit_questions,
        before=done.before.isoformat(),
    )
