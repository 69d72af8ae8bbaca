"""Pipeline questions as a typed query, executed by SQLAlchemy in the asker's scope.

A model (or the offline planner) fills in a `PipelineQuery`; no SQL text ever comes from
a model. Amounts in different currencies are never added together: aggregates are
grouped by currency as well.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, model_validator
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, record_scope
from crmassist.crm.errors import AccessDenied
from crmassist.domain.enums import Stage
from crmassist.domain.models import Account, Opportunity, Team, User
from crmassist.domain.periods import parse_period
from crmassist.errors import CrmassistError

OPEN_STAGES = [s for s in Stage if s.is_open]
CLOSED_STAGES = [Stage.CLOSED_WON, Stage.CLOSED_LOST]
Name = Annotated[str, Field(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""A name or id to filter on: one line, no NUL (PostgreSQL refuses NUL in text)."""
Amount = Annotated[
    Decimal,
    Field(ge=0, le=10**15),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 10**15}),
]
"""An amount to filter on, documented as the number it is (not as any string)."""


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone reads a number as a Unix time ("1.5" is 1970-01-01)."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    ):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class GroupBy(StrEnum):
    STAGE = "stage"
    OWNER = "owner"
    TEAM = "team"
    REGION = "region"
    INDUSTRY = "industry"
    ACCOUNT = "account"
    PRODUCT = "product"
    CLOSE_MONTH = "close_month"
    CLOSE_QUARTER = "close_quarter"


class Metric(StrEnum):
    """What is measured over the matching deals (amounts per currency, never mixed)."""

    COUNT = "count"
    SUM = "sum"
    AVERAGE = "average"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    WEIGHTED_SUM = "weighted_sum"
    """Forecast: amount × probability over open deals only."""
    WIN_RATE = "win_rate"
    """Won ÷ (won + lost), by count, in percent; only closed deals count."""
    WIN_RATE_VALUE = "win_rate_value"
    """Won ÷ (won + lost), by amount, in percent."""
    SALES_CYCLE = "sales_cycle"
    """Average days from created to close date, over closed deals that have both dates."""

    @property
    def per_currency(self) -> bool:
        return self not in (Metric.COUNT, Metric.WIN_RATE, Metric.SALES_CYCLE)


class OwnerScope(StrEnum):
    ME = "me"
    MY_TEAM = "my_team"


class SortBy(StrEnum):
    VALUE_DESC = "value_desc"
    VALUE_ASC = "value_asc"
    AMOUNT_DESC = "amount_desc"
    CLOSE_DATE_ASC = "close_date_asc"
    GROUP_ASC = "group_asc"
    """Groups in label order: months and quarters chronologically."""


class PipelineQuery(BaseModel):
    """Filters, optional grouping and one metric over opportunities.

    Name filters (owners, teams, regions, industries, products, accounts) ignore case.
    Metrics imply stages: a weighted forecast looks at open deals only, win rates and the
    sales cycle at closed ones; a stage filter narrows them further.
    """

    stages: list[Stage] = Field(default_factory=list, description="Only these stages.")
    open_only: bool = Field(False, description="Only deals not yet closed won or lost.")
    slipped: bool = Field(False, description="Only open deals whose close date has already passed.")
    owner_ids: list[Name] = Field(default_factory=list, description="Deal owners (user ids).")
    owner_names: list[Name] = Field(default_factory=list, description="Deal owners by name.")
    mine: OwnerScope | None = Field(None, description="The asker's own deals, or their team's.")
    team_ids: list[Name] = Field(default_factory=list, description="Owners' teams.")
    team_names: list[Name] = Field(default_factory=list, description="Owners' teams by name.")
    regions: list[Name] = Field(default_factory=list, description="Account regions.")
    industries: list[Name] = Field(default_factory=list, description="Account industries.")
    products: list[Name] = Field(default_factory=list, description="Deal products.")
    account_ids: list[Name] = Field(default_factory=list)
    account_names: list[Name] = Field(default_factory=list, description="Accounts by name.")
    min_amount: Amount | None = None
    max_amount: Amount | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    close_from: Day | None = Field(None, description="Close date on or after.")
    close_to: Day | None = Field(None, description="Close date on or before.")
    created_from: Day | None = Field(None, description="Created on or after.")
    created_to: Day | None = Field(None, description="Created on or before.")
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
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("created_from is after created_to")
        return self


