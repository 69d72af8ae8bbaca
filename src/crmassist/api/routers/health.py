"""Liveness, readiness (database, index, model) and Prometheus metrics; no key needed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from crmassist.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready to answer: the database answers, the index exists, the model is loaded."""
    checks: dict[str, Any] = {}
    try:
        with rt.sessions() as session:
            session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"
        checks["database"] = f"error: {type(exc).__name__}"
    checks["index"] = "ok" if _safe(lambda: rt.store.exists()) else "missing: run crmassist index"
    checks["model"] = "ok" if _safe(lambda: rt.encoder.dimension > 0) else "not loaded"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _safe(check: Any) -> bool:
    try:
        return bool(check())
    except Exception:  # a failing component is reported, not raised
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
