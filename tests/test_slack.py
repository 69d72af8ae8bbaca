"""The Slack bot through Bolt's real request verification, mounted on the real app, with
the Slack Web API replaced by a loopback server that records every call."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crmassist.api import create_app
from crmassist.domain.models import Interaction
from crmassist.runtime import Runtime
from tests.slack_stub import SlackStub, mention, serve, signed, slack_runtime

pytestmark = pytest.mark.slow
DANA = "U0DANA0001"  # mapped by slack_user_id
SOFIA = "USLACKSOFIA"  # mapped by e-mail through users.info


@pytest.fixture(scope="module")
def slack() -> Iterator[tuple[SlackStub, str]]:
    stub = SlackStub()
    from tests import slack_stub

    slack_stub.EMAILS[SOFIA] = "sofia.marino@aquapure.example"
    with serve(stub) as url:
        yield stub, url


@pytest.fixture(scope="module")
def client(sample_rt: Runtime, slack: tuple[SlackStub, str]) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=slack_runtime(sample_rt, slack[1]))) as test_client:
        yield test_client


def post_event(client: TestClient, event: dict[str, Any], **headers: str) -> Any:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": f"Ev{time.time_ns()}",
            "event": event,
        }
    )
    return client.post(
        "/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **signed(body), **headers},
    )


def post_form(client: TestClient, fields: dict[str, str]) -> Any:
    body = urllib.parse.urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body)}
    return client.post("/slack/events", content=body, headers=headers)


def test_requests_without_a_valid_signature_are_rejected(client: TestClient) -> None:
    body = json.dumps({"type": "event_callback", "event": mention(DANA, "hi", "1.0")})
    forged = {**signed(body, secret="wrong"), "Content-Type": "application/json"}
    assert client.post("/slack/events", content=body, headers=forged).status_code == 401
    stale = {**signed(body, at=int(time.time()) - 600), "Content-Type": "application/json"}
    assert client.post("/slack/events", content=body, headers=stale).status_code == 401


def test_a_mention_is_answered_in_its_thread_and_the_thread_remembers(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, _ = slack
    before = len(stub.calls)
    response = post_event(client, mention(DANA, "prepare me for my meeting with Acme", "100.1"))
    assert response.status_code == 200
    posted = stub.wait_for("chat.postMessage", count=1 + _count(stub, "chat.postMessage", before))
    answer = posted[-1]
    assert answer["thread_ts"] == "100.1" and "[A001]" in answer["text"]
    blocks = json.loads(answer["blocks"]) if isinstance(answer["blocks"], str) else answer["blocks"]
    assert blocks[-1]["type"] == "actions"
    assert [b["action_id"] for b in blocks[-1]["elements"]] == ["draft_follow_up", "log_as_call"]
    post_event(client, mention(DANA, "and their open tickets?", "100.2", thread="100.1"))
    follow = stub.wait_for("chat.postMessage", count=len(posted) + 1)[-1]
    assert follow["thread_ts"] == "100.1" and "T9001" in follow["text"]


def test_a_dm_from_a_user_found_by_email(client: TestClient, slack: tuple[SlackStub, str]) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    event = {
        "type": "message",
        "channel_type": "im",
        "user": SOFIA,
        "text": "what are my tasks?",
        "channel": "D1",
        "ts": "200.1",
    }
    post_event(client, event)
    reply = stub.wait_for("chat.postMessage", count=count + 1)[-1]
    assert reply["channel"] == "D1" and "task" in reply["text"].lower()
    assert any(m == "users.info" and a.get("user") == SOFIA for m, a in stub.calls)


def test_unknown_slack_users_get_a_polite_refusal_and_nothing_else(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    post_event(client, mention("USTRANGER1", "prepare me for my meeting with Acme", "300.1"))
    reply = stub.wait_for("chat.postMessage", count=count + 1)[-1]
    assert reply["text"].startswith("Sorry, I can only help people")
    assert "Acme" not in reply["text"] and "blocks" not in reply


def test_retries_are_acknowledged_and_dropped(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    response = post_event(
        client,
        mention(DANA, "how do I fix error E3?", "400.1"),
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert response.status_code == 200
    time.sleep(1.0)
    assert _count(stub, "chat.postMessage") == count


def test_slash_command_help_is_the_ack_and_ask_goes_to_response_url(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, url = slack
    base = {
        "command": "/crm",
        "user_id": DANA,
        "channel_id": "C1",
        "team_id": "T1",
        "trigger_id": "t",
    }
    help_ = post_form(
        client, {**base, "text": "help", "response_url": url.replace("/api/", "/response/1")}
    )
    assert help_.status_code == 200 and "/crm ask" in help_.text
    asked = post_form(
        client,
        {
            **base,
            "text": "ask how do I fix error E3?",
            "response_url": url.replace("/api/", "/response/2"),
        },
    )
    assert asked.status_code == 200 and "Working on it" in asked.text
    answer = stub.wait_for("response_url")[-1]
    assert "KB-0003" in answer["text"] and answer["response_type"] == "ephemeral"


def test_log_to_crm_shortcut_opens_a_modal_and_logs_once(
    client: TestClient, slack: tuple[SlackStub, str], sample_rt: Runtime
) -> None:
    stub, _ = slack
    shortcut = {
        "type": "message_action", "callback_id": "log_to_crm", "trigger_id": "trig-1",
        "team": {"id": "T1"}, "user": {"id": DANA}, "channel": {"id": "C9"},
        "message": {"ts": "500.1", "text": "Maria says the board approved the second skid."},
    }  # fmt: skip
    assert post_form(client, {"payload": json.dumps(shortcut)}).status_code == 200
    view = stub.wait_for("views.open")[-1]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    options = view["blocks"][0]["element"]["options"]
    assert "A001" in {o["value"] for o in options} and "A022" not in {o["value"] for o in options}
    state = {
        "account": {"account": {"selected_option": {"value": "A001"}}},
        "channel": {"channel": {"selected_option": {"value": "chat"}}},
        "summary": {"summary": {"value": "Maria says the board approved the second skid."}},
    }
    submission = {
        "type": "view_submission", "team": {"id": "T1"}, "user": {"id": DANA},
        "view": {"id": "V1", "type": "modal", "callback_id": "log_to_crm", "private_metadata": view["private_metadata"], "state": {"values": state}},  # noqa: E501
    }  # fmt: skip
    for _ in range(2):
        assert post_form(client, {"payload": json.dumps(submission)}).status_code == 200
    confirmations = stub.wait_for("chat.postEphemeral", count=2)
    texts = sorted(c["text"].split(" [")[0] for c in confirmations[-2:])  # handled concurrently
    assert texts == ["Already logged to Acme Corporation", "Logged to Acme Corporation"]
    with sample_rt.sessions() as session:
        logged = session.scalars(
            sa.select(Interaction).where(Interaction.idempotency_key == "slack:C9:500.1")
        ).all()
    assert len(logged) == 1 and logged[0].author_id == "U001"


def _count(stub: SlackStub, method: str, upto: int | None = None) -> int:
    calls = stub.calls if upto is None else stub.calls[:upto]
    return sum(1 for m, _ in calls if m == method)


def test_pipeline_answers_come_with_a_chart_image(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    post_event(client, mention("U0GRAC0003", "pipeline by stage", "600.1"))
    answer = stub.wait_for("chat.postMessage", count=count + 1)[-1]
    assert "```" in answer["text"] or "```" in json.dumps(answer.get("blocks", ""))
    upload = stub.wait_for("upload")[-1]
    assert upload["png"] and upload["bytes"] > 500
    done = stub.wait_for("files.completeUploadExternal")[-1]
    assert done["channel_id"] == "C1" and done["thread_ts"] == "600.1"


def command(client: TestClient, url: str, user: str, text: str, reply_to: str) -> Any:
    fields = {
        "command": "/crm", "text": text, "user_id": user, "channel_id": "C7",
        "team_id": "T1", "trigger_id": "t", "response_url": url.replace("/api/", reply_to),
    }  # fmt: skip
    return post_form(client, fields)


def test_crm_pipeline_and_crm_log_answer_through_the_response_url(
    client: TestClient, slack: tuple[SlackStub, str], sample_rt: Runtime
) -> None:
    stub, url = slack
    count = _count(stub, "response_url")
    assert (
        command(client, url, "U0GRAC0003", "pipeline by stage", "/response/p1").status_code == 200
    )
    table = stub.wait_for("response_url", count=count + 1)[-1]["text"]
    assert "| stage |" in table and "negotiation" in table
    note = "call with Acme: Maria wants the revised quote by Friday"
    assert command(client, url, DANA, f"log {note}", "/response/l1").status_code == 200
    logged = stub.wait_for("response_url", count=count + 2)[-1]["text"]
    assert logged.startswith("Logged the call with Acme Corporation")
    with sample_rt.sessions() as session:
        bodies = session.scalars(
            sa.select(Interaction.body).where(Interaction.account_id == "A001")
        ).all()
    assert any("revised quote by Friday" in b for b in bodies)


def test_reply_buttons_draft_a_follow_up_for_the_owner_only(
    client: TestClient, slack: tuple[SlackStub, str]
) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    post_event(client, mention(DANA, "what did we promise Maria Gonzalez?", "800.1"))
    answer = stub.wait_for("chat.postMessage", count=count + 1)[-1]
    blocks = json.loads(answer["blocks"]) if isinstance(answer["blocks"], str) else answer["blocks"]
    draft_button = blocks[-1]["elements"][0]

    def click(user: str) -> dict[str, Any]:
        action = {
            "type": "block_actions", "team": {"id": "T1"}, "user": {"id": user},
            "channel": {"id": "C1"}, "trigger_id": "trig-9",
            "container": {"type": "message", "message_ts": "800.2", "thread_ts": "800.1"},
            "actions": [{**draft_button, "block_id": "b1", "action_ts": "1"}],
        }  # fmt: skip
        before = _count(stub, "chat.postMessage")
        assert post_form(client, {"payload": json.dumps(action)}).status_code == 200
        return stub.wait_for("chat.postMessage", count=before + 1)[-1]

    draft = click(DANA)
    assert draft["thread_ts"] == "800.1" and draft["text"].startswith("Here is a draft to Maria")
    stranger = click(SOFIA)  # a real user, but not the conversation's owner
    assert stranger["text"].startswith("That button belongs to someone else's conversation")


def test_log_as_call_button_preselects_the_customer_and_a_double_submit_logs_once(
    client: TestClient, slack: tuple[SlackStub, str], sample_rt: Runtime
) -> None:
    stub, _ = slack
    opened = _count(stub, "views.open")
    click = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": DANA},
        "channel": {"id": "C1"}, "trigger_id": "trig-10",
        "container": {"type": "message", "message_ts": "900.2"},
        "actions": [{"action_id": "log_as_call", "value": "A001", "type": "button",
                     "block_id": "b1", "action_ts": "1"}],
    }  # fmt: skip
    assert post_form(client, {"payload": json.dumps(click)}).status_code == 200
    view = stub.wait_for("views.open", count=opened + 1)[-1]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "A001"
    summary = "Button call: Maria confirmed the site survey for plant 3."
    state = {
        "account": {"account": {"selected_option": {"value": "A001"}}},
        "channel": {"channel": {"selected_option": {"value": "call"}}},
        "summary": {"summary": {"value": summary}},
    }
    submission = {
        "type": "view_submission", "team": {"id": "T1"}, "user": {"id": DANA},
        "view": {"id": "V-button-1", "type": "modal", "callback_id": "log_to_crm",
                 "private_metadata": view["private_metadata"], "state": {"values": state}},
    }  # fmt: skip
    confirmed = _count(stub, "chat.postEphemeral")
    for _ in range(2):
        assert post_form(client, {"payload": json.dumps(submission)}).status_code == 200
    stub.wait_for("chat.postEphemeral", count=confirmed + 2)
    with sample_rt.sessions() as session:
        logged = session.scalars(sa.select(Interaction).where(Interaction.body == summary)).all()
    assert len(logged) == 1 and logged[0].channel.value == "call"


def test_a_redelivered_mention_without_the_retry_header_logs_once(
    client: TestClient, slack: tuple[SlackStub, str], sample_rt: Runtime
) -> None:
    stub, _ = slack
    count = _count(stub, "chat.postMessage")
    event = mention(DANA, "log a call with Acme: Olivia approved the PO for the skids", "950.1")
    for _ in range(2):  # e.g. replayed by a proxy: the same message, a new event id
        post_event(client, event)
    replies = stub.wait_for("chat.postMessage", count=count + 2)[-2:]
    assert sorted(r["text"].split(" ")[0] for r in replies) == ["Logged", "That"]
    with sample_rt.sessions() as session:
        logged = session.scalars(
            sa.select(Interaction.id).where(Interaction.body.contains("approved the PO"))
        ).all()
    assert len(logged) == 1


def test_the_customer_search_in_the_modal_offers_only_visible_customers(
    client: TestClient, sample_rt: Runtime
) -> None:
    from crmassist.access.directory import principal_for
    from crmassist.access.scope import account_scope
    from crmassist.domain.models import Account

    def suggest(user: str, typed: str) -> set[str]:
        payload = {
            "type": "block_suggestion", "team": {"id": "T1"}, "user": {"id": user},
            "action_id": "account", "block_id": "account", "value": typed,
            "view": {"id": "V3", "type": "modal", "callback_id": "log_to_crm"},
        }  # fmt: skip
        response = post_form(client, {"payload": json.dumps(payload)})
        assert response.status_code == 200
        return {o["value"] for o in response.json()["options"]}

    with sample_rt.sessions() as session:
        grace = principal_for(session, "U003")
        team = set(session.scalars(sa.select(Account.id).where(account_scope(grace))))
    assert "A001" in suggest(DANA, "acme")
    offered = suggest("U0GRAC0003", "o")  # a manager: the team's customers only
    assert offered and offered <= team and len(offered) < 56
    assert suggest("USTRANGER1", "acme") == set()


def test_an_unsure_reading_is_asked_back_with_buttons_and_a_click_answers_it(
    client: TestClient,
    slack: tuple[SlackStub, str],
    sample_rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub, _ = slack
    app_rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    monkeypatch.setattr(app_rt.intents, "bar", 1.0)  # nothing is sure enough
    count = _count(stub, "chat.postMessage")
    post_event(client, mention(DANA, "pipeline by stage", "900.1"))
    asked = stub.wait_for("chat.postMessage", count=count + 1)[-1]
    blocks = json.loads(asked["blocks"]) if isinstance(asked["blocks"], str) else asked["blocks"]
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert buttons[0]["action_id"] == "choose_reading:0"
    assert buttons[0]["text"]["text"].startswith("pipeline numbers")
    monkeypatch.undo()  # the click itself is answered at the normal bar
    action = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": DANA},
        "channel": {"id": "C1"}, "trigger_id": "trig-10",
        "container": {"type": "message", "message_ts": "900.2", "thread_ts": "900.1"},
        "actions": [{**buttons[0], "block_id": "b1", "action_ts": "1"}],
    }  # fmt: skip
    before = _count(stub, "chat.postMessage")
    assert post_form(client, {"payload": json.dumps(action)}).status_code == 200
    answer = stub.wait_for("chat.postMessage", count=before + 1)[-1]
    assert answer["thread_ts"] == "900.1" and "stage" in answer["text"]
