"""Offline answers about customers, notes, tasks and health, in the asker's language.

Facts come from tool results; the words, labels for stored codes, dates and amounts come
from `prompts/answers.yaml` through `Phrases`. Record text (a note, a ticket subject, an
account's name) is quoted as stored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crmassist.agent.planner.compose import Phrases, as_date, bullet, join

RECENT_NOTES = 3
_FIRST_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")
_NEXT_STEP = re.compile(r"^(?:next step|下一步)\s*[:：]", re.IGNORECASE)


class Describer:
    """Answers for one language, with `today` for dates ("Tuesday 24 November", "3 days ago")."""

    def __init__(self, phrases: Phrases, lang: str, today: date) -> None:
        self.phrases, self.lang, self.today = phrases, lang, today

    def say(self, key: str, **values: Any) -> str:
        return self.phrases.say(self.lang, key, **values)

    def label(self, group: str, code: Any) -> str:
        return self.phrases.label(self.lang, group, code)

    def day(self, value: Any) -> str:
        return self.phrases.day(self.lang, value, self.today)

    def money(self, amount: Any, currency: str) -> str:
        return self.phrases.money(self.lang, amount, currency)

    def days(self, count: int) -> str:
        return self.phrases.days(self.lang, count)

    def join(self, items: list[str]) -> str:
        return join(items, self.lang)

    # -- meeting prep -------------------------------------------------------------------------

    def overview(self, view: dict[str, Any]) -> str:
        """The brief first (last contact and what changed since, issues and risks, our
        commitments, the next step), then the details."""
        head = self.say(
            "overview_title",
            name=view["name"],
            industry=view.get("industry") or self.phrases.labels[self.lang]["unknown"],
            region=view.get("region") or self.phrases.labels[self.lang]["unknown"],
        )
        brief = self.brief(view)
        lines = [f"{head} [{view['account_id']}]", self.say("brief_heading"), bullet(brief)]
        lines += [self.say("details_heading"), *self.details(view)]
        return "\n".join(lines)

    def brief(self, view: dict[str, Any]) -> list[str]:
        lines = [self._last_contact(view), self._issues(view)]
        if (promised := view.get("commitments")) is not None:
            lines.append(self._commitments(promised))
        if step := self._next_step(view):
            lines.append(step)
        return [line for line in lines if line]

    def _last_contact(self, view: dict[str, Any]) -> str:
        notes = view.get("last_interactions")
        if notes is None:
            return ""
        if not notes:
            return self.say("notes_none_short")
        last = notes[0]
        when = as_date(last["occurred_at"]) or self.today
        line = self.say(
            "brief_last_contact",
            date=self.day(when),
            channel=self.label("channel", last["channel"]),
            days=self.days((self.today - when).days),
            id=last["id"],
        )
        return line + " " + self._since(view, when)

    def _since(self, view: dict[str, Any], last: date) -> str:
        """What happened after the last contact: new tickets and orders."""
        changes = [
            self.say("since_ticket", subject=t["subject"], id=t["id"])
            for t in view.get("open_tickets") or []
            if (as_date(t["created_at"]) or last) > last
        ]
        changes += [
            self.say("since_order", product=o["product"], id=o["id"])
            for o in view.get("recent_orders") or []
            if (as_date(o["order_date"]) or last) > last
        ]
        if not changes:
            return self.say("since_nothing")
        return self.say("since", changes=self.join(changes))

    def _issues(self, view: dict[str, Any]) -> str:
        issues = [
            self.say(
                "issue_ticket",
                subject=t["subject"],
                priority=self.label("priority", t["priority"]),
                id=t["id"],
            )
            for t in view.get("open_tickets") or []
        ]
        issues += [
            self.say("issue_slipped", name=d["name"], date=self.day(d["close_date"]), id=d["id"])
            for d in view.get("open_deals") or []
            if (as_date(d.get("close_date") or "") or self.today) < self.today
        ]
        risk = view.get("churn_risk")
        if risk and risk["level"] != "low":
            issues.append(
                self.say(
                    "issue_churn",
                    level=self.label("risk", risk["level"]),
                    score=risk["score"],
                    reasons=self.join(self.risk_reasons(risk)),
                )
            )
        if not issues:
            return self.say("issues_none")
        return self.say("issues", issues=self.join(issues))

    def _commitments(self, promised: list[dict[str, Any]]) -> str:
        if not promised:
            return self.say("commitments_none")
        items = [
            self.say("commitment_due" if c.get("due") else "commitment", text=c["text"],
                     due=self.day(c.get("due")), id=c["note_id"])
            for c in promised
        ]  # fmt: skip
        return self.say("commitments", items=self.join(items))

    def _next_step(self, view: dict[str, Any]) -> str:
        """The soonest open task, else a note's "Next step:", with the nearest open deal."""
        step = ""
        if tasks := view.get("next_tasks"):
            task = tasks[0]
            step = self.say("step_task", title=task["title"], due=self.day(task.get("due_date")),
                            id=task["id"])  # fmt: skip
        else:
            for note in view.get("last_interactions") or []:
                written = [s for s in _FIRST_SENTENCE.split(note["body"]) if _NEXT_STEP.match(s)]
                if written:
                    step = f"{written[0].strip()} [{note['id']}]"
                    break
        deals = [d for d in view.get("open_deals") or [] if d.get("close_date")]
        if deals:
            deal = min(deals, key=lambda d: d["close_date"])
            step += (" " if step else "") + self.say(
                "step_deal", name=deal["name"], stage=self.label("stage", deal["stage"]),
                date=self.day(deal["close_date"]), id=deal["id"],
            )  # fmt: skip
        return self.say("next_step", step=step) if step else ""

    def details(self, view: dict[str, Any]) -> list[str]:
        lines = [
            self.say(
                "overview_head",
                stage=self.label("lifecycle", view["lifecycle_stage"]),
                owner=view.get("owner") or self.phrases.labels[self.lang]["unknown"],
            )
        ]
        if view.get("contacts"):
            people = [_contact_label(c) for c in view["contacts"]]
            lines.append(self.say("contacts", contacts=self.join(people)))
        lines += self.sections(view)
        if (tickets := self.tickets(view)) is not None:
            lines.append(tickets)
        if view.get("next_tasks"):
            tasks = [self._task(t) for t in view["next_tasks"]]
            lines.append(self.say("tasks", tasks=self.join(tasks)))
        if view.get("open_deals") is None and view.get("last_interactions") is None:
            lines.append(self.say("hidden"))
        return lines

    def tickets(self, view: dict[str, Any]) -> str | None:
        tickets = view.get("open_tickets")
        if tickets is None:
            return None
        if not tickets:
            return self.say("tickets_none")
        items = [
            f"{t['subject']} ({self.label('priority', t['priority'])}, "
            f"{self.label('ticket_status', t['status'])}) [{t['id']}]"
            for t in tickets
        ]
        return self.say("tickets", count=len(items), tickets=self.join(items))

    def sections(self, view: dict[str, Any]) -> list[str]:
        lines = []
        if (deals := view.get("open_deals")) is not None:
            items = [
                self.say("deal", name=d["name"], stage=self.label("stage", d["stage"]),
                         amount=self.money(d["amount"], d["currency"]),
                         date=self.day(d.get("close_date")), id=d["id"])
                for d in deals
            ]  # fmt: skip
            lines.append(
                self.say("deals", deals=self.join(items)) if items else self.say("deals_none")
            )
        if (orders := view.get("recent_orders")) is not None:
            items = [
                f"{self.day(o['order_date'])} {o['product']} "
                f"{self.money(o['amount'], o['currency'])} [{o['id']}]"
                for o in orders
            ]
            lines.append(
                self.say("orders", orders=self.join(items)) if items else self.say("orders_none")
            )
        if (notes := view.get("last_interactions")) is not None:
            items = [self._note(n) for n in notes[:RECENT_NOTES]]
            lines.append(
                self.say("last_notes", notes=self.join(items))
                if items
                else self.say("notes_none_short")
            )
        return lines

    def _note(self, note: dict[str, Any]) -> str:
        what = note.get("subject") or _FIRST_SENTENCE.split(note["body"].strip(), maxsplit=1)[0]
        return (
            f"{self.day(note['occurred_at'])} {self.label('channel', note['channel'])}: "
            f"{what[:120]} [{note['id']}]"
        )

    def _task(self, task: dict[str, Any]) -> str:
        return f"{task['title']} ({self.day(task.get('due_date'))}) [{task['id']}]"

    # -- health -------------------------------------------------------------------------------

    def segments(self, segments: list[dict[str, Any]]) -> str:
        if not segments:
            return self.say("segments_none")
        lines = [
            f"{s['account_name']} [{s['account_id']}]: {self.label('tier', s['tier'])} — "
            + self.say(
                "segment_reasons", days=self.days(s["recency_days"]), orders=s["orders_12m"],
                revenue=self.money(s["revenue_12m"], s["currency"]), **s["scores"],
            )
            for s in segments[:10]
        ]  # fmt: skip
        return self.say("segments_intro") + "\n" + bullet(lines)

    def churn(self, risks: list[dict[str, Any]]) -> str:
        if not risks:
            return self.say("churn_none")
        lines = [
            f"{r['account_name']} [{r['account_id']}]: {r['score']}/100 "
            f"({self.label('risk', r['level'])}) — {self.join(self.risk_reasons(r))}"
            for r in risks[:5]
        ]
        return self.say("churn_intro") + "\n" + bullet(lines)

    def risk_reasons(self, risk: dict[str, Any]) -> list[str]:
        factors = risk.get("factors") or []
        reasons = [
            self.say(f"risk_{f['code']}", **f["values"]) + f" (+{f['points']})" for f in factors
        ]
        return reasons or [self.say("risk_none")]

    # -- value and lifecycle --------------------------------------------------------------

    def values(self, report: dict[str, Any], single: bool) -> str:
        """One customer's value with its model and inputs, or the top ones by projection."""
        values = report.get("values") or []
        if not values:
            return self.say("value_none")
        if single:
            return self._value(values[0])
        values = sorted(values, key=lambda v: v["currency"] != values[0]["currency"])
        lines = [
            self.say(
                "value_line",
                name=v["account_name"],
                id=v["account_id"],
                projected=self.money(v["projected_value"], v["currency"]),
                historical=self.money(v["historical_value"], v["currency"]),
            )
            for v in values[:10]
        ]
        intro = self.say("value_top", months=report["horizon_months"])
        return intro + "\n" + bullet(lines) + "\n" + self._models(report)

    def _value(self, v: dict[str, Any]) -> str:
        inputs = v["inputs"]
        alive = v.get("probability_alive")
        return self.say(
            "value_one",
            name=v["account_name"],
            id=v["account_id"],
            historical=self.money(v["historical_value"], v["currency"]),
            orders=self.money(v["orders_value"], v["currency"]),
            won=self.money(v["won_deals_value"], v["currency"]),
            months=v["horizon_months"],
            projected=self.money(v["projected_value"], v["currency"]),
            purchases=v["expected_purchases"],
            each=self.money(v["expected_purchase_value"], v["currency"]),
            model=v["model"],
            days=inputs["purchases"],
            first=self.day(inputs["first_purchase"]),
            last=self.day(inputs["last_purchase"]),
            alive=self.say("value_alive", share=alive) if alive is not None else "",
        )

    def _models(self, report: dict[str, Any]) -> str:
        models = sorted({v["model"] for v in report.get("values") or []})
        return self.say("value_models", models=self.join(models))

    def lifecycle(
        self, moves: list[dict[str, Any]], single: bool, stage: str | None, period: str | None
    ) -> str:
        """One customer's stages (the move into the stage asked about first), or the
        customers that moved (into a stage, in a period)."""
        if not moves:
            return self.say("lifecycle_none")
        if single:
            asked = [m for m in moves if stage and m["to_stage"] == stage]
            first = [self._move(m, named=True) for m in reversed(asked)]
            if asked and len(asked) == len(moves):
                return "\n".join(first)
            rest = [self._move(m, named=False) for m in reversed(moves)]
            head = moves[0]
            intro = self.say("lifecycle_of", name=head["account_name"], id=head["account_id"])
            return "\n".join([*first, intro, bullet(rest)])
        shown = list(reversed(moves))[:20]
        lines = [self._move(m, named=True) for m in shown]
        more = (
            self.say("pipeline_more_groups", more=len(moves) - len(shown))
            if len(moves) > len(shown)
            else ""
        )
        intro = self.say(
            "lifecycle_moves",
            count=len(moves),
            stage=self.label("lifecycle", stage) if stage else self.say("lifecycle_any"),
            period=f" ({period})" if period else "",
        )
        return "\n".join(filter(None, [intro, bullet(lines), more]))

    def _move(self, move: dict[str, Any], named: bool) -> str:
        """A change ("on 3 May: customer → at risk (…)"), or the stage first recorded."""
        before = move.get("from_stage")
        text = self.say(
            "lifecycle_move" if before else "lifecycle_first",
            day=self.day(move["on"]),
            before=self.label("lifecycle", before),
            after=self.label("lifecycle", move["to_stage"]),
            reason=self.stage_reason(move),
        )
        return f"{move['account_name']} [{move['account_id']}] {text}" if named else text

    def stage_reason(self, move: dict[str, Any]) -> str:
        details = move.get("details") or {}
        code = details.get("code")
        if code == "churn_risk":
            return self.join(self.risk_reasons(details))
        values = {k: self.day(v) if k in ("last", "since") else v for k, v in details.items()}
        if "days" in values:
            values["days"] = self.days(int(values["days"]))
        if code == "open_deal":
            values["stage"] = self.label("stage", values.get("stage"))
        key = f"stage_reason_{code}"
        return self.say(key, **values) if key in self.phrases.table[self.lang] else move["reason"]

    # -- notes and tasks ----------------------------------------------------------------------

    def logged(self, logged: dict[str, Any], channel: str) -> str:
        key = "logged" if logged["created"] else "logged_again"
        text = self.say(key, channel=self.label("channel", channel),
                        customer=logged["account_name"], id=logged["interaction_id"])  # fmt: skip
        if logged.get("task_id"):
            due = self.day(logged.get("follow_up_on"))
            text += self.say("logged_task", task=logged["task_id"], due=due)
        return text

    def task_created(self, task: dict[str, Any]) -> str:
        due = self.say("task_due", due=self.day(task["due_date"])) if task.get("due_date") else ""
        return self.say("task_created", id=task["id"], title=task["title"], due=due)

    def tasks(self, tasks: list[dict[str, Any]], period: str | None) -> str:
        scope = self.say("tasks_scope", period=period) if period else ""
        if not tasks:
            return self.say("tasks_none", scope=scope)
        lines = [
            f"{t['title']} — {self.day(t.get('due_date'))}"
            + (f" ({t['account_name']})" if t.get("account_name") else "")
            + f" [{t['id']}]"
            for t in tasks[:15]
        ]
        return self.say("tasks_intro", scope=scope) + "\n" + bullet(lines)

    def matches(self, name: str, found: list[dict[str, Any]]) -> str:
        options = [
            self.say("match_contact", contact=m["contact_name"], account=m["account_name"],
                     id=m["account_id"])
            if m.get("contact_name")
            else f"{m['account_name']} [{m['account_id']}]"
            for m in found
        ]  # fmt: skip
        return self.say("found", name=name, options=self.join(options))


def _contact_label(contact: dict[str, Any]) -> str:
    details = ", ".join(
        x for x in (contact.get("title"), contact.get("email"), contact.get("phone")) if x
    )
    return f"{contact['name']} ({details})" if details else contact["name"]
