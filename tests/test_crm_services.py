"""CRM services on real SQL (SQLite and PostgreSQL): what each role sees and may change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm.activity import NewInteraction, create_task, list_tasks, log_interaction
from crmassist.crm.customers import find_customers, unambiguous
from crmassist.crm.errors import AccessDenied, NotFound
from crmassist.crm.health import RiskLevel, Tier, churn_risk, customer_segments
from crmassist.crm.overview import customer_overview
from crmassist.domain.enums import Channel, Priority, Role, TicketStatus
from crmassist.domain.models import Interaction, Order, Task, Ticket
from crmassist.ingest.importer import import_directory
from tests.conftest import DATA

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ADMIN = Principal("U5", Role.ADMIN, "operations")
DANA = Principal("U1", Role.REP, "enterprise-west")
OMAR = Principal("U2", Role.REP, "enterprise-east")
GRACE = Principal("U3", Role.MANAGER, "enterprise-west", reach=frozenset({"U1", "U3"}))
"""As `directory.principal_for` resolves her: Enterprise West is Dana and Grace."""
PRIYA = Principal("U4", Role.SUPPORT, "customer-support")
CHEN = Principal("U6", Role.REP, "apac")


@pytest.fixture
def crm(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    import_directory(DATA / "mini_crm", session_factory, as_of=TODAY)
    return session_factory


# --- find_customer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "query", "expected"),
    [
        (ADMIN, "acme", "A1"),
        (ADMIN, "Acmee Corp", "A1"),
        (ADMIN, "harbour lights", "A2"),
        (ADMIN, "西湖酒店", "A3"),
        (ADMIN, "Maria Gonzales", "A1"),  # a contact, with a typo
        (CHEN, "王芳", "A3"),
    ],
)
def test_find_customer_by_partial_typo_chinese_or_contact(
    crm: sessionmaker[Session], who: Principal, query: str, expected: str
) -> None:
    with crm() as session:
        match = unambiguous(find_customers(session, who, query))
    assert match is not None and match.account_id == expected


def test_find_customer_never_reveals_accounts_out_of_scope(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        assert find_customers(session, DANA, "Harbor Lights Hotel") == []
        assert find_customers(session, GRACE, "Tobias Brenner") == []
        assert [m.account_id for m in find_customers(session, GRACE, "Acme")] == ["A1"]


# --- customer_overview --------------------------------------------------------------------


def test_overview_for_the_owner_has_every_section(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        view = customer_overview(session, DANA, "A1")
    assert view.lifecycle_stage == "customer" and view.owner == "Dana Whitfield"
    assert [d.id for d in view.open_deals or []] == ["O1"]
    assert [o.id for o in view.recent_orders or []] == ["R1"]
    assert [n.id for n in view.last_interactions or []] == ["I1", "I4"]
    assert view.open_tickets == []  # T2 is resolved
    assert view.contacts[0].email == "maria.gonzalez@acme-corp.example"
    assert {"A1", "O1", "R1", "I1", "C1"} <= {ref[1] for ref in view.record_refs()}


def test_support_sees_tickets_and_masked_contacts_but_no_deals_orders_or_notes(
    crm: sessionmaker[Session],
) -> None:
    with crm() as session:
        view = customer_overview(session, PRIYA, "A2")
    assert view.open_deals is None and view.recent_orders is None
    assert view.last_interactions is None
    assert [t.id for t in view.open_tickets or []] == ["T1"]
    contact = view.contacts[0]
    assert contact.name == "Tobias Brenner"
    assert contact.email == "t***@harborlights.example"
    assert contact.phone == "+** ** **** **58"


def test_overview_out_of_scope_is_not_found(crm: sessionmaker[Session]) -> None:
    with crm() as session, pytest.raises(NotFound):
        customer_overview(session, DANA, "A2")


# --- log_interaction and tasks ------------------------------------------------------------


def test_logging_is_idempotent_on_the_client_key(crm: sessionmaker[Session]) -> None:
    new = NewInteraction(
        account_id="A1",
        channel=Channel.CALL,
        summary="Maria confirmed the site visit for Thursday.",
        contact_id="C1",
        follow_up_on=date(2026, 11, 24),
        idempotency_key="slack-evt-1",
    )
    with crm.begin() as session:
        first = log_interaction(session, DANA, new, NOW)
    with crm.begin() as session:
        again = log_interaction(session, DANA, new, NOW)
    assert first.created and not again.created
    assert again.interaction_id == first.interaction_id and again.task_id == first.task_id
    with crm() as session:
        notes = session.scalars(sa.select(Interaction).where(Interaction.author_id == "U1"))
        assert len(notes.all()) == 3
        task = session.get(Task, first.task_id)
        assert task is not None and task.due_date == date(2026, 11, 24)
        assert task.title == "Follow up with Acme Corporation"


def test_logging_checks_role_scope_and_contact(crm: sessionmaker[Session]) -> None:
    note = NewInteraction(account_id="A2", channel=Channel.NOTE, summary="x")
    with crm.begin() as session:
        with pytest.raises(AccessDenied):
            log_interaction(session, PRIYA, note, NOW)
        with pytest.raises(NotFound):
            log_interaction(session, DANA, note, NOW)
        with pytest.raises(NotFound):
            wrong_contact = note.model_copy(update={"account_id": "A1", "contact_id": "C2"})
            log_interaction(session, DANA, wrong_contact, NOW)


def test_tasks_are_per_owner_and_sorted_by_due_date(crm: sessionmaker[Session]) -> None:
    with crm.begin() as session:
        create_task(session, DANA, "Send revised quote", date(2026, 11, 27), "A1", NOW)
        create_task(session, DANA, "Call Maria", date(2026, 11, 24), "A1", NOW)
        create_task(session, DANA, "Expense report", None, None, NOW)
        with pytest.raises(NotFound):
            create_task(session, DANA, "Spy on Omar's hotel", None, "A2", NOW)
    with crm() as session:
        mine = list_tasks(session, DANA)
        assert [t.title for t in mine] == ["Call Maria", "Send revised quote", "Expense report"]
        assert mine[0].account_name == "Acme Corporation"
        assert list_tasks(session, OMAR) == []
        assert [t.title for t in list_tasks(session, DANA, due_before=date(2026, 11, 25))] == [
            "Call Maria"
        ]


# --- segments and churn -------------------------------------------------------------------


def _history(session: Session) -> None:
    """Acme orders monthly and recently; the hotel in Hangzhou stopped ordering 14 months ago
    and has an urgent ticket and unhappy ratings."""
    for n in range(12):
        day = TODAY - timedelta(days=30 * n + 5)
        session.add(Order(id=f"RA{n}", account_id="A1", order_date=day, amount=Decimal(5000),
                          currency="USD", product="CB-20 carbon block x40"))  # fmt: skip
    for n in range(6):
        day = TODAY - timedelta(days=420 + 60 * n)
        session.add(Order(id=f"RC{n}", account_id="A3", order_date=day, amount=Decimal(30000),
                          currency="CNY", product="AquaPure Pro 500"))  # fmt: skip
    session.add(Ticket(id="TX", account_id="A3", subject="漏水", body="12楼漏水",
                       status=TicketStatus.OPEN, priority=Priority.URGENT,
                       created_at=NOW - timedelta(days=2)))  # fmt: skip
    for n, csat in enumerate((2, 1, 3)):
        session.add(Ticket(id=f"TC{n}", account_id="A3", subject="s", body="b",
                           status=TicketStatus.CLOSED, priority=Priority.NORMAL,
                           created_at=NOW - timedelta(days=100 + n), csat=csat))  # fmt: skip


def test_segments_and_churn_explain_themselves(crm: sessionmaker[Session]) -> None:
    with crm.begin() as session:
        session.execute(sa.delete(Order))
        _history(session)
    with crm() as session:
        tiers = {s.account_id: s for s in customer_segments(session, ADMIN, TODAY)}
        risks = {r.account_id: r for r in churn_risk(session, ADMIN, TODAY)}
    assert tiers["A3"].tier is Tier.LAPSED
    assert tiers["A1"].tier in (Tier.HIGH_VALUE, Tier.POTENTIAL)
    assert any("12 order(s)" in reason for reason in tiers["A1"].reasons)
    hotel = risks["A3"]
    assert hotel.level is RiskLevel.HIGH
    assert any("urgent" in r for r in hotel.reasons) and any("CSAT 2.0" in r for r in hotel.reasons)
    assert risks["A1"].score < hotel.score


def test_health_is_scoped_and_closed_to_support(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        assert {s.account_id for s in customer_segments(session, DANA, TODAY)} == {"A1"}
        assert {r.account_id for r in churn_risk(session, DANA, TODAY)} == {"A1"}
        assert churn_risk(session, DANA, TODAY, account_id="A3") == []
        with pytest.raises(AccessDenied):
            churn_risk(session, PRIYA, TODAY)
