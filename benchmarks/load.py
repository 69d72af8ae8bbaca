"""Load benchmark: concurrent clients of every role against the real server, scope-checked.

    python benchmarks/load.py [--data knowledge/sample] [--clients 20] [--seconds 90]
        [--out benchmarks/results/load.json]

The CRM export in `--data` is imported and indexed in a temporary data dir (SQLite, the
embedded engine, the real model), an API key is issued to every user, and `crmassist
serve` starts as a subprocess on 127.0.0.1 (a free port; loopback only). Then `--clients`
threads, each as one user (all four roles, round robin), send a mix of chat (the offline
planner), search, account lists, account overviews and notes for `--seconds`.

Every response is checked: a 5xx or a transport failure is an error; a 4xx that the
request did not call for is counted apart. Every record a response names (search hits,
chat citations and focus, listed accounts, the records of an overview, a logged note) must
be one its caller may see: selected by the caller's SQL scope (`profile_scope` for
accounts and contacts, `record_scope` for the rest) in a section `may_see` allows (KB
articles are public). An overview asked of an account outside the caller's
scope must be refused. Results, with the machine's cores and load average, go to stdout
and `--out` as JSON.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from benchmarks.common import emit, machine, percentiles  # noqa: E402
from crmassist.access.directory import principal_for  # noqa: E402
from crmassist.access.keys import issue_key  # noqa: E402
from crmassist.access.scope import (  # noqa: E402
    Section,
    may_see,
    profile_scope,
    record_scope,
    visible_account_ids,
)
from crmassist.db import session_scope  # noqa: E402
from crmassist.domain import models  # noqa: E402
from crmassist.ingest.importer import import_directory  # noqa: E402
from crmassist.runtime import Runtime  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

TODAY = "2026-11-20"
# What each kind of record shows, for `may_see`; KB articles are public.
SECTIONS = {
    "accounts": Section.PROFILE,
    "contacts": Section.PROFILE,
    "opportunities": Section.DEALS,
    "orders": Section.ORDERS,
    "interactions": Section.NOTES,
    "tickets": Section.TICKETS,
    "tasks": Section.TASKS,
}
# The records of each kind that hang off accounts, scoped by `record_scope`.
RECORDS: dict[str, Any] = {
    "opportunities": models.Opportunity,
    "orders": models.Order,
    "interactions": models.Interaction,
    "tickets": models.Ticket,
    "tasks": models.Task,
}
# Where an overview lists each kind of record.
OVERVIEW = {
    "contacts": "contacts",
    "opportunities": "open_deals",
    "orders": "recent_orders",
    "interactions": "last_interactions",
    "tickets": "open_tickets",
    "tasks": "next_tasks",
}
# (kind, weight): a working day's mix, chat and search the bulk of it.
MIX = [("chat", 30), ("search", 30), ("accounts", 12), ("account", 18), ("note", 10)]
CHATS = [
    "prepare me for {name}",
    "what's my pipeline this quarter?",
    "any open tickets for {name}?",
    "how do I fix error E3?",
    "what did we last discuss with {name}?",
    "{name} 最近怎么样？",
]
SEARCHES = [
    "how do I fix error E3?",
    "membrane replacement",
    "pressure drop at the plant",
    "净水器漏水怎么办",
    "what did we promise about the quote",
    "{name}",
]


class Scope:
    """Who may see what, read from SQL before the run; notes logged during it are added."""

    def __init__(self, rt: Runtime) -> None:
        self.lock = threading.Lock()
        with rt.sessions() as session:
            users = session.scalars(sa.select(models.User.id).order_by(models.User.id)).all()
            self.principals = {u: principal_for(session, u) for u in users}
            self.visible = {u: self._profiles(session, p) for u, p in self.principals.items()}
            self.full = {
                u: set(session.scalars(visible_account_ids(p))) for u, p in self.principals.items()
            }
            self.records = {u: self._records(session, p) for u, p in self.principals.items()}
            names = sa.select(models.Account.id, models.Account.name)
            self.names = dict(session.execute(names).tuples().all())
        self.logged: dict[str, tuple[str, str]] = {}
        """Notes written during the run: id -> (account, author)."""

    @staticmethod
    def _profiles(session: Any, principal: Any) -> set[str]:
        return set(session.scalars(sa.select(models.Account.id).where(profile_scope(principal))))

    def _records(self, session: Any, principal: Any) -> set[tuple[str, str]]:
        profiles = self._profiles(session, principal)
        found = {("accounts", a) for a in profiles}
        contacts = sa.select(models.Contact.id, models.Contact.account_id)
        found |= {("contacts", c) for c, a in session.execute(contacts) if a in profiles}
        for kind, model in RECORDS.items():
            query = sa.select(model.id).where(record_scope(principal, model))
            found |= {(kind, rid) for rid in session.scalars(query)}
        return found

    def add_note(self, note_id: str, account_id: str, author: str) -> None:
        with self.lock:
            self.logged[note_id] = (account_id, author)

    def allowed(self, user: str, kind: str, record_id: str) -> bool:
        """May `user` see this record? Unknown records are not."""
        principal = self.principals[user]
        if kind == "kb":
            return not principal.external
        section = SECTIONS.get(kind)
        if section is None or not may_see(principal, section):
            return False
        if (kind, record_id) in self.records[user]:
            return True
        with self.lock:
            logged = self.logged.get(record_id) if kind == "interactions" else None
        if logged is None:
            return False
        account, author = logged
        return author in principal.owners or account in self.full[user]


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    unexpected_4xx: Counter[str] = field(default_factory=Counter)
    out_of_scope: list[str] = field(default_factory=list)
    refused_as_expected: int = 0
    checked_records: int = 0


class Client:
    """One user sending the mix until the deadline, checking every answer."""

    def __init__(
        self, base: str, key: str, user: str, scope: Scope, tally: Tally, seed: int
    ) -> None:
        self.user, self.scope, self.tally = user, scope, tally
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60.0
        )
        self.rng = random.Random(seed)
        self.mine = sorted(scope.visible[user])
        self.others = sorted(set(scope.names) - scope.visible[user])
        principal = scope.principals[user]
        self.writes = may_see(principal, Section.NOTES) and bool(self.mine)

    def run(self, deadline: float) -> None:
        actions: dict[str, Callable[[], None]] = {
            "chat": self.chat,
            "search": self.search,
            "accounts": self.accounts,
            "account": self.account,
            "note": self.note if self.writes else self.search,
        }
        kinds, weights = zip(*MIX, strict=True)
        with self.http:
            while time.perf_counter() < deadline:
                actions[self.rng.choices(kinds, weights)[0]]()

    def call(self, kind: str, method: str, path: str, body: Any = None) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            with self.tally.lock:
                self.tally.transport[f"{kind}: {type(exc).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.tally.lock:
            self.tally.latency_ms[kind].append(elapsed)
            self.tally.statuses[f"{kind} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.tally.errors[f"{kind} {response.status_code}"] += 1
        return response

    def expect(self, kind: str, response: httpx.Response | None, status: int) -> Any:
        """The JSON body when the status is `status`; otherwise counted, and None."""
        if response is None or response.status_code >= 500:
            return None
        if response.status_code != status:
            with self.tally.lock:
                self.tally.unexpected_4xx[f"{kind} {response.status_code}"] += 1
            return None
        return response.json()

    def check(self, what: str, refs: list[tuple[str, str]]) -> None:
        bad = [f"{what}: {k}/{r}" for k, r in refs if not self.scope.allowed(self.user, k, r)]
        with self.tally.lock:
            self.tally.checked_records += len(refs)
            self.tally.out_of_scope += [f"{self.user} {b}" for b in bad]

    def name(self) -> str:
        """An account name, now and then one the caller may not see."""
        pool = self.others if self.others and self.rng.random() < 0.2 else self.mine
        return self.scope.names[self.rng.choice(pool or self.others)]

    def chat(self) -> None:
        message = self.rng.choice(CHATS).format(name=self.name())
        reply = self.expect(
            "chat", self.call("chat", "POST", "/v1/chat", {"message": message}), 200
        )
        if reply is not None:
            refs = [(c["source_type"], c["record_id"]) for c in reply["citations"]]
            focus = reply.get("focus", {}).get("account_id")
            self.check("chat", refs + ([("accounts", focus)] if focus else []))

    def search(self) -> None:
        body = {"query": self.rng.choice(SEARCHES).format(name=self.name()), "k": 8}
        hits = self.expect("search", self.call("search", "POST", "/v1/search", body), 200)
        if hits is not None:
            self.check("search", [(h["source_type"], h["record_id"]) for h in hits])

    def accounts(self) -> None:
        page = self.expect("accounts", self.call("accounts", "GET", "/v1/accounts"), 200)
        if page is not None:
            self.check("accounts", [("accounts", a["id"]) for a in page["items"]])

    def account(self) -> None:
        if self.others and (not self.mine or self.rng.random() < 0.2):
            response = self.call("account", "GET", f"/v1/accounts/{self.rng.choice(self.others)}")
            if response is not None and response.status_code in (403, 404):
                with self.tally.lock:
                    self.tally.refused_as_expected += 1
            elif response is not None and response.status_code == 200:
                self.check("account (not theirs)", [("accounts", response.json()["account_id"])])
            return
        path = f"/v1/accounts/{self.rng.choice(self.mine)}"
        view = self.expect("account", self.call("account", "GET", path), 200)
        if view is not None:
            refs = [("accounts", view["account_id"])]
            for kind, key in OVERVIEW.items():
                refs += [(kind, row["id"]) for row in view.get(key) or []]
            self.check("account", refs)

    def note(self) -> None:
        account = self.rng.choice(self.mine)
        body = {"account_id": account, "summary": "Load drill: pump serviced, pressure fine."}
        logged = self.expect("note", self.call("note", "POST", "/v1/interactions", body), 201)
        if logged is not None:
            self.scope.add_note(logged["interaction_id"], account, self.user)
            self.check("note", [("interactions", logged["interaction_id"])])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`crmassist serve` on loopback, answering /readyz, or an exception with its log."""
    env = os.environ | {
        "CRMASSIST_DATA_DIR": str(data_dir),
        "CRMASSIST_TODAY": TODAY,
        "CRMASSIST_LLM": "offline",
    }
    cmd = [sys.executable, "-c", "from crmassist.cli import app; app()", "serve"]
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    give_up = time.monotonic() + 300
    while time.monotonic() < give_up and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"server did not get ready:\n{log.read_text(errors='replace')[-2000:]}")


