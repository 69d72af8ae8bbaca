"""Relative periods and days, English and Chinese, against a fixed Friday 2026-11-20."""

from __future__ import annotations

from datetime import date

import pytest

from crmassist.domain.periods import parse_day, parse_period

TODAY = date(2026, 11, 20)  # a Friday in Q4


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("what happened with Acme last week?", date(2026, 11, 9), date(2026, 11, 16)),
        ("deals closing this quarter", date(2026, 10, 1), date(2027, 1, 1)),
        ("slipped last quarter", date(2026, 7, 1), date(2026, 10, 1)),
        ("orders this month", date(2026, 11, 1), date(2026, 12, 1)),
        ("next month", date(2026, 12, 1), date(2027, 1, 1)),
        ("last year", date(2025, 1, 1), date(2026, 1, 1)),
        ("notes from the past 30 days", date(2026, 10, 22), date(2026, 11, 21)),
        ("in the last two weeks", date(2026, 11, 7), date(2026, 11, 21)),
        ("won in Q3", date(2026, 7, 1), date(2026, 10, 1)),
        ("Q1 2027 forecast", date(2027, 1, 1), date(2027, 4, 1)),
        ("上个月和杭州西湖酒店的沟通", date(2026, 10, 1), date(2026, 11, 1)),
        ("本季度的商机", date(2026, 10, 1), date(2027, 1, 1)),
        ("上周的拜访记录", date(2026, 11, 9), date(2026, 11, 16)),
        ("最近7天", date(2026, 11, 14), date(2026, 11, 21)),
        ("第三季度", date(2026, 7, 1), date(2026, 10, 1)),
        ("yesterday's call", date(2026, 11, 19), date(2026, 11, 20)),
        ("今天", date(2026, 11, 20), date(2026, 11, 21)),
    ],
)
def test_periods(text: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY)
    assert period is not None, text
    assert (period.start, period.end) == (start, end)


def test_quarters_roll_over_year_ends() -> None:
    period = parse_period("next quarter", date(2026, 12, 31))
    assert period is not None and (period.start, period.end) == (date(2027, 1, 1), date(2027, 4, 1))


@pytest.mark.parametrize("text", ["what happened with Acme?", "lastweek", "quarterly review"])
def test_no_period(text: str) -> None:
    assert parse_period(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remind me to call Acme next Tuesday", date(2026, 11, 24)),
        ("call on Monday", date(2026, 11, 23)),
        ("Friday", date(2026, 11, 27)),
        ("tomorrow", date(2026, 11, 21)),
        ("in 3 days", date(2026, 11, 23)),
        ("in two weeks", date(2026, 12, 4)),
        ("by Dec 3", date(2026, 12, 3)),
        ("on 15 January", date(2027, 1, 15)),
        ("2026-12-01", date(2026, 12, 1)),
        ("下周二给王芳回电话", date(2026, 11, 24)),
        ("周一", date(2026, 11, 23)),
        ("明天", date(2026, 11, 21)),
        ("3天后", date(2026, 11, 23)),
        ("12月5日", date(2026, 12, 5)),
        ("end of the month", date(2026, 11, 30)),
        ("月底前", date(2026, 11, 30)),
    ],
)
def test_days(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


def test_impossible_dates_are_not_days() -> None:
    assert parse_day("2026-02-30", TODAY) is None
    assert parse_day("no date here", TODAY) is None


def test_last_day_and_due_by() -> None:
    from crmassist.domain.periods import due_by

    period = parse_period("this month", TODAY)
    assert period is not None and period.last_day == date(2026, 11, 30)
    assert due_by("next week", TODAY) == date(2026, 11, 29)
    assert due_by("2026-12-01", TODAY) == date(2026, 12, 1)
    assert due_by("whenever", TODAY) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("won deals closed in Q3 2017", date(2017, 7, 1), date(2017, 10, 1)),
        ("lost in the second quarter of 2017", date(2017, 4, 1), date(2017, 7, 1)),
        ("lost in 2q 2017", date(2017, 4, 1), date(2017, 7, 1)),
        ("q3 17", date(2017, 7, 1), date(2017, 10, 1)),
        ("2017 Q4", date(2017, 10, 1), date(2018, 1, 1)),
        ("H1 2017", date(2017, 1, 1), date(2017, 7, 1)),
        ("the second half of 2016", date(2016, 7, 1), date(2017, 1, 1)),
        ("Dec 2017", date(2017, 12, 1), date(2018, 1, 1)),
        ("September 2017", date(2017, 9, 1), date(2017, 10, 1)),
        ("sept '16", date(2016, 9, 1), date(2016, 10, 1)),
        ("2017-03", date(2017, 3, 1), date(2017, 4, 1)),
        ("December", date(2026, 12, 1), date(2027, 1, 1)),
        ("closed in may", date(2026, 5, 1), date(2026, 6, 1)),
        ("won in 2017", date(2017, 1, 1), date(2018, 1, 1)),
        ("2017年第四季度", date(2017, 10, 1), date(2018, 1, 1)),
        ("去年第四季度", date(2025, 10, 1), date(2026, 1, 1)),
        ("去年12月", date(2025, 12, 1), date(2026, 1, 1)),
        ("2017年3月", date(2017, 3, 1), date(2017, 4, 1)),
        ("2017年上半年", date(2017, 1, 1), date(2017, 7, 1)),
        ("12月的赢单", date(2026, 12, 1), date(2027, 1, 1)),
        ("2017年", date(2017, 1, 1), date(2018, 1, 1)),
        ("year to date", date(2026, 1, 1), date(2026, 11, 21)),
        ("今年以来", date(2026, 1, 1), date(2026, 11, 21)),
        ("last 90 days", date(2026, 8, 23), date(2026, 11, 21)),
        ("won deals last qtr", date(2026, 7, 1), date(2026, 10, 1)),
    ],
)
def test_named_periods(text: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY)
    assert period is not None, text
    assert (period.start, period.end) == (start, end)
    assert parse_period(period.label, TODAY) == period  # a label reads back as the same period


@pytest.mark.parametrize("text", ["may I see the deals?", "12月5日", "over 2017-03-05 notes"])
def test_words_that_are_no_named_period(text: str) -> None:
    period = parse_period(text, TODAY)
    assert period is None or (period.end - period.start).days <= 1
