"""What we promised a customer, read from the notes: each commitment with its due date.

A commitment is a sentence of a note with a cue of our side promising something ("I
promised", "will send", "I'd … come back by", 承诺, 答应, 会在…前), not negated ("not
promised", "as promised", 没有答应) and not a competitor's; one that names our internal
side ("ask my manager") is marked, for the brief but not for the customer's mail. Its date is read
by the same parser as every other date (`domain.periods.parse_day`) against the day the
note was written, so "by Friday" in a note of Monday 18 November is Friday 22 November,
whatever today is.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from crmassist.domain.periods import parse_day

_CUES = re.compile(
    r"\b(?:promised?|committed|agreed to|will send|will (?:come back|call|share|prepare|"
    r"follow up|check|confirm|deliver|bring)|I'll|we'll|I'd|we'd|I will|we will|"
    r"sending|to (?:him|her|them) by|come back (?:by|on))\b|"
    r"承诺|答应|会在|将于|保证|下周带|再来|前(?:把|发|给|提供|回复)",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\bnot (?:promised|committed|agreed)|\bno promise|\bas promised\b|\bwill not\b|\bwon't\b|"
    r"\b(?:he|she|they|the customer) (?:agreed|promised|will)\b|"
    r"没有答应|没答应|未承诺|没有承诺|不承诺|不能答应|对方(?:承诺|答应)",
    re.IGNORECASE,
)
_COMPETITOR = re.compile(r"ClearStream|PureWave|competitor|竞品", re.IGNORECASE)
"""A competitor's promise is not ours."""
_INTERNAL = re.compile(
    r"approv|manager|margin|internal|deal desk|VP\b|审批|经理|内部", re.IGNORECASE
)
"""Our side's authority or people: fine in a rep's brief, not in the customer's mail."""
_DEADLINE = re.compile(
    r"\b(?:by|before|until|no later than)\s+(?P<en>[^,;.]{1,30})|(?P<zh>[^，。；]{1,10})(?:前|之前)"
)
"""Where a sentence with several days says when it is due: "a visit on Thursday and the
quote by Friday" is due Friday."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])")


class Commitment(BaseModel):
    note_id: str
    noted_on: date
    text: str
    """The sentence as stored."""
    due: date | None
    """The day it is due, read relative to the note's date; None when the note gives none."""
    internal: bool
    """It names our side's authority or people ("ask my manager"): not for customer mail."""


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def is_internal(sentence: str) -> bool:
    """About our side's authority or people, or a competitor: not for the customer's eyes."""
    return bool(_INTERNAL.search(sentence) or _COMPETITOR.search(sentence))


def is_commitment(sentence: str) -> bool:
    return bool(
        _CUES.search(sentence)
        and not _NEGATED.search(sentence)
        and not _COMPETITOR.search(sentence)
    )


def commitments_in(note_id: str, noted_on: date, body: str) -> list[Commitment]:
    """The commitments of one note, in the note's order."""
    return [
        Commitment(
            note_id=note_id,
            noted_on=noted_on,
            text=s,
            due=due_date(s, noted_on),
            internal=is_internal(s),
        )
        for s in sentences(body)
        if is_commitment(s)
    ]


def due_date(sentence: str, noted_on: date) -> date | None:
    """The deadline's day if the sentence names one ("by Friday", "周三前"), else its day."""
    for deadline in _DEADLINE.finditer(sentence):
        if (day := parse_day(deadline.group("en") or deadline.group("zh"), noted_on)) is not None:
            return day
    return parse_day(sentence, noted_on)
