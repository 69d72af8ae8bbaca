"""End to end through the real pieces: import -> redaction -> chunks -> real embeddings ->
Qdrant's embedded engine on disk -> permission-filtered hybrid search, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from crmassist.access.directory import UnknownUser, principal_for
from crmassist.access.principal import Principal
from crmassist.domain.enums import SourceType
from crmassist.domain.models import AuditEvent, IndexedRecord, Interaction
from crmassist.ingest.importer import import_directory
from crmassist.retrieval.search import Citation, SearchRequest, SourceNotAllowed
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.conftest import BACKENDS, DATA, fresh_database

pytestmark = pytest.mark.slow

MINI = DATA / "mini_crm"
HOTEL_NOTE = (
    "The hotel wants twelve Office Dispensers with a lilac-coloured front panel to match "
    "the new spa"
)


@pytest.fixture(scope="module", params=BACKENDS)
def rt(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("rt")
    with fresh_database(request.param, request, tmp) as url:
        runtime = Runtime(Settings(data_dir=tmp, database_url=url))
        import_directory(MINI, runtime.sessions, as_of=runtime.clock.today())
        runtime.indexer().sync()
        yield runtime
        runtime.close()


def who(rt: Runtime, user_id: str) -> Principal:
    with rt.sessions() as session:
        return principal_for(session, user_id)


def ask(rt: Runtime, user_id: str, query: str, **options: object) -> list[Citation]:
    return rt.retriever().search(who(rt, user_id), SearchRequest(query=query, **options))  # type: ignore[arg-type]


def ids(citations: list[Citation]) -> set[str]:
    return {c.record_id for c in citations}


def test_rep_cannot_retrieve_another_teams_note_even_by_its_exact_text(rt: Runtime) -> None:
    assert "I2" in ids(ask(rt, "U2", HOTEL_NOTE, k=3))  # its owner finds it first
    for k in (5, 50):
        found = ask(rt, "U1", HOTEL_NOTE, k=k)  # Dana, other team
        assert "I2" not in ids(found)
        assert all(c.account_id in (None, "A1") for c in found)


def test_manager_sees_their_teams_accounts_only(rt: Runtime) -> None:
    found = ids(ask(rt, "U3", "FlowGuard pressure drop site visit", k=10))
    assert "I1" in found
    assert not found & {"I2", "I3", "T1"}


def test_support_sees_tickets_and_kb_but_no_notes(rt: Runtime) -> None:
    found = ask(rt, "U4", "dispenser stopped cooling", k=10)
    assert "T1" in ids(found)
    assert all(c.source_type is not SourceType.INTERACTION for c in found)
    with pytest.raises(SourceNotAllowed):
        ask(rt, "U4", "pressure drop", sources=(SourceType.INTERACTION,))


def test_internal_kb_is_visible_to_staff(rt: Runtime) -> None:
    top = ask(rt, "U4", "who can approve a 15% discount", k=1)
    assert [c.record_id for c in top] == ["KB-T2"]


def test_chinese_query_finds_chinese_note_and_article(rt: Runtime) -> None:
    found = ids(ask(rt, "U5", "净水器漏水 上门维修", k=4))
    assert {"I3", "KB-T3"} <= found


def test_source_filter_and_citation_fields(rt: Runtime) -> None:
    found = ask(rt, "U5", "E3 high TDS", sources=(SourceType.KB,), k=2)
    assert found[0].record_id == "KB-T1"
    assert found[0].title == "Fixing error E3 (high TDS)"
    assert "TDS" in found[0].snippet
    assert all(c.source_type is SourceType.KB for c in found)


def test_index_holds_no_raw_pii(rt: Runtime) -> None:
    raw = [
        "maria.gonzalez@acme-corp.example", "555 0134", "13812345678", "Maria Gonzalez",
        "王芳", "4111 1111 1111 1111", "10.20.30.40", "t.brenner@harborlights.example",
    ]  # fmt: skip
    texts = [json.dumps(c.__dict__, default=str, ensure_ascii=False) for c in _everything(rt)]
    blob = "\n".join(texts)
    assert "<EMAIL_" in blob and "<PERSON_" in blob
    for value in raw:
        assert value not in blob


def test_a_known_name_finds_notes_through_its_pseudonym(rt: Runtime) -> None:
    assert "I1" in ids(ask(rt, "U1", "Maria Gonzalez", k=3))


def test_every_search_is_audited(rt: Runtime) -> None:
    ask(rt, "U1", "cartridge order", k=2)
    with rt.sessions() as session:
        event = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (event.actor_id, event.action) == ("U1", "search")
    assert event.details["role"] == "rep"


def test_unknown_user_is_refused(rt: Runtime) -> None:
    with pytest.raises(UnknownUser):
        who(rt, "nobody")


def test_incremental_sync_embeds_only_changes_and_propagates_deletes(rt: Runtime) -> None:
    indexer = rt.indexer()
    assert indexer.sync().records_indexed == 0
    with rt.sessions.begin() as session:
        session.get(
            Interaction, "I4"
        ).body = "Customer switched to invoicing; the E7 gateway is fixed."  # type: ignore[union-attr]
    report = indexer.sync()
    assert (report.records_indexed, report.records_deleted) == (1, 0)
    assert "I4" in ids(ask(rt, "U1", "switched to invoicing gateway fixed", k=2))
    with rt.sessions.begin() as session:
        session.delete(session.get(Interaction, "I4"))
    assert indexer.sync().records_deleted == 1
    assert "I4" not in ids(ask(rt, "U5", "switched to invoicing gateway fixed", k=20))
    with rt.sessions() as session:
        assert session.get(IndexedRecord, ("interactions", "I4")) is None


def _everything(rt: Runtime) -> list[Citation]:
    return ask(rt, "U5", "the", k=100)
