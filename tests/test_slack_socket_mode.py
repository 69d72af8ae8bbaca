"""Socket Mode: with an app token the service opens a WebSocket to Slack and takes events
from it. Slack is a loopback Web API (apps.connections.open) plus a local WebSocket server
that pushes envelopes and records the acknowledgements, driven by Bolt's real client."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from websockets.sync.server import Server, ServerConnection, serve

from crmassist.api import create_app
from crmassist.runtime import Runtime
from tests.slack_stub import SlackStub, mention, slack_runtime
from tests.slack_stub import serve as serve_web_api

pytestmark = pytest.mark.slow
DANA = "U0DANA0001"


class SocketSlack:
    """Slack's side of the Socket Mode WebSocket: push envelopes, collect what comes back."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()

    def handle(self, ws: ServerConnection) -> None:
        self.connected.set()
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        while True:
            with contextlib.suppress(queue.Empty):
                ws.send(json.dumps(self.outbox.get(timeout=0.1)))
            try:
                self.received.put(json.loads(ws.recv(timeout=0.1)))
            except TimeoutError:
                continue
            except Exception:  # the client went away: this connection is over
                return

    def ack_for(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        while True:
            message = self.received.get(timeout=timeout)
            if message.get("envelope_id") == envelope_id:
                return message


@pytest.fixture(scope="module")
def socket_slack() -> Iterator[tuple[SocketSlack, Server]]:
    slack = SocketSlack()
    with serve(slack.handle, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield slack, server


@pytest.fixture(scope="module")
def stub(socket_slack: tuple[SocketSlack, Server], sample_rt: Runtime) -> Iterator[SlackStub]:
    slack, server = socket_slack
    stub = SlackStub()
    stub.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
    with (
        serve_web_api(stub) as api_url,
        TestClient(create_app(runtime=slack_runtime(sample_rt, api_url, "xapp-test"))),
    ):
        assert slack.connected.wait(10), "the service never opened the Socket Mode link"
        yield stub


def test_the_service_opens_socket_mode_with_the_app_token(stub: SlackStub) -> None:
    opened = stub.wait_for("apps.connections.open")[0]
    assert opened["_auth"] == "Bearer xapp-test"  # the app token, not the bot token


def test_a_mention_over_socket_mode_is_acknowledged_and_answered(
    stub: SlackStub, socket_slack: tuple[SocketSlack, Server]
) -> None:
    slack, _ = socket_slack
    event = mention(DANA, "prepare me for my meeting with Acme", "700.1")
    slack.outbox.put(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "EvSocket1",
                "event": event,
            },
        }
    )
    assert slack.ack_for("env-1") == {"envelope_id": "env-1"}
    answer = stub.wait_for("chat.postMessage")[-1]
    assert answer["thread_ts"] == "700.1" and "[A001]" in answer["text"]


def test_a_slash_command_over_socket_mode_is_answered_in_the_ack(
    stub: SlackStub, socket_slack: tuple[SocketSlack, Server]
) -> None:
    slack, _ = socket_slack
    command = {
        "command": "/crm", "text": "help", "user_id": DANA, "channel_id": "C1",
        "team_id": "T1", "trigger_id": "t", "response_url": f"{stub.base}response/9",
    }  # fmt: skip
    slack.outbox.put(
        {
            "envelope_id": "env-2",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": command,
        }
    )
    ack = slack.ack_for("env-2")
    assert "/crm ask" in json.dumps(ack.get("payload", {}))


def test_a_socket_mode_failure_is_logged_and_the_service_still_runs(
    sample_rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    refusing = SlackStub()  # no WebSocket to hand out: apps.connections.open says invalid_auth
    with serve_web_api(refusing) as api_url:
        app = create_app(runtime=slack_runtime(sample_rt, api_url, "xapp-revoked"))
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
    assert "Socket Mode could not connect" in caplog.text and "invalid_auth" in caplog.text
