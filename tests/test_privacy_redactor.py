"""The redactor end to end: presidio + vault, tokens, batching, NER switch, import cost."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.privacy import TOKEN_PATTERN, EntityType, Redactor, build_redactor
from crmassist.privacy.engine import shared_engine, wants_ner
from crmassist.settings import Settings

KNOWN = ["Sarah Johnson", "Mark Chen", "王伟", "王伟东", "李娜", "Kevin O'Brien", " ", "X"]

NOTE = (
    "Call with Sarah Johnson (sarah.johnson@acmewater.com, +1 415 555 0134) about order "
    "SO-2024-0318 ($48,500, 40 × PF-10). Refund to DE89 3704 0044 0532 0130 00; old card "
    "4111 1111 1111 1111. Gateway 10.24.8.17, firmware version 4.2.1.7. "
    "客户王伟东身份证 11010519880921103X，电话 138-1234-5678，工单 T00012。"
)


@pytest.fixture(scope="module")
def plain(sessions: sessionmaker[Session]) -> Redactor:
    """Patterns and known names only: presidio without the spaCy model."""
    return build_redactor(Settings(pii_ner=False), sessions, KNOWN)


@pytest.fixture(scope="module")
def with_ner(sessions: sessionmaker[Session]) -> Redactor:
    return build_redactor(Settings(pii_ner=True), sessions, iter(KNOWN))


def types_in(text: str) -> list[str]:
    return [m.group("type") for m in TOKEN_PATTERN.finditer(text)]


def test_every_kind_is_replaced_and_the_rest_kept(plain: Redactor) -> None:
    result = plain.redact(NOTE)
    assert types_in(result.text) == [
        "PERSON", "EMAIL", "PHONE", "IBAN", "CARD", "IP", "PERSON", "CN_ID", "PHONE",
    ]  # fmt: skip
    for kept in ("SO-2024-0318", "$48,500", "PF-10", "4.2.1.7", "T00012"):
        assert kept in result.text
    for gone in ("Sarah", "acmewater", "555", "3704", "4111", "10.24", "王伟东", "1103X", "1234"):
        assert gone not in result.text


def test_entities_point_into_the_original(plain: Redactor) -> None:
    result = plain.redact(NOTE)
    first = result.entities[0]
    assert (first.entity_type, NOTE[first.start : first.end]) == (
        EntityType.PERSON,
        "Sarah Johnson",
    )
    assert [e.token for e in result.entities] == [
        m.group() for m in TOKEN_PATTERN.finditer(result.text)
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(result.entities))


def test_same_value_same_token_everywhere(plain: Redactor) -> None:
    a, b = plain.redact_many(
        ["Mail SARAH.JOHNSON@acmewater.com or call +86 138 1234 5678.", "手机13812345678"]
    )
    c = plain.redact("sarah.johnson@acmewater.com")
    email, phone = (e.token for e in a.entities)
    assert b.entities[0].token == phone and c.text == email


def test_batch_equals_single(plain: Redactor) -> None:
    texts = [NOTE, "nothing here", "", "李娜的邮箱 lina@huadong-water.cn"]
    assert plain.redact_many(texts) == [plain.redact(t) for t in texts]
    assert plain.redact_many(iter(texts)) == plain.redact_many(texts)


def test_redacting_twice_changes_nothing(plain: Redactor) -> None:
    once = plain.redact(NOTE)
    twice = plain.redact(once.text)
    assert twice.text == once.text and twice.entities == ()


def test_restore_by_allowed_types(plain: Redactor) -> None:
    redacted = plain.redact("Kevin O'Brien: kob@northwind-labs.com, +1 646 555 0112").text
    support = plain.vault.restore(redacted, [EntityType.PERSON])
    assert support.startswith("Kevin O'Brien: <EMAIL_") and "<PHONE_" in support
    everything = plain.vault.restore(redacted, list(EntityType))
    assert everything == "Kevin O'Brien: kob@northwind-labs.com, +1 646 555 0112"


def test_known_names_can_be_swapped_without_reloading(plain: Redactor) -> None:
    other = plain.with_known_names(["Priya Raman"])
    assert types_in(other.redact("priya raman and sarah johnson").text) == ["PERSON"]
    assert other.vault is plain.vault


def test_a_known_persons_given_name_alone_gets_their_token(plain: Redactor) -> None:
    """ "marcus" is Marcus Reed to whoever reads the tokens (the planner matches deal owners
    by them); a given name two people share gets a token of its own."""
    crm = plain.with_known_names(["Marcus Reed", "Rachel Kim", "Rachel Sullivan"])
    marcus = crm.redact("Marcus Reed").text
    assert crm.redact("marcus weighted pipeline").text == f"{marcus} weighted pipeline"
    rachel = crm.redact("send rachel the quote").text
    assert types_in(rachel) == ["PERSON"]
    assert crm.redact("Rachel Kim").text not in rachel
    assert crm.vault.restore(rachel, [EntityType.PERSON]) == "send rachel the quote"


def test_unknown_names_come_from_the_lexicon_without_the_ner_model(plain: Redactor) -> None:
    found = plain.detect("Spoke with Diego Alvarez about the pilot.")
    assert [(d.entity_type, d.source) for d in found] == [(EntityType.PERSON, "name_lexicon")]


@pytest.mark.slow
def test_ner_finds_unknown_english_names(with_ner: Redactor) -> None:
    text = "Spoke with Diego Alvarez about the pilot; Kevin O'Brien's team too."
    result = with_ner.redact(text)
    assert [text[e.start : e.end] for e in result.entities] == ["Diego Alvarez", "Kevin O'Brien"]
    diego, kevin = (e.token for e in result.entities)
    assert result.text == f"Spoke with {diego} about the pilot; {kevin}'s team too."


@pytest.mark.slow
def test_ner_skips_chinese_and_lowercase_text(
    with_ner: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    ner = shared_engine(True).ner
    assert ner is not None
    seen: list[str] = []
    original = ner.person_artifacts

    def spy(texts: list[str], batch_size: int) -> object:
        seen.extend(texts)
        return original(texts, batch_size)

    monkeypatch.setattr(ner, "person_artifacts", spy)
    english = "Met Diego at the expo."
    with_ner.redact_many(["客户王伟来电，反映 PF-10 漏水。Thanks", "no capitals at all", english])
    assert seen == [english]
    assert not wants_ner("联系人 John 说客户王伟东要求退货并补偿")


@pytest.mark.slow
def test_ids_amounts_dates_and_codes_survive(with_ner: Redactor) -> None:
    text = (
        "Order SO-2024-0318 shipped 2024-03-15: 25 × PF-10, 10 × RO-75, E3 cartridges, "
        "total USD 12,480.00. Ticket T00012 merged into T00015; PO 4500012345; "
        "invoice INV-2024-00871; firmware 3.8.2; 订单 20240315001234，金额 ¥128,000。"
    )
    assert with_ner.redact(text).text == text


def test_importing_the_package_stays_cheap() -> None:
    code = (
        "import sys, crmassist.privacy; "
        "heavy = {'presidio_analyzer', 'spacy', 'phonenumbers', 'tldextract'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_ner_engine_loads_without_torch_or_transformers() -> None:
    """presidio and spaCy would import both (seconds of a cold start) and use neither; the
    redactor still finds a name by NER, and torch imports as usual afterwards."""
    code = (
        "import sys\n"
        "from crmassist.privacy.engine import shared_engine\n"
        "engine = shared_engine(True)\n"
        "text = 'Yesterday I met John Smith at the plant in Ohio.'\n"
        "people = [e.text for e in engine.artifacts([text], 8)[0].entities]\n"
        "assert people == ['John Smith'], people\n"
        "assert not {'torch', 'transformers'} & set(sys.modules), 'heavy stack imported'\n"
        "import torch\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_building_and_redacting_needs_no_network(tmp_path: Path) -> None:
    """spaCy loads from the installed package, tldextract from its bundled snapshot."""
    script = f"""
