"""Request ids, body-size limits, Prometheus metrics and one structured log line per request.

One pure ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it counts the body as
it streams in (a chunked upload has no Content-Length to trust), and it answers unexpected
errors itself instead of re-raising them, which would make the server drop the client's
keep-alive connection after the 500.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmassist.api.errors import internal_error, problem
from crmassist.privacy.gate import GATE_MASKED

log = logging.getLogger("crmassist.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PARAM_NAME = re.compile(r"^[a-z][a-z_]{0,39}$")
IMPORT_PATH = "/v1/import"


class Metrics:
    """Per-app registry, so several apps (tests) never clash in the global one."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "crmassist_http_requests", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "crmassist_http_request_seconds", "HTTP request latency", ["route"],
            registry=self.registry,
        )  # fmt: skip
        self.turns = Counter(
            "crmassist_chat_turns", "Assistant turns", ["streamed"], registry=self.registry
        )
        self.registry.register(GATE_MASKED)  # process-wide: the indexer counts there too


def install(app: FastAPI, max_body: int, max_import: int, metrics: Metrics) -> None:
    app.add_middleware(RequestContext, max_body=max_body, max_import=max_import, metrics=metrics)
    logging.getLogger("uvicorn.access").addFilter(REDACT_UVICORN_ACCESS)


class RequestContext:
    def __init__(self, app: ASGIApp, *, max_body: int, max_import: int, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        self.max_body, self.max_import = max_body, max_import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.headers.get("X-Request-ID", "")
        request.state.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        limit = self.max_import if scope["path"] == IMPORT_PATH else self.max_body
        reply = _Reply(send, request.state.request_id)
        started = time.perf_counter()
        try:
            if _declared_length(request) > limit:
                await reply.answer(scope, receive, _too_large(request, limit))
            else:
                await self.app(scope, _limited(receive, limit), reply.send)
        except Exception as exc:
            if not reply.started:
                await reply.answer(scope, receive, internal_error(request, exc))
            elif not reply.finished:
                raise  # half a response: only closing the connection tells the client
            else:
                log.error("error after the response on %s", scope["path"], exc_info=exc)
        self._record(request, reply.status, time.perf_counter() - started)

    def _record(self, request: Request, status: int, elapsed: float) -> None:
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.metrics.requests.labels(request.method, route, str(status)).inc()
        self.metrics.latency.labels(route).observe(elapsed)
        target = redacted_target(request.url.path, request.scope.get("query_string", b""))
        log.info(
            "%s %s %s %.1fms",
            request.method,
            target,
            status,
            elapsed * 1000,
            extra={
                "request_id": request.state.request_id,
                "user": getattr(request.state, "user_id", None),
                "status": status,
                "ms": round(elapsed * 1000, 1),
            },
        )


class _Reply:
    """The response side of one exchange: stamps the request id, remembers how far it got."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send, self._request_id = send, request_id
        self.started = self.finished = False
        self.status = 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started, self.status = True, message["status"]
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
            headers.append((b"x-request-id", self._request_id.encode()))
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
        await self._send(message)

    async def answer(self, scope: Scope, receive: Receive, response: Any) -> None:
        await response(scope, receive, self.send)


def _declared_length(request: Request) -> int:
    length = request.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else 0


def _too_large(request: Request, limit: int) -> Any:
    return problem(request, 413, "Request too large", f"the limit is {limit} bytes")


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive`, counting body bytes as they arrive: over the limit, reading stops with a
    413 (the error handlers answer it), whatever Content-Length said or did not say."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"the limit is {limit} bytes")
        return message

    return receive_within_limit


def redacted_target(path: str, query: bytes | str) -> str:
    """The path with every query value masked: keys, names and other personal data travel
    in query strings and must not reach the logs. Parameter names stay, if they look like one."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    if not query:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    names = [name if _PARAM_NAME.match(name) else "?" for name, _ in pairs] or ["?"]
    return f"{path}?" + "&".join(f"{name}=***" for name in names)


class _RedactUvicornAccess(logging.Filter):
    """uvicorn's own access line (`client - "GET /path?query HTTP/1.1" 200`), redacted too."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            record.args = (args[0], args[1], redacted_target(path, query), *args[3:])
        return True


REDACT_UVICORN_ACCESS = _RedactUvicornAccess()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request context when there is one."""

    FIELDS = ("request_id", "user", "status", "ms")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{f: getattr(record, f) for f in self.FIELDS if hasattr(record, f)},
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
