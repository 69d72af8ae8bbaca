"""What every benchmark reports alongside its numbers: percentiles and the machine."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any


def percentiles(values_ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values_ms, n=100)
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "n": len(values_ms)}


def machine() -> dict[str, Any]:
    import torch

    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def emit(results: dict[str, Any], out: Path) -> None:
    """Results to stdout and to `out` as JSON, the form `benchmarks/results/` keeps."""
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
