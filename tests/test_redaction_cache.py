"""The redactor's detection memo: each text is analysed once per configuration, never
answered from another configuration's findings, bounded, and as strict as no memo."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.agent.guard import PrivacyGuard
from crmassist.privacy import Redactor, build_redactor
from crmassist.privacy.engine import SharedEngine
from crmassist.privacy.gate import model_gate
from crmassist.privacy.pool import MIN_TEXTS, DetectorPool, shared_pool
from crmassist.settings import Settings

NOTE = "Call with Sarah Johnson (sarah.johnson@acmewater.com, +1 415 555 0134) about SO-2024-0318."
OTHER = "Diego Alvarez asked for the invoice; card 4111 1111 1111 1111."


@pytest.fixture(scope="module")
def plain(sessions: sessionmaker[Session]) -> Redactor:
    return build_redactor(Settings(pii_ner=False), sessions, ["Sarah Johnson"])


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts the detectors really ran on."""
    seen: list[str] = []
    original = SharedEngine.analyze

    def spy(self: SharedEngine, text: str, artifacts: object, extra: object) -> object:
        seen.append(text)
        return original(self, text, artifacts, extra)  # type: ignore[arg-type]

    monkeypatch.setattr(SharedEngine, "analyze", spy)
    yield seen


def fresh(redactor: Redactor, cache_texts: int = 4096) -> Redactor:
    """The same configuration with an empty memo of its own."""
    return Redactor(
        redactor._engine,
        redactor.vault,
        redactor._names,
        public_values=redactor._public,
        cache_texts=cache_texts,
    )


def test_each_text_is_analysed_once(plain: Redactor, analysed: list[str]) -> None:
    redactor = fresh(plain)
    first = redactor.redact_many([NOTE, OTHER, NOTE])
    again = redactor.redact_many([OTHER, NOTE])
    cautious = redactor.detect_many([NOTE], cautious=True)
    assert sorted(analysed) == sorted([NOTE, OTHER])
    assert [r.text for r in again] == [first[1].text, first[0].text]
    assert [d.start for d in cautious[0]] == [d.start for d in redactor.detect(NOTE)]


def test_the_memo_answers_exactly_what_the_detectors_would(plain: Redactor) -> None:
    cached, uncached = fresh(plain), fresh(plain, cache_texts=0)
    texts = [NOTE, OTHER, NOTE.lower(), ""]
    for cautious in (False, True, False):
        assert cached.detect_many(texts, cautious=cautious) == uncached.detect_many(
            texts, cautious=cautious
        )
    assert len(uncached.cache) == 0


def test_the_memo_is_bounded(plain: Redactor, analysed: list[str]) -> None:
    redactor = fresh(plain, cache_texts=2)
    redactor.detect_many(["Call Sarah Johnson.", "Call Diego Alvarez.", "Call Priya Raman."])
    assert len(redactor.cache) == 2
    redactor.detect("Call Sarah Johnson.")  # the oldest went first
    assert analysed.count("Call Sarah Johnson.") == 2


def test_another_configuration_never_reads_this_ones_findings(plain: Redactor) -> None:
    text = "priya raman called about the filters"
    assert plain.detect(text) == []
    knowing = plain.with_known_names(["Priya Raman"])
    assert [text[d.start : d.end] for d in knowing.detect(text)] == ["priya raman"]
    public = knowing.with_public_values(["priya raman"])
    assert public.detect(text) == []


def test_the_gate_still_masks_and_counts_remembered_texts(plain: Redactor) -> None:
    gate = model_gate(fresh(plain))
    first, second = gate.check(OTHER), gate.check(OTHER)
    assert first.text == second.text and "4111" not in second.text
    assert first.masked == second.masked and sum(second.masked.values()) >= 2


def test_the_guard_redacts_a_model_calls_messages_in_one_batch(
    plain: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    redactor = fresh(plain)
    batches: list[list[str]] = []
    original = redactor.redact_many
    monkeypatch.setattr(
        redactor, "redact_many", lambda texts: batches.append(list(texts)) or original(texts)
    )
    guard = PrivacyGuard(redactor)
    out = guard.redact_all([NOTE, OTHER, NOTE, ""])
    assert batches == [[NOTE, OTHER]]
    assert out[0] == out[2] == guard.redact(NOTE) and out[3] == ""
    assert "Sarah" not in out[0] and "4111" not in out[1]
    assert batches == [[NOTE, OTHER]]  # remembered for the rest of the turn


@pytest.mark.slow
def test_detector_workers_find_exactly_what_this_process_finds(
    plain: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = plain.with_known_names(["Sarah Johnson", "Priya Raman"]).with_public_values(
        ["Diego Alvarez"]
    )
    pooled = Redactor(
        configured._engine,
        configured.vault,
        configured._names,
        public_values=configured._public,
        cache_texts=0,
        workers=1,
    )
    texts = [f"{NOTE} Priya Raman, ticket {n}." for n in range(MIN_TEXTS)] + [OTHER]
    deadline = time.monotonic() + 300
    while shared_pool(1, ner=False) is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the workers load in the background; until then all runs here
    parts: list[int] = []
    original = DetectorPool.submit
    monkeypatch.setattr(
        DetectorPool,
        "submit",
        lambda self, config, part: parts.append(len(part)) or original(self, config, part),
    )
    found = pooled.detect_many(texts, cautious=True)
    assert parts == [len(texts) // 2]  # half went to the worker
    assert found == fresh(configured, cache_texts=0).detect_many(texts, cautious=True)
    assert all(OTHER[d.start : d.end] != "Diego Alvarez" for d in found[-1])
