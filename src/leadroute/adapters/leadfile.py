"""Read leads from CSV or JSON-lines files, mapping common CRM headers to leadroute fields.

Every row comes out either as a Lead or as a rejection with its row number and reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead

# Salesforce Lead API names and HubSpot properties/labels -> leadroute fields.
HEADER_ALIASES: Mapping[str, str] = {
    "firstname": "first_name",
    "lastname": "last_name",
    "emailaddress": "email",
    "companyname": "company",
    "jobtitle": "title",
    "mobilephone": "phone",
    "postalcode": "postal_code",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "numberofemployees": "employees",
    "numemployees": "employees",
    "annualrevenue": "annual_revenue",
    "leadsource": "lead_source",
    "countrycode": "country",
    "statecode": "state",
    "stateregion": "state",
    "productinterest": "product_interest",
    "recordid": "id",
    "leadid": "id",
    "createddate": "received_at",
    "createdate": "received_at",
    "receivedat": "received_at",
    "leadtype": "lead_type",
    "requesttype": "request_type",
    "emaildomain": "email_domain",
    "companydomainname": "domain",
    "websiteurl": "website",
}


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    lead: Lead | None
    reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


def canonical_header(header: str, vocabulary: Vocabulary) -> str:
    text = header.strip().lstrip("\ufeff")
    snake = re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower())
    snake = snake.strip("_")
    if vocabulary.get(snake) is not None or snake in ("received_at", "source"):
        return snake
    compact = snake.replace("_", "")
    return HEADER_ALIASES.get(compact, snake)


def batch_id_for(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"b{digest[:10]}"


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _received(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"received_at is not an ISO date/time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_lead(
    raw: Mapping[str, Any], *, default_id: str, vocabulary: Vocabulary, channel: str | None = None
) -> Lead:
    """Turn one mapped record into a Lead; raise ValueError with a plain reason if it can't."""
    fields: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        if key in ("id", "received_at", "source"):
            continue
        try:
            coerced = vocabulary.coerce(key, value)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if coerced is not None:
            fields[key] = coerced
    if problems:
        raise ValueError("; ".join(problems))
    if not any(fields.get(k) for k in ("email", "company", "last_name", "phone", "domain")):
        raise ValueError(
            "no email, company, last name, phone or domain: nothing identifies the lead"
        )
    lead_id = str(raw.get("id") or "").strip() or default_id
    source = raw.get("source") or fields.get("lead_source")
    return Lead(
        id=lead_id,
        fields=fields,
        source=str(source) if source else None,
        channel=str(fields.get("channel") or channel or "") or None,
        received_at=_received(raw.get("received_at")),
    )


def read_leads(
    path: Path,
    *,
    vocabulary: Vocabulary | None = None,
    batch_id: str | None = None,
    channel: str | None = None,
) -> Iterator[ParsedRow]:
    """Yield every record of a .csv or .jsonl file as a lead or a rejection."""
    vocabulary = vocabulary or Vocabulary()
    batch_id = batch_id or batch_id_for(path)
    text = read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl(text, vocabulary, batch_id, channel)
    else:
        yield from _csv(text, vocabulary, batch_id, channel)


def _jsonl(
    text: str, vocabulary: Vocabulary, batch_id: str, channel: str | None
) -> Iterator[ParsedRow]:
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
        if not isinstance(record, dict):
            yield ParsedRow(
                number, None, f"line {number}: expected a JSON object", {"line": line[:500]}
            )
            continue
        mapped: dict[str, Any] = {}
        for key, value in record.items():
            column = canonical_header(str(key), vocabulary)
            if value not in (None, "") or column not in mapped:
                mapped[column] = value
        yield _row(number, mapped, record, vocabulary, batch_id, channel)


def _csv(
    text: str, vocabulary: Vocabulary, batch_id: str, channel: str | None
) -> Iterator[ParsedRow]:
    sample = text[:8192]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = [canonical_header(h, vocabulary) for h in header]
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
            if cell.strip() or column not in mapped:  # an empty column never hides a filled one
                mapped[column] = cell
        yield _row(number, mapped, raw, vocabulary, batch_id, channel)


def _row(
    number: int,
    mapped: Mapping[str, Any],
    raw: Mapping[str, Any],
    vocabulary: Vocabulary,
    batch_id: str,
    channel: str | None,
) -> ParsedRow:
    try:
        lead = build_lead(
            mapped, default_id=f"{batch_id}-{number}", vocabulary=vocabulary, channel=channel
        )
    except ValueError as exc:
        return ParsedRow(number, None, f"row {number}: {exc}", raw)
    return ParsedRow(number, lead, None, raw)
