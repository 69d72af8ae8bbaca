"""The Slack bot (slack-bolt): mentions, DMs, `/crm`, the "Log to CRM" message shortcut and
reply buttons, all answered by the same assistant as the API, as the mapped CRM user.

Slack users map to crmassist users by `slack_user_id`, else by e-mail (`users.info`);
anyone else gets a polite refusal and nothing more. Bolt verifies every request's
signature and acks within Slack's 3 seconds; the work runs after the ack (lazy
listeners). Slack's retries (`X-Slack-Retry-Num`) are acknowledged and dropped, so nothing
is answered or logged twice.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import sqlalchemy as sa
from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond, Say
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.access.scope import profile_scope
from crmassist.crm.activity import NewInteraction, log_interaction
from crmassist.crm.errors import NotFound
from crmassist.db import session_scope
from crmassist.domain.enums import Channel, SourceType
from crmassist.domain.models import Account, User
from crmassist.runtime import Runtime
from crmassist.scheduler.service import NotDelivered, Recipient
from crmassist.slack.blocks import (
    CHOOSE_READING,
    HELP,
    account_options,
    escape,
    log_modal,
    mrkdwn,
    reply_blocks,
)
from crmassist.slack.chart import bar_chart_png

log = logging.getLogger(__name__)

UNKNOWN_USER = (
    "Sorry, I can only help people who have a crmassist account, and I could not match "
    "your Slack account to one. Please ask your CRM admin to add your Slack id or e-mail."
)
NOT_YOUR_CONVERSATION = (
    "That button belongs to someone else's conversation. Ask me yourself, e.g. "
    '"draft a follow-up email to Acme".'
)
_MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


class SlackBot:
    def __init__(self, rt: Runtime, client: WebClient) -> None:
        self.rt = rt
        self.client = client

    # -- identity ------------------------------------------------------------------------

    def principal(self, slack_user: str) -> Principal | None:
        """The CRM user behind a Slack user: by Slack id, else by the profile's e-mail."""
        with self.rt.sessions() as session:
            user_id = session.scalar(sa.select(User.id).where(User.slack_user_id == slack_user))
            if user_id is None:
                email = self._email(slack_user)
                if email:
                    user_id = session.scalar(
                        sa.select(User.id).where(sa.func.lower(User.email) == email.lower())
                    )
            return principal_for(session, user_id) if user_id else None

    def _email(self, slack_user: str) -> str | None:
        try:
            profile = self.client.users_info(user=slack_user)["user"]["profile"]
        except (SlackApiError, KeyError, TypeError):
            return None
        email = profile.get("email")
        return str(email) if email else None

    # -- answering ------------------------------------------------------------------------

    def answer(self, event: dict[str, Any], say: Say, team: str | None) -> None:
        """One message: the thread is the conversation, the message itself the write key, so
        a redelivered event logs nothing twice even past the retry header."""
        channel, thread = event["channel"], event.get("thread_ts") or event["ts"]
        principal = self.principal(event["user"])
        if principal is None:
            say(text=UNKNOWN_USER, thread_ts=thread)
            return
        question = _MENTION.sub("", event.get("text", "")).strip()
        if not question:
            say(text=mrkdwn(HELP), thread_ts=thread)
            return
        reply = self.rt.assistant().ask(
            principal,
            question,
            external_key=f"slack:{team}:{channel}:{thread}",
            request_key=f"slack:{team}:{channel}:{event['ts']}",
        )
        say(text=escape(reply.answer)[:3000], blocks=reply_blocks(reply), thread_ts=thread)
        self.post_charts(reply.charts, channel, thread)

    def post_charts(self, charts: list[dict[str, Any]], channel: str, thread: str) -> None:
        """Pipeline answers get their chart as an image in the thread (Slack has no charts)."""
        for chart in charts:
            if len(chart.get("labels", [])) < 2:
                continue  # one bar says nothing the table does not
            try:
                self.client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread,
                    content=bar_chart_png(chart),
                    filename="pipeline.png",
                    title=str(chart.get("title", "pipeline")),
                    request_file_info=False,
                )
            except SlackApiError as exc:  # the answer is already posted; the image is extra
                log.warning("could not upload a chart: %s", exc.response.get("error"))

    def visible_accounts(self, principal: Principal, containing: str = "") -> list[tuple[str, str]]:
        """The customers the user may see, by name; `containing` filters as they type."""
        query = sa.select(Account.id, Account.name).where(profile_scope(principal))
        if containing.strip():
            query = query.where(Account.name.ilike(f"%{containing.strip()}%"))
        with self.rt.sessions() as session:
            rows = session.execute(query.order_by(Account.name)).all()
        return [(aid, name) for aid, name in rows]

    def log_from_modal(self, slack_user: str, view: dict[str, Any]) -> str:
        principal = self.principal(slack_user)
        if principal is None:
            return UNKNOWN_USER
        values = view["state"]["values"]
        origin = json.loads(view.get("private_metadata") or "{}")
        new = NewInteraction(
            account_id=values["account"]["account"]["selected_option"]["value"],
            channel=Channel(values["channel"]["channel"]["selected_option"]["value"]),
            summary=values["summary"]["summary"]["value"],
            # One message is logged once; a modal opened from a button, once per modal.
            idempotency_key=f"slack:{origin.get('channel')}:{origin.get('ts')}"
            if origin.get("ts")
            else f"slack-view:{view.get('id')}",
        )
        with session_scope(self.rt.sessions) as session:
            logged = log_interaction(session, principal, new, self.rt.clock.now())
        if logged.created:
            self.rt.index_written({SourceType.INTERACTION: [logged.interaction_id]})
        self.rt.audit.record(principal, "slack:log_to_crm", target=logged.interaction_id)
        verb = "Logged" if logged.created else "Already logged"
        return f"{verb} to {escape(logged.account_name)} [{logged.interaction_id}]."


