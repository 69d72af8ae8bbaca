from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import session_scope, upgrade_schema
from crmassist.domain.enums import Role, Stage
from crmassist.domain.models import Account, Opportunity, Team, User


def test_migrations_create_every_table_and_are_idempotent(db_engine: sa.Engine) -> None:
    upgrade_schema(db_engine)  # second run: nothing to do, no error
    tables = set(sa.inspect(db_engine).get_table_names())
    assert {"users", "accounts", "opportunities", "interactions", "pii_tokens"} <= tables


def test_enums_and_money_round_trip(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as s:
        for parent in (
            Team(id="t1", name="West"),
            User(id="u1", name="Ann", email="ann@example.com", role=Role.REP, team_id="t1"),
            Account(id="a1", name="Acme", owner_id="u1", created_at=datetime.now(UTC)),
        ):
            s.add(parent)
            s.flush()
        s.add(
            Opportunity(
                id="o1",
                account_id="a1",
                name="Renewal",
                stage=Stage.NEGOTIATION,
                amount=Decimal("52000.50"),
                currency="USD",
                probability=60,
                owner_id="u1",
            )
        )
    with session_factory() as s:
        opp = s.get(Opportunity, "o1")
        assert opp is not None
        assert opp.stage is Stage.NEGOTIATION
        assert opp.amount == Decimal("52000.50")
        raw = s.execute(sa.text("select stage from opportunities")).scalar_one()
        assert raw == "negotiation"