class ChartSpec(BaseModel):
    """Enough for the console (any chart library) and Slack (an image) to draw a bar chart."""

    kind: str = "bar"
    title: str
    x_label: str
    y_label: str
    labels: list[str]
    series: dict[str, list[Annotated[float, Field(strict=True)]]]
    """One series per currency (or "deals" for counts), aligned with `labels`. Strict: a
    chart posted to the API with `true` for a value is a 422, not a bar of height 1."""


class Total(BaseModel):
    """The metric over every matching deal (one per currency where amounts are measured)."""

    currency: str | None
    value: float | None
    deals: int
    won: float | None = None
    """Win rates: won deals (count or amount) ..."""
    closed: float | None = None
    """... of closed ones."""


class PipelineResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    deal_count: int
    metric: Metric = Metric.COUNT
    totals: list[Total] = Field(default_factory=list)
    group_count: int | None = None
    """Grouped results: how many groups there are in all (rows hold at most `limit`)."""
    query: dict[str, Any] = Field(default_factory=dict)
    """The query as run (periods resolved to dates), without its defaults."""
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


def within_created_period(query: PipelineQuery, phrase: str, today: date) -> PipelineQuery:
    """The query limited to deals created in a period named in words ("in 2017")."""
    period = parse_period(phrase, today)
    if period is None:
        raise CrmassistError(f"cannot read the period {phrase!r}")
    return query.model_copy(update={"created_from": period.start, "created_to": period.last_day})


def run_pipeline(
    session: Session, principal: Principal, query: PipelineQuery, today: date
) -> PipelineResult:
    if not may_see(principal, Section.DEALS):
        raise AccessDenied("your role may not see opportunities")
    where = _conditions(principal, query, today)
    deal_count = session.scalar(_joined(sa.func.count(Opportunity.id)).where(*where)) or 0
    dialect = session.get_bind().dialect.name
    totals = _totals(session, query.metric, where, dialect)
    result = (
        _list_deals(session, query, where, deal_count)
        if query.group_by is None
        else _grouped(session, query, where, deal_count, dialect)
    )
    ran = query.model_dump(mode="json", exclude_defaults=True)
    return result.model_copy(update={"metric": query.metric, "totals": totals, "query": ran})


def _joined(*columns: Any) -> sa.Select[Any]:
    """Deals with their account and owner: the columns every filter and group reads."""
    return (
        sa.select(*columns)
        .select_from(Opportunity)
        .join(Account, Opportunity.account_id == Account.id)
        .outerjoin(User, Opportunity.owner_id == User.id)
    )


def _stages(q: PipelineQuery) -> set[Stage]:
    stages = set(q.stages or Stage)
    if q.open_only or q.slipped or q.metric is Metric.WEIGHTED_SUM:
        stages &= set(OPEN_STAGES)
    if q.metric in (Metric.WIN_RATE, Metric.WIN_RATE_VALUE, Metric.SALES_CYCLE):
        stages &= set(CLOSED_STAGES)
    return stages


def _conditions(principal: Principal, q: PipelineQuery, today: date) -> list[Any]:
    where: list[Any] = [
        record_scope(principal, Opportunity),
        Opportunity.stage.in_(sorted(_stages(q))),
    ]
    if q.slipped:
        where.append(Opportunity.close_date < today)
    if q.mine is OwnerScope.ME:
        where.append(Opportunity.owner_id == principal.user_id)
    elif q.mine is OwnerScope.MY_TEAM and principal.reach:  # a manager: the teams below too
        where.append(Opportunity.owner_id.in_(principal.owners))
    elif q.mine is OwnerScope.MY_TEAM:
        where.append(User.team_id == principal.team_id)
    team_name = sa.select(Team.name).where(Team.id == User.team_id).scalar_subquery()
    exact: tuple[tuple[list[str], Any], ...] = (
        (q.owner_ids, Opportunity.owner_id),
        (q.team_ids, User.team_id),
        (q.account_ids, Opportunity.account_id),
    )
    where += [column.in_(values) for values, column in exact if values]
    named: tuple[tuple[list[str], Any], ...] = (
        (q.owner_names, User.name),
        (q.team_names, team_name),
        (q.regions, Account.region),
        (q.industries, Account.industry),
        (q.products, Opportunity.product),
        (q.account_names, Account.name),
    )
    where += [
        sa.func.lower(column).in_([v.lower() for v in values]) for values, column in named if values
    ]
    bounds: tuple[tuple[Any, Any, str], ...] = (
        (q.min_amount, Opportunity.amount, "ge"),
        (q.max_amount, Opportunity.amount, "le"),
        (q.close_from, Opportunity.close_date, "ge"),
        (q.close_to, Opportunity.close_date, "le"),
        (q.created_from, Opportunity.created_date, "ge"),
        (q.created_to, Opportunity.created_date, "le"),
        (q.min_probability, Opportunity.probability, "ge"),
        (q.max_probability, Opportunity.probability, "le"),
    )
    for value, column, op in bounds:
        if value is not None:
            where.append(column >= value if op == "ge" else column <= value)
    if q.metric is Metric.SALES_CYCLE:
        where += [Opportunity.created_date.is_not(None), Opportunity.close_date.is_not(None)]
    if q.currency:
        where.append(Opportunity.currency == q.currency)
    return where


