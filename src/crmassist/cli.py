"""The `crmassist` command line. Exit codes: 0 done, 1 failed (message on stderr), 2 misuse.

Commands import their heavy dependencies inside their bodies so `--help` is instant.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from crmassist.domain.enums import SourceType
from crmassist.settings import Settings

if TYPE_CHECKING:
    from crmassist.access.principal import Principal
    from crmassist.discovery import ServiceInfo
    from crmassist.ingest.indexer import IndexReport
    from crmassist.remote import Service
    from crmassist.retrieval.search import Citation
    from crmassist.runtime import Runtime

app = typer.Typer(
    help="crmassist: ask your CRM questions, with answers only from what you may see.\n\n"
    "Typical first run:  crmassist import knowledge/sample  &&  "
    'crmassist search "leaking purifier" --as U001',
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Inspect the people crmassist knows.", no_args_is_help=True)
app.add_typer(users_app, name="users")

out = Console()
err = Console(stderr=True, soft_wrap=True)


class State:
    settings: Settings


state = State()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where the embedded database and index live (env CRMASSIST_DATA_DIR)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    overrides = {"data_dir": data_dir} if data_dir else {}
    state.settings = Settings(**overrides)  # type: ignore[arg-type]


def own_process(settings: Settings) -> Settings:
    """Settings for a Runtime of this process, which is ours: detector workers may spawn.
    Resolved here, not at start-up: `crmassist.privacy` takes ~1 s to import."""
    if settings.pii_workers is not None:
        return settings
    from crmassist.privacy.pool import default_workers

    return settings.model_copy(update={"pii_workers": default_workers()})


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def runtime(*, index: bool = False) -> Iterator[Runtime]:
    """A Runtime for one command; user-facing errors become one line on stderr, exit 1.

    `index`: the command uses the search index, so it takes it first: beside a process
    that holds the embedded index it stops here, before anything is written.
    """
    from sqlalchemy import exc as sa_exc

    from crmassist.db.engine import unavailable_reason
    from crmassist.errors import CrmassistError
    from crmassist.runtime import Runtime

    rt = Runtime(own_process(state.settings))
    try:
        if index:
            rt.claim_index()
        yield rt
    except CrmassistError as exc:
        fail(str(exc))
    except (LookupError, PermissionError) as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))
    except sa_exc.DBAPIError as exc:  # locked, read-only, gone: one line, not a traceback
        if (reason := unavailable_reason(exc)) is None:
            raise
        fail(f"the database is {reason}; try again shortly")
    finally:
        rt.close()


@contextmanager
def service() -> Iterator[Service | None]:
    """The running service that owns the data directory (its `service.json`), if one
    answers: commands that need the index then go through its API instead."""
    from crmassist.discovery import discover

    info = discover(state.settings.data_dir)
    if info is None:
        yield None
        return
    from crmassist.remote import Service, ServiceError, ServiceUnreachable

    client = Service(info)
    try:
        client.ready()
    except ServiceUnreachable as exc:  # a reused pid, or a service still starting
        logging.getLogger(__name__).warning("%s; working locally", exc)
        client.close()
        yield None
        return
    try:
        yield client
    except ServiceError as exc:
        fail(str(exc))
    finally:
        client.close()


def not_beside_service(command: str) -> None:
    """Commands that write the index themselves cannot run while a service owns it."""
    from crmassist.discovery import discover

    if info := discover(state.settings.data_dir):
        fail(_beside(info, command))


def _beside(info: ServiceInfo, command: str) -> str:
    return (
        f"`crmassist {command}` cannot run through {info.describe()}, which owns "
        f"{state.settings.data_dir} and indexes what is logged there itself; stop it first"
    )


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="A directory in the import format.")],
    prune: Annotated[
        bool, typer.Option(help="Delete records that the directory's files no longer contain.")
    ] = False,
    prune_local: Annotated[
        bool,
        typer.Option(
            help="With --prune, also delete notes and tasks created in crmassist that belong "
            "to accounts or users the export no longer has (refused otherwise)."
        ),
    ] = False,
    index: Annotated[bool, typer.Option(help="Index what changed right after importing.")] = True,
) -> None:
    """Validate and load a CRM export (see docs/data-format.md); nothing is written on error.
    --prune never deletes notes and tasks created in crmassist for being absent."""
    if index:
        not_beside_service("import")
    with runtime(index=index) as rt:
        run_import(rt, directory, prune, prune_local)
        if index:
            run_index(rt, rebuild=False)


def run_import(rt: Runtime, directory: Path, prune: bool, prune_local: bool = False) -> None:
    from crmassist.ingest.importer import ImportValidationError, import_directory

    try:
        report = import_directory(
            directory, rt.sessions, prune=prune, prune_local=prune_local, as_of=rt.clock.today()
        )
    except ImportValidationError as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, markup=False)
        fail(f"{len(exc.problems)} problem(s) in {directory}; nothing was imported")
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    rt.refresh_known_names()
    rt.audit.record(None, "import", target=str(directory), prune=prune)
    table = Table("records", "inserted", "updated", "unchanged", "deleted", title="Import")
    for name, counts in report.rows():
        table.add_row(name, *(str(c) for c in counts))
    out.print(table)
    out.print(quality_summary(rt), highlight=False)


@app.command()
def index(
    rebuild: Annotated[
        bool, typer.Option(help="Drop the index and embed everything again.")
    ] = False,
) -> None:
    """Bring the search index up to date; only new or changed records are embedded.

    The index itself is checked against SQL: what it lacks or holds in another version
    is indexed again, so a lost or damaged index is repaired, not trusted."""
    not_beside_service("index")
    with runtime(index=True) as rt:
        run_index(rt, rebuild)


def run_index(rt: Runtime, rebuild: bool) -> IndexReport:
    from tqdm import tqdm

    indexer = rt.indexer()
    total = len(indexer.plan(rebuild=rebuild).stale)
    with tqdm(total=total, unit="record", desc="Indexing", disable=total == 0) as bar:
        report = indexer.sync(rebuild=rebuild, progress=bar.update)
    repaired = f", {report.records_repaired} repaired" if report.records_repaired else ""
    out.print(
        f"Indexed {report.records_indexed} records as {report.chunks_indexed} chunks "
        f"({report.chunks_per_second:.0f} chunks/s); {report.records_unchanged} unchanged, "
        f"{report.records_deleted} deleted{repaired}."
    )
    return report


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in any words or language.")],
    as_user: Annotated[str, typer.Option("--as", help="Search as this user id.")],
    source: Annotated[
        list[SourceType] | None,
        typer.Option(help="Only these sources (repeatable)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the knowledge base and CRM notes as a user; results respect their role.
    Beside a running service, it searches through the service."""
    with service() as remote:
        if remote is not None:
            found = remote.search(as_user, query, k, [s.value for s in source or ()])
            role = "" if as_json else remote.me(as_user)["role"]
            return show_citations(query, as_user, role, found, as_json)
    from crmassist.retrieval.search import SearchRequest

    with runtime(index=True) as rt:
        principal = load_principal(rt, as_user)
        request = SearchRequest(query=query, k=k, sources=tuple(source or ()))
        citations = disclosed(rt, principal, rt.retriever().search(principal, request))
        rows = [asdict(c) | {"source_type": c.source_type.value} for c in citations]
        show_citations(query, principal.user_id, principal.role.value, rows, as_json)


