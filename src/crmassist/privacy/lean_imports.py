"""Importing presidio and spaCy without the deep-learning stacks they would drag in.

presidio_analyzer imports Hugging Face `transformers` for an NLP engine we never use, and
spaCy's `thinc` imports `torch` when it is installed (sentence-transformers installs it),
although the small English model runs on thinc's NumPy ops. Together they are about
half of a cold `crmassist ask` (`benchmarks/cli_latency.py`). Both libraries treat the
missing package as not installed, which is exactly what this redactor needs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

UNUSED_BY_THE_REDACTOR = ("torch", "transformers")


@contextmanager
def hidden(*packages: str) -> Iterator[None]:
    """Imports inside see `packages` as not installed, unless they are already imported
    (then hiding them would change nothing for the libraries that hold them). Afterwards
    they import as usual for everyone else."""
    hiding = [name for name in packages if name not in sys.modules]
    for name in hiding:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        yield
    finally:
        for name in hiding:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
