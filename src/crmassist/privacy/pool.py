"""Detector worker processes for large batches (an import or a full index sync).

The detectors (spaCy NER, the name lexicon and model, the patterns) are pure CPU work
under the GIL, so threads do not help; processes do when there are spare cores. Each
worker loads its own copy of the analyzer (presidio and spaCy: seconds, ~300 MB), so the
pool starts in the background on the first large batch and is used only once every
worker has loaded: until then, and for small batches (a chat turn, a logged note), the
detectors run in the calling process and nobody waits for a worker to start.

Workers get the configuration with each part (the known-names pattern, the public
values), so every redactor configuration can use the one pool of the process, and a
worker's findings are exactly those of the calling process.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from crmassist.privacy.cache import Found

log = logging.getLogger(__name__)

MIN_TEXTS = 32
"""Smaller batches run in the calling process: shipping them costs more than it saves."""


def default_workers() -> int:
    """One core is the caller's: the rest detect."""
    return max((os.cpu_count() or 1) - 1, 0)


@dataclass(frozen=True)
class DetectorConfig:
    """What a worker needs to find exactly what the calling redactor would."""

    ner: bool
    names: str | None
    """The known-names regex source (None: no known names)."""
    public: frozenset[str]


class DetectorPool:
    """`workers` processes sharing the parts of large batches with the calling process."""

    def __init__(self, workers: int, ner: bool) -> None:
        context = multiprocessing.get_context("spawn")  # forking a threaded server is unsafe
        self.workers = workers
        self._executor = ProcessPoolExecutor(workers, mp_context=context)
        self._loaded = [self._executor.submit(_load, ner) for _ in range(workers)]

    @property
    def ready(self) -> bool:
        """Every worker has loaded the analyzer (and none failed to)."""
        return all(f.done() and f.exception() is None for f in self._loaded)

    def submit(self, config: DetectorConfig, texts: Sequence[str]) -> Future[list[Found]]:
        return self._executor.submit(_detect, config, list(texts))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_POOLS: dict[tuple[int, bool], DetectorPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(workers: int, ner: bool) -> DetectorPool | None:
    """The process's pool for this size and NER setting, started on first use; None while
    it is still loading (the caller detects in process meanwhile) or when `workers` is 0."""
    if workers <= 0:
        return None
    with _POOLS_LOCK:
        pool = _POOLS.get((workers, ner))
        if pool is None:
            log.info("starting %d detector worker process(es) for large batches", workers)
            pool = _POOLS[(workers, ner)] = DetectorPool(workers, ner)
    return pool if pool.ready else None


def split(texts: Sequence[str], parts: int) -> list[list[str]]:
    """Contiguous parts of nearly equal length (the first ones one longer)."""
    size, extra = divmod(len(texts), parts)
    out, start = [], 0
    for n in range(parts):
        end = start + size + (n < extra)
        out.append(list(texts[start:end]))
        start = end
    return [p for p in out if p]


def _load(ner: bool) -> bool:
    from crmassist.privacy.engine import shared_engine

    shared_engine(ner)
    return True


@functools.lru_cache(maxsize=4)
def _names(source: str) -> object:
    from crmassist.privacy.detectors import SCORE_KNOWN_NAME
    from crmassist.privacy.engine import names_recognizer

    return names_recognizer(re.compile(source), SCORE_KNOWN_NAME)


def _detect(config: DetectorConfig, texts: list[str]) -> list[Found]:
    from crmassist.privacy.engine import shared_engine
    from crmassist.privacy.redactor import find

    names = _names(config.names) if config.names is not None else None
    return find(shared_engine(config.ner), names, config.public, texts, 64)  # type: ignore[arg-type]
