"""Agent benchmark: per-turn latency of the offline planner, and the agent's own overhead.

    python benchmarks/agent.py [--rounds 5] [--out benchmarks/results/agent.json]

1. Offline planner turns. The sample CRM is imported and indexed in a temporary data dir;
   a fixed set of questions (every tool, several roles, EN and ZH) is asked `--rounds`
   times. Latency is the whole turn: conversation I/O, redaction, planning, tool calls
   (SQL, hybrid search), answer composition, disclosure and persistence.
2. Overhead around a model. The same graph runs with an instant scripted model that makes
   one cheap tool call and answers. Overhead = turn time - model time - tool time: what
   crmassist adds per turn on top of any LLM (target: p95 < 50 ms).
3. Understanding. What reading a request's intent costs a turn (one multilingual-e5-small
   query embedding plus the calibrated logistic regression; target p95 < 30 ms), and the
   classifier's start-up: trained from the exemplars (cold) and read from its cache.

Results go to stdout and `--out` as JSON, with the machine's context.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, percentiles  # noqa: E402
from crmassist.runtime import Runtime  # noqa: E402
from tests.agent_support import ScriptedModel, call, sample_runtime, say, who  # noqa: E402

QUESTIONS = [
    ("U001", "how do I fix error E3?"),
    ("U001", "prepare me for my meeting with Acme"),
    ("U001", "what did we promise Maria Gonzalez?"),
    ("U001", "draft a follow-up email to Maria Gonzalez at Acme"),
    ("U003", "which deals over 50k in negotiation slipped this quarter?"),
    ("U003", "weighted forecast by owner"),
    ("U003", "which customers are at risk of churning?"),
    ("U010", "prepare me for my meeting with Acme"),
    ("U007", "介绍一下杭州西湖国际酒店"),
    ("U007", "净水器漏水怎么办"),
    ("U013", "pipeline by stage"),
    ("U001", "what are my tasks next week?"),
]


def offline_turns(rt: Runtime, rounds: int) -> dict[str, Any]:
    assistant = rt.assistant()
    assistant.ask(who(rt, "U001"), "how do I fix error E3?")  # warm-up: models, caches
    times: list[float] = []
    for _ in range(rounds):
        for user, question in QUESTIONS:
            principal = who(rt, user)
            started = time.perf_counter()
            assistant.ask(principal, question)
            times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


class TimedModel(ScriptedModel):
    """An instant model that also measures the time spent inside it."""

    spent_ms: float = 0.0

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return super()._generate(messages, stop, run_manager, **kw)
        finally:
            self.spent_ms += (time.perf_counter() - started) * 1000


def overhead(rt: Runtime, turns: int) -> dict[str, Any]:
    overheads: list[float] = []
    totals: list[float] = []
    principal = who(rt, "U001")
    for n in range(turns + 1):
        model = TimedModel(script=[call("list_tasks"), say("You have no urgent tasks.")])
        assistant = rt.assistant(model)
        started = time.perf_counter()
        reply = assistant.ask(principal, "anything due?")
        total = (time.perf_counter() - started) * 1000
        tool_ms = sum(c.duration_ms for c in reply.tool_calls)
        if n:  # the first turn warms caches
            totals.append(total)
            overheads.append(total - model.spent_ms - tool_ms)
    return {"turn": percentiles(totals), "overhead_beyond_model_and_tools": percentiles(overheads)}


def understanding(rounds: int) -> dict[str, Any]:
    from crmassist.agent.planner.intents import IntentClassifier
    from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder
    from crmassist.settings import Settings

    prompts = Settings().prompts_dir
    started = time.perf_counter()
    encoder = E5Encoder()
    load_ms = (time.perf_counter() - started) * 1000
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        classifier = IntentClassifier.build(prompts, encoder, E5_MODEL, Path(cache), 0.5)
        cold_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        IntentClassifier.build(prompts, encoder, E5_MODEL, Path(cache), 0.5)
        cached_ms = (time.perf_counter() - started) * 1000
    times: list[float] = []
    for _ in range(rounds):
        for _, question in QUESTIONS:
            classifier._vectors.clear()  # every turn embeds its request afresh
            started = time.perf_counter()
            classifier.read(question)
            times.append((time.perf_counter() - started) * 1000)
    return {
        "classify_per_turn": percentiles(times),
        "encoder_load_ms": round(load_ms, 1),
        "build_cold_ms": round(cold_ms, 1),
        "build_cached_ms": round(cached_ms, 1),
        "exemplars": classifier.fitted.report["exemplars"],
        "kfold_accuracy": classifier.fitted.report["accuracy"],
        "kfold_accuracy_by_language": classifier.fitted.report["accuracy_by_language"],
        "ece": classifier.fitted.report["ece"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions")
    parser.add_argument("--overhead-turns", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/agent.json")
    parser.add_argument(
        "--understanding-only", action="store_true", help="only part 3 (no sample import)"
    )
    args = parser.parse_args()
    if args.understanding_only:
        results = {"machine": machine(), "understanding": understanding(args.rounds)}
        print(json.dumps(results, indent=2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rt = sample_runtime(Path(tmp))
        results = {
            "machine": machine(),
            "offline_planner_turn": offline_turns(rt, args.rounds),
            "scripted_model": overhead(rt, args.overhead_turns),
            "understanding": understanding(args.rounds),
        }
        rt.close()
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
