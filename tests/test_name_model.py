"""The name model: shipped weights, what it adds to the rules, and how it is refitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmassist.privacy.build_name_model import fit
from crmassist.privacy.detectors import MASK_SCORE, SCORE_CAUTIOUS
from crmassist.privacy.lexicon import CAUTIOUS_SOURCE, LexiconNameDetector, name_lexicon
from crmassist.privacy.name_model import MODEL_PATH, name_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def detector() -> LexiconNameDetector:
    return LexiconNameDetector(name_lexicon(), name_model())


def found(detector: LexiconNameDetector, text: str) -> dict[str, float]:
    return {text[d.start : d.end]: d.score for d in detector.find(text)}


def test_shipped_weights_load_with_a_cautious_bar_below_the_threshold() -> None:
    model = name_model()
    assert 0.0 < model.cautious <= model.threshold < 1.0
    assert model.weights["rule_accepts"] > 0  # the rules' verdict counts for a name
    assert model.weights["digit_next"] < 0  # "Pro 500" is a product
    assert SCORE_CAUTIOUS < MASK_SCORE


def test_rare_capitalised_words_are_names_where_the_rules_saw_nothing(
    detector: LexiconNameDetector,
) -> None:
    """Neither cue nor lexicon: wordfreq says English hardly uses the word."""
    rule_only = LexiconNameDetector(name_lexicon())
    text = "The contract was countersigned by Zbygniewa yesterday."
    assert "Zbygniewa" not in found(rule_only, text)
    assert found(detector, text).get("Zbygniewa", 0) >= SCORE_CAUTIOUS


def test_products_and_everyday_words_stay(detector: LexiconNameDetector) -> None:
    text = "Please Review the Pro 500 quote with Facilities before Monday."
    assert all(score < MASK_SCORE for score in found(detector, text).values())


def test_cautious_detections_are_marked_for_the_boundary_only(
    detector: LexiconNameDetector,
) -> None:
    cautious = [
        d
        for text in ("Notes by Quill.", "Karp approved it.", "Vetted by Oakes.")
        for d in detector.find(text)
        if d.score < MASK_SCORE
    ]
    assert cautious  # the refitted model masks some of these outright ("by Quill")
    assert all(d.source == CAUTIOUS_SOURCE and d.score == SCORE_CAUTIOUS for d in cautious)


@pytest.mark.slow
def test_refitting_reproduces_the_shipped_model() -> None:
    """The JSON is what `python -m crmassist.privacy.build_name_model` writes, from the
    own set, the outside set's dev split and the sample CRM (never its test split)."""
    model, stats = fit(ROOT)
    assert model.to_json(stats) == MODEL_PATH.read_text(encoding="utf-8")
