"""Typed pipeline queries on real SQL (SQLite and PostgreSQL), in each role's scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm.errors import AccessDenied
from crmassist.crm.pipeline import GroupBy, Metric, PipelineQuery, run_pipeline
from crmassist.domain.enums import Role, Stage
from crmassist.ingest.importer import import_directory
from tests.conftest import DATA

TODAY = date(2026, 11, 20)
ADMIN = Principal("U5", Role.ADMIN, "operations")
DANA = Principal("U1", Role.REP, "enterprise-west")
GRACE = Principal("U3", Role.MANAGER, "enterprise-west")
PRIYA = Principal("U4", Role.SUPPORT, "customer-support")
USD, WEST = "USD", "Enterprise West"


@pytest.fixture
def sessions(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    import_directory(DATA / "mini_crm", session_factory, as_of=TODAY)
    return session_factory


def run(sessions: sessionmaker[Session], who: Principal, **query: object) -> list[list[object]]:
    with sessions() as session:
        return run_pipeline(session, who, PipelineQuery(**query), TODAY).rows  # type: ignore[arg-type]


def test_deal_list_respects_scope(sessions: sessionmaker[Session]) -> None:
    assert [r[0] for r in run(sessions, ADMIN)] == ["O1", "O2"]
    assert [r[0] for r in run(sessions, DANA)] == ["O1"]
    assert [r[0] for r in run(sessions, GRACE)] == ["O1"]  # O2 belongs to Enterprise East


def test_support_may_not_see_deals(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(AccessDenied):
        run(sessions, PRIYA)


def test_filters_combine(sessions: sessionmaker[Session]) -> None:
    rows = run(sessions, ADMIN, stages=[Stage.NEGOTIATION], min_amount=Decimal(50000))
    assert [r[0] for r in rows] == ["O1"]
    assert run(sessions, ADMIN, min_amount=Decimal(80000)) == []
    assert [r[0] for r in run(sessions, ADMIN, close_to=date(2026, 12, 31))] == ["O1"]


def test_slipped_means_open_with_a_past_close_date(sessions: sessionmaker[Session]) -> None:
    assert run(sessions, ADMIN, slipped=True) == []
    with sessions() as session:
        result = run_pipeline(session, ADMIN, PipelineQuery(slipped=True), date(2026, 12, 20))
    assert [r[0] for r in result.rows] == ["O1"]


@pytest.mark.parametrize(
    ("group_by", "metric", "expected"),
    [
        (GroupBy.STAGE, Metric.COUNT, [["negotiation", 1], ["proposal", 1]]),
        (
            GroupBy.OWNER,
            Metric.SUM,
            [["Dana Whitfield", USD, 76000.0], ["Omar Haddad", USD, 18750.0]],
        ),
        (
            GroupBy.TEAM,
            Metric.WEIGHTED_SUM,
            [[WEST, USD, 53200.0], ["Enterprise East", USD, 7500.0]],
        ),
        (GroupBy.CLOSE_QUARTER, Metric.COUNT, [["2026-Q4", 1], ["2027-Q1", 1]]),
        (
            GroupBy.CLOSE_MONTH,
            Metric.AVERAGE,
            [["2026-12", USD, 76000.0], ["2027-01", USD, 18750.0]],
        ),
    ],
)
def test_grouped_metrics(
    sessions: sessionmaker[Session], group_by: GroupBy, metric: Metric, expected: list[object]
) -> None:
    with sessions() as session:
        result = run_pipeline(
            session, ADMIN, PipelineQuery(group_by=group_by, metric=metric), TODAY
        )
    assert result.rows == expected
    assert result.chart is not None and result.chart.labels == [r[0] for r in expected]
    assert result.deal_count == 2


def test_inconsistent_queries_are_rejected() -> None:
    with pytest.raises(ValidationError):
        PipelineQuery(min_amount=Decimal(10), max_amount=Decimal(5))
    with pytest.raises(ValidationError):
        PipelineQuery(limit=0)
