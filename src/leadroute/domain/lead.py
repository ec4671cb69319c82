"""A lead as routing sees it: an id, typed fields, where it came from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    WEB_FORM = "web_form"
    LIST_IMPORT = "list_import"
    OUTBOUND = "outbound"
    MANUAL = "manual"
    API = "api"


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    channel: str | None = None
    received_at: datetime | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @property
    def email_domain(self) -> str | None:
        email = self.fields.get("email")
        if isinstance(email, str) and "@" in email:
            return email.rsplit("@", 1)[1].strip().lower() or None
        return None


@dataclass(frozen=True, slots=True)
class LeadLimits:
    """What one lead may hold, whichever way it comes in (API, bulk, webhook, file).

    max_fields: fields per lead, each entry of an object or a list inside a field counting as
      one more field (a lead of 10,000 fields, or of one field holding 10,000 entries, is over).
    max_depth: how deeply a field's value may nest objects and lists: a text or a number is 0
      levels, a list of texts 1, a list of objects 2, a list of objects holding lists 3.

    A lead over a cap is rejected with `problem`'s reason, which names the cap.
    """

    max_fields: int = 500
    max_depth: int = 5

    def __post_init__(self) -> None:
        if self.max_fields < 1 or self.max_depth < 0:
            raise ValueError("max_fields must be at least 1 and max_depth at least 0")

    def problem(self, fields: Mapping[str, Any]) -> str | None:
        """Why `fields` (a lead's fields, by name) are over a cap, or None. Stops at the first
        cap passed, so a huge lead costs no more than `max_fields` steps to refuse."""
        cap = f"over the cap of {_count(self.max_fields, 'field')} per lead"
        count = len(fields)
        if count > self.max_fields:
            return f"the lead has {count:,} fields: {cap}"
        for name, value in fields.items():
            if not _nests(value):
                continue
            stack: list[tuple[Any, int]] = [(value, 1)]
            while stack:
                item, depth = stack.pop()
                if depth > self.max_depth:
                    levels = _count(self.max_depth, "level")
                    return (
                        f"field {_shown(name)} is nested more than {levels} deep: "
                        f"over the cap of {levels} per field"
                    )
                count += len(item)
                if count > self.max_fields:
                    return (
                        f"the lead has more than {_count(self.max_fields, 'field')}, counting "
                        f"each entry of the objects and lists inside them: {cap}"
                    )
                entries: Iterable[Any] = item.values() if isinstance(item, Mapping) else item
                stack.extend((entry, depth + 1) for entry in entries if _nests(entry))
        return None


LEAD_LIMITS = LeadLimits()  # the defaults


def _nests(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _shown(name: str) -> str:
    text = str(name)
    return repr(text if len(text) <= 60 else text[:57] + "...")
