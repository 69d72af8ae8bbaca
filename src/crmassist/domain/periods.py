"""Relative dates and periods in English and Chinese: "last week", "this quarter", "上个月",
"next Tuesday", "下周二", "in 3 days".

Both planners use this: the offline one to extract arguments, and a real model through
the tools' `period`/`due` fields, since language models are unreliable at calendar
arithmetic. Everything is relative to an explicit `today`, never the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_ZH = "一二三四五六日"
MONTHS_EN = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_ZH_DIGITS = {ch: n for n, ch in enumerate("一二三四五六七八九十", 1)} | {"两": 2}
_UNITS = {"day": 1, "天": 1, "日": 1, "week": 7, "周": 7, "星期": 7}


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end)."""

    start: date
    end: date
    label: str

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def midnight_utc(day: date | None) -> datetime | None:
    """The start of a day as an aware UTC time, for filters on timestamps."""
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def due_by(text: str, today: date) -> date | None:
    """The last day meant by "this week" / "下周", or a single day ("2026-12-01")."""
    period = parse_period(text, today)
    return period.last_day if period else parse_day(text, today)


def _week(today: date, offset: int) -> tuple[date, date]:
    start = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
    return start, start + timedelta(days=7)


def _month(today: date, offset: int) -> tuple[date, date]:
    index = today.year * 12 + today.month - 1 + offset
    start = date(index // 12, index % 12 + 1, 1)
    nxt = index + 1
    return start, date(nxt // 12, nxt % 12 + 1, 1)


def _quarter(today: date, offset: int) -> tuple[date, date]:
    index = today.year * 4 + (today.month - 1) // 3 + offset
    start = date(index // 4, (index % 4) * 3 + 1, 1)
    nxt = index + 1
    return start, date(nxt // 4, (nxt % 4) * 3 + 1, 1)


def _year(today: date, offset: int) -> tuple[date, date]:
    return date(today.year + offset, 1, 1), date(today.year + offset + 1, 1, 1)


_CALENDAR = {"week": _week, "month": _month, "quarter": _quarter, "year": _year}
_OFFSETS_EN = {"this": 0, "current": 0, "last": -1, "previous": -1, "past": -1, "next": 1}
_PERIODS_ZH = (
    (r"本周|这周|这个?星期|本星期", "week", 0),
    (r"上周|上个?星期|上一周", "week", -1),
    (r"下周|下个?星期|下一周", "week", 1),
    (r"本月|这个月|当月", "month", 0),
    (r"上个?月", "month", -1),
    (r"下个?月", "month", 1),
    (r"本季度?|这个?季度|当季", "quarter", 0),
    (r"上个?季度", "quarter", -1),
    (r"下个?季度", "quarter", 1),
    (r"今年|本年度?", "year", 0),
    (r"去年|上一?年", "year", -1),
    (r"明年", "year", 1),
)
_CALENDAR_EN = re.compile(
    r"\b(this|current|last|previous|next)\s+(week|month|quarter|year|qtr|yr|mo|wk)\b",
    re.IGNORECASE,
)
_RECENT_EN = re.compile(
    r"\b(?:last|past|previous)\s+(\d+|a|one|two|three)\s+(day|week|month)s?\b", re.IGNORECASE
)
_RECENT_ZH = re.compile(
    r"(?:最近|过去|近)\s*(\d+|[一二两三四五六七八九十])\s*(天|日|周|个?星期|个?月)"
)
_QUARTER_EN = re.compile(r"\bQ([1-4])(?:\s*(?:of\s*)?(\d{4}))?\b", re.IGNORECASE)
_QUARTER_ZH = re.compile(r"(?:(\d{4})年)?第?([一二三四1-4])季度")
_DAY_WORDS_EN = {"today": 0, "yesterday": -1, "tomorrow": 1}
_DAY_WORDS_ZH = {"今天": 0, "今日": 0, "昨天": -1, "前天": -2, "明天": 1, "后天": 2}
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3}


def _days_in(unit: str) -> int:
    return _UNITS[unit.lower().lstrip("个").removesuffix("s")]


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    return _SMALL_NUMBERS.get(token.lower()) or _ZH_DIGITS.get(token, 1)


def parse_period(text: str, today: date) -> Period | None:
    """The first period named in `text`, or None. "last week" is the calendar week before.

    Named periods come first ("Q3 2017", "the second quarter of 2017", "H1 2017", "Dec
    2017", "去年12月", "2017年第四季度", "year to date"), then relative ones ("this quarter",
    "上个月", "last 90 days"), then bare names, taken in the current year ("Q3",
    "December", "第三季度"), then a bare year ("in 2017") and day words.
    """
    for finder in (_explicit_period, _relative_period, _bare_period):
        if (found := finder(text, today)) is not None:
            return found
    if (day_word := _day_word_match(text)) is not None:
        word, offset = day_word
        day = today + timedelta(days=offset)
        return Period(day, day + timedelta(days=1), word)
    return None


def _relative_period(text: str, today: date) -> Period | None:
    if m := _CALENDAR_EN.search(text):
        offset = _OFFSETS_EN[m.group(1).lower()]
        unit = _UNIT_ALIASES.get(m.group(2).lower(), m.group(2).lower())
        return Period(*_CALENDAR[unit](today, offset), m.group(0))
    for pattern, unit, offset in _PERIODS_ZH:
        if m := re.search(pattern, text):
            return Period(*_CALENDAR[unit](today, offset), m.group(0))
    if m := _RECENT_EN.search(text) or _RECENT_ZH.search(text):
        try:
            return _recent(today, _number(m.group(1)), m.group(2).lower(), m.group(0))
        except (OverflowError, ValueError):  # "last 99999999 days": before the calendar began
            return None
    return None


def _bare_period(text: str, today: date) -> Period | None:
    if m := _QUARTER_EN.search(text):
        return _named_quarter(today, int(m.group(1)), m.group(2), m.group(0))
    if m := _QUARTER_ZH.search(text):
        return _named_quarter(today, _number(m.group(2)), m.group(1), m.group(0))
    if m := _ORDINAL_QUARTER.search(text):
        return _named_quarter(today, _ordinal(m.group(1)), m.group(2), m.group(0))
    if m := _MONTH_BARE_EN.search(text):
        month = _month_number(m.group(1) or m.group(2))
        return Period(*_month(date(today.year, month, 1), 0), m.group(0))
    if m := _MONTH_BARE_ZH.search(text):
        return Period(*_month(date(today.year, int(m.group(1)), 1), 0), m.group(0))
    if m := _HALF_BARE_ZH.search(text):
        return _half(today.year, 1 if m.group(1) == "上" else 2, m.group(0))
    if m := _YEAR.search(text):
        return Period(*_year(date(int(m.group(1)), 1, 1), 0), m.group(0))
    return None


# --- named periods: quarters, halves and months of a given year ---------------------------------

_MONTH_NAMES = "|".join(rf"{m[:3]}(?:{m[3:]})?" for m in MONTHS_EN).replace("sep(", "sept?(")
_YEAR_NUMBER = r"((?:19|20)\d{2})"
_YEAR_SHORT = r"(?:((?:19|20)\d{2})|'(\d{2}))"
_YEAR_SHORT_Q = r"(?:((?:19|20)\d{2})|'?(\d{2}))"  # "q3 17": after a quarter, 17 is a year
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
             "fourth": 4, "4th": 4}  # fmt: skip
_ORDINAL = r"(first|1st|second|2nd|third|3rd|fourth|4th)"
_YTD = re.compile(
    r"\b(?:year[- ]to[- ]date|ytd|this year so far|so far this year)\b|今年以来|今年迄今|年初至今",
    re.IGNORECASE,
)
_QUARTER_YEAR_EN = re.compile(
    rf"\b(?:q([1-4])|([1-4])q)[\s,/-]*(?:of\s+|fy\s*)?{_YEAR_SHORT_Q}(?!\d)"
    rf"|\b{_YEAR_NUMBER}[\s/-]*q([1-4])\b",
    re.IGNORECASE,
)
_ORDINAL_QUARTER = re.compile(
    rf"\b(?:the\s+)?{_ORDINAL}\s+quarter(?:\s+(?:of\s+)?{_YEAR_NUMBER})?\b", re.IGNORECASE
)
_HALF_EN = re.compile(
    rf"\b(?:h([12])|([12])h)[\s,/-]*(?:of\s+)?{_YEAR_SHORT_Q}(?!\d)"
    rf"|\b(?:the\s+)?(first|second|1st|2nd)\s+half\s+(?:of\s+)?{_YEAR_NUMBER}\b",
    re.IGNORECASE,
)
_HALF_ZH = re.compile(r"(\d{4})年?\s*([上下])半年")
_HALF_BARE_ZH = re.compile(r"([上下])半年")
_MONTH_YEAR_EN = re.compile(
    rf"\b({_MONTH_NAMES})\.?,?\s*(?:of\s+)?{_YEAR_SHORT}(?!\d)"
    rf"|\b{_YEAR_NUMBER}-(0?[1-9]|1[0-2])(?![\d-])",
    re.IGNORECASE,
)
_MONTH_BARE_EN = re.compile(
    r"\b(?:(january|february|april|june|july|august|september|october|november|december)"
    r"|in\s+(jan|feb|mar|march|apr|may|jun|jul|aug|sept?|oct|nov|dec))\b",
    re.IGNORECASE,
)
_MONTH_ZH = re.compile(
    r"(?:(\d{4})年|(今年|去年|前年|明年))\s*(\d{1,2})\s*月份?(?!\d|\s*\d*[日号])"
)
_MONTH_BARE_ZH = re.compile(r"(?<![\d年])(\d{1,2})\s*月份?(?![\d日号])(?!\s*\d+\s*[日号])")
_QUARTER_YEAR_ZH = re.compile(r"(?:(今年|去年|前年|明年))\s*第?([一二三四1-4])季度")
_YEAR = re.compile(
    r"(?<![\d/.-])(?:fy\s*)?((?:19|20)\d{2})(?:\s*年)?(?![\d/.-]|\s*年?\s*\d+\s*月)", re.I
)
_YEAR_WORDS_ZH = {"今年": 0, "去年": -1, "前年": -2, "明年": 1}
_UNIT_ALIASES = {"qtr": "quarter", "yr": "year", "mo": "month", "wk": "week"}


def _explicit_period(text: str, today: date) -> Period | None:
    """A period named with its year, or counted to today ("year to date")."""
    if m := _YTD.search(text):
        return Period(date(today.year, 1, 1), today + timedelta(days=1), m.group(0))
    if m := _QUARTER_YEAR_EN.search(text):
        quarter = int(m.group(1) or m.group(2) or m.group(6))
        year = _full_year(m.group(3) or m.group(5), m.group(4))
        return Period(*_quarter(date(year, (quarter - 1) * 3 + 1, 1), 0), m.group(0))
    if m := _QUARTER_YEAR_ZH.search(text):
        year = today.year + _YEAR_WORDS_ZH[m.group(1)]
        return _named_quarter(today, _number(m.group(2)), str(year), m.group(0))
    if (m := _ORDINAL_QUARTER.search(text)) and m.group(2):
        return _named_quarter(today, _ordinal(m.group(1)), m.group(2), m.group(0))
    if m := _HALF_EN.search(text):
        half = int(m.group(1) or m.group(2) or _ordinal(m.group(5) or "first"))
        year = _full_year(m.group(3) or m.group(6), m.group(4))
        return _half(year, half, m.group(0))
    if m := _HALF_ZH.search(text):
        return _half(int(m.group(1)), 1 if m.group(2) == "上" else 2, m.group(0))
    if m := _MONTH_YEAR_EN.search(text):
        if m.group(1):
            month, year = _month_number(m.group(1)), _full_year(m.group(2), m.group(3))
        else:
            month, year = int(m.group(5)), int(m.group(4))
        return Period(*_month(date(year, month, 1), 0), m.group(0))
    if m := _MONTH_ZH.search(text):
        year = int(m.group(1)) if m.group(1) else today.year + _YEAR_WORDS_ZH[m.group(2)]
        month = int(m.group(3))
        if 1 <= month <= 12:
            return Period(*_month(date(year, month, 1), 0), m.group(0))
    return None


def _full_year(long: str | None, short: str | None) -> int:
    return int(long) if long else 2000 + int(short or 0)


def _ordinal(word: str) -> int:
    return _ORDINALS[word.lower()]


def _month_number(name: str) -> int:
    return [m[:3] for m in MONTHS_EN].index(name.lower()[:3]) + 1


def _half(year: int, half: int, label: str) -> Period:
    start = date(year, 1 if half == 1 else 7, 1)
    return Period(start, date(year, 7, 1) if half == 1 else date(year + 1, 1, 1), label)


def _recent(today: date, count: int, unit: str, label: str) -> Period:
    """The last N days/weeks/months up to and including today."""
    end = today + timedelta(days=1)
    if "月" in unit or unit == "month":
        return Period(_month(today, -count)[0].replace(day=min(today.day, 28)), end, label)
    return Period(end - timedelta(days=count * _days_in(unit)), end, label)


def _named_quarter(today: date, quarter: int, year: str | None, label: str) -> Period:
    start_year = int(year) if year else today.year
    start = date(start_year, (quarter - 1) * 3 + 1, 1)
    return Period(*_quarter(start, 0), label)


_NEXT_WEEKDAY_EN = re.compile(
    r"\b(next|this|on|coming)?\s*(" + "|".join(WEEKDAYS_EN) + r")\b", re.IGNORECASE
)
_WEEKDAY_ZH = re.compile(r"(下|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天])")
_IN_DAYS_EN = re.compile(r"\bin\s+(\d+|a|one|two|three)\s+(day|week)s?\b", re.IGNORECASE)
_IN_DAYS_ZH = re.compile(r"(\d+|[一二两三四五六七八九十])\s*(天|个?星期|周)(?:之?后|以后)")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_DAY_EN = re.compile(
    r"\b(?:(\d{1,2})\s+(" + "|".join(m[:3] for m in MONTHS_EN) + r")[a-z]*"
    r"|(" + "|".join(m[:3] for m in MONTHS_EN) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?)\b",
    re.IGNORECASE,
)
_MONTH_DAY_ZH = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_END_OF = re.compile(r"\bend of (?:the )?(week|month)\b|(周末|月底|月末)", re.IGNORECASE)


def parse_day(text: str, today: date) -> date | None:
    """A single day named in `text` ("next Tuesday", "下周二", "in 3 days", "Dec 3"), or None.

    A bare weekday means its next occurrence after today; "next Tuesday" is the Tuesday of
    next week, as people in sales use it.
    """
    for finder in (_iso_day, _month_day, _in_days, _weekday, _end_of, _day_word):
        if (found := finder(text, today)) is not None:
            return found
    return None


def _iso_day(text: str, today: date) -> date | None:
    if m := _ISO_DAY.search(text):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def _month_day(text: str, today: date) -> date | None:
    if m := _MONTH_DAY_EN.search(text):
        month_name = (m.group(2) or m.group(3)).lower()[:3]
        month = [n[:3] for n in MONTHS_EN].index(month_name) + 1
        day = int(m.group(1) or m.group(4))
    elif m := _MONTH_DAY_ZH.search(text):
        month, day = int(m.group(1)), int(m.group(2))
    else:
        return None
    try:
        found = date(today.year, month, day)
    except ValueError:
        return None
    return found if found >= today else found.replace(year=today.year + 1)


def _in_days(text: str, today: date) -> date | None:
    if m := _IN_DAYS_EN.search(text) or _IN_DAYS_ZH.search(text):
        try:
            return today + timedelta(days=_number(m.group(1)) * _days_in(m.group(2)))
        except OverflowError:  # "in 99999999 days": past the calendar's end
            return None
    return None


def _weekday(text: str, today: date) -> date | None:
    if m := _NEXT_WEEKDAY_EN.search(text):
        target = WEEKDAYS_EN.index(m.group(2).lower())
        week_offset = 1 if (m.group(1) or "").lower() == "next" else 0
    elif m := _WEEKDAY_ZH.search(text):
        target = WEEKDAYS_ZH.index(m.group(2).replace("天", "日"))
        week_offset = 1 if m.group(1) == "下" else 0
    else:
        return None
    if week_offset:
        return _week(today, 1)[0] + timedelta(days=target)
    ahead = (target - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _end_of(text: str, today: date) -> date | None:
    if not (m := _END_OF.search(text)):
        return None
    unit = (m.group(1) or "").lower()
    if unit == "week" or m.group(2) == "周末":
        return _week(today, 0)[0] + timedelta(days=4)  # Friday: the working week's end
    return _month(today, 0)[1] - timedelta(days=1)


def _day_word_match(text: str) -> tuple[str, int] | None:
    for word, offset in {**_DAY_WORDS_EN, **_DAY_WORDS_ZH}.items():
        if re.search(rf"\b{word}\b" if word.isascii() else word, text, re.IGNORECASE):
            return word, offset
    return None


def _day_word(text: str, today: date) -> date | None:
    found = _day_word_match(text)
    return today + timedelta(days=found[1]) if found else None
