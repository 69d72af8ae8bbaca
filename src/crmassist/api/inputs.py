"""Field types for what the API accepts: checked at the edge, so bad input is a 422 that
names the field, never a 500 from the database or the agent further in.

Patterns are in the OpenAPI document too, so clients (and the fuzzer in CI) know them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import field_annotation_is_sequence
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator, Field

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""One line of text: no NUL or other control characters (PostgreSQL refuses NUL)."""
TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"
"""Free text: not blank, no NUL; newlines and tabs are fine."""
ID = r"^[^\x00-\x1f\x7f]{1,64}$"
"""A record id as the import format has them: up to 64 printable characters."""
MAX_OFFSET = 1_000_000_000
"""Deeper pages than this are no page at all; the database's integers stay in range."""


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\S+)?$")


def iso_only(pattern: re.Pattern[str], shape: str) -> BeforeValidator:
    """Dates and times only as the document spells them: pydantic alone also reads a
    number as a Unix time ("1.5" is 1970-01-01), which no client means."""

    def check(value: object) -> object:
        if isinstance(value, int | float) or (isinstance(value, str) and not pattern.match(value)):
            raise ValueError(f"expected {shape}")
        return value

    return BeforeValidator(check)


def as_utc(value: datetime) -> datetime:
    """A time without an offset is UTC, as in the import format (docs/data-format.md)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


Number = BeforeValidator(_not_a_bool)
"""For numbers in a body: pydantic reads `true` as 1; JSON's `2.0` stays the integer 2."""

RecordId = Annotated[str, Field(pattern=ID, examples=["A001"])]
OneLine = Annotated[str, Field(pattern=NO_CONTROL)]
Text = Annotated[str, Field(pattern=TEXT)]
IsoDate = Annotated[date, iso_only(_ISO_DAY, "a date as YYYY-MM-DD")]
UtcDateTime = Annotated[
    datetime,
    iso_only(_ISO_TIME, "an ISO 8601 time, e.g. 2026-11-19T10:00:00Z"),
    AfterValidator(as_utc),
    Field(description="ISO 8601; without an offset it is UTC, a date alone is midnight UTC."),
]


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def single_valued_query(request: Request) -> None:
    """A query parameter the route takes once, sent twice (`?user=a&user=b`), is a 422:
    reading only the last value would answer a question the client did not ask."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    scalar = {
        field.alias
        for field in _query_fields(dependant)
        if not field_annotation_is_sequence(field.field_info.annotation)
    }
    repeated = sorted(
        {key for key in request.query_params if len(request.query_params.getlist(key)) > 1} & scalar
    )
    if repeated:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "given more than once", "type": "repeated"}
                for name in repeated
            ]
        )
