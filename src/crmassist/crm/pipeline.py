"""Pipeline questions as a typed query, executed by SQLAlchemy in the asker's scope.

A model (or the offline planner) fills in a `PipelineQuery`; no SQL text ever comes from
a model. Amounts in different currencies are never added together: aggregates are
grouped by currency as well.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, account_scope, may_see
from crmassist.crm.errors import AccessDenied
from crmassist.domain.enums import Stage
from crmassist.domain.models import Account, Opportunity, Team, User
from crmassist.domain.periods import parse_period
from crmassist.errors import CrmassistError

OPEN_STAGES = [s for s in Stage if s.is_open]


class GroupBy(StrEnum):
    STAGE = "stage"
    OWNER = "owner"
    TEAM = "team"
    REGION = "region"
    INDUSTRY = "industry"
    ACCOUNT = "account"
    CLOSE_MONTH = "close_month"
    CLOSE_QUARTER = "close_quarter"


class Metric(StrEnum):
    COUNT = "count"
    SUM = "sum"
    WEIGHTED_SUM = "weighted_sum"
    AVERAGE = "average"


class SortBy(StrEnum):
    VALUE_DESC = "value_desc"
    VALUE_ASC = "value_asc"
    AMOUNT_DESC = "amount_desc"
    CLOSE_DATE_ASC = "close_date_asc"


class PipelineQuery(BaseModel):
    """Filters, optional grouping and one metric over opportunities."""

    stages: list[Stage] = Field(default_factory=list, description="Only these stages.")
    open_only: bool = Field(False, description="Only deals not yet closed won or lost.")
    slipped: bool = Field(False, description="Only open deals whose close date has already passed.")
    owner_ids: list[str] = Field(default_factory=list, description="Deal owners (user ids).")
    team_ids: list[str] = Field(default_factory=list, description="Owners' teams.")
    regions: list[str] = Field(default_factory=list, description="Account regions.")
    account_ids: list[str] = Field(default_factory=list)
    min_amount: Decimal | None = Field(None, ge=0)
    max_amount: Decimal | None = Field(None, ge=0)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    close_from: date | None = Field(None, description="Close date on or after.")
    close_to: date | None = Field(None, description="Close date on or before.")
    min_probability: int | None = Field(None, ge=0, le=100)
    max_probability: int | None = Field(None, ge=0, le=100)
    group_by: GroupBy | None = None
    metric: Metric = Metric.COUNT
    sort: SortBy = SortBy.VALUE_DESC
    limit: int = Field(20, ge=1, le=200)

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> PipelineQuery:
        low, high = self.min_amount, self.max_amount
        if low is not None and high is not None and low > high:
            raise ValueError("min_amount is above max_amount")
        if self.close_from and self.close_to and self.close_from > self.close_to:
            raise ValueError("close_from is after close_to")
        return self


class ChartSpec(BaseModel):
    """Enough for the console (any chart library) and Slack (an image) to draw a bar chart."""

    kind: str = "bar"
    title: str
    x_label: str
    y_label: str
    labels: list[str]
    series: dict[str, list[float]]
    """One series per currency (or "deals" for counts), aligned with `labels`."""


class PipelineResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    deal_count: int
    chart: ChartSpec | None = None
    description: str


def within_close_period(query: PipelineQuery, phrase: str, today: date) -> PipelineQuery:
    """The query limited to deals closing in a period named in words ("this quarter");
    slipped deals closed before today, so their window ends yesterday."""
    period = parse_period(phrase, today)
    if period is None:
        raise CrmassistError(f"cannot read the period {phrase!r}")
    close_to = period.last_day
    if query.slipped:
        close_to = min(close_to, today - timedelta(days=1))
    return query.model_copy(update={"close_from": period.start, "close_to": close_to})


def run_pipeline(
    session: Session, principal: Principal, query: PipelineQuery, today: date
) -> PipelineResult:
    if not may_see(principal, Section.DEALS):
        raise AccessDenied("your role may not see opportunities")
    where = _conditions(principal, query, today)
    joined = sa.select(Opportunity).join(Account, Opportunity.account_id == Account.id)
    joined = joined.outerjoin(User, Opportunity.owner_id == User.id)
    deal_count = session.scalar(
        sa.select(sa.func.count()).select_from(joined.where(*where).subquery())
    )
    if query.group_by is None:
        return _list_deals(session, query, where, deal_count or 0)
    return _grouped(session, query, where, deal_count or 0)


def _conditions(principal: Principal, q: PipelineQuery, today: date) -> list[Any]:
    where: list[Any] = [account_scope(principal)]
    stages = set(q.stages or Stage)
    if q.open_only or q.slipped:
        stages &= set(OPEN_STAGES)
    where.append(Opportunity.stage.in_(sorted(stages)))
    if q.slipped:
        where.append(Opportunity.close_date < today)
    lists: tuple[tuple[list[str], Any], ...] = (
        (q.owner_ids, Opportunity.owner_id),
        (q.team_ids, User.team_id),
        (q.regions, Account.region),
        (q.account_ids, Opportunity.account_id),
    )
    for values, column in lists:
        if values:
            where.append(column.in_(values))
    bounds: tuple[tuple[Any, Any, str], ...] = (
        (q.min_amount, Opportunity.amount, "ge"),
        (q.max_amount, Opportunity.amount, "le"),
        (q.close_from, Opportunity.close_date, "ge"),
        (q.close_to, Opportunity.close_date, "le"),
        (q.min_probability, Opportunity.probability, "ge"),
        (q.max_probability, Opportunity.probability, "le"),
    )
    for value, column, op in bounds:
        if value is not None:
            where.append(column >= value if op == "ge" else column <= value)
    if q.currency:
        where.append(Opportunity.currency == q.currency)
    return where


def _metric_expression(metric: Metric) -> sa.ColumnElement[Any]:
    if metric is Metric.COUNT:
        return sa.func.count(Opportunity.id)
    if metric is Metric.SUM:
        return sa.func.sum(Opportunity.amount)
    if metric is Metric.AVERAGE:
        return sa.func.avg(Opportunity.amount)
    return sa.func.sum(Opportunity.amount * Opportunity.probability / 100)


def _group_column(group_by: GroupBy, dialect: str) -> Any:
    if group_by is GroupBy.STAGE:
        return Opportunity.stage
    if group_by is GroupBy.OWNER:
        return sa.func.coalesce(User.name, "unassigned")
    if group_by is GroupBy.TEAM:
        team_name = sa.select(Team.name).where(Team.id == User.team_id).scalar_subquery()
        return sa.func.coalesce(team_name, "no team")
    if group_by is GroupBy.REGION:
        return sa.func.coalesce(Account.region, "unknown")
    if group_by is GroupBy.INDUSTRY:
        return sa.func.coalesce(Account.industry, "unknown")
    if group_by is GroupBy.ACCOUNT:
        return Account.name
    fmt = "%Y-%m" if group_by is GroupBy.CLOSE_MONTH else None
    if fmt:
        return _format_month(dialect)
    return _quarter_label(dialect)


def _format_month(dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.to_char(Opportunity.close_date, "YYYY-MM")
    return sa.func.strftime("%Y-%m", Opportunity.close_date)


def _quarter_label(dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.to_char(Opportunity.close_date, 'YYYY-"Q"Q')
    year = sa.func.strftime("%Y", Opportunity.close_date)
    month = sa.cast(sa.func.strftime("%m", Opportunity.close_date), sa.Integer)
    return year + "-Q" + sa.cast((month + 2) // 3, sa.String)


def _grouped(
    session: Session, q: PipelineQuery, where: list[Any], deal_count: int
) -> PipelineResult:
    dialect = session.get_bind().dialect.name
    key = _group_column(q.group_by, dialect).label("group")  # type: ignore[arg-type]
    value = _metric_expression(q.metric).label("value")
    currency_matters = q.metric is not Metric.COUNT
    columns: list[Any] = [key, Opportunity.currency, value] if currency_matters else [key, value]
    stmt = (
        sa.select(*columns)
        .select_from(Opportunity)
        .join(Account, Opportunity.account_id == Account.id)
        .outerjoin(User, Opportunity.owner_id == User.id)
        .where(*where)
        .group_by(*columns[:-1])
        .order_by(value.desc() if q.sort is not SortBy.VALUE_ASC else value.asc(), key)
        .limit(q.limit)
    )
    rows = [[_plain(v) for v in row] for row in session.execute(stmt)]
    header = [q.group_by.value, *(["currency"] if currency_matters else []), q.metric.value]  # type: ignore[union-attr]
    return PipelineResult(
        columns=header,
        rows=rows,
        deal_count=deal_count,
        chart=_chart(q, rows, currency_matters),
        description=describe(q),
    )


def _list_deals(
    session: Session, q: PipelineQuery, where: list[Any], deal_count: int
) -> PipelineResult:
    order: Any = {
        SortBy.CLOSE_DATE_ASC: Opportunity.close_date.asc(),
        SortBy.VALUE_ASC: Opportunity.amount.asc(),
    }.get(q.sort, Opportunity.amount.desc())
    stmt = (
        sa.select(
            Opportunity.id,
            Opportunity.name,
            Account.name,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.currency,
            Opportunity.close_date,
            Opportunity.probability,
            sa.func.coalesce(User.name, "unassigned"),
        )
        .join(Account, Opportunity.account_id == Account.id)
        .outerjoin(User, Opportunity.owner_id == User.id)
        .where(*where)
        .order_by(order, Opportunity.id)
        .limit(q.limit)
    )
    rows = [[_plain(v) for v in row] for row in session.execute(stmt)]
    columns = ["id", "deal", "account", "stage", "amount", "currency", "close_date"]
    return PipelineResult(
        columns=[*columns, "probability", "owner"],
        rows=rows,
        deal_count=deal_count,
        description=describe(q),
    )


def _plain(value: Any) -> Any:
    """JSON-friendly cells: enums as values, money as 2-decimal floats, dates as ISO."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Decimal | float):
        return round(float(value), 2)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _chart(q: PipelineQuery, rows: list[list[Any]], by_currency: bool) -> ChartSpec:
    labels: list[str] = []
    series: dict[str, list[float]] = {}
    for row in rows:
        label = str(row[0])
        if label not in labels:
            labels.append(label)
    for row in rows:
        name = str(row[1]) if by_currency else "deals"
        series.setdefault(name, [0.0] * len(labels))[labels.index(str(row[0]))] = float(row[-1])
    return ChartSpec(
        title=describe(q),
        x_label=q.group_by.value.replace("_", " "),  # type: ignore[union-attr]
        y_label=q.metric.value.replace("_", " "),
        labels=labels,
        series=series,
    )


def describe(q: PipelineQuery) -> str:
    """The query in words, so an answer can say exactly what it computed."""
    parts = [q.metric.value.replace("_", " ") + " of"] if q.group_by else []
    parts.append("slipped" if q.slipped else "open" if q.open_only else "")
    parts.append("deals")
    if q.stages:
        parts.append("in " + "/".join(s.value for s in q.stages))
    if q.min_amount is not None:
        parts.append(f"over {q.min_amount:,.0f}")
    if q.max_amount is not None:
        parts.append(f"up to {q.max_amount:,.0f}")
    if q.currency:
        parts.append(f"in {q.currency}")
    if q.close_from or q.close_to:
        parts.append(f"closing {q.close_from or '…'} to {q.close_to or '…'}")
    for label, values in (("owned by", q.owner_ids), ("team", q.team_ids), ("in", q.regions)):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    if q.group_by:
        parts.append(f"by {q.group_by.value.replace('_', ' ')}")
    return " ".join(p for p in parts if p)
