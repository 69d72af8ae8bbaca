"""The assistant's tools: small LangChain tools with pydantic schemas over the CRM services.

Each tool checks the principal itself (through the services' scope), so a prompt —
whether typed by the user or planted in a stored note — cannot widen what it returns.
Results are compact JSON for the model; what they cite is collected in `ctx.turn`.
Expected failures raise `ToolException`, which the model sees as an error message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from crmassist.access.scope import Section, may_see
from crmassist.agent.context import ToolContext
from crmassist.agent.drafting import FollowUpDraft, draft_follow_up
from crmassist.crm import activity, health, lifecycle, overview, pipeline, value
from crmassist.crm.customers import CustomerMatch, find_customers, unambiguous
from crmassist.domain.enums import Channel, LifecycleStage, SourceType
from crmassist.domain.models import KnowledgeArticle
from crmassist.domain.periods import due_by, midnight_utc, parse_day, parse_period
from crmassist.errors import CrmassistError
from crmassist.retrieval.search import Citation, SearchRequest
from crmassist.scheduler import reminders

ARTICLE_CHARS = 4000


def to_json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    elif isinstance(value, list):
        value = [v.model_dump(mode="json", exclude_none=True) for v in value]
    return json.dumps(value, ensure_ascii=False, default=str)


class CrmTool(BaseTool):
    """Base: holds the turn's context, turns CRM errors into messages the model can use."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    ctx: ToolContext = Field(exclude=True)
    handle_tool_error: bool = True

    def _run(self, **kwargs: Any) -> str:
        try:
            return self.execute(**kwargs)
        except (CrmassistError, LookupError, PermissionError) as exc:
            raise ToolException(str(exc.args[0]) if exc.args else str(exc)) from exc

    def execute(self, *args: Any, **kwargs: Any) -> str:
        """The tool's work; the subclass's keyword arguments mirror its `args_schema`."""
        raise NotImplementedError

    # -- shared helpers ---------------------------------------------------------------

    def resolve_account(self, account_id: str | None, customer: str | None) -> tuple[str, str]:
        """(id, name) from an explicit id, a name to look up, or the conversation's focus."""
        ctx = self.ctx
        if account_id:
            with ctx.sessions() as session:
                account = overview.visible_account(session, ctx.principal, account_id)
                return self.focus_on(account.id, account.name)
        if customer:
            with ctx.sessions() as session:
                matches = find_customers(session, ctx.principal, customer)
            match = unambiguous(matches)
            if match is None:
                raise ToolException(_ambiguity(customer, matches))
            self.focus_on(match.account_id, match.account_name, match)
            return match.account_id, match.account_name
        if ctx.focus.account_id and ctx.focus.account_name:
            return ctx.focus.account_id, ctx.focus.account_name
        raise ToolException("which customer? Give a name or an account id")

    def focus_on(
        self, account_id: str, account_name: str, match: CustomerMatch | None = None
    ) -> tuple[str, str]:
        focus = self.ctx.focus
        if focus.account_id != account_id:
            focus.contact_id = focus.contact_name = None
        focus.account_id, focus.account_name = account_id, account_name
        if match is not None and match.contact_id:
            focus.contact_id, focus.contact_name = match.contact_id, match.contact_name
        return account_id, account_name

    def cite(self, citations: list[Citation]) -> None:
        self.ctx.turn.cite(citations)
        self.ctx.turn.records += [c.record_id for c in citations]


def _ambiguity(customer: str, matches: list[CustomerMatch]) -> str:
    if not matches:
        return f"no customer you can see matches {customer!r}"
    options = "; ".join(m.label for m in matches[:5])
    return f"{customer!r} is ambiguous; did you mean: {options}?"


def _citations_json(citations: list[Citation]) -> str:
    return json.dumps(
        [
            {
                "cite": f"[{c.record_id}]",
                "source": c.source_type.value,
                "title": c.title,
                "snippet": c.snippet,
                "text": c.text,
                "score": round(c.score, 3),
            }
            for c in citations
        ],
        ensure_ascii=False,
    )


# --- search_knowledge ------------------------------------------------------------------------


