"""The last check before text leaves the trust boundary: to a model, the index, or a reader.

The redactor decides what is personal data; this gate assumes it sometimes misses and
masks, after pseudonymisation, whatever still *looks* like personal data: runs of 9 or
more digits (any separators: cards, SSNs, IDs, account and phone numbers), e-mail and
phone shapes, IBAN shapes, and — where a detector is given — anything the detectors
flag. Dates, times, amounts, record ids (`SO-1234`, `KB-0003`, `FG01-2503-01251`) and
existing pseudonyms are left alone, so the text stays usable for a model or planner.

Masked values get ordinary vault tokens, so a reader's role still decides what they see
(an unrecognised number is treated as a payment or identity number: admins only). Each
mask is counted by kind in `GATE_MASKED` (Prometheus): a rising count means the main
redactor misses something.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import Counter as PromCounter

from crmassist.privacy.entities import Detection, EntityType, token_spans
from crmassist.privacy.vault import TokenVault

if TYPE_CHECKING:
    from crmassist.privacy.redactor import Redactor

Detect = Callable[[Sequence[str]], list[list[Detection]]]

GATE_MASKED = PromCounter(
    "crmassist_gate_masked",
    "Values the last gate masked after the redactor (a rising count means misses)",
    ["entity_type", "boundary"],
    registry=None,
)
"""Process-wide (the gate runs in the API, the indexer and the CLI); each app registers it."""

MIN_RUN_DIGITS = 9

_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)\d{2}"
_DATE = (
    rf"{_YEAR}[-/.]{_MONTH}[-/.]{_DAY}(?!\d)"
    rf"|{_DAY}[-/.]{_MONTH}[-/.]{_YEAR}(?!\d)|{_MONTH}[-/.]{_DAY}[-/.]{_YEAR}(?!\d)"
)
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_AMOUNT = r"(?:[$€£¥]|(?<![A-Za-z])(?:USD|EUR|GBP|CNY|RMB|JPY) ?)\s?\d[\d,.']*"
_SEP = r"(?:[ \t]?[-/()][ \t]?|[ \t]|\.(?=\d{3}))"
_START = r"(?<![A-Za-z0-9_<])(?<![A-Za-z0-9_][-./])"
_DIGITS = rf"{_START}(?:\+|00)?\(?\d(?:{_SEP}?\d)*[Xx]?"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_IBAN = r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
_PHONE_WORD = r"(?i:phone|tel|mobile|cell|fax|whatsapp|call me on|call me at|ph)"
_GAP = r"[^\dA-Za-z\n]{0,4}(?i:(?:number|no|nr|is|at|on)[^\dA-Za-z\n]{1,4}){0,3}"
"""Between "phone" and its digits: punctuation and "number is", never another word
("over the phone: card 4984 …" is a card, not a phone)."""
_PHONE_CONTEXT = (
    rf"(?<![A-Za-z]){_PHONE_WORD}(?![A-Za-z]){_GAP}"
    rf"(?P<context_digits>(?!{_DATE}){_START}\+?\(?\d(?:{_SEP}?\d){{4,}})"
    r"|(?:电话|手机|座机|联系方式)[^\d\n]{0,6}?"
    rf"(?P<zh_digits>(?!{_DATE})\+?\(?\d(?:{_SEP}?\d){{4,}})"
)
_NOT_MORE = r"(?![-., ]?\d)"
_SHORT_PHONE = rf"{_START}\d{{3}}[-.]\d{{4}}{_NOT_MORE}|{_START}\d{{4}} \d{{4}}{_NOT_MORE}"
SHAPES = re.compile(
    rf"(?P<skip>{_DATE}|{_TIME}|{_AMOUNT})"
    rf"|(?P<email>{_EMAIL})"
    rf"|(?P<iban>{_IBAN})"
    rf"|{_PHONE_CONTEXT}"
    rf"|(?P<short_phone>{_SHORT_PHONE})"
    rf"|(?P<digits>{_DIGITS})"
)
"""Alternatives are tried in order at each position: a date or amount is consumed first."""

_PHONE_FORMAT = re.compile(
    r"(?:\+|00)\d.*"  # international
    r"|\(\d{2,5}\).*"  # (area) number
    r"|\d{3}[-. ]\d{3}[-. ]\d{4}"  # NANP
    r"|1[3-9]\d(?:[- ]?\d{4}){2}"  # Chinese mobile
)
_CN_ID = re.compile(r"\d{17}[\dXx]")
_DIGIT = re.compile(r"\d")
_GROUPS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str
    """What the gate saw: EMAIL, PHONE, IBAN, DIGITS, or a detector's entity type."""
    token_type: EntityType


@dataclass(frozen=True)
class Gated:
    text: str
    masked: Counter[str] = field(default_factory=Counter)


