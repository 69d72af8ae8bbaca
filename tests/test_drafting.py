"""Follow-up drafts a rep would send, from the record only: addressed to the contact, our
commitments with their dates read from the notes, open items, a next step; no number, date
or price that is not in the record (or read by the date parser from it). English and
Chinese, on every account of the sample CRM."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from crmassist.access.principal import Principal
from crmassist.agent.drafting import FollowUpDraft, Templates, draft_follow_up, named_contact
from crmassist.crm.commitments import commitments_in
from crmassist.crm.overview import customer_overview
from crmassist.domain.models import Account, Contact, User
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import SAMPLE, TODAY, who

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def test_commitments_are_dated_from_the_note_not_from_today() -> None:
    [found] = commitments_in(
        "N1", date(2026, 11, 16), "Call went well. I promised a TCO by Friday."
    )
    assert found.due == date(2026, 11, 20) and found.text == "I promised a TCO by Friday."
    [zh] = commitments_in("N2", date(2026, 11, 16), "客户很满意。答应周三前把报价发给他。")
    assert zh.due == date(2026, 11, 18)


def test_negated_customer_side_and_competitor_promises_are_not_ours() -> None:
    text = (
        "Also asked about free installation - not promised. He agreed to compare 5-year cost. "
        "ClearStream promised free installation. 免费安装需要经理审批，没有答应。 "
        "Sent the revised quote as promised."
    )
    assert commitments_in("N3", date(2026, 11, 16), text) == []


def test_a_promise_naming_our_manager_is_for_the_brief_not_the_customer() -> None:
    note = "I can only approve 10%; told her I would ask Grace and come back by next Tuesday."
    [found] = commitments_in("N4", date(2026, 11, 17), note)
    assert found.internal and found.due == date(2026, 11, 24)


@pytest.fixture(scope="module")
def sample_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The sample CRM in SQLite; drafts read only the database, so nothing is indexed."""
    rt = Runtime(Settings(data_dir=tmp_path_factory.mktemp("drafts"), today=TODAY))
    import_directory(SAMPLE, rt.sessions, as_of=TODAY)
    yield rt
    rt.close()


def _drafts(rt: Runtime, principal: Principal) -> list[tuple[str, FollowUpDraft, list[str]]]:
    """(account, draft, source texts) for every account with notes, in both languages."""
    templates = Templates(rt.settings.prompts_dir)
    out = []
    with rt.sessions() as session:
        for account_id in session.scalars(sa.select(Account.id).order_by(Account.id)):
            view = customer_overview(session, principal, account_id, recent=3)
            if not view.last_interactions:
                continue
            sources = [n.body + " " + (n.subject or "") for n in view.last_interactions]
            sources += [t.subject + " " + t.id for t in view.open_tickets or []]
            sources += [t.title for t in view.next_tasks or []]
            sources += list(session.scalars(sa.select(Contact.name)))
            sources += list(session.scalars(sa.select(User.name)))
            for lang in ("en", "zh"):
                draft = draft_follow_up(session, principal, account_id, None, lang, templates)
                out.append((account_id, draft, sources))
    return out


def _derived_days(rt: Runtime, principal: Principal, account_id: str) -> set[date]:
    """The dates a draft may show: the notes' own, those the date parser reads from them,
    and the tasks' due dates."""
    with rt.sessions() as session:
        view = customer_overview(session, principal, account_id, recent=3)
    notes = view.last_interactions or []
    days = {n.occurred_at.date() for n in notes} | {
        t.due_date for t in view.next_tasks or [] if t.due_date
    }
    days |= {c.due for c in view.commitments or [] if c.due}
    return days


def test_every_number_date_and_price_in_a_draft_is_in_the_record(sample_rt: Runtime) -> None:
    admin = who(sample_rt, "U013")
    phrases = Templates(sample_rt.settings.prompts_dir).phrases
    drafts = _drafts(sample_rt, admin)
    assert len(drafts) >= 40
    for account_id, draft, sources in drafts:
        text = draft.body
        for day in _derived_days(sample_rt, admin, account_id):
            for today in (day, date(day.year + 1, 1, 1)):
                text = text.replace(phrases.day(draft.language, day, today), " ")
        source = " ".join(sources).replace(",", "")
        invented = [n for n in _NUMBER.findall(text) if n.replace(",", "") not in source]
        assert not invented, f"{account_id} {draft.language}: {invented}\n{draft.body}"


def test_a_draft_speaks_to_the_contact_and_dates_each_commitment(sample_rt: Runtime) -> None:
    admin = who(sample_rt, "U013")
    phrases = Templates(sample_rt.settings.prompts_dir).phrases
    dated = 0
    for account_id, draft, _ in _drafts(sample_rt, admin):
        contact = draft.to_contact or ""
        greeting = f"Dear {contact}," if draft.language == "en" else f"{contact}，您好！"
        assert greeting in draft.body, draft.body
        with sample_rt.sessions() as session:
            view = customer_overview(session, admin, account_id, recent=3)
        latest = view.last_interactions[0].occurred_at.date() if view.last_interactions else None
        for promise in [c for c in view.commitments or [] if not c.internal][:5]:
            assert promise.text.rstrip(".。!！") in draft.body
            if promise.due:
                dated += 1
                assert phrases.day(draft.language, promise.due, latest) in draft.body
        next_words = "As a next step" if draft.language == "en" else "下一步"
        assert next_words in draft.body
    assert dated >= 10


@pytest.mark.parametrize(
    ("account_id", "words", "expected"),
    [
        ("A002", "can you draft something to send rachel at pacific crest", "Rachel Sullivan"),
        ("A023", "a reply to SOFIA about the invoice", "Sofía Castillo"),  # accents, case
        ("A045", "给深圳华南电子的韩雪梅写封邮件", "韩雪梅"),
        ("A002", "write to megan or owen", None),  # two named: not guessed
        ("A002", "follow up with the hotel", None),
        ("A001", "send rachel the notes", None),  # a Rachel, but not at this account
    ],
)
def test_the_contact_a_request_names_is_found_among_the_accounts(
    sample_rt: Runtime, account_id: str, words: str, expected: str | None
) -> None:
    with sample_rt.sessions() as session:
        found = named_contact(session, account_id, words)
    assert (found.name if found else None) == expected


def test_a_draft_goes_to_the_contact_named_not_the_latest(sample_rt: Runtime) -> None:
    admin = who(sample_rt, "U013")
    templates = Templates(sample_rt.settings.prompts_dir)
    with sample_rt.sessions() as session:
        latest = draft_follow_up(session, admin, "A002", None, "en", templates)
        named = draft_follow_up(session, admin, "A002", None, "en", templates, named="rachel")
    assert latest.to_contact != "Rachel Sullivan"
    assert named.to_contact == "Rachel Sullivan"
    assert "Dear Rachel Sullivan," in named.body
