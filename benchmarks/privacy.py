"""Redaction quality and throughput.

    python benchmarks/privacy.py            # writes benchmarks/results/privacy.json

Quality: per-type precision, recall and F2 on the project's own labelled set (exact
match) and on the outside set `evals/pii/outside.jsonl` (overlap match), its `dev` split
(rules were tuned there) and its held-out `test` split, plus an ablation of the person
detectors on both (each detector group dropped; the names-dataset part of the lexicon by
rebuilding with Faker's names only). Throughput: realistic 300-800 character notes built
from the own set's snippets, NER on/off, single vs batch, each from an empty vault (so
writing new tokens counts); and the time to load the name lexicon.
"""

from __future__ import annotations

import json
import random
import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import make_engine, make_session_factory, upgrade_schema
from crmassist.domain.encrypted import bind_cipher
from crmassist.privacy import Detection, Redactor, build_redactor
from crmassist.privacy.crypto import Keyring
from crmassist.privacy.engine import shared_engine
from crmassist.privacy.evaluation import Example, Span, load_examples, score
from crmassist.privacy.lexicon import faker_lexicon, name_lexicon
from crmassist.privacy.vault import TokenVault
from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "pii_labelled.jsonl"
OUTSIDE = ROOT / "evals" / "pii" / "outside.jsonl"
RESULT = ROOT / "benchmarks" / "results" / "privacy.json"
NOTES = 160
# Person detectors by source; an ablation drops one group's detections.
PERSON_PARTS = {
    "spaCy NER": {"spacy_person"},
    "name lexicon": {"name_lexicon"},
    "cues and titles": {"name_cue", "name_en_honorific", "name_zh_honorific", "name_zh_cue"},
    "jieba nr tags": {"name_zh_jieba"},
}


def realistic_notes(count: int, seed: int = 7) -> list[str]:
    rows = load_examples(DATA)
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
    """A new database with its own key, as a Runtime binds one (the vault encrypts values)."""
    engine = make_engine(f"sqlite:///{path}")
    bind_cipher(engine, Keyring(secrets.token_urlsafe(32)))
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


def measure_throughput(tmp_path: Path) -> dict[str, float]:
    notes = realistic_notes(NOTES)
    names = {n for row in load_examples(DATA) for n in row["known_names"]}
    rates: dict[str, float] = {}
    for ner in (False, True):
        build_redactor(Settings(pii_ner=ner), fresh_sessions(tmp_path / "warm.db"), names).redact(
            notes[0]
        )  # load models outside the timing
        for batch in (False, True):
            sessions = fresh_sessions(tmp_path / f"vault-{ner}-{batch}.db")
            redactor = build_redactor(Settings(pii_ner=ner), sessions, names)
            rates[f"ner_{'on' if ner else 'off'}_{'batch' if batch else 'single'}"] = round(
                throughput(redactor, notes, batch), 1
            )
    return rates


def lexicon_rows(ex: Example, span: Span) -> list[str]:
    """English names split by whether Faker's names (the lexicon before names-dataset) hold
    every word."""
    if span[2] != "PERSON" or ex["lang"] != "en":
        return []
    words = ex["text"][span[0] : span[1]].split()
    known = all(faker_lexicon().knows(w) for w in words)
    return ["PERSON (in lexicon)" if known else "PERSON (not in lexicon)"]


def predictions(redactor: Redactor, examples: Sequence[Example]) -> list[list[Detection]]:
    return [redactor.with_known_names(ex["known_names"]).detect(ex["text"]) for ex in examples]


def without(preds: list[list[Detection]], sources: set[str]) -> list[list[Detection]]:
    return [[d for d in dets if d.source not in sources] for dets in preds]


def measure_quality(redactor: Redactor, faker_only: Redactor) -> dict[str, Any]:
    own = load_examples(DATA)
    outside = load_examples(OUTSIDE)
    sets = {
        "own (exact)": (own, True),
        "outside dev (tuned on)": ([e for e in outside if e["split"] == "dev"], False),
        "outside test (held out)": ([e for e in outside if e["split"] == "test"], False),
    }
    out: dict[str, Any] = {"quality": {}, "person_ablation": {}}
    for label, (examples, exact) in sets.items():
        preds = predictions(redactor, examples)
        scores = score(examples, preds, exact=exact, extra_rows=lexicon_rows)
        out["quality"][label] = scores.as_dict()
        print("\n" + scores.table(label))
        for lang in ("en", "zh"):
            idx = [i for i, e in enumerate(examples) if e["lang"] == lang]
            sub = score([examples[i] for i in idx], [preds[i] for i in idx], exact=exact)
            out["quality"][f"{label} {lang}"] = sub.as_dict()
        out["person_ablation"][label] = ablation(examples, preds, exact)
        narrow = score(examples, predictions(faker_only, examples), exact=exact)
        out["person_ablation"][label]["lexicon: Faker names only"] = person_row(narrow)
        print(f"  PERSON {'lexicon: Faker names only':<28} {person_row(narrow)}")
    return out


def person_row(scores: Any) -> dict[str, float]:
    return {
        "precision": round(scores.precision("PERSON"), 4),
        "recall": round(scores.recall("PERSON"), 4),
        "f2": round(scores.f2("PERSON"), 4),
    }


def lexicon_load_seconds() -> float:
    """Reading the shipped names-dataset lexicon (process start-up pays this once)."""
    name_lexicon.cache_clear()
    started = time.perf_counter()
    name_lexicon()
    return round(time.perf_counter() - started, 3)


def ablation(
    examples: Sequence[Example], preds: list[list[Detection]], exact: bool
) -> dict[str, dict[str, float]]:
    """PERSON precision/recall with all parts, without each, and each alone.

    Parts are dropped after overlap resolution, so a span another part would have won
    alone is not counted for it: an estimate of what each part adds, not a rebuild.
    """
    every: set[str] = set().union(*PERSON_PARTS.values())
    runs: dict[str, set[str]] = {"all": set()}
    runs |= {f"without {k}": v for k, v in PERSON_PARTS.items()}
    runs |= {f"only {k}": every - v for k, v in PERSON_PARTS.items()}
    rows = {}
    for label, dropped in runs.items():
        rows[label] = person_row(score(examples, without(preds, dropped), exact=exact))
        print(
            f"  PERSON {label:<28} P {rows[label]['precision']:.3f} R {rows[label]['recall']:.3f}"
        )
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        redactor = build_redactor(Settings(pii_ner=True), fresh_sessions(tmp_path / "q.db"), [])
        vault = TokenVault(fresh_sessions(tmp_path / "f.db"))
        result = measure_quality(redactor, Redactor(shared_engine(True, 0), vault, None))
        rates = measure_throughput(tmp_path)
    result["throughput_notes_per_s"] = rates
    result["name_lexicon_load_s"] = lexicon_load_seconds()
    print(f"name lexicon load: {result['name_lexicon_load_s']} s")
    print(f"\n{NOTES} notes; redactions per second: {rates}")
    RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
