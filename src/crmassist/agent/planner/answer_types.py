"""What kind of answer a question asks for, and which passages hold one.

"How long does the swap take" wants a duration, "how much is it" an amount of money,
"多久消毒一次" a frequency: the passage that answers states a quantity of that kind, and
often shares no other word with the question ("Allow 45 minutes including the flush").
Question words and units are a closed class in each language, so a small typed lexicon
covers them (the classic answer-type step of question answering); open vocabulary is left
to term matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_N = r"(?<![A-Za-z0-9-])\d+(?:[.,]\d+)?"
"""A number standing on its own: not the digits of a code such as K2, E5 or RO-75."""


@dataclass(frozen=True)
class AnswerType:
    name: str
    asked: re.Pattern[str]
    """Question words that ask for this kind of answer."""
    held: re.Pattern[str]
    """A quantity of this kind in a passage."""


def _type(name: str, asked: str, held: str) -> AnswerType:
    return AnswerType(name, re.compile(asked, re.IGNORECASE), re.compile(held, re.IGNORECASE))


_UNITS_OF_TIME = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?|"
    r"business (?:hours|days)|秒|分钟|小时|个?工作日|天|周|个?星期|个?月|年)"
)

TYPES = (
    _type(
        "duration",
        r"\bhow long\b|\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b|"
        r"\bhow (?:soon|quickly|fast)\b|\bwithin how\b|\bdeadline\b|多久|多长时间|多快|"
        r"几(?:秒|分钟|个?小时|天|周|个?月|年)",
        rf"{_N}\s*{_UNITS_OF_TIME}(?![a-z])",
    ),
    _type(
        "frequency",
        r"\bhow often\b|\bhow frequently\b|\bhow many times\b|多久.{0,8}一次|几次|多少次|频率",
        rf"\bevery\b|\bper (?:day|week|month|year)\b|\b(?:once|twice)\b|{_N}\s*times\b|"
        r"\b(?:daily|weekly|monthly|yearly|annually)\b|每.{0,6}(?:次|个?月|年|周|天)|\d+\s*次",
    ),
    _type(
        "money",
        r"\bhow much\b|\bprices?\b|\bcosts?\b|\bcharge\b|\bfees?\b|\bpay\b|多少钱|价格|价钱|"
        r"报价|标价|费用|收费|多少美元|多少元",
        rf"(?:USD|EUR|CNY|RMB|\$|€|¥)\s*{_N}|{_N}\s*(?:USD|EUR|CNY|RMB|dollars?|美元|欧元|元)",
    ),
    _type(
        "percent",
        r"\bpercent(?:age)?\b|%|\bhow much off\b|\bdiscounts?\b|几折|百分之|折扣|打折",
        rf"{_N}\s*%|百分之|\d\s*折",
    ),
    _type(
        "temperature",
        r"\btemperatures?\b|\bhow (?:hot|cold|warm)\b|\bdegrees?\b|温度|多少度",
        rf"{_N}\s*(?:°\s*[CF]\b|℃|degrees?\b|度)",
    ),
    _type(
        "pressure",
        r"\bpressures?\b|\bbar\b|\bpsi\b|水压|压力",
        rf"{_N}\s*(?:bar|psi|kpa|mpa)\b",
    ),
    _type(
        "quantity",
        r"\bhow (?:many|much|long|often|big|large|far|close|high|low)\b|\bwhat (?:is the )?"
        r"(?:minimum|maximum|min|max|limit|number|size|range|threshold)\b|\bwhich port\b|"
        r"\bat what\b|多少|几|多大|多高|多远|多长",
        rf"{_N}(?![A-Za-z0-9-])",
    ),
)


def asked_types(question: str) -> tuple[AnswerType, ...]:
    return tuple(t for t in TYPES if t.asked.search(question))


def holds(passage: str, types: tuple[AnswerType, ...]) -> int:
    """How many of the asked kinds of answer the passage states a quantity of."""
    return sum(1 for t in types if t.held.search(passage))