def show_citations(
    query: str, user: str, role: str, citations: list[dict[str, Any]], as_json: bool
) -> None:
    if as_json:
        print(json.dumps(citations, ensure_ascii=False, indent=2, default=str))
    else:
        print_citations(query, user, role, citations)


def disclosed(rt: Runtime, principal: Principal, citations: list[Citation]) -> list[Citation]:
    """Citations as this reader may see them: the same `Disclosure` as the API's search."""
    from crmassist.privacy.disclosure import Disclosure

    texts = [t for c in citations for t in (c.title, c.snippet, c.text)]
    shown = iter(Disclosure(principal, rt.redactor).texts(texts))
    return [replace(c, title=next(shown), snippet=next(shown), text=next(shown)) for c in citations]


def print_citations(query: str, user: str, role: str, citations: list[dict[str, Any]]) -> None:
    table = Table("#", "source", "record", "score", "title / snippet", show_lines=True)
    for n, c in enumerate(citations, 1):
        table.add_row(
            str(n),
            c["source_type"],
            c["record_id"],
            f"{c['score']:.3f}",
            f"[bold]{c['title']}[/]\n{c['snippet']}",
        )
    out.print(f'[bold]"{query}"[/] as {user} ({role}): {len(citations)} result(s)')
    out.print(table)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Anything about customers, deals or service.")],
    as_user: Annotated[str, typer.Option("--as", help="Ask as this user id.")],
    conversation: Annotated[
        str | None, typer.Option("--conversation", "-c", help="Continue this conversation.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer, citations and tool calls as JSON.")
    ] = False,
) -> None:
    """Ask the assistant one question; answers cite their records, e.g. [I00042].
    Beside a running service, the service answers (in well under a second)."""
    with service() as remote:
        if remote is not None:
            return show_reply(remote.ask(as_user, question, conversation), as_json)
    with runtime(index=True) as rt:
        principal = load_principal(rt, as_user)
        reply = rt.assistant().ask(principal, question, conversation)
        show_reply(reply.model_dump(mode="json"), as_json)


