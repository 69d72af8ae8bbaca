"""The boundary gate on its own: what still looks personal after the redactor is masked
with vault tokens; what a planner or reader needs (ids, dates, amounts, pseudonyms) is not."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.privacy import TOKEN_PATTERN, EntityType, TokenVault
from crmassist.privacy.gate import GATE_MASKED, BoundaryGate


@pytest.fixture(scope="module")
def vault(sessions: sessionmaker[Session]) -> TokenVault:
    return TokenVault(sessions)


@pytest.fixture(scope="module")
def gate(vault: TokenVault) -> BoundaryGate:
    return BoundaryGate(vault, "test", public_values={"400-820-6688"})


@pytest.mark.parametrize(
    ("text", "value", "token_type"),
    [
        ("His social security number is 474-49-7577.", "474-49-7577", EntityType.CARD),
        ("ssn 123450789 on file", "123450789", EntityType.CARD),
        ("my card 4111 1111 1111 1112 (fails Luhn)", "4111 1111 1111 1112", EntityType.CARD),
        ("card 4111-1111-1111-1111 exp 12/27", "4111-1111-1111-1111", EntityType.CARD),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32", EntityType.IBAN),
        ("wire to DE89370400440532013000", "DE89370400440532013000", EntityType.IBAN),
        ("身份证11010519491231002X，谢谢", "11010519491231002X", EntityType.CN_ID),
        ("电话13812345678", "13812345678", EntityType.PHONE),
        ("call +1 (425) 555-0187 today", "+1 (425) 555-0187", EntityType.PHONE),
        ("or (425) 555-0187 after six", "(425) 555-0187", EntityType.PHONE),
        ("desk 555-0134, ask for Jo", "555-0134", EntityType.PHONE),
        ("landline 6552 3388 in Beijing", "6552 3388", EntityType.PHONE),
        ("tel. 206.555.3922", "206.555.3922", EntityType.PHONE),
        ("phone: 55512 ext", "55512", EntityType.PHONE),
        ("座机：010-6552 3388", "010-6552 3388", EntityType.PHONE),
        ("passport number 123456789", "123456789", EntityType.CARD),
        ("mail Ana.Dias@rhyta.example now", "Ana.Dias@rhyta.example", EntityType.EMAIL),
    ],
)
def test_what_still_looks_personal_is_masked(
    gate: BoundaryGate, vault: TokenVault, text: str, value: str, token_type: EntityType
) -> None:
    gated = gate.check(text)
    assert value not in gated.text
    tokens = TOKEN_PATTERN.findall(gated.text)
    assert [t[0] for t in tokens] == [token_type.value]
    # a vault token: a reader allowed to see the value gets exactly it back
    assert vault.restore(gated.text, list(EntityType)) == text


@pytest.mark.parametrize(
    "text",
    [
        "[account A001] SO-1234 KB-0003 order R00001 contact C0001 user U001 deal O0001",
        "serial FG01-2503-01251 and model PF-10 with error E3",
        "Today is 2026-12-01 14:30; due 12/01/2026 or 01.12.2026; pipeline 2025-2026",
        "deals over $1,250,000.00, total 1234567.89, USD 1234567890, ¥ 120000000",
        "123456789.00 is an amount, 1,234,567,890 too",
        "counts 5 6 7 8 9 1 2 3 4 5",
        "conversation 1234567890abcdef0123456789abcdef",
        "the hotline 400-820-6688 is published",
        "call on 2026-12-03 about 3 units",
        "<PERSON_1a2b> and <CARD_123456789abc> and <PHONE_0123456789>",
    ],
)
def test_what_a_planner_or_reader_needs_is_left_alone(gate: BoundaryGate, text: str) -> None:
    assert gate.check(text).text == text


def test_masks_are_counted_by_kind_and_boundary(vault: TokenVault) -> None:
    gate = BoundaryGate(vault, "count-test")

    def seen(kind: str) -> float:
        return GATE_MASKED.labels(kind, "count-test")._value.get()

    before = {k: seen(k) for k in ("DIGITS", "EMAIL", "PHONE")}
    results = gate.check_many(["ssn 474-49-7577, a@b.example", "+44 20 7946 0958", "nothing"])
    assert [dict(r.masked) for r in results] == [{"DIGITS": 1, "EMAIL": 1}, {"PHONE": 1}, {}]
    assert {k: seen(k) - v for k, v in before.items()} == {"DIGITS": 1, "EMAIL": 1, "PHONE": 1}


def test_detector_findings_are_masked_too_and_overlaps_merge(vault: TokenVault) -> None:
    from crmassist.privacy.entities import Detection

    def detect(texts: object) -> list[list[Detection]]:
        # a detector that finds a name and a span overlapping the phone shape
        return [
            [
                Detection(EntityType.PERSON, 0, 7, 0.3, "test"),
                Detection(EntityType.PHONE, 11, 20, 0.3, "test"),
            ]
        ]

    gate = BoundaryGate(vault, "test", detect=detect)
    gated = gate.check("Maclean at 415 555 0134 x9")
    assert "Maclean" not in gated.text and "0134" not in gated.text
    assert dict(gated.masked) == {"PERSON": 1, "PHONE": 1}


def test_a_card_read_out_over_the_phone_is_a_card(gate: BoundaryGate) -> None:
    gated = gate.check("order over the phone: card 4984 2004 5596 0425, exp 04/27")
    assert [t[0] for t in TOKEN_PATTERN.findall(gated.text)] == ["CARD"]
    gated = gate.check("his phone number is 555 0134 2")
    assert [t[0] for t in TOKEN_PATTERN.findall(gated.text)] == ["PHONE"]
