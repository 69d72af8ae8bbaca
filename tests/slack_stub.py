"""A loopback Slack: a Web API that records every call, plus request signing for Bolt."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr

from crmassist.runtime import Runtime
from tests import loopback

SECRET = "test-signing-secret"
EMAILS = {"USLACKMARIA": "dana.whitfield@aquapure.example", "USTRANGER1": "nobody@else.example"}


class SlackStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.base = ""
        self.socket_url = ""  # where apps.connections.open sends a Socket Mode client
        self.lock = threading.Lock()

    def record(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((method, args))
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.base}upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F1", "title": args.get("files")}]}
        if method == "apps.connections.open":
            if not self.socket_url:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": self.socket_url}
        if method == "users.info":
            email = EMAILS.get(str(args.get("user")), "")
            return {"ok": True, "user": {"id": args.get("user"), "profile": {"email": email}}}
        return {"ok": True, "ts": "1700000000.000100", "channel": args.get("channel")}

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Listeners run after the ack: poll until the calls have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [a for m, a in self.calls if m == method]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} {method} call(s), got {self.calls}")


@contextmanager
def serve(stub: SlackStub) -> Iterator[str]:
    """Yields the Web API base URL (`CRMASSIST_SLACK_API_URL`); `/response/...` takes
    slash-command responses (`response_url`), `/upload/...` the bytes of file uploads."""

    def handle(path: str, headers: dict[str, str], raw: bytes) -> tuple[str, bytes]:
        if "/upload/" in path:  # files_upload_v2 sends the bytes here
            stub.record("upload", {"bytes": len(raw), "png": raw[:4] == b"\x89PNG"})
            return "text/plain", b"OK"
        if headers.get("Content-Type", "").startswith("application/json"):
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        method = "response_url" if path.startswith("/response/") else path.strip("/").split("/")[-1]
        args["_auth"] = headers.get("Authorization", "")  # which token the call was made with
        return "application/json", json.dumps(stub.record(method, args)).encode()

    with loopback.serve(handle) as base:
        stub.base = f"{base}/"
        yield f"{base}/api/"


def signed(body: str, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def mention(user: str, text: str, ts: str, thread: str | None = None) -> dict[str, Any]:
    """An app_mention event from `user` in channel C1."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "channel": "C1",
        "ts": ts,
    }
    if thread:
        event["thread_ts"] = thread
    return event


def slack_runtime(rt: Runtime, api_url: str, app_token: str | None = None) -> Runtime:
    """The same database, index and models, with Slack configured against `api_url`."""
    configured = copy.copy(rt)
    slack = {
        "slack_bot_token": SecretStr("xoxb-test"),
        "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": api_url,
    }
    if app_token:
        slack["slack_app_token"] = SecretStr(app_token)
    configured.settings = rt.settings.model_copy(update=slack)
    return configured