def show_reply(reply: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply, ensure_ascii=False, indent=2))
    else:
        print_reply(reply)


@app.command()
def chat(
    as_user: Annotated[str, typer.Option("--as", help="Chat as this user id.")],
    conversation: Annotated[
        str | None, typer.Option("--conversation", "-c", help="Continue this conversation.")
    ] = None,
) -> None:
    """Talk to the assistant; follow-ups ("and their open tickets?") keep the context.

    An empty line or Ctrl-D ends the chat; `crmassist chat -c ID` picks it up again. When
    the assistant asks back with numbered readings, typing a number picks one. Beside a
    running service, the service answers.
    """
    with service() as remote:
        if remote is not None:
            role = remote.me(as_user)["role"]
            return chat_loop(as_user, role, conversation, partial(remote.stream, as_user))
    with runtime(index=True) as rt:
        principal = load_principal(rt, as_user)
        assistant = rt.assistant()

        def turn(question: str, conversation: str | None, intent: str | None) -> Iterator[Turn]:
            for event in assistant.stream(principal, question, conversation, intent=intent):
                yield event.kind, event.data

        chat_loop(principal.user_id, principal.role.value, conversation, turn)


Turn = tuple[str, dict[str, Any]]


def chat_loop(
    user: str,
    role: str,
    conversation: str | None,
    turn: Callable[[str, str | None, str | None], Iterator[Turn]],
) -> None:
    """Read questions, stream each turn's events (local or from the service)."""
    out.print(f"[dim]chatting as {user} ({role}); empty line to stop[/]")
    choices: list[dict[str, str]] = []
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            break
        if not question:
            break
        intent = None
        if question.isdigit() and 1 <= int(question) <= len(choices):
            picked = choices[int(question) - 1]
            question, intent = picked["message"], picked["intent"]
        choices = []
        for kind, data in turn(question, conversation, intent):
            if kind == "token":
                out.print(data["text"], end="", highlight=False, markup=False)
            elif kind == "tool_call":
                err.print(f"[dim]  -> {data['name']} {data['arguments']}[/]")
            elif kind == "reply":
                conversation = data["conversation_id"]
                choices = data["choices"]
        out.print()
        print_choices([c["label"] for c in choices])
    if conversation:
        out.print(f"[dim]conversation {conversation}[/]")


def load_principal(rt: Runtime, user_id: str) -> Principal:
    from crmassist.access.directory import principal_for

    with rt.sessions() as session:
        return principal_for(session, user_id)


def print_choices(labels: list[str]) -> None:
    """A clarification's readings as numbered options (`chat` takes the number)."""
    for n, label in enumerate(labels, 1):
        out.print(f"  {n}. {label}", highlight=False, markup=False)


def print_reply(reply: dict[str, Any]) -> None:
    """A reply as `Reply.model_dump(mode="json")` or `/v1/chat` gives it."""
    out.print(reply["answer"], highlight=False, markup=False)
    print_choices([c["label"] for c in reply["choices"]])
    if reply["citations"]:
        out.print("[dim]sources: " + "; ".join(
            f"[{c['record_id']}] {c['title']}" for c in reply["citations"]
        ) + "[/]", highlight=False)  # fmt: skip
    calls = ", ".join(f"{c['name']}({c['status']})" for c in reply["tool_calls"])
    out.print(f"[dim]tools: {calls or 'none'} · conversation {reply['conversation_id']}[/]")