import socket

def refuse(*args, **kwargs):
    raise RuntimeError("network access attempted")

socket.socket.connect = refuse
socket.create_connection = refuse

from crmassist.db import make_engine, make_session_factory, upgrade_schema
from crmassist.privacy import build_redactor
from crmassist.privacy.crypto import bind
from crmassist.settings import Settings

engine = make_engine("sqlite:///{tmp_path / "vault.db"}")
bind(engine, Settings())
upgrade_schema(engine)
redactor = build_redactor(Settings(pii_ner=True), make_session_factory(engine), ["李娜"])
text = redactor.redact("Diego Alvarez <diego@aguaviva.com.br>, 李娜").text
assert text.count("<PERSON_") == 2 and "<EMAIL_" in text, text
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "call on 2026-11-24 at 10:00 about the renewal",
        "T-Mobile 76000.00 USD, closing 2026-12-15",
        "smallest won deal in Dec 2017",
        "pipeline by region: West, North, Asia",
        "the Pro 500 leaks at the inlet",
    ],
)
def test_dates_amounts_months_regions_and_products_are_not_personal(
    with_ner: Redactor, text: str
) -> None:
    assert with_ner.redact(text).text == text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Antonio wants a discount on the renewal", "Antonio"),  # a given name opening a clause
        ("Alena, can I call you back tomorrow?", "Alena"),
    ],
)
def test_whole_names_are_masked(with_ner: Redactor, text: str, name: str) -> None:
    redacted = with_ner.redact(text)
    assert name not in redacted.text
    assert not any(part in redacted.text.split() for part in name.split())


def test_names_of_things_the_crm_knows_are_not_people(plain: Redactor) -> None:
    """Every word public (a product, a KB title): no person; one word that is not: masked."""
    text = "Ask about FlowGuard Industrial, then call Zbygniewa Industrial."
    before = [text[d.start : d.end] for d in plain.detect_many([text], cautious=True)[0]]
    public = plain.with_public_values({"FlowGuard", "Industrial"})
    after = [text[d.start : d.end] for d in public.detect_many([text], cautious=True)[0]]
    assert "FlowGuard Industrial" in before and "FlowGuard Industrial" not in after
    assert any("Zbygniewa" in found for found in after)


def test_a_name_inside_a_known_organisation_name_is_part_of_that_name(plain: Redactor) -> None:
    """A tagger reads 金鸡湖 (Jinji Lake) as a surname and a given name; written inside the
    account's name it is the account, and the same characters elsewhere still count."""
    account = "苏州金鸡湖商务中心"
    asked = f"{account}有哪些在跟的商机"
    elsewhere = "联系人金鸡湖说下周再谈"
    public = plain.with_public_values({account})
    found = [asked[d.start : d.end] for d in plain.detect_many([asked])[0]]
    assert found == ["金鸡湖"]  # without the account's name known: taken for a person
    assert public.detect_many([asked])[0] == []
    assert [elsewhere[d.start : d.end] for d in public.detect_many([elsewhere])[0]] == ["金鸡湖"]
