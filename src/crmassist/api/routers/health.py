"""Liveness, readiness (database, index, model) and Prometheus metrics; no key needed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from crmassist.api.deps import RuntimeDep
from crmassist.db.engine import DatabaseUnavailable, check_writable
from crmassist.runtime import Runtime

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Owed(BaseModel):
    """What the index still owes (the index outbox)."""

    pending: int
    failing: int
    oldest_seconds: float
    last_error: str | None


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(
        description='Per component ("database", "index", "model"): "ok" or what is wrong.'
    )
    index_outbox: Owed | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: `checks` says why"}},
)
def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready to answer: the database takes writes, the index is whole and agrees with SQL
    (not missing, unreadable, half rebuilt or holding other chunk counts than recorded),
    the model is loaded. `index_outbox` says what the index still owes."""
    checks: dict[str, Any] = {"database": _database(rt)}
    checks["index"] = _index(rt)
    checks["model"] = "ok" if _safe(lambda: rt.encoder.dimension > 0) else "not loaded"
    ready = all(v == "ok" for v in checks.values())
    owed = _owed(rt)
    body = Readiness(ready=ready, checks=checks, index_outbox=Owed(**owed) if owed else None)
    shown = body.model_dump(exclude={"index_outbox"} if owed is None else set())
    return JSONResponse(shown, status_code=200 if ready else 503)


def _database(rt: Runtime) -> str:
    """Answers and would take a write (read-only files, full disks, held locks show)."""
    try:
        check_writable(rt.engine)
    except DatabaseUnavailable as exc:
        return f"unavailable: {exc.reason}"
    except Exception as exc:  # any other driver error means "not ready" too
        return f"error: {type(exc).__name__}"
    return "ok"


def _index(rt: Runtime) -> str:
    try:
        return rt.index_health()
    except Exception as exc:  # a failing component is reported, not raised
        return f"error: {type(exc).__name__}"


def _owed(rt: Runtime) -> dict[str, Any] | None:
    from crmassist.ingest.outbox import backlog

    try:
        with rt.sessions() as session:
            owed = backlog(session)
    except Exception:  # the database check above already says why
        return None
    return {
        "pending": owed.pending,
        "failing": owed.failing,
        "oldest_seconds": owed.oldest_seconds,
        "last_error": owed.last_error,
    }


def _safe(check: Any) -> bool:
    try:
        return bool(check())
    except Exception:  # a failing component is reported, not raised
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
