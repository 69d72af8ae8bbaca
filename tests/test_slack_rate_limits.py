"""Slack's rate limits are waited out, a bounded number of times: the bot's real WebClient
against a loopback Web API that answers 429 with Retry-After before it answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from crmassist.slack.bot import RATE_LIMIT_RETRIES, web_client
from tests import loopback
from tests.loopback import Reply


@contextmanager
def slack_api(limited: int) -> Iterator[dict[str, Any]]:
    """chat.postMessage that is rate-limited `limited` times, then posts."""
    seen: dict[str, Any] = {"calls": 0}

    def handle(path: str, headers: dict[str, str], body: bytes) -> Reply:
        seen["calls"] += 1
        if seen["calls"] <= limited:
            limit = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            return Reply(429, "application/json", limit, {"Retry-After": "0"})
        return Reply(200, "application/json", json.dumps({"ok": True, "ts": "1.2"}).encode())

    with loopback.serve(handle) as url:
        seen["url"] = f"{url}/api/"
        yield seen


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
