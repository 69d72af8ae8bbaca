"""One error format for everything: RFC 9457 `application/problem+json`, with the request id."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from crmassist.access.directory import UnknownUser
from crmassist.crm.errors import AccessDenied, NotFound
from crmassist.errors import CrmassistError, IndexMissing
from crmassist.ingest.importer import ImportValidationError
from crmassist.retrieval.search import SourceNotAllowed

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


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
    (UnknownUser, 404, "Unknown user"),
    (NotFound, 404, "Not found"),
    (AccessDenied, 403, "Forbidden"),
    (SourceNotAllowed, 403, "Forbidden"),
    (IndexMissing, 503, "Index not built"),
    (CrmassistError, 400, "Bad request"),
]


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
                extra = {}
                if isinstance(exc, ImportValidationError):
                    extra["problems"] = [str(p) for p in exc.problems]
                detail = str(exc.args[0]) if exc.args else ""
                return problem(request, status, title, detail, **extra)
        return await unexpected(request, exc)

    for kind in (CrmassistError, LookupError, PermissionError):
        app.add_exception_handler(kind, known)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(request, 500, "Internal error", "the error was logged with its request id")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
