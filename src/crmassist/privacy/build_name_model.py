"""Fit the name model (`name_model.py`) and write `data/name_model.json`.

    python -m crmassist.privacy.build_name_model [--repo PATH]

Training text is what this project may tune on, never the outside set's test split:
- the project's own labelled snippets (`tests/data/pii_labelled.jsonl`);
- the outside set's dev split (`evals/pii/outside.jsonl`, `"split": "dev"`);
- the sample CRM's notes and tickets, where the CRM's own contact and user names are the
  positives and every other capitalised run (products, companies, places) a negative.

Every capitalised run the lexicon detector sees is one example, labelled by whether it
overlaps a person. Each source weighs the same in the fit. The masking threshold is the
one that maximises F2 on five-fold cross-validated probabilities (folds by text, so a
template's runs stay together); the cautious bar is the highest that keeps 0.99 recall,
never above the threshold.
Needs scikit-learn (a run-time dependency already, for the intent classifier).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

from crmassist.privacy.lexicon import LexiconNameDetector, name_lexicon
from crmassist.privacy.name_model import MODEL_PATH, NameModel

Example = tuple[str, list[tuple[int, int]]]  # text, person spans
CAUTIOUS_RECALL = 0.995
_NO_MODEL = NameModel({}, 0.0, 1.0, 1.0)  # only to make the detector compute features


def own_set(repo: Path) -> list[Example]:
    return list(_labelled(repo / "tests" / "data" / "pii_labelled.jsonl", split=None))


def outside_dev(repo: Path) -> list[Example]:
    return list(_labelled(repo / "evals" / "pii" / "outside.jsonl", split="dev"))


def outside_dev_templates(repo: Path) -> list[int]:
    """The template of each `outside_dev` text, in the same order: the unit of its folds."""
    with (repo / "evals" / "pii" / "outside.jsonl").open(encoding="utf-8") as rows:
        examples = [json.loads(line) for line in rows]
    return [int(ex["template"]) for ex in examples if ex.get("split") == "dev"]


def _labelled(path: Path, split: str | None) -> Iterator[Example]:
    with path.open(encoding="utf-8") as rows:
        for line in rows:
            ex = json.loads(line)
            if split is not None and ex.get("split") != split:
                continue
            people = [(e["start"], e["end"]) for e in ex["entities"] if e["type"] == "PERSON"]
            yield ex["text"], people


def sample_notes(repo: Path) -> list[Example]:
    """Notes and tickets of `knowledge/sample`, people found by the CRM's own names."""
    sample = repo / "knowledge" / "sample"
    names: set[str] = set()
    for table in ("contacts.csv", "users.csv"):
        with (sample / table).open(encoding="utf-8") as f:
            names |= {row["name"] for row in csv.DictReader(f)}
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    out = []
    for table in ("interactions.jsonl", "tickets.jsonl"):
        with (sample / table).open(encoding="utf-8") as rows:
            for line in rows:
                record = json.loads(line)
                text = f"{record.get('subject') or ''}\n{record['body']}"
                out.append((text, [m.span() for m in pattern.finditer(text)]))
    return out


def examples_of(
    detector: LexiconNameDetector, texts: list[Example]
) -> tuple[list[dict[str, float]], list[int], list[int]]:
    rows, labels, groups = [], [], []
    for index, (text, people) in enumerate(texts):
        for candidate in detector.candidates(text):
            rows.append(candidate.row)
            labels.append(int(any(s < candidate.end and candidate.start < e for s, e in people)))
            groups.append(index)
    return rows, labels, groups


def fit(repo: Path) -> tuple[NameModel, dict[str, object]]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    detector = LexiconNameDetector(name_lexicon(), _NO_MODEL)
    sources = {"own": own_set(repo), "outside_dev": outside_dev(repo), "sample": sample_notes(repo)}
    # Outside texts fold by template, so the thresholds are chosen on templates the fit
    # never saw (as the test split's are); the others fold by text.
    fold_units = {"outside_dev": outside_dev_templates(repo)}
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    groups: list[int] = []
    weights: list[float] = []
    counts: dict[str, int] = {}
    for offset, (source, texts) in enumerate(sources.items()):
        source_rows, source_labels, source_groups = examples_of(detector, texts)
        counts[source] = len(source_rows)
        rows += source_rows
        labels += source_labels
        unit = fold_units.get(source)
        groups += [offset * 1_000_000 + (unit[i] if unit else i) for i in source_groups]
        weights += [1.0 / len(source_rows)] * len(source_rows)
    names = sorted(rows[0])
    x = np.array([[row[n] for n in names] for row in rows])
    y = np.array(labels)
    w = np.array(weights) * len(rows) / len(sources)
    model = LogisticRegression(C=1.0, max_iter=5000)
    cv = GroupKFold(n_splits=5)
    probs = cross_val_predict(
        model, x, y, groups=groups, cv=cv, method="predict_proba", params={"sample_weight": w}
    )[:, 1]
    threshold, f2 = _best_f2(probs, y)
    cautious = min(_cautious(probs, y), threshold)
    model.fit(x, y, sample_weight=w)
    weights_out = {n: round(float(c), 6) for n, c in zip(names, model.coef_[0], strict=True)}
    stats: dict[str, object] = {
        "candidates": counts,
        "positives": int(y.sum()),
        "cv_f2_at_threshold": round(f2, 4),
        "cautious_recall": CAUTIOUS_RECALL,
    }
    fitted = NameModel(weights_out, round(float(model.intercept_[0]), 6), threshold, cautious)
    return fitted, stats


def _best_f2(probs: object, y: object) -> tuple[float, float]:
    import numpy as np

    p, truth = np.asarray(probs), np.asarray(y)
    best = (0.5, 0.0)
    for t in np.arange(0.05, 0.96, 0.01):
        tp = float(((p >= t) & (truth == 1)).sum())
        fp = float(((p >= t) & (truth == 0)).sum())
        fn = float(((p < t) & (truth == 1)).sum())
        f2 = 5 * tp / (5 * tp + 4 * fn + fp) if tp else 0.0
        if f2 > best[1]:
            best = (round(float(t), 2), f2)
    return best


def _cautious(probs: object, y: object) -> float:
    import numpy as np

    positives = np.sort(np.asarray(probs)[np.asarray(y) == 1])
    return round(float(positives[int(len(positives) * (1 - CAUTIOUS_RECALL))]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[3])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    model, stats = fit(args.repo)
    args.out.write_text(model.to_json(stats), encoding="utf-8")
    print(f"wrote {args.out}: threshold {model.threshold}, cautious {model.cautious}, {stats}")


if __name__ == "__main__":
    main()
