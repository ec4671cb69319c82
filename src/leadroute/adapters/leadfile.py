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

import yaml

from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead, LeadLimits
from leadroute.settings import lead_limits

# Salesforce Lead API names and HubSpot properties/labels -> leadroute fields.
# Salesforce Lead API names, HubSpot internal property names and HubSpot export labels, reduced
# to lower-case letters and digits, -> leadroute fields.
HEADER_ALIASES: Mapping[str, str] = {
    # Salesforce
    "firstname": "first_name",
    "lastname": "last_name",
    "mobilephone": "mobile_phone",
    "postalcode": "postal_code",
    "numberofemployees": "employees",
    "annualrevenue": "annual_revenue",
    "leadsource": "lead_source",
    "countrycode": "country",
    "statecode": "state",
    "ownerid": "crm_owner_id",
    "status": "lead_status",
    "createddate": "received_at",
    "productinterest": "product_interest",
    # HubSpot internal names
    "jobtitle": "title",
    "zip": "postal_code",
    "numemployees": "employees",
    "lifecyclestage": "lifecycle_stage",
    "hsleadstatus": "lead_status",
    "hubspotownerid": "crm_owner_id",
    "createdate": "received_at",
    "hsobjectid": "id",
    # HubSpot export labels
    "recordid": "id",
    "emailaddress": "email",
    "companyname": "company",
    "phonenumber": "phone",
    "mobilephonenumber": "mobile_phone",
    "websiteurl": "website",
    "companydomainname": "domain",
    "streetaddress": "street",
    "stateregion": "state",
    "countryregion": "country",
    "zipcode": "postal_code",
    "contactowner": "crm_owner_id",
    "leadstatus": "lead_status",
    "createdatetime": "received_at",
    # common spreadsheet headers
    "leadid": "id",
    "receivedat": "received_at",
    "leadtype": "lead_type",
    "requesttype": "request_type",
    "emaildomain": "email_domain",
    "employees": "employees",
    "employeecount": "employees",
    "companysize": "employees",
    "revenue": "annual_revenue",
    "province": "state",
    "region": "state",
    "postcode": "postal_code",
    "mobile": "mobile_phone",
    "telephone": "phone",
}


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    lead: Lead | None
    reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnMapping:
    """A mapping file: which column is which field, and the source/channel of the file.

    columns:
      "Lead Score (custom)": score
      "Internal notes": null        # drop this column
    channel: list_import
    source: Webinar 2026-11
    """

    columns: Mapping[str, str | None] = field(default_factory=dict)
    channel: str | None = None
    source: str | None = None

    def lookup(self, header: str) -> tuple[bool, str | None]:
        """(found, field) for a header named in the file, matched case-insensitively."""
        key = header.strip().lstrip("\ufeff").casefold()
        for name, target in self.columns.items():
            if name.strip().casefold() == key:
                return True, target
        return False, None


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


def canonical_header(
    header: str, vocabulary: Vocabulary, mapping: ColumnMapping | None = None
) -> str | None:
    """The leadroute field a column holds; None for a column the mapping drops."""
    if mapping is not None:
        found, target = mapping.lookup(header)
        if found:
            return target
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
    raw: Mapping[str, Any],
    *,
    default_id: str,
    vocabulary: Vocabulary,
    channel: str | None = None,
    source: str | None = None,
    limits: LeadLimits | None = None,
) -> Lead:
    """Turn one mapped record into a Lead; raise ValueError with a plain reason if it can't
    (among them a record over `limits`, by default LEADROUTE_LEAD_MAX_FIELDS and _MAX_DEPTH)."""
    too_large = (limits or lead_limits()).problem(raw)
    if too_large is not None:
        raise ValueError(too_large)
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
    source = raw.get("source") or fields.get("lead_source") or source
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
    mapping: ColumnMapping | None = None,
    limits: LeadLimits | None = None,
) -> Iterator[ParsedRow]:
    """Yield every record of a .csv or .jsonl file as a lead or a rejection.

    The channel of a row is its own `channel` column, else the mapping file's, else `channel`.
    A record over `limits` (default: the configured ones) is a rejection naming the cap.
    """
    reader = _Reader(
        vocabulary or Vocabulary(),
        batch_id or batch_id_for(path),
        (mapping.channel if mapping else None) or channel,
        mapping.source if mapping else None,
        mapping,
        limits or lead_limits(),
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
    sample = text[:8192]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
