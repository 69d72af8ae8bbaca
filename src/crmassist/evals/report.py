"""Eval results for people: a console table, a Markdown report, a comparison of two runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, result: dict[str, Any]) -> None:
    table = Table(
        "category", "cases", "passed", "p50 ms", "p95 ms", title=f"eval: {result['suite']}"
    )
    for name, c in result["summary"]["categories"].items():
        table.add_row(
            name,
            str(c["cases"]),
            str(c["passed"]),
            str(c["latency_p50_ms"]),
            str(c["latency_p95_ms"]),
        )
    console.print(table)
    overall = Table("metric", "value", title="overall")
    for name, value in result["summary"]["overall"].items():
        overall.add_row(name, str(value))
    console.print(overall)


def markdown(result: dict[str, Any], missed: list[str]) -> str:
    overall = result["summary"]["overall"]
    lines = [f"# Eval report: {result['suite']} ({result['model']})", ""]
    lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in overall.items()]
    lines += ["", "| category | cases | passed | p50 ms | p95 ms |", "|---|---|---|---|---|"]
    lines += [
        f"| {name} | {c['cases']} | {c['passed']} | {c['latency_p50_ms']} | {c['latency_p95_ms']} |"
        for name, c in result["summary"]["categories"].items()
    ]
    lines += ["", "Below the bar: " + ("; ".join(missed) if missed else "nothing"), ""]
    failing = [c for c in result["cases"] if not c["passed"]]
    lines.append(f"## Failing cases ({len(failing)})")
    for case in failing:
        lines += [
            "", f"### {case['id']} ({case['category']}, as {case['user']})",
            f"- asked: {case['question']}",
            *(f"- expected: {f}" for f in case["failures"]),
            f"- tools: {', '.join(case['tools']) or 'none'}",
            "- answer:", "", "```", case["answer"][:1500], "```",
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def load_result(path: Path) -> dict[str, Any]:
    """A JSON result written by `crmassist eval --report`; ValueError says what is wrong."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(
            f"{path}: not JSON; expected a result of `crmassist eval --report`"
        ) from None
    if not isinstance(result, dict) or not {"summary", "cases"} <= result.keys():
        raise ValueError(f"{path}: not an eval result (no summary and cases)")
    return result


def compare(before: dict[str, Any], after: dict[str, Any]) -> Table:
    """Metrics side by side, then the cases that flipped."""
    table = Table("metric", "before", "after", "change", title="comparison")
    b, a = before["summary"]["overall"], after["summary"]["overall"]
    for name in sorted(set(b) | set(a)):
        x, y = b.get(name), a.get(name)
        change = (
            f"{y - x:+.4g}" if isinstance(x, int | float) and isinstance(y, int | float) else ""
        )
        table.add_row(name, str(x), str(y), change)
    was = {c["id"]: c["passed"] for c in before["cases"]}
    for case in after["cases"]:
        if case["id"] in was and was[case["id"]] != case["passed"]:
            table.add_row(
                f"case {case['id']}",
                "pass" if was[case["id"]] else "fail",
                "pass" if case["passed"] else "fail",
                "better" if case["passed"] else "WORSE",
            )
    return table
