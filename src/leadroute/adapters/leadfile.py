"""Read leads from CSV or JSON-lines files, mapping common CRM headers to leadroute fields.

Every row comes out either as a Lead or as a rejection with its row number and reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from leadroute.domain import records
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import LEAD_LIMITS, Lead, LeadLimits
from leadroute.domain.records import (
    HEADER_ALIASES,
    ColumnMapping,
    ParsedRow,
    canonical_header,
    sniff_delimiter,
)

__all__ = [
    "HEADER_ALIASES",
    "ColumnMapping",
    "ParsedRow",
    "batch_id_for",
    "build_lead",
    "canonical_header",
    "load_mapping",
    "read_leads",
    "read_text",
]


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping file (YAML); errors name the file and say what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the mapping file: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a mapping file is a YAML mapping with 'columns:'")
    unknown = set(document) - {"columns", "channel", "source"}
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; use columns, channel, source"
        )
    columns = document.get("columns") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(v, str) or v is None for v in columns.values()
    ):
        raise ValueError(f"{path}: 'columns' maps each column header to a field name or null")
    return ColumnMapping(
        {str(k): v for k, v in columns.items()}, document.get("channel"), document.get("source")
    )


def batch_id_for(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"b{digest[:10]}"


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def build_lead(
    raw: Mapping[str, Any],
    *,
    default_id: str,
    vocabulary: Vocabulary,
    channel: str | None = None,
    source: str | None = None,
    limits: LeadLimits | None = None,
) -> Lead:
    """`records.build_lead` with the caps `limits` (the callers pass the configured ones,
    LEADROUTE_LEAD_MAX_FIELDS and _MAX_DEPTH; default: the built-in caps)."""
    return records.build_lead(
        raw,
        default_id=default_id,
        vocabulary=vocabulary,
        channel=channel,
        source=source,
        limits=limits or LEAD_LIMITS,
    )


def read_leads(
    path: Path,
    *,
    vocabulary: Vocabulary | None = None,
    batch_id: str | None = None,
    channel: str | None = None,
    mapping: ColumnMapping | None = None,
    limits: LeadLimits | None = None,
) -> Iterator[ParsedRow]:
    """Yield every record of a .csv or .jsonl file as a lead or a rejection.

    The channel of a row is its own `channel` column, else the mapping file's, else `channel`.
    A record over `limits` (the configured caps, passed by the composition root; default:
    the built-in ones) is a rejection naming the cap.
    """
    reader = _Reader(
        vocabulary or Vocabulary(),
        batch_id or batch_id_for(path),
        (mapping.channel if mapping else None) or channel,
        mapping.source if mapping else None,
        mapping,
        limits or LEAD_LIMITS,
    )
    text = read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl(text, reader)
    else:
        yield from _csv(text, reader)


@dataclass(frozen=True)
class _Reader:
    vocabulary: Vocabulary
    batch_id: str
    channel: str | None
    source: str | None
    mapping: ColumnMapping | None
    limits: LeadLimits

    def column(self, header: str) -> str | None:
        return canonical_header(header, self.vocabulary, self.mapping)


def _jsonl(text: str, reader: _Reader) -> Iterator[ParsedRow]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ParsedRow(
                number, None, f"line {number}: not valid JSON: {exc.msg}", {"line": line[:500]}
            )
            continue
        except RecursionError:
            cap = reader.limits.max_depth
            reason = f"line {number}: nested too deeply to read: over the cap of {cap} levels"
            yield ParsedRow(number, None, f"{reason} per field", {"line": line[:500]})
            continue
        if not isinstance(record, dict):
            yield ParsedRow(
                number, None, f"line {number}: expected a JSON object", {"line": line[:500]}
            )
            continue
        mapped: dict[str, Any] = {}
        for key, value in record.items():
            column = reader.column(str(key))
            if column is not None and (value not in (None, "") or column not in mapped):
                mapped[column] = value
        yield _row(number, mapped, record, reader)


def _csv(text: str, reader_: _Reader) -> Iterator[ParsedRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text[:8192]))
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = [reader_.column(h) for h in header]
    end = reader.line_num
    for cells in reader:
        number, end = end + 1, reader.line_num  # the line the record starts on (header = 1)
        if not any(c.strip() for c in cells):
            continue
        raw = dict(zip(header, cells, strict=False))
        if len(cells) > len(columns):
            extra = [c for c in cells[len(columns) :] if c.strip()]
            if extra:
                yield ParsedRow(
                    number,
                    None,
                    f"row {number}: {len(cells)} values for {len(columns)} columns",
                    raw,
                )
                continue
        mapped: dict[str, str] = {}
        for column, cell in zip(columns, cells, strict=False):
            # a dropped column is skipped; an empty column never hides a filled one
            if column is not None and (cell.strip() or column not in mapped):
                mapped[column] = cell
        yield _row(number, mapped, raw, reader_)


def _row(
    number: int, mapped: Mapping[str, Any], raw: Mapping[str, Any], reader: _Reader
) -> ParsedRow:
    try:
        lead = build_lead(
            mapped,
            default_id=f"{reader.batch_id}-{number}",
            vocabulary=reader.vocabulary,
            channel=reader.channel,
            source=reader.source,
            limits=reader.limits,
        )
    except ValueError as exc:
        return ParsedRow(number, None, f"row {number}: {exc}", raw)
    return ParsedRow(number, lead, None, raw)
