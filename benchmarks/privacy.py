"""Redaction throughput on realistic 300-800 character notes: NER on/off, single vs batch.

    python benchmarks/privacy.py

Notes are built from the labelled PII set's snippets (same language glued together), so
they carry its mix of names, phones, ids and amounts. Each configuration starts with an
empty vault, so the numbers include writing new tokens.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import make_engine, make_session_factory, upgrade_schema
from crmassist.privacy import Redactor, build_redactor
from crmassist.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_labelled.jsonl"
NOTES = 160


def realistic_notes(count: int, seed: int = 7) -> list[str]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    notes: list[str] = []
    while len(notes) < count:
        lang = rng.choice(["en", "en", "zh"])  # the CRM is mostly English
        pool = [r["text"] for r in rows if (r["lang"] == "zh") == (lang == "zh")]
        note = ""
        while len(note) < rng.randint(300, 700):
            note += rng.choice(pool) + ("\n" if lang == "en" else "")
        notes.append(note[:800])
    return notes


def fresh_sessions(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    return make_session_factory(engine)


def throughput(redactor: Redactor, notes: list[str], batch: bool) -> float:
    started = time.perf_counter()
    if batch:
        redactor.redact_many(notes)
    else:
        for note in notes:
            redactor.redact(note)
    return len(notes) / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp))


def measure(tmp_path: Path) -> None:
    notes = realistic_notes(NOTES)
    names = {n for line in DATA.read_text().splitlines() for n in json.loads(line)["known_names"]}
    rates: dict[tuple[bool, bool], float] = {}
    for ner in (False, True):
        build_redactor(Settings(pii_ner=ner), fresh_sessions(tmp_path / "warm.db"), names).redact(
            notes[0]
        )  # load models outside the timing
        for batch in (False, True):
            sessions = fresh_sessions(tmp_path / f"vault-{ner}-{batch}.db")
            redactor = build_redactor(Settings(pii_ner=ner), sessions, names)
            rates[ner, batch] = throughput(redactor, notes, batch)
    mean = sum(map(len, notes)) / len(notes)
    print(f"\n{NOTES} notes, {mean:.0f} chars on average; redactions per second:")
    print(f"{'':14}{'single':>10}{'batch':>10}")
    for ner in (False, True):
        label = "NER on" if ner else "NER off"
        print(f"{label:14}{rates[ner, False]:>10.1f}{rates[ner, True]:>10.1f}")


if __name__ == "__main__":
    main()