def _won(value: Any) -> sa.ColumnElement[Any]:
    return sa.case((Opportunity.stage == Stage.CLOSED_WON, value), else_=0)


def _cycle_days(dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return Opportunity.close_date - Opportunity.created_date
    return sa.func.julianday(Opportunity.close_date) - sa.func.julianday(Opportunity.created_date)


def _metric_expression(metric: Metric, dialect: str) -> sa.ColumnElement[Any]:
    """The metric as one SQL aggregate (the median on SQLite is computed apart)."""
    amount = Opportunity.amount
    expressions: dict[Metric, Any] = {
        Metric.COUNT: lambda: sa.func.count(Opportunity.id),
        Metric.SUM: lambda: sa.func.sum(amount),
        Metric.AVERAGE: lambda: sa.func.avg(amount),
        Metric.MIN: lambda: sa.func.min(amount),
        Metric.MAX: lambda: sa.func.max(amount),
        Metric.MEDIAN: lambda: sa.func.percentile_cont(0.5).within_group(amount),
        Metric.WEIGHTED_SUM: lambda: sa.func.sum(amount * Opportunity.probability / 100),
        Metric.WIN_RATE: lambda: 100.0 * sa.func.sum(_won(1)) / sa.func.count(Opportunity.id),
        Metric.WIN_RATE_VALUE: lambda: 100.0 * sa.func.sum(_won(amount)) / sa.func.sum(amount),
        Metric.SALES_CYCLE: lambda: sa.func.avg(_cycle_days(dialect)),
    }
    return expressions[metric]()


def _measured(metric: Metric, keys: list[Any], where: list[Any], dialect: str) -> sa.Select[Any]:
    """SELECT keys..., deals, value GROUP BY keys. A median on SQLite comes from ranks:
    the middle row (or the mean of the two middle rows) of each group, ordered by amount."""
    if metric is not Metric.MEDIAN or dialect == "postgresql":
        value = _metric_expression(metric, dialect)
        plain = _joined(*keys, sa.func.count(Opportunity.id), value).where(*where)
        return plain.group_by(*keys) if keys else plain
    labelled = [k.label(f"k{n}") for n, k in enumerate(keys)]
    ranked = (
        _joined(
            *labelled,
            Opportunity.amount.label("amount"),
            sa.func.row_number()
            .over(partition_by=keys or None, order_by=Opportunity.amount)
            .label("rank"),
            sa.func.count().over(partition_by=keys or None).label("n"),
        )
        .where(*where)
        .subquery()
    )
    outer_keys = [ranked.c[f"k{n}"] for n in range(len(keys))]
    middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    stmt: sa.Select[Any] = sa.select(
        *outer_keys, sa.func.max(ranked.c.n), sa.func.avg(ranked.c.amount)
    ).where(middle)
    return stmt.group_by(*outer_keys) if outer_keys else stmt


def _totals(session: Session, metric: Metric, where: list[Any], dialect: str) -> list[Total]:
    keys = [Opportunity.currency] if metric.per_currency else []
    stmt = _measured(metric, keys, where, dialect)
    totals = []
    for row in session.execute(stmt):
        currency = row[0] if keys else None
        deals, value = row[-2], row[-1]
        if not deals:
            continue
        totals.append(Total(currency=currency, value=_number(value), deals=deals))
    if metric in (Metric.WIN_RATE, Metric.WIN_RATE_VALUE):
        totals = [_with_won(session, metric, where, t) for t in totals]
    return sorted(totals, key=lambda t: -(t.value or 0))


def _with_won(session: Session, metric: Metric, where: list[Any], total: Total) -> Total:
    counted = Opportunity.amount if metric is Metric.WIN_RATE_VALUE else sa.literal(1)
    currency = [Opportunity.currency == total.currency] if total.currency else []
    won, closed = session.execute(
        _joined(sa.func.sum(_won(counted)), sa.func.sum(counted)).where(*where, *currency)
    ).one()
    return total.model_copy(update={"won": _number(won), "closed": _number(closed)})


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


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
    if group_by is GroupBy.PRODUCT:
        return sa.func.coalesce(Opportunity.product, "unknown")
    if group_by is GroupBy.CLOSE_MONTH:
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
    session: Session, q: PipelineQuery, where: list[Any], deal_count: int, dialect: str
) -> PipelineResult:
    """One row per group (and currency where amounts are measured): deals, then the value.
    Sorted in SQL and cut at `limit`; `group_count` says how many there are in all."""
    assert q.group_by is not None
    keys = [_group_column(q.group_by, dialect)]
    if q.metric.per_currency:
        keys.append(Opportunity.currency)
    measured = _measured(q.metric, keys, where, dialect).subquery()
    group, value = measured.c[0], measured.c[len(measured.c) - 1]
    order = {
        SortBy.VALUE_ASC: [value.asc(), group],
        SortBy.GROUP_ASC: [group, value.desc()],
    }.get(q.sort, [sa.nulls_last(value.desc()), group])
    stmt = sa.select(measured).order_by(*order).limit(q.limit)
    rows = [_group_row(q.metric, list(row)) for row in session.execute(stmt)]
    group_count = session.scalar(sa.select(sa.func.count()).select_from(measured)) or 0
    header = [q.group_by.value, *(["currency"] if q.metric.per_currency else [])]
    header += [] if q.metric is Metric.COUNT else ["deals"]
    columns, chart = [*header, q.metric.value], _chart(q, rows, q.metric.per_currency)
    if q.metric is Metric.COUNT:  # the value stays the last cell, as in every grouped row
        amounts = _amounts_by_group(session, keys[0], where)
        rows = [[row[0], amounts.get(row[0], ""), *row[1:]] for row in rows]
        columns.insert(1, "amount")
    return PipelineResult(
        columns=columns,
        rows=rows,
        deal_count=deal_count,
        group_count=group_count,
        chart=chart,
        description=describe(q),
    )


