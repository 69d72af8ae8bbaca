"""An engine-neutral filter algebra over chunk payloads.

Access policy and query options both speak it; each index adapter translates it into
its engine's own filter type, so the rules are written once and enforced inside the
vector query of either engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """`key` holds any of `values` (for a list payload: any element does)."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    """`key` (a number, e.g. epoch seconds) lies in [gte, lte]; a None bound is open."""

    key: str
    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """Satisfied by any one branch; with no branches, by nothing (a deny-all)."""

    conditions: tuple[Condition, ...]


Condition = Match | Range | AllOf | AnyOf

DENY_ALL = AnyOf(())


def match(key: str, *values: str) -> Match:
    return Match(key, tuple(values))


def all_of(*conditions: Condition) -> AllOf:
    return AllOf(tuple(conditions))


def any_of(*conditions: Condition) -> AnyOf:
    return AnyOf(tuple(conditions))
