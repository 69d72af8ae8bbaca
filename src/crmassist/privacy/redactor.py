"""The redactor: detect PII, get a token per value from the vault, rewrite the text."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from crmassist.privacy.cache import DetectionCache, Found, text_key
from crmassist.privacy.detectors import (
    MASK_SCORE,
    SCORE_KNOWN_NAME,
    PatternDetector,
    resolve_overlaps,
)
from crmassist.privacy.entities import (
    Detection,
    EntityType,
    Redacted,
    RedactedEntity,
    token_spans,
)
from crmassist.privacy.names import clean_names, given_names, known_names_pattern
from crmassist.privacy.pool import MIN_TEXTS, DetectorConfig, shared_pool, split
from crmassist.privacy.vault import TokenVault

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from crmassist.privacy.engine import DetectorRecognizer, SharedEngine
    from crmassist.settings import Settings

log = logging.getLogger(__name__)

_WINDOW = 512  # texts per detection + vault round trip in redact_many
CACHE_TEXTS = 4096
"""Texts whose detections one redactor remembers (see `crmassist.privacy.cache`)."""


class Redactor:
    """Replaces PII with stable tokens. Build it with `build_redactor`; share one per process."""

    def __init__(
        self,
        engine: SharedEngine,
        vault: TokenVault,
        names: DetectorRecognizer | None,
        *,
        batch_size: int = 64,
        public_values: frozenset[str] = frozenset(),
        cache_texts: int = CACHE_TEXTS,
        workers: int = 0,
        full_names: Mapping[str, str] | None = None,
    ) -> None:
        """`cache_texts`: how many texts' detections to remember; the memo belongs to this
        configuration, so `with_known_names` / `with_public_values` start a new one.
        `workers`: detector processes for large batches (0: all in this process); they
        load the default analyzer, so only `build_redactor`'s redactors ask for them.
        `full_names`: case-folded given name -> the one known person it names; such a
        mention gets that person's token ("marcus" is Marcus Reed to whoever reads it)."""
        self._engine = engine
        self._vault = vault
        self._names = names
        self._full_names = dict(full_names or {})
        self._batch_size = batch_size
        self._public = public_values
        self._cache_texts = cache_texts
        self._names_source = None
        if names is not None and isinstance(names.detector, PatternDetector):
            self._names_source = names.detector.pattern.pattern
        elif names is not None:
            workers = 0  # a worker could not rebuild this recognizer
        self._workers = workers
        self.cache = DetectionCache(cache_texts)

    @property
    def vault(self) -> TokenVault:
        return self._vault

    def with_known_names(self, known_names: Iterable[str]) -> Redactor:
        """Same engine and vault, another list of names (e.g. after a CRM sync)."""
        recognizer, full_names = _known_names(known_names)
        return Redactor(
            self._engine,
            self._vault,
            recognizer,
            batch_size=self._batch_size,
            public_values=self._public,
            cache_texts=self._cache_texts,
            workers=self._workers,
            full_names=full_names,
        )

    def with_public_values(self, values: Iterable[str]) -> Redactor:
        """Same redactor, but these exact strings are never treated as personal data.

        For contact points an organisation publishes itself (a hotline, a support
        address): masking them protects no one and hides what customers need.
        """
        return Redactor(
            self._engine,
            self._vault,
            self._names,
            batch_size=self._batch_size,
            public_values=frozenset(values),
            cache_texts=self._cache_texts,
            workers=self._workers,
            full_names=self._full_names,
        )

    def detect(self, text: str) -> list[Detection]:
        """PII spans in one text, without touching the vault."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str], *, cautious: bool = False) -> list[list[Detection]]:
        """PII spans per text; NER runs batched over the texts that need it.

        `cautious` keeps the likely names below the masking score too: the model boundary
        would rather mask a word than let a name through. Texts seen before (by this
        configuration) are answered from the memo, so the detectors run once per text.
        """
        floor = 0.0 if cautious else MASK_SCORE
        return [[d for d in found if d.score >= floor] for found in self._all_found(texts)]

    def _all_found(self, texts: Sequence[str]) -> list[Found]:
        """Every detection (any score) per text: from the memo, or one batch for the rest."""
        keys = [text_key(t) for t in texts]
        found = self.cache.get_many(keys)
        missing = {k: t for k, t, f in zip(keys, texts, found, strict=True) if f is None}
        if missing:
            fresh = dict(zip(missing, self._detect(list(missing.values())), strict=True))
            self.cache.put_many(list(fresh.items()))
            found = [f if f is not None else fresh[k] for k, f in zip(keys, found, strict=True)]
        return [f for f in found if f is not None]

    def _detect(self, texts: Sequence[str]) -> list[Found]:
        """The detectors over `texts`: a large batch is shared with the worker processes
        once they are up (`crmassist.privacy.pool`), the rest runs here."""
        pool = shared_pool(self._workers, self._engine.ner is not None)
        if pool is None or len(texts) < MIN_TEXTS:
            return find(self._engine, self._names, self._public, texts, self._batch_size)
        mine, *theirs = split(texts, pool.workers + 1)
        config = DetectorConfig(self._engine.ner is not None, self._names_source, self._public)
        futures = [pool.submit(config, part) for part in theirs]
        out = find(self._engine, self._names, self._public, mine, self._batch_size)
        for part, future in zip(theirs, futures, strict=True):
            try:
                out += future.result()
            except Exception as exc:  # a dead worker costs time, never a finding
                log.warning("a detector worker failed (%s): detecting here instead", exc)
                out += find(self._engine, self._names, self._public, part, self._batch_size)
        return out

    def redact(self, text: str) -> Redacted:
        return self.redact_many([text])[0]

    def redact_many(self, texts: Iterable[str]) -> list[Redacted]:
        """Redact many texts with one NER batch and one vault round trip per window."""
        out: list[Redacted] = []
        source = iter(texts)
        while window := list(islice(source, _WINDOW)):
            out.extend(self._redact_window(window))
        return out

    def _redact_window(self, texts: list[str]) -> list[Redacted]:
        found = self.detect_many(texts)
        values = [
            (d.entity_type, self._person(d.entity_type, text[d.start : d.end]))
            for text, dets in zip(texts, found, strict=True)
            for d in dets
        ]
        tokens = iter(self._vault.tokens_for(values))
        return [_rewrite(text, dets, tokens) for text, dets in zip(texts, found, strict=True)]

    def _person(self, entity_type: EntityType, value: str) -> str:
        """The value to tokenize: a known person's given name alone stands for them."""
        if entity_type is EntityType.PERSON and self._full_names:
            return self._full_names.get(value.casefold(), value)
        return value


