"""The one clock every component reads "today" and "now" from.

`CRMASSIST_TODAY` pins the date for demos and evals on a fixed dataset. Everything that
dates a record or reads a relative date ("this week", "next Tuesday") asks the same clock,
so a call logged in a pinned demo lands on the pinned day and "this week" finds it.
Timestamps of the system's own bookkeeping (audit entries, API keys, index state) record
when the software did something and stay on the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def today(self) -> date:
        """The business day relative dates are read against."""
        ...

    def now(self) -> datetime:
        """An aware UTC timestamp on `today()`, for dating new records."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The wall clock, in UTC (records are stored in UTC, so "today" is the UTC day)."""

    def today(self) -> date:
        return self.now().date()

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class PinnedClock:
    """A fixed day with the wall clock's time of day: notes logged one after another on
    the pinned day keep their order."""

    day: date

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, datetime.now(UTC).timetz())


def clock_for(pinned: date | None) -> Clock:
    """The clock for a `today` setting: pinned when set, the wall clock otherwise."""
    return PinnedClock(pinned) if pinned else SystemClock()
