"""Stored text quoted in Slack cannot ping a channel, mention someone or forge a link;
the bot's own formatting (bold, tables, buttons) still works."""

from __future__ import annotations

import pytest

from crmassist.agent.assistant import CitationOut, Reply
from crmassist.slack.blocks import escape, mrkdwn, reply_blocks

CONTROL = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0DANA0001>",
    "<#C0123ABCD>",
    "<!subteam^S123>",
    "<https://evil.example/login|Your bank>",
    "<mailto:x@evil.example|support>",
]


@pytest.mark.parametrize("sequence", CONTROL)
def test_control_sequences_are_escaped(sequence: str) -> None:
    escaped = escape(f"note: {sequence} please")
    assert "<" not in escaped and ">" not in escaped
    assert escaped == "note: " + sequence.replace("<", "&lt;").replace(">", "&gt;") + " please"


def test_ampersand_first_so_entities_are_not_unescaped() -> None:
    assert escape("R&D <b> &lt;") == "R&amp;D &lt;b&gt; &amp;lt;"


def test_bot_formatting_survives_escaping() -> None:
    text = "**Acme** & co\n\n| stage | amount |\n|---|---|\n| won | 1 |\n"
    out = mrkdwn(text)
    assert out.startswith("*Acme* &amp; co")
    assert "```\n| stage | amount |" in out


def test_reply_blocks_escape_answer_and_citation_titles() -> None:
    reply = Reply(
        conversation_id="c1",
        answer="They wrote <!channel> see <https://evil.example|invoice>",
        citations=[
            CitationOut(
                source_type="interaction", record_id="I1", title="<@U0SAMO0013>", snippet=""
            )
        ],
        tool_calls=[],
        focus={"account_id": "A001"},
    )
    blocks = reply_blocks(reply)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert texts == [
        "They wrote &lt;!channel&gt; see &lt;https://evil.example|invoice&gt;",
        "[I1] &lt;@U0SAMO0013&gt;",
    ]
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert {b["action_id"] for b in buttons} >= {"draft_follow_up", "log_as_call"}
