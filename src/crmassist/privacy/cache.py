"""A bounded, thread-safe memo of what the detectors found in a text.

A chat turn shows the detectors the same texts again and again: the system prompt and
the history on every model call, a tool result first to the redactor and then (unchanged,
when it was already pseudonymised) to the model gate, the same knowledge-base chunk in
many answers. Detection is a pure function of the text and the detector configuration, so
one redactor (one configuration: known names, public values) keeps one memo. Keys are
digests, so the memo holds no raw text; values are the detections (offsets, types, scores).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from crmassist.privacy.entities import Detection

Found = tuple[Detection, ...]


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class DetectionCache:
    """Least recently used first out, at most `size` texts (0: no memo at all)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._found: OrderedDict[bytes, Found] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Sequence[bytes]) -> list[Found | None]:
        with self._lock:
            out: list[Found | None] = []
            for key in keys:
                found = self._found.get(key)
                if found is not None:
                    self._found.move_to_end(key)
                out.append(found)
            hits = sum(f is not None for f in out)
            self.hits += hits
            self.misses += len(out) - hits
            return out

    def put_many(self, items: Sequence[tuple[bytes, Found]]) -> None:
        if self._size <= 0:
            return
        with self._lock:
            for key, found in items:
                self._found[key] = found
                self._found.move_to_end(key)
            while len(self._found) > self._size:
                self._found.popitem(last=False)

    def __len__(self) -> int:
        return len(self._found)
