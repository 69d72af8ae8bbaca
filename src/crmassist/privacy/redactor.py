"""The redactor: detect PII, get a token per value from the vault, rewrite the text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from crmassist.privacy.detectors import MASK_SCORE, SCORE_KNOWN_NAME, resolve_overlaps
from crmassist.privacy.entities import Detection, Redacted, RedactedEntity, token_spans
from crmassist.privacy.names import known_names_pattern
from crmassist.privacy.vault import TokenVault

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from crmassist.privacy.engine import DetectorRecognizer, SharedEngine
    from crmassist.settings import Settings

_WINDOW = 512  # texts per detection + vault round trip in redact_many


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
    ) -> None:
        self._engine = engine
        self._vault = vault
        self._names = names
        self._batch_size = batch_size
        self._public = public_values

    @property
    def vault(self) -> TokenVault:
        return self._vault

    def with_known_names(self, known_names: Iterable[str]) -> Redactor:
        """Same engine and vault, another list of names (e.g. after a CRM sync)."""
        return Redactor(
            self._engine,
            self._vault,
            _names_recognizer(known_names),
            batch_size=self._batch_size,
            public_values=self._public,
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
        )

    def detect(self, text: str) -> list[Detection]:
        """PII spans in one text, without touching the vault."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str], *, cautious: bool = False) -> list[list[Detection]]:
        """PII spans per text; NER runs batched over the texts that need it.

        `cautious` keeps the likely names below the masking score too: the model boundary
        would rather mask a word than let a name through.
        """
        artifacts = self._engine.artifacts(texts, self._batch_size)
        extra = [self._names] if self._names is not None else []
        floor = 0.0 if cautious else MASK_SCORE
        return [
            [
                d
                for d in resolve_overlaps(self._engine.analyze(text, art, extra), token_spans(text))
                if d.score >= floor and not self._is_public(text[d.start : d.end])
            ]
            for text, art in zip(texts, artifacts, strict=True)
        ]

    def _is_public(self, value: str) -> bool:
        """Published on purpose, or made only of the CRM's own names of things
        ("FlowGuard Industrial": two public words, no person)."""
        if value in self._public:
            return True
        words = value.split()
        return len(words) > 1 and all(w in self._public for w in words)

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
            (d.entity_type, text[d.start : d.end])
            for text, dets in zip(texts, found, strict=True)
            for d in dets
        ]
        tokens = iter(self._vault.tokens_for(values))
        return [_rewrite(text, dets, tokens) for text, dets in zip(texts, found, strict=True)]


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

    return Redactor(
        shared_engine(settings.pii_ner),
        vault or TokenVault(session_factory),
        _names_recognizer(known_names),
    )


def _names_recognizer(known_names: Iterable[str]) -> DetectorRecognizer | None:
    from crmassist.privacy.engine import names_recognizer

    pattern = known_names_pattern(known_names)
    return names_recognizer(pattern, SCORE_KNOWN_NAME) if pattern else None


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
