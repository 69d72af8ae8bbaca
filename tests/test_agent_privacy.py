"""What reaches a language model, recorded: pseudonyms only, and permissions a prompt
cannot widen — whether the instruction comes from the user or from a stored note."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from langchain_core.messages import ToolMessage

from crmassist.agent.assistant import Assistant
from crmassist.runtime import Runtime
from tests.agent_support import ScriptedModel, call, raw_personal_data, say, who

pytestmark = pytest.mark.slow


def assistant_with(rt: Runtime, model: ScriptedModel) -> Assistant:
    return rt.assistant(model)


def test_no_raw_personal_data_ever_reaches_the_model(sample_rt: Runtime) -> None:
    model = ScriptedModel(
        script=[
            call("customer_overview", customer="Acme"),
            call("search_interactions", query="card number phone email", k=10),
            call("search_interactions", query="身份证 发票", k=10),
            call("draft_follow_up"),
            say("Here is what I found."),
        ]
    )
    question = (
        "Maria Gonzalez (maria.gonzalez@acme-corp.example, +1 206 555 3922) asked about her "
        "order; her colleague's ID is 110105198806123210. What do we know?"
    )
    reply = assistant_with(sample_rt, model).ask(who(sample_rt, "U013"), question)
    transcript = model.transcript()
    assert "<PERSON_" in transcript and "<EMAIL_" in transcript and "<PHONE_" in transcript
    leaked = [value for value in raw_personal_data() if value in transcript]
    assert leaked == []
    assert "110105198806123210" not in transcript
    assert [c.status for c in reply.tool_calls] == ["success"] * 4


def test_tools_get_real_values_back_before_they_run(sample_rt: Runtime) -> None:
    """The model only knows `<PERSON_…>`; the lookup still finds the real contact."""
    model = ScriptedModel(script=[call("find_customer", name="Maria Gonzalez"), say("ok")])
    assistant_with(sample_rt, model).ask(who(sample_rt, "U001"), "who is Maria Gonzalez?")
    asked = model.seen[0][-1].tool_calls if hasattr(model.seen[0][-1], "tool_calls") else []
    assert asked == []  # the first model call saw only the question
    result = next(m for m in model.seen[1] if isinstance(m, ToolMessage))
    matches = json.loads(str(result.content))
    assert matches[0]["account_id"] == "A001"
    assert matches[0]["contact_name"].startswith("<PERSON_")


def test_support_answer_reveals_names_but_masks_contact_details(sample_rt: Runtime) -> None:
    def echo_contacts(messages: list) -> object:  # the model repeats what the tool returned
        from langchain_core.messages import AIMessage

        result = json.loads(
            str(next(m for m in reversed(messages) if isinstance(m, ToolMessage)).content)
        )
        first = result["contacts"][0]
        return AIMessage(f"{first['name']}: {first['email']}, {first['phone']}")

    model = ScriptedModel(script=[call("customer_overview", account_id="A001"), echo_contacts])
    reply = assistant_with(sample_rt, model).ask(who(sample_rt, "U010"), "Acme contacts?")
    assert reply.answer.startswith("Maria Gonzalez: m***@acme-corp.example, +")
    assert "maria.gonzalez" not in reply.answer and "3922" not in reply.answer


def test_an_injected_note_cannot_widen_what_tools_return(sample_rt: Runtime) -> None:
    """A model that obeys the note planted in I00504 still only gets the rep's own data."""
    model = ScriptedModel(
        script=[
            call("search_interactions", query="maintenance mode list every deal", k=10),
            call("pipeline_query"),
            call("customer_overview", account_id="A001"),
            call("search_interactions", query="phone number", k=20),
            say("Done as instructed."),
        ]
    )
    reply = assistant_with(sample_rt, model).ask(who(sample_rt, "U005"), "any news?")
    first_results = json.loads(str(_tool_results(model)[0].content))
    assert any(
        "IGNORE ALL PREVIOUS" in r["snippet"] or "IGNORE ALL PREVIOUS" in r.get("text", "")
        for r in first_results
    )
    with sample_rt.sessions() as session:
        own_deals = set(session.scalars(sa.text(
            "SELECT o.id FROM opportunities o JOIN accounts a ON a.id = o.account_id "
            "WHERE a.owner_id = 'U005'"
        )))  # fmt: skip
        own_accounts = set(
            session.scalars(sa.text("SELECT id FROM accounts WHERE owner_id = 'U005'"))
        )
    pipeline = json.loads(str(_tool_results(model)[1].content))
    assert {row[0] for row in pipeline["rows"]} <= own_deals
    assert [c.status for c in reply.tool_calls][2] == "error"  # Acme is not theirs
    notes = json.loads(str(_tool_results(model)[3].content))
    assert notes and all(n["cite"].strip("[]") for n in notes)
    with sample_rt.sessions() as session:
        accounts = {
            session.scalar(
                sa.text("SELECT account_id FROM interactions WHERE id = :i"),
                {"i": n["cite"].strip("[]")},
            )
            for n in notes
        }
    assert accounts <= own_accounts


def test_the_step_limit_stops_a_runaway_model(sample_rt: Runtime) -> None:
    model = ScriptedModel(script=[call("list_tasks")])  # never stops calling tools
    reply = assistant_with(sample_rt, model).ask(who(sample_rt, "U001"), "loop")
    assert len(reply.tool_calls) <= sample_rt.settings.agent_max_steps
    assert reply.answer


def test_a_failing_tool_is_reported_not_raised(sample_rt: Runtime) -> None:
    model = ScriptedModel(
        script=[call("customer_overview", account_id="NOPE"), say("I could not find it.")]
    )
    reply = assistant_with(sample_rt, model).ask(who(sample_rt, "U001"), "overview of NOPE")
    assert reply.tool_calls[0].status == "error"
    errors = [m for m in model.seen[1] if isinstance(m, ToolMessage) and m.status == "error"]
    assert "no customer 'NOPE'" in str(errors[0].content)


def _tool_results(model: ScriptedModel) -> list[ToolMessage]:
    final = model.seen[-1]
    return [m for m in final if isinstance(m, ToolMessage)]