def prepare(data: Path, data_dir: Path) -> tuple[Scope, dict[str, str], int]:
    """Import and index the export; the scope, a key per user, and the chunk count."""
    rt = Runtime(Settings(data_dir=data_dir, today=TODAY))
    try:
        import_directory(data, rt.sessions, as_of=rt.clock.today())
        chunks = rt.indexer().sync().chunks_indexed
        scope = Scope(rt)
        with session_scope(rt.sessions) as session:
            keys = {u: issue_key(session, u, "load").key for u in scope.principals}
    finally:
        rt.close()
    return scope, keys, chunks


def drive(base: str, scope: Scope, keys: dict[str, str], args: argparse.Namespace) -> Tally:
    """Run the clients, round robin over the users by role, until `--seconds` pass."""
    by_role: dict[str, list[str]] = defaultdict(list)
    for user, principal in scope.principals.items():
        by_role[principal.role.value].append(user)
    order = [u for group in zip(*by_role.values(), strict=False) for u in group]
    order += sorted(set(scope.principals) - set(order))
    tally = Tally()
    deadline = time.perf_counter() + args.seconds
    clients = [
        Client(base, keys[order[i % len(order)]], order[i % len(order)], scope, tally, i)
        for i in range(args.clients)
    ]
    threads = [threading.Thread(target=c.run, args=(deadline,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def report(tally: Tally, seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    requests = sum(tally.statuses.values()) + sum(tally.transport.values())
    return {
        "clients": args.clients,
        "seconds": round(seconds, 1),
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1),
        "errors": sum(tally.errors.values()) + sum(tally.transport.values()),
        "error_kinds": dict(tally.errors + tally.transport),
        "unexpected_4xx": dict(tally.unexpected_4xx),
        "out_of_scope": len(tally.out_of_scope),
        "out_of_scope_examples": tally.out_of_scope[:10],
        "records_checked": tally.checked_records,
        "refused_as_expected": tally.refused_as_expected,
        "latency": {k: percentiles(v) for k, v in sorted(tally.latency_ms.items()) if len(v) > 1},
        "statuses": dict(sorted(tally.statuses.items())),
    }


def _principal_roles(scope: Scope, users: list[str]) -> dict[str, str]:
    return {u: scope.principals[u].role.value for u in users}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/load.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crmassist-load-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        scope, keys, chunks = prepare(args.data, tmp / "data")
        port = free_port()
        server = start_server(tmp / "data", port, tmp / "server.log")
        load_before = os.getloadavg()
        started = time.perf_counter()
        tally = drive(f"http://127.0.0.1:{port}", scope, keys, args)
        result = report(tally, time.perf_counter() - started, args)
        result |= {
            "chunks": chunks,
            "users": _principal_roles(scope, sorted(scope.principals)),
            "server": "one `crmassist serve` process (uvicorn), SQLite, embedded index",
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "machine": machine(),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    emit(result, args.out)


if __name__ == "__main__":
    main()
