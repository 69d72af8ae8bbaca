"""The CLI as a client of the running service (found through crmassist.discovery).

The embedded index has one owner per data directory; while `crmassist serve` holds it,
`ask`, `chat`, `search` and `status` go through its HTTP API with the local credential,
acting as the `--as` user. Nothing heavy is imported here: the answer comes from a process
that has every model loaded already, so a command takes well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from crmassist.discovery import ServiceInfo
from crmassist.errors import CrmassistError

LOCAL_USER_HEADER = "X-Crmassist-User"  # the API's deps.LOCAL_USER_HEADER (not imported: slow)


class ServiceError(CrmassistError):
    """The service answered with a problem, or could not be reached: one line for the CLI."""


class ServiceUnreachable(ServiceError):
    pass


class Service:
    def __init__(self, info: ServiceInfo, timeout: float = 120.0) -> None:
        self.info = info
        self._client = httpx.Client(
            base_url=info.url,
            timeout=httpx.Timeout(timeout, connect=3.0),
            headers={"Authorization": f"Bearer {info.token}"},
        )

    def close(self) -> None:
        self._client.close()

    def ask(self, user: str, message: str, conversation: str | None) -> dict[str, Any]:
        body = {"message": message, "conversation_id": conversation}
        return self._json("POST", "/v1/chat", user, json=body)

    def search(self, user: str, query: str, k: int, sources: list[str]) -> list[dict[str, Any]]:
        body = {"query": query, "k": k, "sources": sources}
        return self._json("POST", "/v1/search", user, json=body)

    def me(self, user: str) -> dict[str, Any]:
        return self._json("GET", "/v1/me", user)

    def backup(self, user: str, target: Path) -> None:
        """`POST /v1/admin/backup` as `user` (an admin): the archive streamed into `target`."""
        timeout = httpx.Timeout(3600.0, connect=3.0)  # the service copies everything first
        headers = {LOCAL_USER_HEADER: user}
        try:
            with self._client.stream(
                "POST", "/v1/admin/backup", headers=headers, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._problem(response)
                with target.open("wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """`/readyz`: whether the service is ready, and what it checks."""
        response = self._send("GET", "/readyz", None)
        return response.status_code == 200, response.json()

    def stream(
        self, user: str, message: str, conversation: str | None, intent: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """A chat turn's server-sent events as (kind, data), as `Assistant.stream` yields."""
        body = {"message": message, "conversation_id": conversation, "intent": intent}
        headers = {LOCAL_USER_HEADER: user, "Accept": "text/event-stream"}
        try:
            with self._client.stream("POST", "/v1/chat", json=body, headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._problem(response)
                kind = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[len("event: ") :]
                    elif line.startswith("data: "):
                        data = json.loads(line[len("data: ") :])
                        if kind == "error":
                            raise ServiceError(f"{self.info.describe()}: {data.get('detail')}")
                        yield kind, data
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def _json(self, method: str, path: str, user: str, **kwargs: Any) -> Any:
        response = self._send(method, path, user, **kwargs)
        if response.status_code >= 400:
            raise self._problem(response)
        return response.json()

    def _send(self, method: str, path: str, user: str | None, **kwargs: Any) -> httpx.Response:
        headers = {LOCAL_USER_HEADER: user} if user else {}
        try:
            return self._client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: Exception) -> ServiceUnreachable:
        return ServiceUnreachable(
            f"{self.info.describe()} owns this data directory but does not answer "
            f"({exc.__class__.__name__}); try again, or stop it"
        )

    def _problem(self, response: httpx.Response) -> ServiceError:
        """A problem+json answer as the one line the local command would have printed."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        if errors := (body.get("errors") if isinstance(body, dict) else None):
            detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors)
        return ServiceError(str(detail or f"{response.status_code} {response.reason_phrase}"))