@app.command()
def demo(
    data: Annotated[Path, typer.Option(help="Sample data to load first.")] = Path(
        "knowledge/sample"
    ),
    script: Annotated[Path, typer.Option(help="The scripted conversations.")] = Path(
        "knowledge/demo.yaml"
    ),
    serve_after: Annotated[
        bool,
        typer.Option("--serve", help="Then start the service, with an API key per role."),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.", min=1, max=65535)] = 8000,
) -> None:
    """Load the sample data, index it, then hold a short conversation as each role."""
    import yaml

    not_beside_service("demo")
    plan = yaml.safe_load(script.read_text(encoding="utf-8"))
    if plan.get("today") and state.settings.today is None:
        state.settings = state.settings.model_copy(update={"today": plan["today"]})
    with runtime(index=True) as rt:
        run_import(rt, data, prune=False)
        run_index(rt, rebuild=False)
        assistant = rt.assistant()
        for principal in first_user_per_role(rt, list(plan["conversations"])):
            out.rule(f"as {principal.user_id} ({principal.role.value}, team {principal.team_id})")
            conversation = None
            for n, question in enumerate(plan["conversations"][principal.role.value]):
                out.print(f"\n[bold cyan]{principal.user_id}>[/] {question}", highlight=False)
                # Keyed per scripted line: running the demo again logs nothing twice.
                key = f"demo:{principal.user_id}:{n}"
                reply = assistant.ask(principal, question, conversation, request_key=key)
                conversation = reply.conversation_id
                print_reply(reply.model_dump(mode="json"))
        principals = first_user_per_role(rt, list(plan["conversations"]))
        keys = demo_keys(rt, principals) if serve_after else []
    if serve_after:
        out.rule("the service")
        for principal, key in zip(principals, keys, strict=True):
            out.print(f"{principal.role.value:>8}  {principal.user_id}  {key}", highlight=False)
        out.print("Sign in to the console with one of these keys, or use them as Bearer tokens.")
        serve(host="127.0.0.1", port=port)


def demo_keys(rt: Runtime, principals: list[Principal]) -> list[str]:
    """Fresh keys per run; the previous run's demo keys stop working, so they do not pile up."""
    from crmassist.access.keys import issue_key, revoke_keys
    from crmassist.db import session_scope

    with session_scope(rt.sessions) as session:
        for principal in principals:
            revoke_keys(session, principal.user_id, label="demo")
        return [issue_key(session, p.user_id, "demo").key for p in principals]


def first_user_per_role(rt: Runtime, roles: list[str]) -> list[Principal]:
    import sqlalchemy as sa

    from crmassist.access.directory import principal_for
    from crmassist.domain.models import User

    with rt.sessions() as session:
        ids = [
            session.scalars(sa.select(User.id).where(User.role == role).order_by(User.id)).first()
            for role in roles
        ]
        return [principal_for(session, uid) for uid in ids if uid]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            help="Port; 0 picks a free one (named in DATA_DIR/service.json).", min=0, max=65535
        ),
    ] = 8000,
) -> None:
    """Run the HTTP API, the web console and the Slack bot with uvicorn. While it runs,
    `ask`, `chat`, `search` and `status` on the same data directory go through it."""
    not_beside_service("serve")
    from crmassist.api.app import configure_logging, create_app
    from crmassist.api.server import serve as serve_app

    configure_logging(state.settings)
    with runtime(index=True) as rt:  # a second server on one embedded index stops here
        rt.engine  # noqa: B018 - no key, the wrong key or an old schema: one line, before listening
        out.print(f"crmassist on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        serve_app(create_app(runtime=rt), host, port, state.settings.data_dir)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date, then exit: the one-off release step where
    processes start with CRMASSIST_MIGRATE_ON_START=false (containers, several servers)."""
    from sqlalchemy import exc as sa_exc

    from crmassist.db import make_engine
    from crmassist.db.engine import unavailable_reason
    from crmassist.db.migrate import current_revision, describe, upgrade_schema
    from crmassist.errors import CrmassistError
    from crmassist.privacy.crypto import bind

    engine = make_engine(state.settings.resolved_database_url)
    try:
        bind(engine, state.settings)  # revision 0010 encrypts existing rows with it
        before = current_revision(engine)
        upgrade_schema(engine)
        after = current_revision(engine)
    except CrmassistError as exc:
        fail(str(exc))
    except sa_exc.DBAPIError as exc:
        if (reason := unavailable_reason(exc)) is None:
            raise
        fail(f"the database is {reason}; try again shortly")
    finally:
        engine.dispose()
    change = "up to date" if before == after else f"was {before or 'empty'}"
    print(f"{describe(engine)}: schema at revision {after} ({change})")


@app.command("eval")
def eval_(
    suite: Annotated[str, typer.Option(help="A suite in evals/: evals/SUITE.yaml.")] = "core",
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            help="Cases (YAML) anywhere; overrides --suite. Repeat it to run several suites "
            "side by side (the tuned evals/core.yaml and the held-out evals/heldout.yaml)."
        ),
    ] = None,
    data: Annotated[
        Path, typer.Option(help="CRM export to evaluate on, in the import format.")
    ] = Path("knowledge/sample"),
    model: Annotated[
        str | None, typer.Option(help="offline, openai or ollama (default: CRMASSIST_LLM).")
    ] = None,
    thresholds: Annotated[
        list[Path] | None,
        typer.Option(
            help="Bars (YAML), one per --dataset in order. Default: thresholds-SUITE.yaml "
            "beside the dataset if there is one, else evals/thresholds.yaml."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write JSON here, and a Markdown report beside it; with several datasets, "
            "NAME.SUITE.json and .md per suite and NAME.md side by side."
        ),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option("--report-only", help="Show the bars missed but exit 0 (ungated suites)."),
    ] = False,
    compare_with: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Compare two JSON results instead of running."),
    ] = None,
) -> None:
    """Run eval suites, each on a fresh copy of DATA; exit 1 below the bars in --thresholds."""
    import yaml

    from crmassist.evals.report import (
        compare,
        load_result,
        markdown,
        markdown_side_by_side,
        print_summary,
        side_by_side,
    )
    from crmassist.evals.runner import below_thresholds

    if compare_with:
        try:
            before, after = (load_result(path) for path in compare_with)
        except ValueError as exc:
            fail(str(exc))
        out.print(compare(before, after))
        return
    datasets = dataset or [Path("evals") / f"{suite}.yaml"]
    if missing := [str(path) for path in datasets if not path.is_file()]:
        fail(f"no dataset at {', '.join(missing)}")
    if len(thresholds or []) > len(datasets):
        fail("more --thresholds than --dataset: give one bars file per dataset, in order", 2)
    bar_files = [*(thresholds or []), *map(_default_bars, datasets[len(thresholds or []) :])]
    results = _evaluate(datasets, data, model)
    missed_by_suite = []
    for result, bars in zip(results, bar_files, strict=True):
        print_summary(out, result)
        missed_by_suite.append(
            below_thresholds(
                result["summary"], yaml.safe_load(bars.read_text(encoding="utf-8")) or {}
            )
        )
    if len(results) > 1:
        out.print(side_by_side(results))
    if report:
        for path, result, missed in zip(
            _report_paths(report, results), results, missed_by_suite, strict=True
        ):
            _write_report(path, json.dumps(result, ensure_ascii=False, indent=2))
            _write_report(path.with_suffix(".md"), markdown(result, missed))
        if len(results) > 1:
            _write_report(report.with_suffix(".md"), markdown_side_by_side(results))
    missed = [
        f"{result['suite']}: {bar}"
        for result, bars in zip(results, missed_by_suite, strict=True)
        for bar in bars
    ]
    if missed and report_only:
        err.print("[yellow]below the bar (reported only): " + "; ".join(missed) + "[/]")
    elif missed:
        fail("below the bar: " + "; ".join(missed))


def _default_bars(dataset: Path) -> Path:
    """A suite's own bars (evals/thresholds-heldout.yaml), else the core suite's."""
    own = dataset.with_name(f"thresholds-{dataset.stem}.yaml")
    return own if own.is_file() else Path("evals/thresholds.yaml")


def _report_paths(report: Path, results: list[dict[str, Any]]) -> list[Path]:
    if len(results) == 1:
        return [report]
    return [report.with_name(f"{report.stem}.{r['suite']}{report.suffix}") for r in results]


def _write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}")


def _evaluate(datasets: list[Path], data: Path, model: str | None) -> list[dict[str, Any]]:
    """Each suite on its own fresh copy of DATA (database and index), so one suite's
    logged notes never reach another's answers; DATA is imported and indexed once per
    pinned day and copied for each suite."""
    import shutil
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        prepared: dict[str, Path] = {}
        results = []
        for n, dataset in enumerate(datasets):
            pinned = yaml.safe_load(dataset.read_text(encoding="utf-8")).get("today")
            settings = _eval_settings(Path(tmp) / f"prepared-{pinned}", model, pinned)
            if str(pinned) not in prepared:
                prepared[str(pinned)] = _imported(settings, data)
            workdir = Path(tmp) / f"suite-{n}"
            shutil.copytree(prepared[str(pinned)], workdir)
            results.append(_run_suite(settings.model_copy(update={"data_dir": workdir}), dataset))
        return results


def _eval_settings(data_dir: Path, model: str | None, pinned: object) -> Settings:
    updates: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": None,
        "qdrant_url": None,
        "qdrant_path": None,
    }
    if model:
        updates["llm"] = model
    if pinned and state.settings.today is None:
        updates["today"] = pinned
    return own_process(state.settings.model_copy(update=updates))


def _imported(settings: Settings, data: Path) -> Path:
    """DATA imported and indexed into settings.data_dir."""
    from crmassist.ingest.importer import import_directory
    from crmassist.runtime import Runtime

    rt = Runtime(settings)
    try:
        import_directory(data, rt.sessions, as_of=rt.clock.today())
        run_index(rt, rebuild=False)
    finally:
        rt.close()
    return settings.data_dir


def _run_suite(settings: Settings, dataset: Path) -> dict[str, Any]:
    from tqdm import tqdm

    from crmassist.evals.dataset import load_dataset
    from crmassist.evals.runner import run_dataset
    from crmassist.runtime import Runtime

    rt = Runtime(settings)
    try:
        with rt.sessions() as session:
            cases = load_dataset(dataset, session)
        judge = None
        if settings.llm != "offline":
            from crmassist.agent.models import remote_model
            from crmassist.evals.judge import Judge

            judge = Judge(remote_model(settings), settings.prompts_dir)
        with tqdm(total=len(cases.cases), unit="case", desc=f"Evaluating {cases.suite}") as bar:
            return run_dataset(rt, cases, progress=lambda _: bar.update(), judge=judge)
    finally:
        rt.close()


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every user with role and team: the ids that `--as` accepts."""
    import sqlalchemy as sa

    from crmassist.domain.models import User

    with runtime() as rt, rt.sessions() as session:
        users = session.scalars(sa.select(User).order_by(User.id)).all()
        rows = [
            {"id": u.id, "name": u.name, "role": u.role.value, "team": u.team_id, "email": u.email}
            for u in users
        ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        fail("no users yet: run `crmassist import DIR` first")
    table = Table("id", "name", "role", "team", "email")
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("id", "name", "role", "team", "email")))
    out.print(table)


