"""What every inbound webhook parser returns or raises, and the field mapping they share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadroute.adapters.leadfile import canonical_header
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead

# Fields a payload may not set through its properties: the parser sets them itself.
_RESERVED = frozenset({"", "id", "received_at", "source", "crm", "crm_id"})


class InboundError(Exception):
    """A request leadroute refuses: `status` is the HTTP status to answer, `message` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"InboundError({self.status}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class InboundLead:
    """A lead as a webhook delivered it.

    event_id: the key that identifies a resend of the same delivery (HubSpot event key,
      Salesforce Notification Id); None when the source has none (web-to-lead).
    crm / crm_id: the CRM the record lives in and its id there ("hubspot", "salesforce").
    problems: values that could not be read as their field's type; they are left out of
      `lead.fields` and kept, as received, in `raw`.
    raw: the source's own field names and values, as received.
    """

    lead: Lead
    event_id: str | None = None
    crm: str | None = None
    crm_id: str | None = None
    problems: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


def map_fields(
    pairs: Iterable[tuple[str, Any]],
    *,
    vocabulary: Vocabulary,
    aliases: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Source field names and values -> (leadroute fields, problems).

    A name is looked up in `aliases` first (None drops it), else mapped like a lead file's
    column header (Salesforce API names, HubSpot property names, else snake_case). Empty values
    are skipped, the first filled value of a field wins, and a value that is not of its field's
    type is left out and reported as "<name>: <reason>".
    """
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in pairs:
        if aliases is not None and name in aliases:
            target = aliases[name]
        else:
            target = canonical_header(name, vocabulary)
        if target is None or target in _RESERVED or target in fields:
            continue
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        try:
            coerced = vocabulary.coerce(target, value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if coerced is not None and coerced != "":
            fields[target] = coerced
    return fields, tuple(problems)


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date/time as CRMs write it ("2026-03-02T09:15:00.000Z"); None if it is not."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_millis(value: int) -> datetime | None:
    """Milliseconds since the epoch -> an aware UTC datetime; None if out of range."""
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def same_salesforce_id(one: str, other: str) -> bool:
    """Salesforce ids come in a case-sensitive 15-character form and an 18-character form that
    adds a checksum; the first 15 characters identify the record (or org)."""
    if len(one) in (15, 18) and len(other) in (15, 18):
        return one[:15] == other[:15]
    return one == other
