"""Precision and recall on the project's own set and on the outside set.

Own set (`tests/data/pii_labelled.jsonl`): CRM note or ticket snippets (English, Chinese,
mixed) with character spans and the known names of their account, written alongside the
redactor. Labelling rules: a PERSON span is a personal name (full, given name only, or
surname after Mr./Dr.), without titles; Chinese surname + title (王总, 李经理) is not
labelled. Every phone number, e-mail, ID/card/IBAN/account number and IP address is
labelled, including numbers that fail their checksum after a cue word ("身份证号 …
校验失败"): a mistyped ID is still someone's ID. Exact span and type match.

Outside set (`evals/pii/outside.jsonl`, built by `evals/pii/make_outside.py` from
presidio-evaluator's public templates and persons): nothing in it was written here
except the Chinese translations of sampled templates. Thresholds and rules were tuned on
its `dev` split only; the targets are asserted on `test`. Overlap match (see
`crmassist.privacy.evaluation`). Run with `pytest -s` to see the tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.privacy import EntityType, Redactor, build_redactor
from crmassist.privacy.evaluation import Example, Scores, Span, load_examples, score
from crmassist.privacy.names import clean_names
from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
OWN = load_examples(ROOT / "tests" / "data" / "pii_labelled.jsonl")
OUTSIDE = load_examples(ROOT / "evals" / "pii" / "outside.jsonl")
KNOWN_ROW = "PERSON (known)"
MUST_BE_COMPLETE = ["EMAIL", "PHONE", "CN_ID", "CARD", "IBAN", "IP", KNOWN_ROW]
STRUCTURED = ["EMAIL", "CARD", "IBAN", "SSN", "CN_ID"]
AT_TARGET = ["EMAIL", "IBAN", "SSN", "CN_ID", "CARD"]


def known_row(ex: Example, span: Span) -> list[str]:
    name = ex["text"][span[0] : span[1]]
    return (
        [KNOWN_ROW] if span[2] == "PERSON" and name in set(clean_names(ex["known_names"])) else []
    )


def score_own(redactor: Redactor) -> Scores:
    preds = [redactor.with_known_names(ex["known_names"]).detect(ex["text"]) for ex in OWN]
    return score(OWN, preds, exact=True, extra_rows=known_row)


def score_outside(redactor: Redactor, split: str) -> Scores:
    examples = [ex for ex in OUTSIDE if ex["split"] == split]
    return score(examples, redactor.detect_many([ex["text"] for ex in examples]), exact=False)


def test_labelled_sets_are_well_formed() -> None:
    types = {t.value for t in EntityType}
    for examples in (OWN, OUTSIDE):
        assert len({ex["id"] for ex in examples}) == len(examples)
        for ex in examples:
            assert all(isinstance(n, str) for n in ex["known_names"]), ex["id"]
            for e in ex["entities"]:
                assert e["type"] in types, ex["id"]
                assert ex["text"][e["start"] : e["end"]] == e["text"], ex["id"]
    assert len(OWN) >= 120 and sum(not ex["entities"] for ex in OWN) >= 20
    assert {ex["lang"] for ex in OWN} >= {"en", "zh"}


def test_outside_set_is_large_split_by_template_and_bilingual() -> None:
    assert sum(len(ex["entities"]) for ex in OUTSIDE) >= 1000
    for lang in ("en", "zh"):
        splits: dict[int, set[str]] = {}
        for ex in OUTSIDE:
            if ex["lang"] == lang:
                splits.setdefault(ex["template"], set()).add(ex["split"])
        assert all(len(s) == 1 for s in splits.values())  # a template is dev or test, never both
    test_types = {e["type"] for ex in OUTSIDE if ex["split"] == "test" for e in ex["entities"]}
    assert set(STRUCTURED) | {"PERSON", "PHONE"} <= test_types


@pytest.mark.slow
def test_own_set_precision_and_recall(sessions: sessionmaker[Session]) -> None:
    scores = score_own(build_redactor(Settings(pii_ner=True), sessions, []))
    print("\n" + scores.table("own set, exact match (pii_ner=True)"))
    print("\n".join(["", "misses:", *scores.misses]))
    assert scores.precision() >= 0.9 and scores.recall() >= 0.95
    for key in MUST_BE_COMPLETE:
        assert scores.recall(key) == 1.0, key


@pytest.mark.slow
def test_outside_set_held_out_split(sessions: sessionmaker[Session]) -> None:
    """Issue targets where met; where not yet met, today's level so it cannot slip."""
    scores = score_outside(build_redactor(Settings(pii_ner=True), sessions, []), "test")
    print("\n" + scores.table("outside set, held-out test split"))
    for key in AT_TARGET:
        assert scores.recall(key) >= 0.98, key
    assert scores.precision() >= 0.80
    # Below the targets (phone 0.98, person 0.90): today's floors, so they cannot
    # slip while the gap is open (docs/privacy.md lists what is missed). Person recall was
    # 0.563 before the names-dataset lexicon and jieba's name tags, 0.788 before the name
    # model, 0.842 with it.
    assert scores.recall("PHONE") >= 0.94
    assert scores.recall("PERSON") >= 0.83


@pytest.mark.slow
def test_the_model_boundary_masks_likely_names_too(sessions: sessionmaker[Session]) -> None:
    """What the model gate sees (`detect_many(cautious=True)`): the name model's likely
    names below its masking threshold count as well, trading precision for recall."""
    redactor = build_redactor(Settings(pii_ner=True), sessions, [])
    test = [ex for ex in OUTSIDE if ex["split"] == "test"]
    texts = [ex["text"] for ex in test]
    masked = score(test, redactor.detect_many(texts), exact=False)
    cautious = score(test, redactor.detect_many(texts, cautious=True), exact=False)
    assert cautious.recall("PERSON") >= 0.91 > masked.recall("PERSON")
    assert cautious.precision("PERSON") >= 0.65


@pytest.mark.slow
def test_redacting_the_labelled_set_twice_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    redactor = build_redactor(Settings(pii_ner=True), sessions, [])
    names = [n for ex in OWN for n in ex["known_names"]]
    once = redactor.with_known_names(names).redact_many([ex["text"] for ex in OWN])
    twice = redactor.with_known_names(names).redact_many([r.text for r in once])
    assert [r.text for r in twice] == [r.text for r in once]