class BoundaryGate:
    """Masks what still looks personal in already pseudonymised text (see module doc)."""

    def __init__(
        self,
        vault: TokenVault,
        boundary: str,
        public_values: Collection[str] = frozenset(),
        detect: Detect | None = None,
    ) -> None:
        """`boundary` labels the counts (model, index, reader); `public_values` are strings
        published on purpose (a hotline); `detect` adds the detectors' findings."""
        self._vault = vault
        self._boundary = boundary
        self._public = frozenset(public_values)
        self._detect = detect

    def check(self, text: str) -> Gated:
        return self.check_many([text])[0]

    def check_many(self, texts: Sequence[str]) -> list[Gated]:
        found = [self._spans(t) for t in texts]
        if self._detect is not None:
            detected = self._detect(texts)
            found = [
                _merge([*spans, *(_from_detection(d) for d in dets)])
                for spans, dets in zip(found, detected, strict=True)
            ]
        values = [
            (s.token_type, t[s.start : s.end])
            for t, spans in zip(texts, found, strict=True)
            for s in spans
        ]
        tokens = iter(self._vault.tokens_for(values)) if values else iter(())
        out = []
        for text, spans in zip(texts, found, strict=True):
            gated = _rewrite(text, spans, tokens)
            for kind, count in gated.masked.items():
                GATE_MASKED.labels(kind, self._boundary).inc(count)
            out.append(gated)
        return out

    def _spans(self, text: str) -> list[Span]:
        protected = token_spans(text)
        spans = []
        for match in SHAPES.finditer(text):
            span = _classify(text, match)
            if span is None or text[span.start : span.end] in self._public:
                continue
            if any(s < span.end and span.start < e for s, e in protected):
                continue
            spans.append(span)
        return _merge(spans)


def _classify(text: str, match: re.Match[str]) -> Span | None:
    kind = match.lastgroup
    if kind in (None, "skip"):
        return None
    start, end = match.span(kind)
    if kind == "email":
        return Span(start, end, "EMAIL", EntityType.EMAIL)
    if kind == "iban":
        if len(_DIGIT.findall(match.group(kind))) < 8:
            return None
        return Span(start, end, "IBAN", EntityType.IBAN)
    if kind in ("context_digits", "zh_digits", "short_phone"):
        return Span(start, end, "PHONE", EntityType.PHONE)
    return _digit_run(text, start, end)


def _digit_run(text: str, start: int, end: int) -> Span | None:
    """A run of digits is masked when it is long and not an amount or part of a code."""
    value = text[start:end]
    groups = _GROUPS.findall(value)
    if sum(map(len, groups)) < MIN_RUN_DIGITS or sum(len(g) < 2 for g in groups[1:]) > 1:
        return None
    after = text[end : end + 2]
    if re.match(r"[A-Za-z_]|[.,]\d", after):
        return None  # a code running on into letters, or a decimal amount
    if _CN_ID.fullmatch(value):
        return Span(start, end, "DIGITS", EntityType.CN_ID)
    if _PHONE_FORMAT.fullmatch(value):
        return Span(start, end, "PHONE", EntityType.PHONE)
    return Span(start, end, "DIGITS", EntityType.CARD)


def _from_detection(detection: Detection) -> Span:
    kind = detection.entity_type
    return Span(detection.start, detection.end, kind.value, kind)


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans become their union (masking more, never leaving a piece)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind, last.token_type)
        else:
            merged.append(span)
    return merged


def _rewrite(text: str, spans: list[Span], tokens: Iterator[str]) -> Gated:
    parts: list[str] = []
    masked: Counter[str] = Counter()
    pos = 0
    for span in spans:
        parts += [text[pos : span.start], next(tokens)]
        masked[span.kind] += 1
        pos = span.end
    parts.append(text[pos:])
    return Gated("".join(parts), masked)


def model_gate(redactor: Redactor) -> BoundaryGate:
    """For messages to a model: the shapes, and the detectors once more over the text."""
    return BoundaryGate(
        redactor.vault,
        "model",
        public_values(redactor),
        functools.partial(redactor.detect_many, cautious=True),
    )


def index_gate(redactor: Redactor) -> BoundaryGate:
    """For chunks to embed and store: the shapes (the detectors ran on this very text)."""
    return BoundaryGate(redactor.vault, "index", public_values(redactor))


def reader_gate(redactor: Redactor) -> BoundaryGate:
    """For text shown to a person, after the redactor and before revealing by role."""
    return BoundaryGate(redactor.vault, "reader", public_values(redactor))


def public_values(redactor: Redactor) -> frozenset[str]:
    """The strings the redactor leaves alone on purpose (published hotlines, company names).

    Read from the redactor itself, so the gate never masks what it deliberately left.
    """
    return redactor._public
