"""The manager dashboard: each tile is a question chat also answers, asked of the same
service (a typed `PipelineQuery`, churn risk, customer value, CSAT), so a tile and a
chat answer can never disagree. Every tile is in the viewer's scope; a tile the role may
not see says why instead of failing the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.crm import health, satisfaction, value
from crmassist.crm.errors import AccessDenied
from crmassist.crm.pipeline import (
    ChartSpec,
    GroupBy,
    Metric,
    PipelineQuery,
    PipelineResult,
    SortBy,
    run_pipeline,
)

TOP = 10
"""Rows of the list tiles: what the churn_risk and customer_value tools return by default."""


class Figure(BaseModel):
    """A tile's headline number (one per currency where amounts are measured)."""

    label: str
    value: float | None
    currency: str | None = None
    count: int | None = None
    """What the number is over: deals, accounts or ratings."""


class TileData(BaseModel):
    """What a tile shows: headline figures, a table and a chart."""

    figures: list[Figure] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    chart: ChartSpec | None = None
    query: dict[str, Any] | None = None
    """A pipeline tile's query as run (the `pipeline_query` tool's arguments)."""


class Tile(TileData):
    id: str
    title: str
    question: str | None
    """Ask chat this and it answers from the same query: the same number. None where
    chat has no tool for it yet (CSAT)."""
    unavailable: str | None = None
    """Why this viewer's role has no such tile (the rest of the tile is then empty)."""


class Dashboard(BaseModel):
    as_of: date
    tiles: list[Tile]


PIPELINE_TILES: dict[str, tuple[str, str, PipelineQuery]] = {
    "pipeline_by_stage": (
        "Open pipeline by stage",
        "total amount of open deals by stage",
        PipelineQuery(open_only=True, group_by=GroupBy.STAGE, metric=Metric.SUM),
    ),
    "pipeline_by_close_month": (
        "Open pipeline by close month",
        "total amount of open deals by month",
        PipelineQuery(
            open_only=True, group_by=GroupBy.CLOSE_MONTH, metric=Metric.SUM, sort=SortBy.GROUP_ASC
        ),
    ),
    "win_rate": (
        "Win rate",
        "win rate by quarter",
        PipelineQuery(
            metric=Metric.WIN_RATE, group_by=GroupBy.CLOSE_QUARTER, sort=SortBy.GROUP_ASC
        ),
    ),
    "weighted_forecast": (
        "Weighted forecast",
        "weighted forecast of open deals by quarter",
        PipelineQuery(
            open_only=True,
            metric=Metric.WEIGHTED_SUM,
            group_by=GroupBy.CLOSE_QUARTER,
            sort=SortBy.GROUP_ASC,
        ),
    ),
}


def dashboard(session: Session, principal: Principal, today: date) -> Dashboard:
    tiles = [
        _guarded(
            tile_id, title, question, partial(_pipeline_tile, session, principal, query, today)
        )
        for tile_id, (title, question, query) in PIPELINE_TILES.items()
    ]
    others: list[tuple[str, str, str | None, Callable[..., TileData]]] = [
        ("churn_risk", "Churn risk", "which customers are at risk of churning?", _churn_tile),
        ("csat_trend", "CSAT trend", None, _csat_tile),
        ("top_accounts", "Top accounts by value", "top customers by projected value", _value_tile),
    ]
    tiles += [
        _guarded(tile_id, title, question, partial(build, session, principal, today))
        for tile_id, title, question, build in others
    ]
    return Dashboard(as_of=today, tiles=tiles)


def _guarded(tile_id: str, title: str, question: str | None, build: Callable[[], TileData]) -> Tile:
    try:
        data = dict(build())
    except AccessDenied as exc:
        data = {"unavailable": str(exc)}
    return Tile(id=tile_id, title=title, question=question, **data)


def _pipeline_tile(
    session: Session, principal: Principal, query: PipelineQuery, today: date
) -> TileData:
    result: PipelineResult = run_pipeline(session, principal, query, today)
    figures = [
        Figure(label=result.metric.value, value=t.value, currency=t.currency, count=t.deals)
        for t in result.totals
    ]
    return TileData(
        figures=figures,
        columns=result.columns,
        rows=result.rows,
        chart=result.chart,
        query=result.query,
    )


def _churn_tile(session: Session, principal: Principal, today: date) -> TileData:
    risks = health.churn_risk(session, principal, today)
    at_risk = [r for r in risks if r.level is not health.RiskLevel.LOW]
    return TileData(
        figures=[Figure(label="at risk (medium or high)", value=len(at_risk), count=len(risks))],
        columns=["account_id", "account", "score", "level", "reasons"],
        rows=[
            [r.account_id, r.account_name, r.score, r.level.value, "; ".join(r.reasons)]
            for r in risks[:TOP]
        ],
    )


def _csat_tile(session: Session, principal: Principal, today: date) -> TileData:
    months = satisfaction.csat_trend(session, principal, today)
    ratings = sum(m.ratings for m in months)
    overall = sum(m.average * m.ratings for m in months) / ratings if ratings else None
    return TileData(
        figures=[Figure(label="average CSAT, 12 months", value=_round(overall), count=ratings)],
        columns=["month", "average", "ratings"],
        rows=[[m.month, m.average, m.ratings] for m in months],
        chart=ChartSpec(
            kind="line",
            title="Average CSAT (1-5) by month",
            x_label="month",
            y_label="average CSAT",
            labels=[m.month for m in months],
            series={"CSAT": [m.average for m in months]},
        )
        if months
        else None,
    )


def _value_tile(session: Session, principal: Principal, today: date) -> TileData:
    report = value.customer_values(session, principal, today)
    top = report.values[:TOP]
    names = [v.account_name for v in top]
    labels = [f"{v.account_name} [{v.account_id}]" if names.count(v.account_name) > 1
              else v.account_name for v in top]  # fmt: skip
    series: dict[str, list[float]] = {}
    for i, v in enumerate(top):
        series.setdefault(v.currency, [0.0] * len(top))[i] = v.projected_value
    chart = ChartSpec(
        title=f"Projected value, next {report.horizon_months} months",
        x_label="account",
        y_label="projected value",
        labels=labels,
        series=series,
    )
    return TileData(
        figures=[
            Figure(label="projected value, next 12 months", value=v.projected_value,
                   currency=v.currency, count=1)
            for v in top[:1]
        ],
        columns=["account_id", "account", "projected_value", "currency", "historical_value",
                 "model"],
        rows=[[v.account_id, v.account_name, v.projected_value, v.currency, v.historical_value,
               v.model] for v in top],
        chart=chart if top else None,
    )  # fmt: skip


def _round(number: float | None) -> float | None:
    return None if number is None else round(number, 2)
