"""One error format for everything: RFC 9457 `application/problem+json`, with the request id,
declared in the OpenAPI document for every status the API answers with."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from crmassist.access.directory import UnknownUser
from crmassist.agent.models import ModelUnavailable
from crmassist.crm.errors import AccessDenied, NotFound
from crmassist.db.engine import RETRY_AFTER_S, DatabaseUnavailable, unavailable_reason
from crmassist.errors import CrmassistError, IndexMissing
from crmassist.ingest.importer import ImportValidationError
from crmassist.retrieval.search import SourceNotAllowed
from crmassist.retrieval.store import IndexUnavailable

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class IdempotencyKeyReused(CrmassistError):
    """An `Idempotency-Key` sent again with a different request: answering with the first
    request's result would pass it off as this one's."""


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None
    errors: list[FieldError] | None = Field(None, description="422: what was wrong where.")
    problems: list[str] | None = Field(None, description="Import: `file:line: message`.")


ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 503)
"""What a /v1 route may answer besides success (each a problem+json body)."""
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": HTTPStatus(status).phrase}
    for status in ERROR_STATUSES
}


def problem(
    request: Request, status: int, title: str, detail: str = "", **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


_STATUS: list[tuple[type[Exception], int, str]] = [
    (ImportValidationError, 422, "Invalid import"),
    (IdempotencyKeyReused, 422, "Idempotency key reused"),
    (UnknownUser, 404, "Unknown user"),
    (NotFound, 404, "Not found"),
    (AccessDenied, 403, "Forbidden"),
    (SourceNotAllowed, 403, "Forbidden"),
    (IndexUnavailable, 503, "Index unavailable"),
    (IndexMissing, 503, "Index not built"),
    (ModelUnavailable, 503, "Model unavailable"),
    (CrmassistError, 400, "Bad request"),
    (sqlalchemy.exc.IntegrityError, 409, "Conflict"),
]
_DETAIL = {
    sqlalchemy.exc.IntegrityError: "a concurrent request changed the same records; try again",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(request, exc.status_code, _title(exc.status_code), str(exc.detail or ""))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return problem(request, 422, "Invalid request", "see errors", errors=errors)

    async def known(request: Request, exc: Exception) -> JSONResponse:
        for kind, status, title in _STATUS:
            if isinstance(exc, kind):
                return problem(request, status, title, _detail(exc), **_extra(exc))
        raise exc  # the request middleware answers 500 and logs it

    for kind in (CrmassistError, LookupError, PermissionError, sqlalchemy.exc.DBAPIError):
        app.add_exception_handler(kind, known)

    async def database_fault(request: Request, exc: Exception) -> JSONResponse:
        """Locked, read-only, gone or unreachable: a state to wait out, so 503 + Retry-After."""
        if (reason := unavailable_reason(exc)) is None:
            return await known(request, exc)
        log.warning("database unavailable on %s: %s", request.url.path, reason)
        detail = f"the database is {reason}; try again shortly"
        response = problem(request, 503, "Database unavailable", detail)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    app.add_exception_handler(sqlalchemy.exc.DBAPIError, database_fault)
    app.add_exception_handler(DatabaseUnavailable, database_fault)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Last resort only: the request middleware answers unexpected errors itself."""
        return internal_error(request, exc)

    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(request, 500, "Internal error", "the error was logged with its request id")


def _detail(exc: Exception) -> str:
    for kind, text in _DETAIL.items():
        if isinstance(exc, kind):
            log.warning("%s: %s", kind.__name__, exc)  # the statement stays in the log
            return text
    return str(exc.args[0]) if exc.args else ""


def _extra(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ImportValidationError):
        return {"problems": [str(p) for p in exc.problems]}
    return {}


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI files an error model under `application/json`; ours is problem+json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for operation in _operations(schema):
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if status.startswith(("4", "5")) and ref.endswith("/Problem"):
                        content[PROBLEM] = content.pop("application/json")
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "query":
                        _drop_null(parameter)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _drop_null(parameter: dict[str, Any]) -> None:
    """`str | None = None` documents `anyOf [string, null]`, but a URL has no null: an
    optional query parameter is absent or a string. Documented as nullable, the literal
    `?user=null` reads to a fuzzer as the null it allows (Schemathesis ST201)."""
    schema = parameter.get("schema", {})
    kept = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
    if len(kept) == 1 and len(kept) < len(schema["anyOf"]):
        del schema["anyOf"]
        schema.update(kept[0])


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in schema.get("paths", {}).values() for op in path.values()]


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
