"""The intent classifier: a logistic regression over multilingual embeddings of the
exemplars in prompts/intents.yaml, with calibrated confidence and an on-disk cache."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from crmassist.agent.planner.intents import NONE, IntentClassifier, Reading, load_specs
from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder
from crmassist.settings import Settings

pytestmark = pytest.mark.slow
PROMPTS = Settings().prompts_dir


class CountingEncoder:
    """The real encoder, counting how many texts it embeds (to see the cache work)."""

    def __init__(self, inner: E5Encoder) -> None:
        self.inner = inner
        self.embedded = 0

    def embed_query(self, text: str) -> NDArray[np.float32]:
        self.embedded += 1
        return self.inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.embedded += len(texts)
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per test session (shared with tests/test_planner_understanding.py)."""
    return Path(tmp_path_factory.getbasetemp()) / "intent-cache-shared"


@pytest.fixture(scope="module")
def classifier(encoder: E5Encoder, cache_dir: Path) -> IntentClassifier:
    return IntentClassifier.build(PROMPTS, encoder, E5_MODEL, cache_dir, bar=0.5)


def test_held_back_exemplars_are_classified_in_both_languages(
    classifier: IntentClassifier,
) -> None:
    """5-fold cross-validation over the exemplars: each one read by a model that never saw
    it. The figures go to the report (`-s` shows them)."""
    report = classifier.fitted.report
    print("k-fold exemplar accuracy:", report["accuracy"], report["accuracy_by_language"])
    assert report["exemplars"] >= 14 * 20
    assert report["accuracy_by_language"]["en"] >= 0.8
    assert report["accuracy_by_language"]["zh"] >= 0.8


def test_confidence_is_calibrated_on_held_back_exemplars(classifier: IntentClassifier) -> None:
    print("expected calibration error:", classifier.fitted.report["ece"])
    assert classifier.fitted.report["ece"] <= 0.08
    assert 0.05 < classifier.fitted.temperature < 20


@pytest.mark.parametrize(
    "text",
    [
        "who painted the Mona Lisa?",
        "what's a good recipe for lasagna",
        "can you sing me a song",
        "明天会下雨吗",
        "给我讲讲恐龙的历史",
        "zxcv bnm",
    ],
)
def test_requests_nothing_here_serves_are_not_given_an_intent(
    classifier: IntentClassifier, text: str
) -> None:
    reading = classifier.read(text)
    assert classifier.classify(text) is None
    assert reading.best == NONE or reading.confidence < classifier.bar


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("and any open tickets for them?", "open_tickets"),
        ("他们有没有工单", "open_tickets"),
        ("now draft her an email", "draft_follow_up"),
        ("帮我给她写封邮件", "draft_follow_up"),
        ("how about the month before?", "search_interactions"),
        ("how do I change the filter on the purifier?", "search_knowledge"),
        ("what should I know about Globex before I see them?", "customer_overview"),
        ("what deals did we close in December", "pipeline_query"),
        ("上个季度谈判阶段的商机有多少", "pipeline_query"),
        ("set me a reminder to ring Tom on Friday", "create_task"),
    ],
)
def test_unseen_phrasings_and_short_follow_ups(
    classifier: IntentClassifier, text: str, intent: str
) -> None:
    assert classifier.classify(text) == intent


def test_results_are_deterministic(classifier: IntentClassifier) -> None:
    first = classifier.read("which customers might leave us?")
    classifier._vectors.clear()  # embed again, not from the per-text cache
    again = classifier.read("which customers might leave us?")
    assert first == again
    probabilities = [p for _, p in first.ranked]
    assert sum(probabilities) == pytest.approx(1.0)
    assert probabilities == sorted(probabilities, reverse=True)


def test_the_cache_is_used_and_invalidated_when_exemplars_change(
    encoder: E5Encoder, classifier: IntentClassifier, cache_dir: Path, tmp_path: Path
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PROMPTS, prompts)
    cache = shutil.copytree(cache_dir, tmp_path / "cache")  # what the fixture's build wrote
    counting = CountingEncoder(encoder)
    warm = IntentClassifier.build(prompts, counting, E5_MODEL, cache, bar=0.5)
    assert counting.embedded == 0  # nothing embedded: weights from the cache
    np.testing.assert_array_equal(warm.fitted.weights, classifier.fitted.weights)
    exemplars = sum(len(s.exemplars) for s in load_specs(prompts))

    raw = yaml.safe_load((prompts / "intents.yaml").read_text(encoding="utf-8"))
    raw["intents"]["churn_risk"]["exemplars"].append("which accounts could walk away soon")
    (prompts / "intents.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    counting.embedded = 0
    changed = IntentClassifier.build(prompts, counting, E5_MODEL, cache, bar=0.5)
    assert counting.embedded == exemplars + 1  # retrained on the new exemplars
    assert len(list(cache.glob("intents-*.npz"))) == 1  # the stale cache is gone
    assert changed.fitted.report["exemplars"] == exemplars + 1


def test_a_damaged_cache_is_rebuilt(
    encoder: E5Encoder, classifier: IntentClassifier, cache_dir: Path, tmp_path: Path
) -> None:
    cache = shutil.copytree(cache_dir, tmp_path / "cache")
    (cached,) = cache.glob("intents-*.npz")
    cached.write_bytes(b"not a cache")
    rebuilt = IntentClassifier.build(PROMPTS, encoder, E5_MODEL, cache, bar=0.5)
    np.testing.assert_allclose(rebuilt.fitted.weights, classifier.fitted.weights)


def test_declining_needs_two_to_one_odds_over_anything_the_assistant_does() -> None:
    close = Reading(((NONE, 0.52), ("search_knowledge", 0.42), ("help", 0.06)), 0.5)
    assert close.intent is None  # asked back or answered if an article holds it
    far = Reading(((NONE, 0.7), ("search_knowledge", 0.3)), 0.5)
    assert far.intent == NONE
    only_help = Reading(((NONE, 0.6), ("help", 0.38), ("pipeline_query", 0.02)), 0.5)
    assert only_help.intent == NONE  # "what I can do" is what a refusal says anyway


def test_readings_blend_with_the_previous_request_and_a_choice_is_certain() -> None:
    unsure = Reading((("pipeline_query", 0.4), ("search_interactions", 0.35), (NONE, 0.25)), 0.5)
    before = Reading((("search_interactions", 0.9), ("pipeline_query", 0.1)), 0.5)
    assert unsure.intent is None
    assert unsure.blend(before).intent == "search_interactions"
    assert unsure.likeliest(exclude=(NONE,)) == ["pipeline_query", "search_interactions"]
    assert Reading.chosen("open_tickets").intent == "open_tickets"