@users_app.command("key")
def users_key(
    user_id: Annotated[str, typer.Argument(help="Whose key: a user id from `users list`.")],
    label: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Revoke all of the user's keys instead.")
    ] = False,
) -> None:
    """Create an API key for the HTTP API (printed once; only its hash is stored)."""
    from crmassist.access.keys import issue_key, revoke_keys
    from crmassist.db import session_scope

    with runtime() as rt, session_scope(rt.sessions) as session:
        if revoke:
            out.print(f"revoked {revoke_keys(session, user_id)} key(s) of {user_id}")
            return
        issued = issue_key(session, user_id, label)
    print(issued.key)
    err.print(f"[dim]key {issued.key_id} for {user_id}: use it as `Authorization: Bearer <key>`; "
              "it is not shown again[/]")  # fmt: skip


from crmassist.cli_insights import quality_summary, register  # noqa: E402  (uses this module)

register(app)


# Sub-apps in their own modules; imported last, as they use the helpers above.
from crmassist.cli_privacy import audit_command, privacy_app  # noqa: E402

app.add_typer(privacy_app, name="privacy")
app.command("audit")(audit_command)

from crmassist.cli_backup import backup_command, restore_command  # noqa: E402

app.command("backup")(backup_command)
app.command("restore")(restore_command)
