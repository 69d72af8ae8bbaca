"""Typed pipeline queries on real SQL (SQLite and PostgreSQL), in each role's scope."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm.errors import AccessDenied
from crmassist.crm.pipeline import (
    GroupBy,
    Metric,
    OwnerScope,
    PipelineQuery,
    SortBy,
    Total,
    run_pipeline,
)
from crmassist.domain.enums import Role, Stage
from crmassist.ingest.importer import import_directory
from tests.conftest import DATA

TODAY = date(2026, 11, 20)
ADMIN = Principal("U5", Role.ADMIN, "operations")
DANA = Principal("U1", Role.REP, "enterprise-west")
GRACE = Principal("U3", Role.MANAGER, "enterprise-west", reach=frozenset({"U1", "U3"}))
"""As `directory.principal_for` resolves her: Enterprise West is Dana and Grace."""
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
        (
            GroupBy.STAGE,
            Metric.COUNT,
            [["negotiation", "USD 76,000", 1], ["proposal", "USD 18,750", 1]],
        ),
        (
            GroupBy.OWNER,
            Metric.SUM,
            [["Dana Whitfield", USD, 1, 76000.0], ["Omar Haddad", USD, 1, 18750.0]],
        ),
        (
            GroupBy.TEAM,
            Metric.WEIGHTED_SUM,
            [[WEST, USD, 1, 53200.0], ["Enterprise East", USD, 1, 7500.0]],
        ),
        (
            GroupBy.CLOSE_QUARTER,
            Metric.COUNT,
            [["2026-Q4", "USD 76,000", 1], ["2027-Q1", "USD 18,750", 1]],
        ),
        (
            GroupBy.CLOSE_MONTH,
            Metric.AVERAGE,
            [["2026-12", USD, 1, 76000.0], ["2027-01", USD, 1, 18750.0]],
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


# --- every metric on hand-computed data ---------------------------------------------------------

DEALS_CSV = """\
id,account_id,name,stage,amount,currency,close_date,probability,owner_id,product,created_date
D1,A1,d1,closed_won,10000,USD,2017-02-10,100,U1,Pump,2017-01-01
D2,A1,d2,closed_won,30000,USD,2017-05-20,100,U1,Filter,2017-03-01
D3,A1,d3,closed_lost,20000,USD,2017-06-30,0,U1,Pump,2017-06-01
D4,A2,d4,closed_won,50000,USD,2017-08-15,100,U2,Pump,2017-07-16
D5,A2,d5,closed_lost,40000,USD,2017-09-01,0,U2,,
D6,A1,d6,negotiation,60000,USD,2018-03-31,80,U1,Filter,2017-12-01
D7,A2,d7,proposal,15000,USD,2018-02-01,50,U2,Pump,2017-11-01
D8,A2,d8,closed_won,9000,EUR,2017-11-11,100,U2,Pump,2017-10-01
"""
YEAR_2017: dict[str, Any] = {"close_from": date(2017, 1, 1), "close_to": date(2017, 12, 31)}


@pytest.fixture
def deals(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """mini_crm's people and accounts with eight deals whose numbers are worked out by hand."""
    for name in ("users.csv", "accounts.csv"):
        shutil.copy(DATA / "mini_crm" / name, tmp_path / name)
    (tmp_path / "opportunities.csv").write_text(DEALS_CSV, encoding="utf-8")
    import_directory(tmp_path, session_factory, as_of=TODAY)
    return session_factory


def totals(sessions: sessionmaker[Session], who: Principal = ADMIN, **query: Any) -> list[Total]:
    with sessions() as session:
        return run_pipeline(session, who, PipelineQuery(**query), TODAY).totals


def value(sessions: sessionmaker[Session], currency: str | None = USD, **query: Any) -> float:
    found = [t for t in totals(sessions, **query) if t.currency == currency]
    assert len(found) == 1, found
    return found[0].value or 0.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stages": [Stage.CLOSED_WON], "metric": Metric.SUM, **YEAR_2017}, 90000),
        ({"stages": [Stage.CLOSED_WON], "metric": Metric.AVERAGE, **YEAR_2017}, 30000),
        ({"stages": [Stage.CLOSED_WON], "metric": Metric.MEDIAN}, 30000),
        ({"metric": Metric.MEDIAN, "max_amount": Decimal(50000)}, 25000),  # 10 15 20 30 40 50
        ({"stages": [Stage.CLOSED_WON], "metric": Metric.MIN}, 10000),
        ({"stages": [Stage.CLOSED_WON], "metric": Metric.MAX}, 50000),
        ({"metric": Metric.WEIGHTED_SUM}, 55500),  # open deals only: 60000×80% + 15000×50%
        ({"metric": Metric.WIN_RATE_VALUE, **YEAR_2017}, 60.0),  # 90000 won of 150000 closed
        ({"stages": [Stage.CLOSED_WON], "products": ["pump"], "metric": Metric.SUM}, 60000),
    ],
)
def test_metrics_over_the_matching_deals(
    deals: sessionmaker[Session], query: dict[str, Any], expected: float
) -> None:
    assert value(deals, **query) == expected


def test_counts_and_rates_are_not_per_currency(deals: sessionmaker[Session]) -> None:
    rate = totals(deals, metric=Metric.WIN_RATE, **YEAR_2017)
    assert [(t.currency, t.value, t.won, t.closed) for t in rate] == [(None, 66.67, 4, 6)]
    assert value(deals, None, metric=Metric.SALES_CYCLE, stages=[Stage.CLOSED_WON]) == 47.75
    assert value(deals, None, metric=Metric.SALES_CYCLE) == 44.0  # closed, with both dates
    created = {"created_from": date(2017, 7, 1), "created_to": date(2017, 12, 31)}
    assert value(deals, None, metric=Metric.COUNT, **created) == 4
    assert value(deals, "EUR", metric=Metric.SUM, stages=[Stage.CLOSED_WON]) == 9000


def test_owners_by_name_or_as_mine(deals: sessionmaker[Session]) -> None:
    assert value(deals, None, owner_names=["dana whitfield"]) == 4
    assert value(deals, None, who=DANA, mine=OwnerScope.ME) == 4
    assert value(deals, None, who=GRACE, mine=OwnerScope.MY_TEAM) == 4
    assert totals(deals, DANA, owner_names=["Omar Haddad"]) == []  # Omar's deals: not her scope


def test_groups_rank_and_count_every_group(deals: sessionmaker[Session]) -> None:
    with deals() as session:
        query = PipelineQuery(
            stages=[Stage.CLOSED_WON], group_by=GroupBy.OWNER, metric=Metric.MEDIAN, limit=1
        )
        result = run_pipeline(session, ADMIN, query, TODAY)
    assert result.columns == ["owner", "currency", "deals", "median"]
    assert result.rows == [["Omar Haddad", USD, 1, 50000.0]]
    assert result.group_count == 3  # Omar USD, Dana USD, Omar EUR
    with deals() as session:
        query = PipelineQuery(group_by=GroupBy.PRODUCT, sort=SortBy.GROUP_ASC)
        rows = run_pipeline(session, ADMIN, query, TODAY).rows
    # a count by group shows each group's amount beside it, one sum per currency
    assert rows == [
        ["Filter", "USD 90,000", 2],
        ["Pump", "USD 95,000 + EUR 9,000", 5],
        ["unknown", "USD 40,000", 1],
    ]
