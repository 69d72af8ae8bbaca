"""What /openapi.json promises, for generated clients and the fuzzer: operation ids are
the route names (unique), every error a route may answer is a Problem, and the health
endpoints declare their bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crmassist.api import create_app
from crmassist.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data: Path = tmp_path_factory.mktemp("openapi") / "data"
    return create_app(settings=Settings(data_dir=data)).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_the_route_names_and_unique(spec: dict[str, Any]) -> None:
    ids = {(path, method): op["operationId"] for path, method, op in operations(spec)}
    assert len(set(ids.values())) == len(ids)
    assert ids[("/v1/search", "post")] == "search"
    assert ids[("/v1/interactions", "post")] == "log_interaction"
    assert ids[("/readyz", "get")] == "readyz"
    assert all(op.isidentifier() for op in ids.values()), ids


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    for path, _method, op in operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")) or path in ("/readyz",):
                continue
            content = response.get("content", {})
            schemas = [c.get("schema", {}).get("$ref", "") for c in content.values()]
            assert schemas and all(s.endswith("/Problem") for s in schemas), (path, status)


def test_health_endpoints_declare_their_bodies(spec: dict[str, Any]) -> None:
    def schema(path: str, status: str) -> str:
        content = spec["paths"][path]["get"]["responses"][status]["content"]
        return str(content["application/json"]["schema"]["$ref"])

    assert schema("/healthz", "200").endswith("/Health")
    assert schema("/readyz", "200").endswith("/Readiness")
    assert schema("/readyz", "503").endswith("/Readiness")
    readiness = spec["components"]["schemas"]["Readiness"]["properties"]
    assert {"ready", "checks", "index_outbox"} <= set(readiness)
