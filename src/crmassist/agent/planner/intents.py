"""Which intent a request means, by meaning rather than by cue words.

A multinomial logistic regression over multilingual sentence embeddings (English and
Chinese in one space) of the exemplars in `prompts/intents.yaml`. Its probabilities are
calibrated with one temperature fitted on cross-validated predictions, so "0.9" means
right about nine times in ten on exemplars the model did not see. The exemplars'
embeddings and the fitted weights are cached on disk, keyed by a hash of the exemplars,
the encoder and the training recipe: a warm start reads one small file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml
from numpy.typing import NDArray

from crmassist.agent.planner.understanding import is_chinese
from crmassist.privacy.entities import TOKEN_PATTERN

log = logging.getLogger(__name__)

NONE = "none"
"""The class of requests the assistant cannot serve (small talk, unrelated tasks)."""
HELP = "help"
"""What the assistant can do: said, not served, so it is no alternative to refusing."""
REFUSAL_ODDS = 2.0
"""How much likelier "nothing I can do" must be than the likeliest serving reading."""
RECIPE = "logreg-C64-temperature-5fold-v1"
"""Part of the cache key: changing how the model is trained invalidates the cache."""
_C = 64.0  # embeddings are unit vectors with close cosines: weak regularisation fits them
_FOLDS = 5
_CACHE_TEXTS = 512


class QueryEncoder(Protocol):
    """What the classifier needs from a dense model: one embedding per text."""

    def embed_query(self, text: str) -> NDArray[np.float32]: ...

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


@dataclass(frozen=True)
class IntentSpec:
    name: str
    labels: dict[str, str]
    """How a clarification names this intent, per language."""
    exemplars: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """The classifier's view of one request: every intent with its probability."""

    ranked: tuple[tuple[str, float], ...]
    """(intent, calibrated probability), most likely first."""
    bar: float

    @property
    def best(self) -> str:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]

    @property
    def intent(self) -> str | None:
        """The intent to act on, or None when no reading is likely enough to act without
        asking. Declining needs more: "nothing I can do" stands only at odds of two to one
        over the likeliest thing the assistant does ("E1是什么意思" is near "人生的意义是
        什么"), since refusing a question it could serve costs more than a question back."""
        if self.confidence < self.bar:
            return None
        if self.best == NONE:
            serving = max((p for n, p in self.ranked if n not in (NONE, HELP)), default=0.0)
            return None if serving * REFUSAL_ODDS > self.confidence else NONE
        return self.best

    def likeliest(self, n: int = 3, floor: float = 0.08, exclude: Sequence[str] = ()) -> list[str]:
        """Up to `n` readings worth offering back, most likely first."""
        return [name for name, p in self.ranked if p >= floor and name not in exclude][:n]

    @classmethod
    def chosen(cls, intent: str) -> Reading:
        """The reading the user picked from a clarification: certain by definition."""
        return cls(((intent, 1.0),), bar=0.0)

    def without(self, names: Collection[str]) -> Reading:
        """The same reading with `names` ruled out (what the request's form excludes: a
        question is not a note to log). The rest keep their probabilities: ruling one
        reading out makes no other more certain, so an unsure rest is asked back."""
        kept = tuple((n, p) for n, p in self.ranked if n not in names)
        return Reading(kept, self.bar) if kept else self

    def blend(self, prior: Reading, weight: float = 0.5) -> Reading:
        """This reading with the previous turn's as a prior: a short follow-up ("what about
        last month?") usually continues what was asked before."""
        mass = {name: (1 - weight) * p for name, p in self.ranked}
        for name, p in prior.ranked:
            mass[name] = mass.get(name, 0.0) + weight * p
        return Reading(tuple(sorted(mass.items(), key=lambda x: (-x[1], x[0]))), self.bar)


@dataclass(frozen=True)
class Fitted:
    """What training produces and the cache holds."""

    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    temperature: float
    report: dict[str, Any]
    """Cross-validated quality on the exemplars: accuracy overall and per language, ECE."""


def load_specs(prompts_dir: Path) -> list[IntentSpec]:
    raw = yaml.safe_load((prompts_dir / "intents.yaml").read_text(encoding="utf-8"))
    return [
        IntentSpec(name, dict(spec["label"]), tuple(str(e) for e in spec["exemplars"]))
        for name, spec in raw["intents"].items()
    ]


