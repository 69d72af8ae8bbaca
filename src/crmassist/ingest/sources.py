"""Reads the files of an import directory into (line, raw fields) pairs, reporting problems.

Nothing here knows what a record means: `rows.py` validates fields, `importer.py`
checks references and writes. Every problem carries the file and line a user must fix.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RawRecord = tuple[int, dict[str, Any]]
"""A line number (1-based; for CSV the line a record ends on) and its raw fields."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class Reader:
    """Collects problems while yielding whatever could be read."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def _text(self, path: Path, label: str) -> str | None:
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problem(label, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        except OSError as exc:
            self.problem(label, None, f"cannot be read: {exc.strerror}")
        return None

    def csv(self, path: Path, required: set[str]) -> Iterator[RawRecord]:
        text = self._text(path, path.name)
        if text is None:
            return
        reader = csv.DictReader(text.splitlines(keepends=True))
        header = [h.strip() for h in reader.fieldnames or []]
        if missing := sorted(required - set(header)):
            self.problem(path.name, 1, f"missing column(s): {', '.join(missing)}")
            return
        reader.fieldnames = header
        for fields in reader:
            if None in fields:
                self.problem(path.name, reader.line_num, "more values than columns")
                continue
            yield reader.line_num, fields

    def jsonl(self, path: Path) -> Iterator[RawRecord]:
        text = self._text(path, path.name)
        if text is None:
            return
        for line_no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                self.problem(path.name, line_no, f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(value, dict):
                self.problem(path.name, line_no, "each line must be one JSON object")
                continue
            yield line_no, value

    def markdown(self, path: Path, label: str) -> Iterator[RawRecord]:
        """One record: the YAML front matter's fields plus `body`; `id` defaults to the stem."""
        text = self._text(path, label)
        if text is None:
            return
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            self.problem(label, 1, "must start with YAML front matter between '---' lines")
            return
        end = next((n for n, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
        if end is None:
            self.problem(label, 1, "front matter is not closed by a '---' line")
            return
        try:
            meta = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            self.problem(label, line, f"front matter is not valid YAML: {exc}".splitlines()[0])
            return
        if not isinstance(meta, dict):
            self.problem(label, 2, "front matter must be a mapping of fields")
            return
        body = "\n".join(lines[end + 1 :]).strip()
        yield 1, {"id": path.stem, **meta, "body": body}
