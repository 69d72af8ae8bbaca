"""Slack's rate limits are waited out, a bounded number of times: the bot's real WebClient
against a loopback Web API that answers 429 with Retry-After before it answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from crmassist.slack.bot import RATE_LIMIT_RETRIES, web_client


@contextmanager
def slack_api(limited: int) -> Iterator[dict[str, Any]]:
    """chat.postMessage that is rate-limited `limited` times, then posts."""
    seen: dict[str, Any] = {"calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["calls"] += 1
            limit = seen["calls"] <= limited
            body = {"ok": False, "error": "ratelimited"} if limit else {"ok": True, "ts": "1.2"}
            payload = json.dumps(body).encode()
            self.send_response(429 if limit else 200)
            if limit:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_rate_limited_call_waits_and_goes_through() -> None:
    with slack_api(limited=2) as api:
        client = web_client("xoxb-test", api["url"])
        response = client.chat_postMessage(channel="C1", text="hello")
    assert response["ok"] is True
    assert api["calls"] == 3


def test_rate_limit_retries_are_bounded() -> None:
    with slack_api(limited=100) as api:
        client = web_client("xoxb-test", api["url"])
        with pytest.raises(SlackApiError, match="ratelimited"):
            client.chat_postMessage(channel="C1", text="hello")
    assert api["calls"] == 1 + RATE_LIMIT_RETRIES
