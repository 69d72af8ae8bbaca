"""CRM data over HTTP, in the caller's scope: search, accounts, notes, pipeline, tasks."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Header, Path, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, profile_scope
from crmassist.agent.assistant import CitationOut
from crmassist.api.deps import PrincipalDep, RuntimeDep
from crmassist.api.idempotency import require_same_request
from crmassist.api.inputs import (
    ID,
    MAX_OFFSET,
    NO_CONTROL,
    IsoDate,
    Number,
    OneLine,
    RecordId,
    Text,
    UtcDateTime,
)
from crmassist.crm import activity, overview, pipeline, records, value
from crmassist.db import session_scope
from crmassist.domain.enums import SourceType
from crmassist.domain.models import Account, User
from crmassist.domain.periods import due_by, midnight_utc
from crmassist.errors import CrmassistError
from crmassist.privacy.disclosure import Disclosure
from crmassist.retrieval.search import SearchRequest

router = APIRouter(prefix="/v1", tags=["crm"])


AccountIdPath = Annotated[str, Path(pattern=ID, examples=["A001"])]


def _phrase(description: str) -> Any:
    """A date or period in words, as a query parameter."""
    return Query(max_length=200, pattern=NO_CONTROL, description=description)


class SearchIn(BaseModel):
    query: Text = Field(min_length=1, max_length=2000)
    k: Annotated[int, Field(ge=1, le=50), Number] = 5
    sources: list[SourceType] = Field(default_factory=list)
    account_id: RecordId | None = None
    since: IsoDate | None = None
    until: IsoDate | None = None


@router.post("/search", response_model=list[CitationOut])
def search(body: SearchIn, rt: RuntimeDep, principal: PrincipalDep) -> list[CitationOut]:
    """Hybrid search over what you may see; results cite their records."""
    request = SearchRequest(
        query=body.query,
        k=body.k,
        sources=tuple(body.sources),
        account_id=body.account_id,
        since=midnight_utc(body.since),
        until=midnight_utc(body.until),
    )
    found = [CitationOut.of(c) for c in rt.retriever().search(principal, request)]
    return Disclosure(principal, rt.redactor).models(found)


class AccountOut(BaseModel):
    id: str
    name: str
    industry: str | None
    region: str | None
    size: str | None
    lifecycle_stage: str
    owner: str | None
    projected_value: float | None = None
    """Customer value over the next 12 months (`crm.value`), where your role sees orders."""
    value_currency: str | None = None
    value_model: str | None = None


class Page(BaseModel):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def _values(session: Session, principal: Principal, today: date) -> dict[str, dict[str, Any]]:
    """The value column of an account list: projected value, its currency and model."""
    if not may_see(principal, Section.ORDERS):
        return {}
    report = value.customer_values(session, principal, today)
    return {
        v.account_id: {"projected_value": v.projected_value, "value_currency": v.currency,
                       "value_model": v.model}
        for v in report.values
    }  # fmt: skip


@router.get("/accounts", response_model=Page)
def accounts(
    rt: RuntimeDep,
    principal: PrincipalDep,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_CONTROL, description="Part of the name.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page:
    """Accounts you may see, by name, paginated."""
    where = [profile_scope(principal)]
    if q:
        where.append(Account.name.ilike(f"%{q}%"))
    with rt.sessions() as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(Account).where(*where)) or 0
        rows = session.execute(
            sa.select(Account, User.name)
            .outerjoin(User, Account.owner_id == User.id)
            .where(*where)
            .order_by(Account.name, Account.id)
            .limit(limit)
            .offset(offset)
        ).all()
        worth = _values(session, principal, rt.clock.today()) if rows else {}
    items = [
        AccountOut(
            id=a.id,
            name=a.name,
            industry=a.industry,
            region=a.region,
            size=a.size,
            lifecycle_stage=a.lifecycle_stage.value,
            owner=owner,
            **worth.get(a.id, {}),
        )
        for a, owner in rows
    ]
    more = offset + len(items) < total
    page = Page(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )
    return Disclosure(principal, rt.redactor).model(page)


@router.get("/accounts/{account_id}", response_model=overview.CustomerOverview)
def account(
    account_id: AccountIdPath, rt: RuntimeDep, principal: PrincipalDep
) -> overview.CustomerOverview:
    """The customer overview, each section only if your role may see it."""
    with rt.sessions() as session:
        view = overview.customer_overview(session, principal, account_id)
    rt.audit.record(
        principal, "api:account", target=account_id, records=[r[1] for r in view.record_refs()]
    )
    return Disclosure(principal, rt.redactor).model(view)


class InteractionIn(activity.InteractionFields):
    """A note as the API takes it: ids and text checked, a time without an offset is UTC."""

    account_id: RecordId
    summary: Text = Field(min_length=1, max_length=20_000)
    contact_id: RecordId | None = None
    occurred_at: UtcDateTime | None = None
    follow_up_on: IsoDate | None = None
    subject: OneLine | None = Field(None, max_length=500)
    follow_up_title: OneLine | None = Field(None, max_length=500)


@router.post(
    "/interactions",
    response_model=activity.LoggedInteraction,
    status_code=status.HTTP_201_CREATED,
)
def log_interaction(
    body: InteractionIn,
    response: Response,
    rt: RuntimeDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=NO_CONTROL)] = None,
) -> activity.LoggedInteraction:
    """Log a note (and a follow-up task). The same `Idempotency-Key` logs once; a replay
    answers 200 with the original note, and a different request with a used key gets 422."""
    new = activity.NewInteraction(**body.model_dump(), idempotency_key=idempotency_key)
    with session_scope(rt.sessions) as session:
        logged = activity.log_interaction(session, principal, new, rt.clock.now())
        if not logged.created and idempotency_key is not None:
            require_same_request(session, logged, body, idempotency_key)
    if logged.created:
        rt.index_written({SourceType.INTERACTION: [logged.interaction_id]})
    else:
        response.status_code = status.HTTP_200_OK
    rt.audit.record(
        principal, "api:log_interaction", target=logged.interaction_id, created=logged.created
    )
    return Disclosure(principal, rt.redactor).model(logged)


@router.get("/pipeline", response_model=pipeline.PipelineResult)
def pipeline_query(
    rt: RuntimeDep,
    principal: PrincipalDep,
    query: Annotated[pipeline.PipelineQuery, Query()],
    close_period: Annotated[str | None, _phrase('e.g. "this quarter", "Q3 2017"')] = None,
    created_period: Annotated[str | None, _phrase('e.g. "2017", "last 90 days"')] = None,
) -> pipeline.PipelineResult:
    """Typed pipeline queries: filters, grouping, metric; totals, a table and a chart spec."""
    today = rt.clock.today()
    if close_period:
        query = pipeline.within_close_period(query, close_period, today)
    if created_period:
        query = pipeline.within_created_period(query, created_period, today)
    with rt.sessions() as session:
        result = pipeline.run_pipeline(session, principal, query, today)
    rt.audit.record(
        principal, "api:pipeline", query=query.model_dump(mode="json", exclude_defaults=True)
    )
    return Disclosure(principal, rt.redactor).model(result)


@router.get("/tasks", response_model=list[activity.TaskView])
def tasks(
    rt: RuntimeDep,
    principal: PrincipalDep,
    include_done: bool = False,
    account_id: Annotated[str | None, Query(pattern=ID)] = None,
    due: Annotated[str | None, _phrase('"this week", "2026-12-01", "下周"')] = None,
) -> list[activity.TaskView]:
    """Your follow-up tasks, soonest first."""
    today = rt.clock.today()
    due_before = None
    if due:
        due_before = due_by(due, today)
        if due_before is None:
            raise CrmassistError(f"cannot read {due!r} as a date or period")
    with rt.sessions() as session:
        found = activity.list_tasks(session, principal, include_done, account_id, due_before)
    return Disclosure(principal, rt.redactor).models(found)


class Me(BaseModel):
    user_id: str
    name: str
    role: str
    team_id: str | None


@router.get("/me", response_model=Me)
def me(rt: RuntimeDep, principal: PrincipalDep) -> Me:
    """Who the API key belongs to."""
    with rt.sessions() as session:
        user = session.get(User, principal.user_id)
        name = user.name if user else principal.user_id
    me = Me(
        user_id=principal.user_id, name=name, role=principal.role.value, team_id=principal.team_id
    )
    return Disclosure(principal, rt.redactor).model(me)


@router.get("/records/{kind}/{record_id}", response_model=records.RecordView)
def record(
    kind: records.RecordKind,
    record_id: Annotated[str, Path(pattern=ID)],
    rt: RuntimeDep,
    principal: PrincipalDep,
) -> records.RecordView:
    """A cited record (article, note, ticket, deal, order, task), if you may see it; personal
    data in it is shown as your role allows."""
    with rt.sessions() as session:
        view = records.get_record(session, principal, kind, record_id)
    rt.audit.record(principal, "api:record", target=f"{kind.value}/{record_id}")
    return Disclosure(principal, rt.redactor).model(view)
