"""Request ids, body-size limits, Prometheus metrics and one structured log line per request."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

from crmassist.api.errors import problem
from crmassist.privacy.gate import GATE_MASKED

log = logging.getLogger("crmassist.access")


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
    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        limit = max_import if request.url.path == "/v1/import" else max_body
        length = request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            response: Response = problem(
                request, 413, "Request too large", f"the limit is {limit} bytes"
            )
        else:
            started = time.perf_counter()
            response = await call_next(request)
            elapsed = time.perf_counter() - started
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.requests.labels(request.method, route, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(elapsed)
            log.info(
                "%s %s %s %.1fms",
                request.method,
                request.url.path,
                response.status_code,
                elapsed * 1000,
                extra={
                    "request_id": request.state.request_id,
                    "user": getattr(request.state, "user_id", None),
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                },
            )
        response.headers["X-Request-ID"] = request.state.request_id
        return response


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