def find(
    engine: SharedEngine,
    names: DetectorRecognizer | None,
    public: frozenset[str],
    texts: Sequence[str],
    batch_size: int,
) -> list[Found]:
    """Every detection (any score) per text, overlaps resolved, public strings left out;
    the one implementation for this process and the detector workers."""
    artifacts = engine.artifacts(texts, batch_size)
    extra = [names] if names is not None else []
    return [
        tuple(
            d
            for d in resolve_overlaps(engine.analyze(text, art, extra), token_spans(text))
            if not is_public(text, d.start, d.end, public)
        )
        for text, art in zip(texts, artifacts, strict=True)
    ]


def is_public(text: str, start: int, end: int, public: frozenset[str]) -> bool:
    """Published on purpose, made only of the CRM's own names of things ("FlowGuard
    Industrial": two public words, no person), or part of one such name where the text
    writes it: 金鸡湖 (a surname and a given name to a tagger) inside 苏州金鸡湖商务中心."""
    value = text[start:end]
    if value in public:
        return True
    words = value.split()
    if len(words) > 1 and all(w in public for w in words):
        return True
    return any(_written_around(text, start, end, name) for name in public if value in name)


def _written_around(text: str, start: int, end: int, name: str) -> bool:
    """`name` occurs in `text` over the whole of [start, end)."""
    at = text.find(name, max(0, end - len(name)))
    while at != -1 and at <= start:
        if at + len(name) >= end:
            return True
        at = text.find(name, at + 1)
    return False


def build_redactor(
    settings: Settings,
    session_factory: sessionmaker[Session],
    known_names: Iterable[str],
    *,
    vault: TokenVault | None = None,
) -> Redactor:
    """A redactor over the process-wide analyzer; the first call loads presidio and spaCy.

    `known_names`: the CRM's contact and user names (any strings; blanks and
    one-character names are ignored). `settings.pii_ner` switches the spaCy NER model.
    """
    from crmassist.privacy.engine import shared_engine

    recognizer, full_names = _known_names(known_names)
    return Redactor(
        shared_engine(settings.pii_ner, cache_dir=settings.resolved_cache_dir),
        vault or TokenVault(session_factory),
        recognizer,
        cache_texts=settings.pii_cache_texts,
        workers=settings.resolved_pii_workers,
        full_names=full_names,
    )


def _known_names(
    known_names: Iterable[str],
) -> tuple[DetectorRecognizer | None, dict[str, str]]:
    """The known-names recognizer, and each given name that stands for one known person,
    from one reading of the names."""
    from crmassist.privacy.engine import names_recognizer

    names = clean_names(known_names)
    given = given_names(names)
    pattern = known_names_pattern(names, given)
    recognizer = names_recognizer(pattern, SCORE_KNOWN_NAME) if pattern else None
    return recognizer, {first: name for first, name in given.items() if name}


def _rewrite(text: str, detections: list[Detection], tokens: Iterator[str]) -> Redacted:
    parts: list[str] = []
    entities: list[RedactedEntity] = []
    pos = 0
    for det in detections:
        token = next(tokens)
        parts += [text[pos : det.start], token]
        entities.append(RedactedEntity(det.entity_type, det.start, det.end, token))
        pos = det.end
    parts.append(text[pos:])
    return Redacted("".join(parts), tuple(entities))
