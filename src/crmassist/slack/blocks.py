"""Block Kit for the assistant's replies, modals and help, and Markdown -> Slack mrkdwn."""

from __future__ import annotations

import json
import re
from typing import Any

from crmassist.agent.assistant import Reply

MAX_TEXT = 2900  # a section's text limit is 3000 characters
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TABLE = re.compile(r"((?:^\|.*\|\s*$\n?)+)", re.MULTILINE)

HELP = (
    "*crmassist* answers from the CRM, only with what you may see.\n"
    "• `/crm ask prepare me for my meeting with Acme`\n"
    "• `/crm log call with Acme: they want the quote by Friday, follow up next Tuesday`\n"
    "• `/crm pipeline which deals over 50k in negotiation slipped this quarter?`\n"
    "• Mention me or send me a DM; replies in a thread keep the context.\n"
    "• On any message: *More actions → Log to CRM* to turn it into a note."
)


def escape(text: str) -> str:
    """Slack's escaping for text we did not write: `&`, `<`, `>` as entities, so a stored
    `<!channel>`, `<@U123>` or `<https://evil|bank>` shows as text instead of pinging a
    channel, mentioning someone or forging a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """Slack's dialect, from any text: escaped first (see `escape`), then single-star
    bold and tables as code blocks (Slack has no tables)."""
    text = _BOLD.sub(r"*\1*", escape(text))
    return _TABLE.sub(lambda m: "```\n" + m.group(1).rstrip() + "\n```\n", text)


def reply_blocks(reply: Reply, buttons: bool = True) -> list[dict[str, Any]]:
    text = mrkdwn(reply.answer)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _pieces(text)
    ]
    if reply.citations:
        cited = " · ".join(escape(f"[{c.record_id}] {c.title}") for c in reply.citations[:10])
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": cited[:MAX_TEXT]}]}
        )
    if choices := choice_buttons(reply):
        blocks.append({"type": "actions", "elements": choices})
    if buttons and reply.focus.get("account_id"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button("Draft follow-up", "draft_follow_up", reply.conversation_id),
                    _button("Log as call", "log_as_call", reply.focus["account_id"] or ""),
                ],
            }
        )
    return blocks


CHOOSE_READING = "choose_reading"
"""Action ids of a clarification's buttons start with this (one per reading)."""
MAX_VALUE = 2000  # a button value's limit


def choice_buttons(reply: Reply) -> list[dict[str, Any]]:
    """A clarification's readings as buttons: a click asks again with that reading."""
    buttons = []
    for n, choice in enumerate(reply.choices):
        value = json.dumps(
            {"conversation": reply.conversation_id, "message": choice.message,
             "intent": choice.intent},
            ensure_ascii=False,
        )  # fmt: skip
        if len(value) <= MAX_VALUE:
            buttons.append(_button(choice.label[:75], f"{CHOOSE_READING}:{n}", value))
    return buttons


def _pieces(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT] for i in range(0, max(len(text), 1), MAX_TEXT)] or [" "]


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }


MAX_OPTIONS = 100  # Slack's limit for a static select; more customers are searched instead


def account_options(accounts: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"text": {"type": "plain_text", "text": name[:75]}, "value": aid}
        for aid, name in accounts[:MAX_OPTIONS]
    ]


def log_modal(
    accounts: list[tuple[str, str]], text: str, private_metadata: str, account_id: str | None
) -> dict[str, Any]:
    """Pick the customer (only the ones the user may see) and the channel, edit the note.
    Up to 100 customers are a list; beyond that the user types and Slack asks us for
    matches (`block_suggestion`), still only among the customers they may see."""
    account_select: dict[str, Any] = {
        "action_id": "account",
        "placeholder": {"type": "plain_text", "text": "Customer"},
    }
    if len(accounts) > MAX_OPTIONS:
        account_select |= {"type": "external_select", "min_query_length": 1}
    else:
        account_select |= {"type": "static_select", "options": account_options(accounts)}
    chosen = account_options([(aid, name) for aid, name in accounts if aid == account_id])
    if chosen:
        account_select["initial_option"] = chosen[0]
    channels = ["call", "meeting", "email", "chat", "note"]
    return {
        "type": "modal",
        "callback_id": "log_to_crm",
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Log to CRM"},
        "submit": {"type": "plain_text", "text": "Log"},
        "blocks": [
            {
                "type": "input",
                "block_id": "account",
                "label": {"type": "plain_text", "text": "Customer"},
                "element": account_select,
            },
            {
                "type": "input",
                "block_id": "channel",
                "label": {"type": "plain_text", "text": "Type"},
                "element": {
                    "type": "static_select",
                    "action_id": "channel",
                    "initial_option": {
                        "text": {"type": "plain_text", "text": "call"},
                        "value": "call",
                    },
                    "options": [
                        {"text": {"type": "plain_text", "text": c}, "value": c} for c in channels
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "summary",
                    "multiline": True,
                    "initial_value": text[:2900],
                },
            },
        ],
    }
