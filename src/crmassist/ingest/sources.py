"""Reads the files of an import directory into (line, raw fields) pairs, reporting problems.

Nothing here knows what a record means: `rows.py` validates fields, `importer.py`
checks references and writes. Every problem carries the file and line a user must fix.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RawRecord = tuple[int, dict[str, Any]]
"""A line number (1-based) and its raw fields."""

_UNBALANCED = "unbalanced quote? (a value in a CSV file is one line; a quote inside one is doubled)"


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
        """Records as {column: value}; a record that is not one well-quoted line is a problem."""
        text = self._text(path, path.name)
        if text is None:
            return
        records = self._csv_records(path.name, text)
        first = next(records, None)
        header = [h.strip() for h in first[1]] if first else []
        if missing := sorted(required - set(header)):
            self.problem(path.name, 1, f"missing column(s): {', '.join(missing)}")
            return
        for line, values in records:
            if len(values) > len(header):
                self.problem(path.name, line, "more values than columns")
                continue
            padded = values + [None] * (len(header) - len(values))
            yield line, dict(zip(header, padded, strict=True))

    def _csv_records(self, label: str, text: str) -> Iterator[tuple[int, list[Any]]]:
        """(first line, values) of each non-blank record, strictly quoted (RFC 4180).

        No value of the format spans lines, so one that does is a quote left open: it
        would swallow the records after it. It is reported where it starts.
        """
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.problem(label, start, _csv_message(str(exc), start, reader.line_num))
                continue
            if not values:
                continue
            if reader.line_num > start:
                message = f"a quoted value runs from line {start} to line {reader.line_num}"
                self.problem(label, start, f"{message}: {_UNBALANCED}")
                continue
            yield start, values

    def jsonl(self, path: Path) -> Iterator[RawRecord]:
        text = self._text(path, path.name)
        if text is None:
            return
        for line_no, line in enumerate(_lines(text), 1):
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
        lines = _lines(text)
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


def _lines(text: str) -> list[str]:
    """Lines as editors count them: `str.splitlines` also breaks at U+2028, U+0085 and
    other separators that JSON strings and note bodies may hold."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _csv_message(error: str, start: int, end: int) -> str:
    """The csv module's complaint in the words of someone fixing the file."""
    where = f"line {start}" if end <= start else f"lines {start}-{end}"
    if error.startswith("field larger than field limit"):
        limit = error.rpartition("(")[2].rstrip(")")
        return f"a value longer than {limit} characters ({where}): an unclosed quote?"
    if error == "unexpected end of data":
        return f"a quoted value is never closed (it runs to the end of the file): {_UNBALANCED}"
    if "expected after" in error:
        return f"text follows a closing quote ({where}): {_UNBALANCED}"
    return f"not valid CSV ({where}): {error}"
