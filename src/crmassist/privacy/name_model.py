"""How likely a run of capitalised words is a person's name: a small learned model.

Hand-written position rules (`lexicon.LexiconNameDetector._vet`) decide well where a
cue or two known names meet, and badly elsewhere: a lone known name opening a sentence,
a name the lexicon lacks ("Djevad", "Rościsław"). The model weighs the rules' verdict with
what they cannot see: how common the words are in English (wordfreq's Zipf frequency: a
capitalised word English rarely uses is a proper noun), how popular they are as names
(the lexicon's rank), their shape and their neighbours. It is a logistic regression whose
weights ship in `data/name_model.json`, fitted by `build_name_model` on labelled text this
project may tune on (its own set, the outside set's dev split, the sample CRM's notes);
the outside set's test split never sees it.

Two thresholds: `threshold` masks (chosen for F2 in cross-validation), `cautious` is the
lower bar of the model boundary, where a missed name costs more than a masked word.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from crmassist.domain.language import zipf

MODEL_PATH = Path(__file__).resolve().parent / "data" / "name_model.json"
UNRANKED = 100_000  # the rank of a word no name list holds
_APOSTROPHE_S = re.compile(r"['’]s\b")
_DIGIT_NEXT = re.compile(r"[ \t]*[\d#]")
_LINE_ALONE_BEFORE = re.compile(r"(?:^|\n)[ \t>*\-]*$")
_LINE_ALONE_AFTER = re.compile(r"[ \t,]*(?:\n|$)")
_LOWER_NEXT = re.compile(r"[ \t]+[a-z]")
_COLON_NEXT = re.compile(r"[ \t]*[:：]")


@dataclass(frozen=True)
class RunFacts:
    """What the detector knows about one run before the model weighs it."""

    words: tuple[str, ...]
    first_known: tuple[bool, ...]
    last_known: tuple[bool, ...]
    ranks: tuple[int, ...]
    common: tuple[bool, ...]
    rule_score: float  # the position rules' verdict, 0 when they reject the run
    sentence_start: bool
    after_determiner: bool
    after_place_word: bool  # "in", "near", "grew up in": a place follows more often
    cued: bool
    org_near: bool


def zipf_en(word: str) -> float:
    """English Zipf frequency (0 unseen .. ~7.7 for "the"), wordfreq's bundled lists."""
    return zipf(word.casefold(), "en")


def features(text: str, start: int, end: int, facts: RunFacts) -> dict[str, float]:
    """Named features of the run `text[start:end]`; the model's JSON keys its weights by them."""
    zipfs = [zipf_en(w) for w in facts.words]
    known = [f or s for f, s in zip(facts.first_known, facts.last_known, strict=True)]
    after = text[end : end + 24]
    before = text[max(0, start - 24) : start]
    lone = bool(_LINE_ALONE_BEFORE.search(before) and _LINE_ALONE_AFTER.match(after))
    single = len(facts.words) == 1
    rare = min(zipfs) < 3.0
    best_rank = min(facts.ranks)
    row = {
        "words_1": float(single),
        "words_2": float(len(facts.words) == 2),
        "words_3plus": float(len(facts.words) >= 3),
        "known_share": sum(known) / len(known),
        "first_known": float(facts.first_known[0]),
        "last_known": float(facts.last_known[-1]),
        "log_rank": math.log10(best_rank + 1) / 5,
        "zipf_min": min(zipfs) / 7,
        "zipf_max": max(zipfs) / 7,
        "unseen_in_english": float(min(zipfs) == 0.0),
        "rare_in_english": float(rare),
        "common_word": float(any(facts.common)),
        "all_caps": float(all(w.isupper() for w in facts.words)),
        "non_ascii": float(any(not w.isascii() for w in facts.words)),
        "rule_score": facts.rule_score,
        "rule_accepts": float(facts.rule_score > 0),
        "sentence_start": float(facts.sentence_start),
        "after_determiner": float(facts.after_determiner),
        "after_place_word": float(facts.after_place_word),
        "cued": float(facts.cued),
        "org_near": float(facts.org_near),
        "possessive_next": float(bool(_APOSTROPHE_S.match(after))),
        "digit_next": float(bool(_DIGIT_NEXT.match(after))),
        "lowercase_next": float(bool(_LOWER_NEXT.match(after))),
        "colon_next": float(bool(_COLON_NEXT.match(after))),
        "line_alone": float(lone),
    }
    # The interactions a linear model cannot form itself.
    row["start_x_first_known"] = row["sentence_start"] * row["first_known"]
    row["start_x_rare"] = row["sentence_start"] * row["rare_in_english"]
    row["single_x_rare"] = float(single) * row["rare_in_english"]
    row["single_x_known"] = float(single) * float(known[0])
    row["known_x_zipf"] = row["known_share"] * row["zipf_min"]
    return row


@dataclass(frozen=True)
class NameModel:
    weights: dict[str, float]
    bias: float
    threshold: float
    cautious: float

    def probability(self, row: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in row.items())
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self, stats: dict[str, object]) -> str:
        body = {
            "weights": self.weights,
            "bias": self.bias,
            "threshold": self.threshold,
            "cautious": self.cautious,
            "training": stats,
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


@functools.cache
def name_model(path: Path = MODEL_PATH) -> NameModel:
    body = json.loads(path.read_text(encoding="utf-8"))
    return NameModel(
        {k: float(v) for k, v in body["weights"].items()},
        float(body["bias"]),
        float(body["threshold"]),
        float(body["cautious"]),
    )