class IntentClassifier:
    def __init__(
        self, specs: list[IntentSpec], fitted: Fitted, encoder: QueryEncoder, bar: float
    ) -> None:
        self.specs = {s.name: s for s in specs}
        self.names = [s.name for s in specs]
        self.fitted = fitted
        self.encoder = encoder
        self.bar = bar
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, NDArray[np.float32]] = OrderedDict()

    @classmethod
    def build(
        cls,
        prompts_dir: Path,
        encoder: QueryEncoder,
        model_name: str,
        cache_dir: Path,
        bar: float,
    ) -> IntentClassifier:
        """Train on the exemplars, or load the cached training of the same exemplars."""
        specs = load_specs(prompts_dir)
        key = cache_key(specs, model_name)
        path = cache_dir / f"intents-{key[:16]}.npz"
        fitted = _read_cache(path)
        if fitted is None:
            started = time.perf_counter()
            texts = [e for s in specs for e in s.exemplars]
            labels = np.array([n for n, s in enumerate(specs) for _ in s.exemplars])
            vectors = encoder.embed_queries([_normalise(t) for t in texts])
            fitted = train(vectors, labels, ["zh" if is_chinese(t) else "en" for t in texts])
            try:
                _write_cache(path, fitted)
            except OSError as exc:  # a read-only cache costs start-up time, nothing else
                log.warning("cannot cache the intent classifier in %s: %s", path.parent, exc)
            log.info(
                "trained the intent classifier on %d exemplars in %.1f s (cv accuracy %.3f)",
                len(texts),
                time.perf_counter() - started,
                fitted.report["accuracy"],
            )
        return cls(specs, fitted, encoder, bar)

    def read(self, text: str) -> Reading:
        """Every intent's calibrated probability for `text`; deterministic."""
        vector = self._embed(_normalise(text)).astype(np.float64)
        logits = (vector @ self.fitted.weights.T + self.fitted.bias) / self.fitted.temperature
        probs = _softmax(logits[None, :])[0]
        order = np.argsort(-probs, kind="stable")
        return Reading(tuple((self.names[i], float(probs[i])) for i in order), self.bar)

    def classify(self, text: str) -> str | None:
        """The intent to act on, or None when unsure (or when nothing the assistant does
        fits)."""
        intent = self.read(text).intent
        return None if intent == NONE else intent

    def label(self, intent: str, lang: str) -> str:
        labels = self.specs[intent].labels
        return labels.get(lang) or labels["en"]

    def _embed(self, text: str) -> NDArray[np.float32]:
        with self._lock:
            if (vector := self._vectors.get(text)) is not None:
                self._vectors.move_to_end(text)
                return vector
            vector = self.encoder.embed_query(text)
            self._vectors[text] = vector
            if len(self._vectors) > _CACHE_TEXTS:
                self._vectors.popitem(last=False)
            return vector


def cache_key(specs: list[IntentSpec], model_name: str) -> str:
    payload = json.dumps(
        {"model": model_name, "recipe": RECIPE, "intents": [[s.name, s.exemplars] for s in specs]},
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def train(vectors: NDArray[np.float32], labels: NDArray[np.int_], languages: list[str]) -> Fitted:
    """Logistic regression, a temperature fitted on 5-fold out-of-fold logits, and the
    cross-validated report those same predictions give."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x = vectors.astype(np.float64)
    oof = np.zeros((len(x), int(labels.max()) + 1))
    folds = StratifiedKFold(n_splits=_FOLDS, shuffle=True, random_state=0)
    for fit_rows, held_rows in folds.split(x, labels):
        model = LogisticRegression(C=_C, max_iter=3000).fit(x[fit_rows], labels[fit_rows])
        oof[held_rows] = model.decision_function(x[held_rows])
    temperature = _fit_temperature(oof, labels)
    final = LogisticRegression(C=_C, max_iter=3000).fit(x, labels)
    report = _report(_softmax(oof / temperature), labels, languages)
    return Fitted(final.coef_, final.intercept_, temperature, report)


def _fit_temperature(logits: NDArray[np.float64], labels: NDArray[np.int_]) -> float:
    """The temperature that minimises held-out negative log-likelihood (a 1-D grid search:
    deterministic, and the curve is smooth enough)."""
    grid = np.geomspace(0.05, 20.0, 241)
    losses = [
        -np.log(_softmax(logits / t)[np.arange(len(labels)), labels] + 1e-12).mean() for t in grid
    ]
    return float(grid[int(np.argmin(losses))])


def _report(
    probs: NDArray[np.float64], labels: NDArray[np.int_], languages: list[str]
) -> dict[str, Any]:
    predicted = probs.argmax(axis=1)
    right = predicted == labels
    langs = np.array(languages)
    per_language = {
        lang: round(float(right[langs == lang].mean()), 4) for lang in sorted(set(languages))
    }
    return {
        "exemplars": len(labels),
        "accuracy": round(float(right.mean()), 4),
        "accuracy_by_language": per_language,
        "ece": round(expected_calibration_error(probs.max(axis=1), right), 4),
        "misread": [int(i) for i in np.flatnonzero(~right)],
    }


def expected_calibration_error(
    confidence: NDArray[np.float64], right: NDArray[np.bool_], bins: int = 10
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(right[members].mean() - confidence[members].mean())
    return float(total)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def _normalise(text: str) -> str:
    """Pseudonyms (`<PERSON_ab12>`) read as a plain name, the way exemplars name people."""
    return TOKEN_PATTERN.sub("Alex", text.strip())


def _read_cache(path: Path) -> Fitted | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return Fitted(
                data["weights"],
                data["bias"],
                float(data["temperature"]),
                json.loads(str(data["report"])),
            )
    except (OSError, ValueError, KeyError) as exc:  # a damaged cache is rebuilt, not fatal
        log.warning("ignoring the intent cache %s: %s", path, exc)
        return None


def _write_cache(path: Path, fitted: Fitted) -> None:
    """Atomically, and without the caches of exemplars that no longer exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("intents-*.npz"):
        stale.unlink(missing_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(
        partial,
        weights=fitted.weights,
        bias=fitted.bias,
        temperature=np.float64(fitted.temperature),
        report=np.str_(json.dumps(fitted.report)),
    )
    partial.replace(path)
