"""The token vault on SQLite and PostgreSQL: stability, collisions, restore, races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import make_session_factory
from crmassist.domain.models import PiiToken
from crmassist.privacy import TOKEN_PATTERN, EntityType, TokenVault
from crmassist.privacy.normalise import digest, normalise
from tests.conftest import keyed_engine

E = EntityType


def colliding_emails(length: int = 4) -> tuple[str, str]:
    """Two addresses whose token suffixes share the first `length` hex digits."""
    seen: dict[str, str] = {}
    for i in range(1_000_000):
        email = f"user{i}@example.com"
        prefix = digest(E.EMAIL, email)[:length]
        if prefix in seen:
            return seen[prefix], email
        seen[prefix] = email
    raise AssertionError("no collision found")


def row_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(PiiToken)) or 0


@pytest.mark.parametrize(
    ("entity_type", "variants"),
    [
        (E.EMAIL, ["Sarah.Johnson@AcmeWater.com", "sarah.johnson@acmewater.com"]),
        (
            E.PHONE,
            [
                "+86 138 1234 5678",
                "13812345678",
                "138-1234-5678",
                "0086 13812345678",
                "(+86) 13812345678",
            ],
        ),
        (E.PHONE, ["+44 20 7946 0958", "+44 (0)20 7946 0958", "+442079460958"]),
        (E.PERSON, ["Kevin  O'Brien", "kevin o’brien", "KEVIN O'BRIEN"]),
        (E.IBAN, ["GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"]),
        (E.CARD, ["4111 1111 1111 1111", "4111-1111-1111-1111"]),
        (E.IP, ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"]),
        (E.CN_ID, ["11010519880921103x", "11010519880921103X"]),
    ],
)
def test_normalised_variants_share_a_token(
    session_factory: sessionmaker[Session], entity_type: EntityType, variants: list[str]
) -> None:
    vault = TokenVault(session_factory)
    tokens = {vault.token_for(entity_type, v) for v in variants}
    assert len(tokens) == 1
    assert TOKEN_PATTERN.fullmatch(tokens.pop())


def test_national_landline_and_its_international_form_stay_distinct() -> None:
    # Documented choice: without a known country, 010… cannot safely be equated with +86 10…
    assert normalise(E.PHONE, "010-6552 3388") == "01065523388"
    assert normalise(E.PHONE, "+86 10 6552 3388") == "861065523388"


def test_tokens_are_stable_across_vaults_and_typed(session_factory: sessionmaker[Session]) -> None:
    first = TokenVault(session_factory)
    token = first.token_for(E.EMAIL, "priya.raman@acmewater.com")
    assert token == f"<EMAIL_{digest(E.EMAIL, 'priya.raman@acmewater.com')[:4]}>"
    assert TokenVault(session_factory).token_for(E.EMAIL, "Priya.Raman@acmewater.com") == token
    assert first.token_for(E.PERSON, "priya.raman@acmewater.com") != token
    assert row_count(session_factory) == 2


def test_collision_extends_the_suffix(session_factory: sessionmaker[Session]) -> None:
    a, b = colliding_emails()
    vault = TokenVault(session_factory)
    token_a, token_b = vault.token_for(E.EMAIL, a), vault.token_for(E.EMAIL, b)
    assert len(token_a) == len("<EMAIL_>") + 4
    assert len(token_b) == len("<EMAIL_>") + 6 and token_b[:11] == token_a[:11]
    fresh = TokenVault(session_factory)  # no cache: answers come from the table
    assert fresh.tokens_for([(E.EMAIL, b), (E.EMAIL, a)]) == [token_b, token_a]
    assert fresh.restore(f"{token_a} {token_b}", [E.EMAIL]) == f"{a} {b}"


def test_collision_within_one_batch(session_factory: sessionmaker[Session]) -> None:
    a, b = colliding_emails()
    token_a, token_b = TokenVault(session_factory).tokens_for([(E.EMAIL, a), (E.EMAIL, b)])
    assert token_a != token_b
    assert {len(token_a), len(token_b)} == {12, 14}


def test_insert_after_a_stale_read_reuses_the_winner(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = TokenVault(session_factory).token_for(E.EMAIL, "x@example.com")
    late = TokenVault(session_factory)
    monkeypatch.setattr(late, "_load", lambda _digests: None)  # read before winner committed
    assert late.token_for(E.EMAIL, "X@Example.com") == winner
    assert row_count(session_factory) == 1


def test_a_failed_write_is_retried_and_nothing_uncommitted_is_cached(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = TokenVault(session_factory)
    real = vault._insert_once
    calls: list[int] = []

    def flaky(pending: list[Any]) -> list[tuple[str, str, str]]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(pending)

    monkeypatch.setattr(vault, "_insert_once", flaky)
    token = vault.token_for(E.EMAIL, "a@example.com")
    assert len(calls) == 2
    assert TokenVault(session_factory).restore(token, [E.EMAIL]) == "a@example.com"


def test_restore_only_allowed_types(session_factory: sessionmaker[Session]) -> None:
    vault = TokenVault(session_factory)
    name = vault.token_for(E.PERSON, "Olivia Brown")
    phone = vault.token_for(E.PHONE, "+44 20 7946 0958")
    email = vault.token_for(E.EMAIL, "o.brown@blueriverhotels.co.uk")
    text = f"{name} ({email}, {phone}) reported the E3 leak; {name} wants a call."
    support_view = TokenVault(session_factory).restore(text, [E.PERSON])
    assert (
        support_view
        == f"Olivia Brown ({email}, {phone}) reported the E3 leak; Olivia Brown wants a call."
    )
    assert vault.restore(text, ["PERSON", "PHONE", "EMAIL"]) == (
        "Olivia Brown (o.brown@blueriverhotels.co.uk, +44 20 7946 0958) reported the E3 leak; "
        "Olivia Brown wants a call."
    )
    assert vault.restore(text, []) == text


def test_restore_leaves_unknown_tokens(session_factory: sessionmaker[Session]) -> None:
    assert TokenVault(session_factory).restore("<PERSON_ffff> <IP_0000>", list(E)) == (
        "<PERSON_ffff> <IP_0000>"
    )


def test_first_seen_surface_form_is_what_restore_returns(
    session_factory: sessionmaker[Session],
) -> None:
    vault = TokenVault(session_factory)
    tokens = vault.tokens_for([(E.PHONE, "138-1234-5678"), (E.PHONE, "+86 138 1234 5678")])
    assert tokens[0] == tokens[1]
    assert vault.restore(tokens[1], [E.PHONE]) == "138-1234-5678"


def test_many_values_in_one_call(session_factory: sessionmaker[Session]) -> None:
    values = [(E.EMAIL, f"bulk{i}@example.com") for i in range(1_200)]  # > one chunk
    vault = TokenVault(session_factory)
    tokens = vault.tokens_for(values)
    assert len(set(tokens)) == 1_200
    assert TokenVault(session_factory).tokens_for(values) == tokens
    assert row_count(session_factory) == 1_200


def test_min_suffix_is_bounded(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="min_suffix"):
        TokenVault(session_factory, min_suffix=0)


def race(db_url: str, work: Callable[[TokenVault], list[str]], workers: int = 2) -> list[list[str]]:
    """Run `work` at the same moment on separate engines, as separate processes would."""
    engines = [keyed_engine(db_url) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    results: list[list[str]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        vault = TokenVault(make_session_factory(engines[i]))
        barrier.wait()
        try:
            results[i] = work(vault)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in engines:
        engine.dispose()
    assert not errors, errors
    return results


def test_racing_writers_agree_on_tokens(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    values = [(E.PHONE, f"+1 415 555 {i:04d}") for i in range(300)]
    first, second = race(db_url, lambda vault: vault.tokens_for(values))
    assert first == second
    assert row_count(session_factory) == 300


def test_racing_collision_gives_distinct_tokens(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    a, b = colliding_emails()
    pick = iter([a, b])
    lock = threading.Lock()

    def work(vault: TokenVault) -> list[str]:
        with lock:
            mine = next(pick)
        return [mine, vault.token_for(E.EMAIL, mine)]

    (value_1, token_1), (value_2, token_2) = race(db_url, work)
    assert token_1 != token_2
    restored = TokenVault(session_factory).restore(f"{token_1} {token_2}", [E.EMAIL])
    assert restored == f"{value_1} {value_2}"
