"""Eval results for people: console tables, a Markdown report, suites side by side (tuned
and held-out), a comparison of two runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

SLICE_COLUMNS = ("cases", "passed", "pass_rate", "correctness", "tool_accuracy")
SIDE_BY_SIDE = (
    "cases", "pass_rate", "correctness", "tool_accuracy", "recall_at_5", "groundedness",
    "pii_leaks", "unauthorized_disclosures",
)  # fmt: skip


def print_summary(console: Console, result: dict[str, Any]) -> None:
    summary = result["summary"]
    table = Table("category", *SLICE_COLUMNS, "p50 ms", "p95 ms", title=f"eval: {result['suite']}")
    for name, row in summary["categories"].items():
        table.add_row(
            name,
            *_cells(row, SLICE_COLUMNS),
            str(row["latency_p50_ms"]),
            str(row["latency_p95_ms"]),
        )
    console.print(table)
    console.print(_slice_table("language", summary.get("languages", {})))
    overall = Table("metric", "value", title="overall")
    for name, value in summary["overall"].items():
        overall.add_row(name, str(value))
    console.print(overall)


def _slice_table(label: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(label, *SLICE_COLUMNS, title=f"by {label}")
    for name, row in rows.items():
        table.add_row(name, *_cells(row, SLICE_COLUMNS))
    return table


def _cells(row: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return ["—" if row.get(n) is None else str(row[n]) for n in names]


def side_by_side(results: list[dict[str, Any]]) -> Table:
    """Suites in columns (the tuned one and the held-out one): overall, then per language."""
    header, rows = _side_by_side_rows(results)
    table = Table(*header, title="suites side by side")
    for row in rows:
        table.add_row(*row)
    return table


def _side_by_side_rows(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["metric", *(r["suite"] for r in results)]
    overall = [r["summary"]["overall"] for r in results]
    rows = [[name, *(_cell(scores, name) for scores in overall)] for name in SIDE_BY_SIDE]
    for lang in sorted({lang for r in results for lang in r["summary"].get("languages", {})}):
        for name in ("pass_rate", "correctness", "tool_accuracy"):
            slices = [r["summary"].get("languages", {}).get(lang, {}) for r in results]
            rows.append([f"{lang} {name}", *(_cell(scores, name) for scores in slices)])
    return header, rows


def _cell(scores: dict[str, Any], name: str) -> str:
    value = scores.get(name)
    return "—" if value is None else str(value)


def markdown(result: dict[str, Any], missed: list[str]) -> str:
    summary = result["summary"]
    lines = [f"# Eval report: {result['suite']} ({result['model']})", ""]
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary["overall"].items()]
    for label, rows in (("language", summary.get("languages", {})),
                        ("category", summary["categories"])):  # fmt: skip
        lines += ["", _markdown_row((label, *SLICE_COLUMNS)), _markdown_row(("---",) * 6)]
        lines += [_markdown_row((name, *_cells(row, SLICE_COLUMNS))) for name, row in rows.items()]
    lines += ["", "Below the bar: " + ("; ".join(missed) if missed else "nothing"), ""]
    failing = [c for c in result["cases"] if not c["passed"]]
    lines.append(f"## Failing cases ({len(failing)})")
    for case in failing:
        lines += [
            "", f"### {case['id']} ({case['category']}, {case.get('lang', 'en')}, "
                f"as {case['user']})",
            f"- asked: {case['question']}",
            *(f"- expected: {f}" for f in case["failures"]),
            f"- tools: {', '.join(case['tools']) or 'none'}",
            "- answer:", "", "```", case["answer"][:1500], "```",
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def markdown_side_by_side(results: list[dict[str, Any]]) -> str:
    """The side-by-side table as Markdown, for the README and CI summaries."""
    header, rows = _side_by_side_rows(results)
    lines = [_markdown_row(header), _markdown_row(["---"] * len(header))]
    return "\n".join(lines + [_markdown_row(row) for row in rows]) + "\n"


def _markdown_row(cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


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
