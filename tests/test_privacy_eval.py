"""Precision and recall on the hand-labelled set `tests/data/pii_labelled.jsonl`.

Each example is a CRM note or ticket snippet (English, Chinese, mixed) with character
spans and the known names its account may use. Labelling rules: a PERSON span is a
personal name (full, given name only, or surname after Mr./Dr.), without titles;
Chinese surname + title (王总, 李经理) is not labelled. Every phone number, e-mail, valid
ID/card/IBAN and IP address is labelled; strings that fail their checksum are not.

A prediction counts only on an exact span and type match. Each example is redacted with
its own known names; "PERSON (known)" is recall on spans that are one of those names.
Run with `pytest -s` to see the table.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmassist.privacy import EntityType, Redactor, build_redactor
from crmassist.privacy.names import clean_names
from crmassist.settings import Settings

DATA = Path(__file__).parent / "data" / "pii_labelled.jsonl"
KNOWN_ROW = "PERSON (known)"
MUST_BE_COMPLETE = ["EMAIL", "PHONE", "CN_ID", "CARD", "IBAN", "IP", KNOWN_ROW]

Span = tuple[int, int, str]


def load_examples() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


EXAMPLES = load_examples()


@dataclass
class Scores:
    tp: Counter[str]
    fp: Counter[str]
    fn: Counter[str]

    def precision(self, key: str | None = None) -> float:
        tp, fp = self._get(self.tp, key), self._get(self.fp, key)
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, key: str | None = None) -> float:
        tp, fn = self._get(self.tp, key), self._get(self.fn, key)
        return tp / (tp + fn) if tp + fn else 1.0

    @staticmethod
    def _get(counter: Counter[str], key: str | None) -> int:
        if key is None:
            return sum(v for k, v in counter.items() if k != KNOWN_ROW)
        return counter[key]

    def table(self, title: str) -> str:
        rows = [f"{title}\n{'type':<16}{'precision':>10}{'recall':>8}{'gold':>6}{'found':>7}"]
        for key in [t.value for t in EntityType] + [KNOWN_ROW, None]:
            gold = self._get(self.tp, key) + self._get(self.fn, key)
            found = self._get(self.tp, key) + self._get(self.fp, key)
            precision = f"{self.precision(key):.3f}" if key != KNOWN_ROW else "-"
            name = key or "overall"
            rows.append(f"{name:<16}{precision:>10}{self.recall(key):>8.3f}{gold:>6}{found:>7}")
        return "\n".join(rows)


def score(redactor: Redactor) -> tuple[Scores, list[str]]:
    scores = Scores(Counter(), Counter(), Counter())
    misses: list[str] = []
    for ex in EXAMPLES:
        text = ex["text"]
        result = redactor.with_known_names(ex["known_names"]).redact(text)
        gold = {(e["start"], e["end"], e["type"]) for e in ex["entities"]}
        pred = {(e.start, e.end, e.entity_type.value) for e in result.entities}
        known = set(clean_names(ex["known_names"]))
        for span in gold | pred:
            kind = "tp" if span in gold and span in pred else "fn" if span in gold else "fp"
            getattr(scores, kind)[span[2]] += 1
            if span[2] == "PERSON" and span in gold and text[span[0] : span[1]] in known:
                getattr(scores, kind)[KNOWN_ROW] += 1
            if kind != "tp":
                misses.append(f"{kind.upper()} {ex['id']} {span[2]} {text[span[0] : span[1]]!r}")
    return scores, misses


def test_labelled_set_is_well_formed() -> None:
    assert len(EXAMPLES) >= 120
    assert len({ex["id"] for ex in EXAMPLES}) == len(EXAMPLES)
    types = {t.value for t in EntityType}
    for ex in EXAMPLES:
        assert all(isinstance(n, str) for n in ex["known_names"]), ex["id"]
        for e in ex["entities"]:
            assert e["type"] in types and ex["text"][e["start"] : e["end"]] == e["text"], ex["id"]
    langs = Counter(ex["lang"] for ex in EXAMPLES)
    assert langs["en"] >= 40 and langs["zh"] >= 40
    assert sum(not ex["entities"] for ex in EXAMPLES) >= 20  # no PII / tricky negatives
    assert sum(300 <= len(ex["text"]) <= 800 for ex in EXAMPLES) >= 5


@pytest.mark.slow
def test_precision_and_recall(sessions: sessionmaker[Session]) -> None:
    without, _ = score(build_redactor(Settings(pii_ner=False), sessions, []))
    scores, misses = score(build_redactor(Settings(pii_ner=True), sessions, []))
    print("\n" + without.table("patterns + known names (pii_ner=False)"))
    print("\n" + scores.table("with spaCy NER (pii_ner=True, the default)"))
    print("\n".join(["", "misses:", *misses]))
    assert scores.precision() >= 0.9 and scores.recall() >= 0.9
    for key in MUST_BE_COMPLETE:
        assert scores.recall(key) == 1.0, key


@pytest.mark.slow
def test_redacting_the_labelled_set_twice_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    redactor = build_redactor(Settings(pii_ner=True), sessions, [])
    names = [n for ex in EXAMPLES for n in ex["known_names"]]
    once = redactor.with_known_names(names).redact_many([ex["text"] for ex in EXAMPLES])
    twice = redactor.with_known_names(names).redact_many([r.text for r in once])
    assert [r.text for r in twice] == [r.text for r in once]
