"""The manager dashboard and chart specs for the console (one Vega-Lite builder for all)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crmassist.api.deps import PrincipalDep, RuntimeDep
from crmassist.charts import vega_lite
from crmassist.crm import dashboard as board
from crmassist.crm.pipeline import ChartSpec
from crmassist.errors import CrmassistError
from crmassist.privacy.disclosure import Disclosure

router = APIRouter(prefix="/v1", tags=["crm"])


class TileOut(board.Tile):
    vega_lite: dict[str, Any] | None = None
    """The tile's chart as a Vega-Lite spec, ready for vega-embed."""


class DashboardOut(board.Dashboard):
    tiles: list[TileOut]  # type: ignore[assignment]


@router.get("/dashboard", response_model=DashboardOut)
def dashboard(rt: RuntimeDep, principal: PrincipalDep) -> DashboardOut:
    """Pipeline by stage and close month, win rate, weighted forecast, churn risk, CSAT
    trend and top accounts by value, in your scope: each tile the number chat gives for
    its `question`. A tile your role may not see carries `unavailable` instead."""
    with rt.sessions() as session:
        found = board.dashboard(session, principal, rt.clock.today())
    tiles = [
        TileOut(**dict(t), vega_lite=vega_lite(t.chart) if t.chart else None) for t in found.tiles
    ]
    accounts = [str(row[0]) for t in found.tiles if t.id in ("churn_risk", "top_accounts")
                for row in t.rows]  # fmt: skip
    rt.audit.record(principal, "api:dashboard", records=accounts)
    return Disclosure(principal, rt.redactor).model(DashboardOut(as_of=found.as_of, tiles=tiles))


@router.post("/charts/vega-lite", response_model=dict[str, Any])
def chart_spec(chart: ChartSpec, principal: PrincipalDep) -> dict[str, Any]:
    """A chart (a pipeline result's or a chat reply's `chart`) as the Vega-Lite spec the
    console draws and Slack renders to PNG."""
    if any(len(values) != len(chart.labels) for values in chart.series.values()):
        raise CrmassistError("every series needs one value per label")  # a 400
    return vega_lite(chart)
