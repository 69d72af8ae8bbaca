"""What a CLI user waits for: `--help`, `users list`, `ask` alone (cold: every model loaded
by the command itself) and `ask` beside a running `crmassist serve` (through its API), plus
where a cold `ask` spends its time and what the service itself takes for the same turn.

    python benchmarks/cli_latency.py                 # on tests/data/mini_crm, imported fresh
    python benchmarks/cli_latency.py --data DIR      # on a data directory already imported

Every command runs as its own OS process, as a user starts it; wall-clock medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import emit, machine  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

CRMASSIST = Path(sys.executable).parent / "crmassist"
OUT = ROOT / "benchmarks" / "results" / "cli_latency.json"
QUESTION = "what are the open tickets of Acme?"

STAGES = """
import sys, time, json
t0 = time.perf_counter(); marks = {}
def mark(name):
    marks[name] = round(time.perf_counter() - t0, 3)
from crmassist.cli import app  # noqa
mark("import cli")
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from crmassist.access.directory import principal_for
rt = Runtime(Settings()); rt.claim_index(); _ = rt.engine; mark("database")
_ = rt.redactor; mark("redactor (presidio, NER, names)")
_ = rt.encoder; mark(f"encoder (MiniLM on {rt.settings.embedding_backend})")
_ = rt.intents; mark("intent classifier (E5)")
with rt.sessions() as s:
    who = principal_for(s, sys.argv[1])
rt.assistant().ask(who, sys.argv[2]); mark("first turn")
rt.close(); mark("close")
print(json.dumps(marks))
"""


def timed(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([str(CRMASSIST), *args], env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"crmassist {' '.join(args)} failed: {done.stderr.strip()}")
    return {
        "median_s": round(statistics.median(seconds), 3),
        "runs": [round(s, 3) for s in seconds],
    }


def prepared(data: Path | None, tmp: Path) -> Path:
    if data is not None:
        return data
    target = tmp / "data"
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(target)}
    mini = ROOT / "tests" / "data" / "mini_crm"
    subprocess.run([str(CRMASSIST), "import", str(mini)], env=env, check=True, capture_output=True)
    return target


def serving(env: dict[str, str], data: Path) -> tuple[subprocess.Popen[str], dict[str, Any], float]:
    from crmassist import discovery

    started = time.perf_counter()
    proc = subprocess.Popen([str(CRMASSIST), "serve", "--port", "0"], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while (info := discovery.discover(data)) is None:
        if proc.poll() is not None:
            raise SystemExit("crmassist serve stopped before it listened")
        time.sleep(0.1)
    return proc, {"url": info.url, "token": info.token}, time.perf_counter() - started


def direct_turns(service: dict[str, Any], user: str, runs: int) -> dict[str, Any]:
    """The same turn straight to the service: what it takes without a CLI process."""
    seconds = []
    for _ in range(runs):
        request = urllib.request.Request(
            service["url"] + "/v1/chat",
            data=json.dumps({"message": QUESTION}).encode(),
            headers={
                "Authorization": f"Bearer {service['token']}",
                "X-Crmassist-User": user,
                "Content-Type": "application/json",
            },
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
        seconds.append(time.perf_counter() - started)
    return {
        "median_s": round(statistics.median(seconds), 3),
        "runs": [round(s, 3) for s in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an imported data directory (default: mini)")
    parser.add_argument("--user", default=None, help="the --as user (default: U1, or U001)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    user = args.user or ("U001" if args.data else "U1")
    with tempfile.TemporaryDirectory() as tmp:
        data = prepared(args.data, Path(tmp))
        env = {**os.environ, "CRMASSIST_DATA_DIR": str(data), "CRMASSIST_TODAY": "2026-11-20"}
        ask = ["ask", QUESTION, "--as", user, "--json"]
        results: dict[str, Any] = {"machine": machine(), "load_average": os.getloadavg()}
        results["embedding_backend"] = Settings().embedding_backend
        results["help"] = timed(["--help"], env, args.runs + 2)
        results["users_list"] = timed(["users", "list", "--json"], env, args.runs)
        results["ask_alone_cold"] = timed(ask, env, args.runs)
        stages = subprocess.run([sys.executable, "-c", STAGES, user, QUESTION], env=env,
                                capture_output=True, text=True, check=True)  # fmt: skip
        results["ask_alone_stages_s"] = json.loads(stages.stdout.strip().splitlines()[-1])
        proc, service, startup = serving(env, data)
        try:
            results["service_startup_s"] = round(startup, 2)
            direct_turns(service, user, 1)  # the service's own first turn warms its caches
            results["ask_through_service"] = timed(ask, env, args.runs + 2)
            results["turn_inside_service"] = direct_turns(service, user, args.runs + 2)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
    emit(results, args.out)


if __name__ == "__main__":
    main()
