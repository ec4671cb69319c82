"""Activity files: CSV (a header row; `,` `;` tab or `|`) or JSON Lines, one event per record.

Yields (line number, event) pairs, or (line number, ActivityError) for a record that cannot be
read, so the importer counts it as rejected rather than losing it. Header names are matched
case-insensitively, with spaces and dashes read as underscores (`Occurred At` = occurred_at).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from leadroute.adapters.leadfile import read_text
from leadroute.domain.intent import ActivityError
from leadroute.domain.records import sniff_delimiter

Event = tuple[int, Mapping[str, Any] | ActivityError]


def _key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def read_activities(path: Path) -> Iterator[Event]:
    text = read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl(text)
    else:
        yield from _csv(text)


def _jsonl(text: str) -> Iterator[Event]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ActivityError(f"line {number}: not valid JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield number, ActivityError(f"line {number}: expected a JSON object")
            continue
        yield number, {_key(str(k)): v for k, v in record.items()}


def _csv(text: str) -> Iterator[Event]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text[:8192]))
    header = [_key(h) for h in next(reader, [])]
    end = reader.line_num
    for cells in reader:
        number, end = end + 1, reader.line_num  # the line the record starts on (header = 1)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            message = f"row {number}: {len(cells)} values for {len(header)} columns"
            yield number, ActivityError(message)
            continue
        yield number, {h: c.strip() for h, c in zip(header, cells, strict=False) if c.strip()}