class SlackSender:
    """The scheduler's way out (digests, reminders): a direct message to the user, found by
    `slack_user_id`, else by the e-mail of their Slack profile (`users.lookupByEmail`)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, to: Recipient, text: str) -> str:
        channel = to.slack_user_id or self._by_email(to.email)
        if not channel:
            raise NotDelivered(f"no Slack user for {to.user_id}")
        try:
            posted = self.client.chat_postMessage(channel=channel, text=mrkdwn(text))
        except SlackApiError as exc:  # Slack answered: not delivered
            raise NotDelivered(f"Slack refused it: {exc.response.get('error')}") from exc
        return str(posted.get("ts"))

    def _by_email(self, email: str) -> str | None:
        try:
            found = self.client.users_lookupByEmail(email=email)["user"]["id"]
        except (SlackApiError, KeyError, TypeError):
            return None
        return str(found) if found else None


RATE_LIMIT_RETRIES = 3
"""Tries after a 429 (waiting the Retry-After Slack sends); then the call fails as usual."""


def web_client(token: str, base_url: str) -> WebClient:
    """Slack's Web API client: connection errors retried (slack_sdk's default handler) and
    rate limits waited out (`Retry-After`), a bounded number of times."""
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(token=token, base_url=base_url, timeout=30)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def build_slack_app(rt: Runtime) -> App | None:
    """The Bolt app, or None when Slack is not configured (no token or signing secret)."""
    settings = rt.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not token or not secret:
        return None
    client = web_client(token, settings.slack_api_url)

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        """A single-workspace app: no `auth.test` round trip (and no network) per request."""
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    app = App(
        signing_secret=secret,
        client=client,
        authorize=authorize,
        process_before_response=False,
    )
    register(app, SlackBot(rt, client))
    return app


def register(app: App, bot: SlackBot) -> None:
    app.middleware(_drop_retries)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say, context: dict[str, Any]) -> None:
        bot.answer(event, say, context.get("team_id"))

    @app.event("message")
    def on_message(event: dict[str, Any], say: Say, context: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return  # channels need a mention; edits, joins and bots are not questions
        bot.answer(event, say, context.get("team_id"))

    def ack_command(ack: Ack, command: dict[str, Any]) -> None:
        sub = command.get("text", "").strip().split(" ", 1)[0].lower()
        ack(text=mrkdwn(HELP) if sub in ("", "help") else "Working on it…")

    def run_command(command: dict[str, Any], respond: Respond) -> None:
        sub, _, rest = command.get("text", "").strip().partition(" ")
        sub = sub.lower()
        if sub in ("", "help"):
            return
        principal = bot.principal(command["user_id"])
        if principal is None:
            respond(text=UNKNOWN_USER, response_type="ephemeral")
            return
        # "/crm pipeline by stage" is a pipeline question even where its words alone are not.
        question = {"log": f"log {rest}", "ask": rest, "pipeline": f"pipeline: {rest}"}.get(
            sub, f"{sub} {rest}"
        )
        reply = bot.rt.assistant().ask(
            principal,
            question,
            external_key=f"slack-cmd:{command.get('channel_id')}:{command['user_id']}",
        )
        respond(
            text=escape(reply.answer)[:3000],
            blocks=reply_blocks(reply, buttons=False),
            response_type="ephemeral",
        )

    app.command("/crm")(ack=ack_command, lazy=[run_command])

    @app.shortcut("log_to_crm")
    def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        principal = bot.principal(shortcut["user"]["id"])
        if principal is None:
            client.chat_postEphemeral(
                channel=shortcut["channel"]["id"], user=shortcut["user"]["id"], text=UNKNOWN_USER
            )
            return
        message = shortcut.get("message", {})
        origin = json.dumps({"channel": shortcut["channel"]["id"], "ts": message.get("ts")})
        view = log_modal(bot.visible_accounts(principal), message.get("text", ""), origin, None)
        client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    @app.view("log_to_crm")
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ack()
        result = bot.log_from_modal(body["user"]["id"], view)
        origin = json.loads(view.get("private_metadata") or "{}")
        if origin.get("channel"):
            client.chat_postEphemeral(
                channel=origin["channel"], user=body["user"]["id"], text=result
            )

    @app.options("account")
    def on_account_search(ack: Ack, body: dict[str, Any]) -> None:
        """Matches for the modal's customer search (more customers than a list can hold)."""
        principal = bot.principal(body["user"]["id"])
        found = bot.visible_accounts(principal, body.get("value", "")) if principal else []
        ack(options=account_options(found))

    @app.action("draft_follow_up")
    def on_draft(ack: Ack, body: dict[str, Any], action: dict[str, Any], say: Say) -> None:
        ack()
        principal = bot.principal(body["user"]["id"])
        if principal is None:
            return
        thread = body.get("container", {}).get("thread_ts") or body.get("container", {}).get(
            "message_ts"
        )
        try:
            reply = bot.rt.assistant().ask(principal, "draft a follow-up email", action["value"])
        except NotFound:  # someone else's answer: its conversation is not theirs to continue
            say(text=NOT_YOUR_CONVERSATION, thread_ts=thread)
            return
        say(
            text=escape(reply.answer)[:3000],
            blocks=reply_blocks(reply, buttons=False),
            thread_ts=thread,
        )

    @app.action(re.compile(rf"^{CHOOSE_READING}:\d+$"))
    def on_choice(ack: Ack, body: dict[str, Any], action: dict[str, Any], say: Say) -> None:
        """A reading picked from a clarification: the same request, answered as that."""
        ack()
        principal = bot.principal(body["user"]["id"])
        if principal is None:
            return
        container = body.get("container", {})
        thread = container.get("thread_ts") or container.get("message_ts")
        picked = json.loads(action["value"])
        try:
            reply = bot.rt.assistant().ask(
                principal, picked["message"], picked["conversation"], intent=picked["intent"]
            )
        except NotFound:
            say(text=NOT_YOUR_CONVERSATION, thread_ts=thread)
            return
        say(text=escape(reply.answer)[:3000], blocks=reply_blocks(reply), thread_ts=thread)

    @app.action("log_as_call")
    def on_log_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        principal = bot.principal(body["user"]["id"])
        if principal is None:
            return
        channel = body.get("channel", {}).get("id")
        origin = json.dumps({"channel": channel, "ts": None})
        view = log_modal(bot.visible_accounts(principal), "", origin, action["value"])
        client.views_open(trigger_id=body["trigger_id"], view=view)


def _drop_retries(req: BoltRequest, resp: BoltResponse, next: Any) -> BoltResponse:
    """Slack re-sends an event it thinks was lost; the first delivery is already handled."""
    if req.headers.get("x-slack-retry-num"):
        log.info("dropping Slack retry %s", req.headers.get("x-slack-retry-num"))
        return BoltResponse(status=200, body="")
    return next()