class KnowledgeArgs(BaseModel):
    query: str = Field(description="The question or keywords, in any language.")
    k: int = Field(4, ge=1, le=10, description="How many articles.")


class SearchKnowledge(CrmTool):
    name: str = "search_knowledge"
    description: str = (
        "Search the service knowledge base (troubleshooting, error codes, prices, warranty, "
        "policies). Returns articles with [ids] to cite."
    )
    args_schema: type[BaseModel] = KnowledgeArgs

    def execute(self, query: str, k: int = 4) -> str:
        request = SearchRequest(query=query, k=k, sources=(SourceType.KB,))
        citations = self.ctx.retriever().search(self.ctx.principal, request)
        self.cite(citations)
        return _citations_json(self._whole_articles(citations))

    def _whole_articles(self, citations: list[Citation], top: int = 2) -> list[Citation]:
        """The best articles in full, not just their best chunk: an answer often needs the
        table row or step next to the passage that matched. Articles are vendor text,
        already visible to this principal (the filter let them through)."""
        wanted = [c.record_id for c in citations[:top]]
        with self.ctx.sessions() as session:
            bodies = dict(
                session.execute(
                    sa.select(KnowledgeArticle.id, KnowledgeArticle.body).where(
                        KnowledgeArticle.id.in_(wanted)
                    )
                ).all()
            )
        return [
            replace(c, text=f"{c.title}\n{bodies[c.record_id]}"[:ARTICLE_CHARS])
            if c.record_id in bodies
            else c
            for c in citations
        ]


# --- find_customer -----------------------------------------------------------------------------


class FindCustomerArgs(BaseModel):
    name: str = Field(description="Part of a company or contact name; typos and Chinese are fine.")
    limit: int = Field(5, ge=1, le=20)


class FindCustomer(CrmTool):
    name: str = "find_customer"
    description: str = (
        "Look up customers (accounts) or their contacts by name, among those you may see."
    )
    args_schema: type[BaseModel] = FindCustomerArgs

    def execute(self, name: str, limit: int = 5) -> str:
        with self.ctx.sessions() as session:
            matches = find_customers(session, self.ctx.principal, name, limit)
        if (match := unambiguous(matches)) is not None:
            self.focus_on(match.account_id, match.account_name, match)
        for m in matches:
            self.ctx.turn.show("accounts", m.account_id, m.account_name)
        return json.dumps([m.__dict__ for m in matches], ensure_ascii=False)


# --- customer_overview ---------------------------------------------------------------------


class CustomerArgs(BaseModel):
    account_id: str | None = Field(None, description="Account id, if known.")
    customer: str | None = Field(None, description="Customer name, if the id is not known.")


class CustomerOverviewTool(CrmTool):
    name: str = "customer_overview"
    description: str = (
        "Meeting prep for one customer: profile, lifecycle stage, contacts, open deals, recent "
        "orders, last interactions, open tickets, next tasks (each only if your role may see "
        "it). Without arguments: the customer discussed last."
    )
    args_schema: type[BaseModel] = CustomerArgs

    def execute(self, account_id: str | None = None, customer: str | None = None) -> str:
        account_id, _ = self.resolve_account(account_id, customer)
        with self.ctx.sessions() as session:
            view = overview.customer_overview(session, self.ctx.principal, account_id)
            risk = self._churn(session, account_id)
        for kind, record_id, title in view.record_refs():
            self.ctx.turn.show(kind, record_id, title)
        if view.contacts and self.ctx.focus.contact_id is None:
            first = view.contacts[0]
            self.ctx.focus.contact_id, self.ctx.focus.contact_name = first.id, first.name
        shown = view.model_dump(mode="json", exclude_none=True)
        return to_json({**shown, "churn_risk": risk.model_dump(mode="json")} if risk else shown)

    def _churn(self, session: Session, account_id: str) -> health.ChurnRisk | None:
        """The account's churn risk for the brief, when the role may see orders."""
        if not may_see(self.ctx.principal, Section.ORDERS):
            return None
        risks = health.churn_risk(session, self.ctx.principal, self.ctx.today, account_id)
        return risks[0] if risks else None


# --- search_interactions -----------------------------------------------------------------------