def _amounts_by_group(session: Session, group: Any, where: list[Any]) -> dict[Any, str]:
    """Each group's amount, one sum per currency ("USD 120,000 + CNY 50,000"): deals counted
    by stage or region read as a CRM summary report does, with their value beside them."""
    total = sa.func.sum(Opportunity.amount)
    stmt = (
        _joined(group, Opportunity.currency, total)
        .where(*where)
        .group_by(group, Opportunity.currency)
        .order_by(total.desc())
    )
    sums: dict[Any, list[str]] = defaultdict(list)
    for key, currency, value in session.execute(stmt):
        if value is not None:
            amount = float(value)
            shown = f"{amount:,.2f}" if amount % 1 else f"{amount:,.0f}"
            sums[_plain(key)].append(f"{currency} {shown}")
    return {key: " + ".join(parts) for key, parts in sums.items()}


def _group_row(metric: Metric, row: list[Any]) -> list[Any]:
    """[group, currency?, deals, value]; a count's deals are its value, shown once."""
    cells = [_plain(v) for v in row]
    cells[-1] = _number(row[-1]) if metric is not Metric.COUNT else row[-1]
    return cells[:-2] + cells[-1:] if metric is Metric.COUNT else cells


def _list_deals(
    session: Session, q: PipelineQuery, where: list[Any], deal_count: int
) -> PipelineResult:
    order: Any = {
        SortBy.CLOSE_DATE_ASC: Opportunity.close_date.asc(),
        SortBy.VALUE_ASC: Opportunity.amount.asc(),
    }.get(q.sort, Opportunity.amount.desc())
    stmt = (
        _joined(
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
        value = float(row[-1]) if row[-1] is not None else 0.0
        series.setdefault(name, [0.0] * len(labels))[labels.index(str(row[0]))] = value
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
