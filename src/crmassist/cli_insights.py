"""`crmassist quality`, `dedupe` and `value`: customer insights on the command line.

Registered on the main app by `cli.py`; shares its runtime, output and error helpers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crmassist import cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crmassist.crm.dedupe import MergePlan, MergeResult
    from crmassist.runtime import Runtime


def quality_summary(rt: Runtime) -> str:
    """The one-line report an import ends with."""
    from crmassist.crm.quality import quality_report

    with rt.sessions() as session:
        return quality_report(session, rt.clock.today()).summary()


def quality(
    as_user: Annotated[
        str | None, typer.Option("--as", help="Only what this user may see (default: all).")
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these checks (repeatable): missing_owner, invalid_email, "
            "invalid_phone, orphan, stale_deal, no_contacts."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Data-quality report: missing owners, invalid e-mails and phones, orphans, stale
    deals (close date passed, still open) and accounts without contacts.

    Every import prints its one-line summary; this lists each finding with its record."""
    from crmassist.crm.quality import Check, quality_report

    wanted = {Check(c) for c in check or []} if _known_checks(check) else set()
    with cli.runtime() as rt:
        principal = cli.load_principal(rt, as_user) if as_user else None
        with rt.sessions() as session:
            report = quality_report(session, rt.clock.today(), principal)
        rt.audit.record(principal, "quality", target=as_user, issues=len(report.issues))
    issues = [i for i in report.issues if not wanted or i.check in wanted]
    if as_json:
        print(
            json.dumps(
                {
                    **report.model_dump(mode="json"),
                    "issues": [i.model_dump(mode="json") for i in issues],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table("check", "record", "account", "what is wrong", title="Data quality")
    for issue in issues:
        table.add_row(
            issue.check.value,
            f"{issue.record_kind} {issue.record_id}",
            issue.account_id or "-",
            issue.detail,
        )
    if issues:
        cli.out.print(table)
    cli.out.print(report.summary(), highlight=False)


def _known_checks(checks: list[str] | None) -> bool:
    from crmassist.crm.quality import Check

    known = {c.value for c in Check}
    if bad := [c for c in checks or [] if c not in known]:
        cli.fail(f"unknown check {bad[0]!r}; choose from {', '.join(sorted(known))}", 2)
    return bool(checks)


def dedupe(
    apply: Annotated[
        bool, typer.Option("--apply", help="Merge the plan's groups (after reviewing it).")
    ] = False,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="With --apply: merge exactly this reviewed plan (JSON from "
            "--json or --out, groups you rejected deleted) instead of planning again.",
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the plan as JSON to this file.")
    ] = None,
    undo: Annotated[
        int | None,
        typer.Option(
            "--undo",
            help="Undo the merge with this audit event id (printed by "
            "--apply) and re-index what it touched.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="account or contact (repeatable; default both).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Find duplicate accounts and contacts (normalised names, e-mails, phones, company
    e-mail domains) and show the merge plan; nothing changes without --apply.

    --apply merges each group into its survivor, moving every contact, deal, order, note,
    ticket and task, re-indexes what moved, and prints the audit id that --undo takes."""
    from crmassist.crm import dedupe as dd

    kinds = kind or ["account", "contact"]
    if bad := [k for k in kinds if k not in ("account", "contact")]:
        cli.fail(f"unknown kind {bad[0]!r}; choose account or contact", 2)
    if plan_file and not apply:
        cli.fail("--plan is what --apply merges; add --apply (or drop --plan to see the plan)", 2)
    if undo is not None:
        with cli.runtime(index=True) as rt:
            _report_merge(rt, _write(rt, lambda s: dd.undo_merge(s, undo, None, rt.clock.now())))
        return
    with cli.runtime(index=apply) as rt:
        plan = _read_plan(plan_file) if plan_file else None
        if plan is None:
            with rt.sessions() as session:
                plan = dd.plan_merges(session, kinds)
        if out_file:
            out_file.write_text(plan.model_dump_json(indent=2), encoding="utf-8")
        if as_json:
            print(plan.model_dump_json(indent=2))
        else:
            _print_plan(plan)
        if apply and plan.groups:
            result = _write(rt, lambda s: dd.apply_plan(s, plan, None, rt.clock.now()))
            _report_merge(rt, result)


def _read_plan(path: Path) -> MergePlan:
    from pydantic import ValidationError

    from crmassist.crm.dedupe import MergePlan

    try:
        return MergePlan.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        cli.fail(f"cannot read {path}: {exc.strerror}")
    except ValidationError as exc:
        cli.fail(f"{path} is not a merge plan: {exc.errors()[0]['msg']}")


def _write(rt: Runtime, change: Callable[[Session], MergeResult]) -> MergeResult:
    from crmassist.db import session_scope

    with session_scope(rt.sessions) as session:
        result: MergeResult = change(session)
    return result


def _report_merge(rt: Runtime, result: MergeResult) -> None:
    """Re-index what the merge or undo touched and say what happened."""
    from crmassist.errors import IndexMissing

    rt.refresh_known_names()
    try:
        chunks = rt.indexer().sync_records({s: sorted(ids) for s, ids in result.affected.items()})
        indexed = f"re-indexed {sum(map(len, result.affected.values()))} records ({chunks} chunks)"
    except IndexMissing:
        indexed = "no index yet: run `crmassist index`"
    if result.accounts_merged < 0 or result.contacts_merged < 0:
        cli.out.print(
            f"Undid merge {result.audit_id}: restored {-result.accounts_merged} "
            f"account(s) and {-result.contacts_merged} contact(s), moved "
            f"{result.records_moved} records back; {indexed}.",
            highlight=False,
        )
        return
    cli.out.print(
        f"Merged {result.accounts_merged} account(s) and {result.contacts_merged} "
        f"contact(s), moved {result.records_moved} records; {indexed}. "
        f"Undo: crmassist dedupe --undo {result.audit_id}",
        highlight=False,
    )


def _print_plan(plan: MergePlan) -> None:
    if not plan.groups:
        cli.out.print("No duplicates found.")
        return
    table = Table(
        "kind", "keep", "merge into it", "score", "why", title="Merge plan", show_lines=True
    )
    for group in plan.groups:
        for dup in group.duplicates:
            table.add_row(
                group.kind,
                f"{group.survivor_id} {group.survivor_name}",
                f"{dup.id} {dup.name}",
                f"{dup.score:.0f}",
                "; ".join(dup.reasons),
            )
    cli.out.print(table)
    accounts, contacts = (
        sum(len(g.duplicates) for g in plan.of(k)) for k in ("account", "contact")
    )
    cli.out.print(
        f"{accounts} account(s) and {contacts} contact(s) would be merged; review, "
        "then run with --apply (or --apply --plan FILE for an edited plan)."
    )


def value(
    as_user: Annotated[str, typer.Option("--as", help="As this user: their customers only.")],
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    top: Annotated[int, typer.Option(min=1, max=1000, help="How many, best first.")] = 10,
    months: Annotated[int, typer.Option(min=1, max=60, help="Months to project over.")] = 12,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Customer lifetime value: historical (orders + won deals not invoiced as orders) and
    projected over --months by BG/NBD + Gamma-Gamma, or a run-rate where data is thin.

    Default: the top 10 customers by projected value; the models used are named."""
    from crmassist.crm.value import customer_values

    with cli.runtime() as rt:
        principal = cli.load_principal(rt, as_user)
        with rt.sessions() as session:
            report = customer_values(session, principal, rt.clock.today(), account, months)
        rt.audit.record(
            principal,
            "customer_value",
            target=account,
            records=[v.account_id for v in report.values[:top]],
        )
    report.values = report.values[:top]
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    table = Table(
        "account",
        "currency",
        "historical",
        f"projected {months} mo",
        "purchases ahead",
        "model",
        title="Customer value",
    )
    for v in report.values:
        table.add_row(
            f"{v.account_id} {v.account_name}",
            v.currency,
            f"{v.historical_value:,.2f}",
            f"{v.projected_value:,.2f}",
            f"{v.expected_purchases:.1f}",
            v.model,
        )
    cli.out.print(table)
    cli.out.print(f"frequency: {report.frequency_model}", highlight=False)
    for currency, model in report.spend_models.items():
        cli.out.print(f"spend ({currency}): {model}", highlight=False)


def lifecycle(
    as_user: Annotated[
        str | None, typer.Option("--as", help="As this user: their customers only.")
    ] = None,
    account: Annotated[str | None, typer.Option(help="One account's history.")] = None,
    to: Annotated[
        str | None,
        typer.Option(
            help="Only moves into this stage: lead, opportunity, customer, loyal, at_risk, churned."
        ),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help='When the moves happened: "this month", "上个月".')
    ] = None,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Recompute every stage now (as of today) first.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Lifecycle stages and why they changed (lead, opportunity, customer, loyal, at_risk,
    churned). Stages are recomputed after every import, merge and logged note; --recompute
    does it now, e.g. from a daily job, as time alone can make a customer at risk."""
    from crmassist.access.principal import Principal
    from crmassist.crm import lifecycle as lc
    from crmassist.db import session_scope
    from crmassist.domain.enums import LifecycleStage, Role
    from crmassist.domain.periods import parse_period

    stages = {s.value for s in LifecycleStage}
    if to is not None and to not in stages:
        cli.fail(f"unknown stage {to!r}; choose from {', '.join(sorted(stages))}", 2)
    with cli.runtime() as rt:
        today = rt.clock.today()
        window = parse_period(period, today) if period else None
        if period and window is None:
            cli.fail(f"cannot read the period {period!r}; try 'this month'", 2)
        if recompute:
            with session_scope(rt.sessions) as session:
                changed = lc.recompute(session, today, now=rt.clock.now())
            cli.out.print(f"Recomputed lifecycle stages: {len(changed)} changed.")
        principal = cli.load_principal(rt, as_user) if as_user else Principal("-", Role.ADMIN)
        stage = LifecycleStage(to) if to else None
        with rt.sessions() as session:
            if account:
                moves = [
                    m
                    for m in lc.history(session, principal, account)
                    if stage is None or m.to_stage is stage
                ]
            else:
                since, until = (window.start, window.end) if window else (None, None)
                moves = lc.transitions(session, principal, stage, since, until)
        rt.audit.record(
            principal if as_user else None,
            "lifecycle",
            target=account,
            records=sorted({m.account_id for m in moves}),
        )
    if as_json:
        print(json.dumps([m.model_dump(mode="json") for m in moves], ensure_ascii=False, indent=2))
        return
    table = Table("on", "account", "from", "to", "why", title="Lifecycle")
    for m in moves:
        table.add_row(
            str(m.on),
            f"{m.account_id} {m.account_name}",
            m.from_stage.value if m.from_stage else "-",
            m.to_stage.value,
            m.reason,
        )
    cli.out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(quality)
    app.command()(dedupe)
    app.command()(value)
    app.command()(lifecycle)