class InteractionSearchArgs(BaseModel):
    query: str = Field(description="What to look for in call, meeting and email notes.")
    account_id: str | None = None
    customer: str | None = Field(None, description="Limit to this customer (name).")
    period: str | None = Field(
        None, description='A time window in words: "last week", "this quarter", "上个月".'
    )
    since: date | None = None
    until: date | None = None
    k: int = Field(6, ge=1, le=20)


class SearchInteractions(CrmTool):
    name: str = "search_interactions"
    description: str = (
        "Semantic and keyword search over interaction notes (calls, meetings, emails), "
        "optionally for one customer and a time window. Returns notes with [ids] to cite."
    )
    args_schema: type[BaseModel] = InteractionSearchArgs

    def execute(
        self,
        query: str,
        account_id: str | None = None,
        customer: str | None = None,
        period: str | None = None,
        since: date | None = None,
        until: date | None = None,
        k: int = 6,
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        start, end = self._window(period, since, until)
        request = SearchRequest(
            query=query,
            k=k,
            sources=(SourceType.INTERACTION,),
            account_id=account_id,
            since=start,
            until=end,
        )
        wider = SearchRequest(**{**request.__dict__, "k": 2 * k})
        citations = _recent_first(self.ctx.retriever().search(self.ctx.principal, wider), k)
        self.cite(citations)
        return _citations_json(citations)

    def _window(
        self, period: str | None, since: date | None, until: date | None
    ) -> tuple[datetime | None, datetime | None]:
        if period:
            found = parse_period(period, self.ctx.today)
            if found is None:
                raise ToolException(f"cannot read the period {period!r}; try 'last week'")
            since, until = found.start, found.end
        return midnight_utc(since), midnight_utc(until)


def _recent_first(citations: list[Citation], k: int) -> list[Citation]:
    """Notes ranked by relevance and recency together (reciprocal-rank fusion), newest
    first: "what did we promise" means lately, and a CRM's notes repeat themselves."""
    by_date = sorted(citations, key=lambda c: c.occurred_at or datetime.min.replace(tzinfo=UTC))
    recency = {id(c): len(by_date) - n for n, c in enumerate(by_date)}
    fused = sorted(
        enumerate(citations), key=lambda p: -(1 / (10 + p[0]) + 1 / (10 + recency[id(p[1])]))
    )
    kept = [c for _, c in fused[:k]]
    return sorted(
        kept, key=lambda c: c.occurred_at or datetime.min.replace(tzinfo=UTC), reverse=True
    )


# --- log_interaction ---------------------------------------------------------------------------


class LogArgs(BaseModel):
    summary: str = Field(description="What happened, in the user's words.")
    channel: Channel = Field(Channel.CALL, description="call, email, meeting, chat or note.")
    account_id: str | None = None
    customer: str | None = Field(None, description="Customer name, if the id is not known.")
    contact_id: str | None = None
    when: str | None = Field(None, description='When it happened: "today", "yesterday", a date.')
    follow_up: str | None = Field(
        None, description='When to follow up, creating a task: "next Tuesday", "下周二".'
    )
    follow_up_title: str | None = Field(
        None, max_length=500, description="The follow-up task's title, in the user's language."
    )
    idempotency_key: str | None = Field(None, description="Client key: the same key logs once.")


class LogInteraction(CrmTool):
    name: str = "log_interaction"
    description: str = (
        "Record a call, meeting, email, chat or note on a customer, optionally with a follow-up "
        "task. Searchable immediately afterwards."
    )
    args_schema: type[BaseModel] = LogArgs

    def execute(
        self,
        summary: str,
        channel: Channel = Channel.CALL,
        account_id: str | None = None,
        customer: str | None = None,
        contact_id: str | None = None,
        when: str | None = None,
        follow_up: str | None = None,
        follow_up_title: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        account_id, _ = self.resolve_account(account_id, customer)
        new = activity.NewInteraction(
            account_id=account_id,
            channel=channel,
            summary=summary,
            contact_id=contact_id or self.ctx.focus.contact_id,
            occurred_at=self._occurred(when),
            follow_up_on=self._day(follow_up) if follow_up else None,
            follow_up_title=follow_up_title,
            idempotency_key=idempotency_key or self.ctx.write_key("log"),
        )
        with self.ctx.sessions.begin() as session:
            logged = activity.log_interaction(
                session, self.ctx.principal, new, now=self.ctx.clock.now()
            )
        if logged.created:
            self.ctx.index_records({SourceType.INTERACTION: [logged.interaction_id]})
        self.ctx.turn.show("interactions", logged.interaction_id, summary[:80])
        if logged.task_id:
            self.ctx.turn.show("tasks", logged.task_id, "follow-up")
        return to_json(logged)

    def _occurred(self, when: str | None) -> datetime | None:
        if not when:
            return None
        day = self._day(when)
        if day == self.ctx.today:
            return None  # today: the clock's time is more precise than noon
        return datetime.combine(day, time(12), tzinfo=UTC)

    def _day(self, text: str) -> date:
        day = parse_day(text, self.ctx.today)
        if day is None:
            raise ToolException(f"cannot read the date {text!r}; try 'next Tuesday' or 2026-12-01")
        return day


# --- draft_follow_up ---------------------------------------------------------------------------


class DraftArgs(BaseModel):
    account_id: str | None = None
    customer: str | None = None
    contact_id: str | None = Field(None, description="Who to write to; default: the last one.")
    contact: str | None = Field(
        None, description='Who to write to by name, as the user put it ("rachel"), if no id.'
    )
    language: str | None = Field(None, description="en or zh; default: the customer's.")


class DraftFollowUp(CrmTool):
    name: str = "draft_follow_up"
    description: str = (
        "Draft a follow-up email to a customer contact from the latest interactions and open "
        "items. Only facts from the record; nothing invented."
    )
    args_schema: type[BaseModel] = DraftArgs

    def execute(
        self,
        account_id: str | None = None,
        customer: str | None = None,
        contact_id: str | None = None,
        contact: str | None = None,
        language: str | None = None,
    ) -> str:
        account_id, _ = self.resolve_account(account_id, customer)
        with self.ctx.sessions() as session:
            draft: FollowUpDraft = draft_follow_up(
                session,
                self.ctx.principal,
                account_id,
                contact_id or self.ctx.focus.contact_id,
                language,
                self.ctx.templates,
                named=None if contact_id else contact,
            )
        self.ctx.turn.records += draft.sources
        return to_json(draft)


# --- pipeline_query --------------------------------------------------------------------------


class PipelineArgs(pipeline.PipelineQuery):
    close_period: str | None = Field(
        None,
        description='Close-date window in words: "this quarter", "Q3 2017", "去年12月".',
    )
    created_period: str | None = Field(
        None, description='Created-date window in words: "2017", "H1 2017", "上个月".'
    )


class PipelineQueryTool(CrmTool):
    name: str = "pipeline_query"
    description: str = (
        "Answer pipeline questions over opportunities: filter by stage, owner (name, or mine: "
        "me/my_team), team, region, industry, product, account, amount, close and created "
        "dates, probability; group by stage/owner/team/region/industry/account/product/month/"
        "quarter; measure count, sum, average, median, min, max, weighted_sum (open deals), "
        "win_rate, win_rate_value, sales_cycle. Results lead with `totals` over all matches."
    )
    args_schema: type[BaseModel] = PipelineArgs

    def execute(self, **arguments: Any) -> str:
        args = PipelineArgs(**arguments)
        query = pipeline.PipelineQuery(
            **args.model_dump(exclude={"close_period", "created_period"})
        )
        if args.close_period:
            query = pipeline.within_close_period(query, args.close_period, self.ctx.today)
        if args.created_period:
            query = pipeline.within_created_period(query, args.created_period, self.ctx.today)
        with self.ctx.sessions() as session:
            result = pipeline.run_pipeline(session, self.ctx.principal, query, self.ctx.today)
        if result.chart is not None:
            self.ctx.turn.charts.append(result.chart.model_dump())
        if query.group_by is None:
            for row in result.rows:
                self.ctx.turn.show("opportunities", str(row[0]), str(row[1]))
        return to_json(result)


# --- customer_segments and churn_risk --------------------------------------------------------


class SegmentArgs(BaseModel):
    tier: health.Tier | None = Field(None, description="Only this tier.")
    limit: int = Field(20, ge=1, le=100)


class CustomerSegments(CrmTool):
    name: str = "customer_segments"
    description: str = (
        "Value tiers of customers by RFM on orders: high-value, potential, regular, lapsed, "
        "each with the reasons."
    )
    args_schema: type[BaseModel] = SegmentArgs

    def execute(self, tier: health.Tier | None = None, limit: int = 20) -> str:
        with self.ctx.sessions() as session:
            segments = health.customer_segments(session, self.ctx.principal, self.ctx.today, tier)
        for s in segments[:limit]:
            self.ctx.turn.show("accounts", s.account_id, s.account_name)
        return to_json(segments[:limit])


class ChurnArgs(CustomerArgs):
    limit: int = Field(10, ge=1, le=100)


class ChurnRiskTool(CrmTool):
    name: str = "churn_risk"
    description: str = (
        "Explainable churn risk (0-100) for one customer, or the riskiest customers you own: "
        "recency, falling orders, urgent tickets, low CSAT, silent contacts."
    )
    args_schema: type[BaseModel] = ChurnArgs

    def execute(
        self, account_id: str | None = None, customer: str | None = None, limit: int = 10
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        with self.ctx.sessions() as session:
            risks = health.churn_risk(session, self.ctx.principal, self.ctx.today, account_id)
        for r in risks[:limit]:
            self.ctx.turn.show("accounts", r.account_id, r.account_name)
        return to_json(risks[:limit])


class ValueArgs(CustomerArgs):
    limit: int = Field(10, ge=1, le=100, description="How many customers, best first.")
    horizon_months: int = Field(12, ge=1, le=60, description="Months to project over.")


class CustomerValueTool(CrmTool):
    name: str = "customer_value"
    description: str = (
        "Customer lifetime value: historical value (orders plus won deals not invoiced as "
        "orders) and projected value over the next months (BG/NBD + Gamma-Gamma where the data "
        "supports it, else a run-rate), with the model and inputs of each. One customer, or "
        "the top customers by projected value."
    )
    args_schema: type[BaseModel] = ValueArgs

    def execute(
        self,
        account_id: str | None = None,
        customer: str | None = None,
        limit: int = 10,
        horizon_months: int = 12,
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        with self.ctx.sessions() as session:
            report = value.customer_values(
                session, self.ctx.principal, self.ctx.today, account_id, horizon_months
            )
        report.values = report.values[:limit]
        for v in report.values:
            self.ctx.turn.show("accounts", v.account_id, v.account_name)
        return to_json(report)


class LifecycleArgs(CustomerArgs):
    to_stage: LifecycleStage | None = Field(
        None,
        description="Only moves into this stage: lead, opportunity, customer, loyal, "
        "at_risk, churned.",
    )
    period: str | None = Field(
        None, description='When the move happened, in words: "this month", "上个月".'
    )
    limit: int = Field(20, ge=1, le=100)


class LifecycleHistory(CrmTool):
    name: str = "lifecycle_history"
    description: str = (
        "Lifecycle stages with the date and reason of each change: one customer's history "
        "(when did they become churned, and why?) or the customers that moved into a stage "
        "in a period (who moved to at_risk this month?)."
    )
    args_schema: type[BaseModel] = LifecycleArgs

    def execute(
        self,
        account_id: str | None = None,
        customer: str | None = None,
        to_stage: LifecycleStage | None = None,
        period: str | None = None,
        limit: int = 20,
    ) -> str:
        since = until = None
        if period:
            found = parse_period(period, self.ctx.today)
            if found is None:
                raise ToolException(f"cannot read the period {period!r}; try 'this month'")
            since, until = found.start, found.end
        with self.ctx.sessions() as session:
            if account_id or customer:
                account_id, _ = self.resolve_account(account_id, customer)
                moves = lifecycle.history(session, self.ctx.principal, account_id)
                moves = [
                    m
                    for m in moves
                    if (to_stage is None or m.to_stage is to_stage)
                    and (since is None or until is None or since <= m.on < until)
                ]
            else:
                moves = lifecycle.transitions(session, self.ctx.principal, to_stage, since, until)[
                    -limit:
                ]
        for m in moves:
            self.ctx.turn.show("accounts", m.account_id, m.account_name)
        return to_json(moves)


# --- tasks -----------------------------------------------------------------------------------


class CreateTaskArgs(BaseModel):
    title: str = Field(description='What to do, e.g. "Call Acme about the quote".')
    due: str | None = Field(None, description='When: "next Tuesday", "明天", "2026-12-01".')
    account_id: str | None = None
    customer: str | None = None


class CreateTask(CrmTool):
    name: str = "create_task"
    description: str = "Create a follow-up reminder for yourself, optionally about a customer."
    args_schema: type[BaseModel] = CreateTaskArgs

    def execute(
        self,
        title: str,
        due: str | None = None,
        account_id: str | None = None,
        customer: str | None = None,
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        due_day = parse_day(due, self.ctx.today) if due else None
        if due and due_day is None:
            raise ToolException(f"cannot read the date {due!r}; try 'next Tuesday' or 2026-12-01")
        with self.ctx.sessions.begin() as session:
            task = activity.create_task(
                session, self.ctx.principal, title, due_day, account_id, self.ctx.clock.now()
            )
        self.ctx.turn.show("tasks", task.id, task.title)
        return to_json(task)


class ReminderArgs(BaseModel):
    text: str = Field(max_length=500, description='What to be reminded of: "Call Acme".')
    when: str = Field(
        description='When, in the user\'s words: "Tuesday at 9", "in 2 hours", "明天下午3点".'
    )
    account_id: str | None = None
    customer: str | None = None


class SetReminder(CrmTool):
    name: str = "set_reminder"
    description: str = (
        "Remind the user in Slack at a time of day (read in their time zone), optionally "
        "about a customer. For a to-do with a due day and no time, use create_task."
    )
    args_schema: type[BaseModel] = ReminderArgs

    def execute(
        self, text: str, when: str, account_id: str | None = None, customer: str | None = None
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        with self.ctx.sessions.begin() as session:
            zone = reminders.user_zone(session, self.ctx.principal.user_id, self.ctx.time_zone)
            reminder = reminders.create_reminder(
                session, self.ctx.principal, text, when, zone, self.ctx.clock.now(),
                account_id, self.ctx.write_key("reminder"),
            )  # fmt: skip
        self.ctx.turn.show("reminders", reminder.id, reminder.text)
        return to_json(reminder)


class ListTasksArgs(BaseModel):
    include_done: bool = False
    account_id: str | None = None
    customer: str | None = None
    due: str | None = Field(None, description='Due within a window: "this week", "下周".')


class ListTasks(CrmTool):
    name: str = "list_tasks"
    description: str = "Your follow-up tasks, soonest first; optionally for one customer."
    args_schema: type[BaseModel] = ListTasksArgs

    def execute(
        self,
        include_done: bool = False,
        account_id: str | None = None,
        customer: str | None = None,
        due: str | None = None,
    ) -> str:
        if account_id or customer:
            account_id, _ = self.resolve_account(account_id, customer)
        due_before = due_by(due, self.ctx.today) if due else None
        with self.ctx.sessions() as session:
            tasks = activity.list_tasks(
                session, self.ctx.principal, include_done, account_id, due_before
            )
        for t in tasks:
            self.ctx.turn.show("tasks", t.id, t.title)
        return to_json(tasks)


TOOL_CLASSES: tuple[type[CrmTool], ...] = (
    SearchKnowledge,
    FindCustomer,
    CustomerOverviewTool,
    SearchInteractions,
    LogInteraction,
    DraftFollowUp,
    PipelineQueryTool,
    CustomerSegments,
    ChurnRiskTool,
    CustomerValueTool,
    LifecycleHistory,
    CreateTask,
    SetReminder,
    ListTasks,
)


def build_tools(ctx: ToolContext) -> list[CrmTool]:
    """One instance of every tool bound to this turn's context."""
    factories: list[Callable[..., CrmTool]] = list(TOOL_CLASSES)
    return [factory(ctx=ctx) for factory in factories]
