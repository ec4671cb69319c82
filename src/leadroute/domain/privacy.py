"""What erasing a person's data means, as pure functions over stored rows.

Which fields are personal is declared once (`PERSONAL_FIELDS`, plus header spellings found in
raw input). A `PersonScrubber` is built from the values of one person's leads: it replaces
personal fields with `ERASED`, and every other occurrence of those values (in reasons, data-
quality flags, decision records, outbox payloads) by `ERASED` too. Company data (account,
company, domain, industry, size, location used for territories) and ids are kept, so every count
and report stays the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leadroute.domain.fields import ACCOUNT_FIELDS, LEAD_FIELDS

ERASED = "[erased]"

# Fields of a lead that describe the person (canonical names, see domain/fields.py).
PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "middle_name",
        "salutation",
        "phone",
        "mobile_phone",
        "fax",
        "street",
        "address",
        "title",
        "linkedin",
        "linkedin_url",
        "twitter",
        "ip_address",
        "birth_date",
        "description",
        "notes",
        "comments",
        "message",
    }
)

# Raw headers reduced to letters and digits that are personal too (Salesforce, HubSpot, files).
_PERSONAL_COMPACT = frozenset(
    {re.sub(r"[^a-z0-9]", "", f) for f in PERSONAL_FIELDS}
    | {
        "emailaddress",
        "jobtitle",
        "mobile",
        "telephone",
        "phonenumber",
        "mobilephonenumber",
        "streetaddress",
        "address1",
        "address2",
        "ip",
        "dateofbirth",
        "note",
        "comment",
    }
)
_PERSONAL_PARTS = ("email", "phone", "linkedin", "twitter", "street")
# Derived or company facts whose names contain a personal part.
_NOT_PERSONAL = frozenset(
    {"emaildomain", "freeemail", "disposableemail", "phonevalid", "emailvalid", "emailkey"}
)
# Parts of a decision record that are not about the person and stay as they are.
_KEEP_KEYS = frozenset({"account", "config", "condition", "candidates", "pool", "timings"})
# Maps of field name -> value inside records (node values, data-quality changes, enrichment).
_FIELD_MAPS = frozenset({"values", "changes", "fields", "filled", "conflicts"})
_MIN_SUBSTRING = 4  # shorter values are erased only where they are the whole text
_WHOLE_ONLY = frozenset({"title", "jobtitle", "salutation"})  # common words, see personal_values


def _compact(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


# Declared fields that are not about the person (company, location, scores, derived facts):
# kept as they are, even when a value happens to equal one of the person's (a city named like
# them, a department named like their title).
_KEPT = frozenset(
    _compact(f.name)
    for f in (*LEAD_FIELDS, *ACCOUNT_FIELDS)
    if _compact(f.name) not in _PERSONAL_COMPACT
)


def is_personal(field: str) -> bool:
    """True if a field (canonical or as a raw header spells it) holds personal data."""
    compact = _compact(field)
    if compact in _NOT_PERSONAL or compact in _KEPT:
        return False
    return compact in _PERSONAL_COMPACT or any(part in compact for part in _PERSONAL_PARTS)


def is_email_field(field: str) -> bool:
    compact = _compact(field)
    return "email" in compact and compact not in _NOT_PERSONAL


def emails_in(fields: Mapping[str, Any] | None) -> set[str]:
    """The email addresses a lead's fields (or raw input) give, folded to lower case."""
    return {
        value.strip().casefold()
        for key, value in (fields or {}).items()
        if isinstance(value, str) and is_email_field(key) and "@" in value
    }


def personal_values(fields: Mapping[str, Any] | None, *, whole: bool = False) -> set[str]:
    """The text values of the personal fields, plus 'first last' name pairs; with `whole`,
    instead the values of fields such as the title, erased only where they are a whole text
    (a title "Sales" must not erase the pool "sales" from a reason)."""
    fields = fields or {}
    found: set[str] = set()
    for key, value in fields.items():
        if not is_personal(key) or (_compact(key) in _WHOLE_ONLY) != whole:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int) and not isinstance(item, bool):
                text = str(item).strip()
                if text and text != ERASED:
                    found.add(text)
    if whole:
        return found
    first = next((v for k, v in fields.items() if _compact(k) == "firstname"), None)
    last = next((v for k, v in fields.items() if _compact(k) == "lastname"), None)
    if isinstance(first, str) and isinstance(last, str) and first.strip() and last.strip():
        found.add(f"{first.strip()} {last.strip()}")
    return found


def _erase_value(value: Any) -> Any:
    """A personal value's replacement: None and booleans stay, lists keep their length."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [_erase_value(v) for v in value]
    return ERASED


class PersonScrubber:
    """Erases one person: their personal fields, and their values wherever they appear."""

    def __init__(
        self, values: Iterable[str], *, whole: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> None:
        """`values` are erased wherever they appear as words; `whole` ones only where they
        are the whole text; `emails` even in the fields kept (company, location...)."""
        emails = {e.strip() for e in emails if e and e.strip()}
        texts = {v.strip() for v in values if v and v.strip() and v.strip() != ERASED} | emails
        wholes = {v.strip() for v in whole if v and v.strip() and v.strip() != ERASED}
        self.values = frozenset(texts | wholes)
        self._sure = PersonScrubber(emails) if emails else None
        self._exact = frozenset(v.casefold() for v in self.values)
        long = sorted((v for v in texts if len(v) >= _MIN_SUBSTRING), key=len, reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![\w.@])(?:" + "|".join(re.escape(v) for v in long) + r")(?![\w@]|\.\w)",
                re.IGNORECASE,
            )
            if long
            else None
        )

    @classmethod
    def of(
        cls, leads: Iterable[Mapping[str, Any] | None], emails: Iterable[str] = ()
    ) -> PersonScrubber:
        """The scrubber of a person: the values of their leads' fields (cleaned and raw)."""
        values, whole, addresses = set(), set(), set(emails)
        for fields in leads:
            values |= personal_values(fields)
            whole |= personal_values(fields, whole=True)
            addresses |= emails_in(fields)
        return cls(values, whole=whole, emails=addresses)

    def __bool__(self) -> bool:
        return bool(self.values)

    def mentions(self, value: Any) -> bool:
        """True if `value` (any JSON) holds one of the person's values."""
        return bool(self.deep(value) != value)

    def text(self, value: str) -> str:
        if value.strip().casefold() in self._exact:
            return ERASED
        if self._pattern is None:
            return value
        return self._pattern.sub(ERASED, value)

    def deep(self, value: Any) -> Any:
        """`value` (any JSON) with the person's values erased, in keys too."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {
                (self.text(k) if isinstance(k, str) else k): self.deep(v) for k, v in value.items()
            }
        return value

    def fields(self, fields: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, set[str]]:
        """A lead's fields (or raw input) with personal ones erased; and which were."""
        if fields is None:
            return None, set()
        out: dict[str, Any] = {}
        erased: set[str] = set()
        for key, value in fields.items():
            if is_personal(key):
                out[key] = _erase_value(value)
                if out[key] != value:
                    erased.add(key)
            else:
                out[key] = self._kept(value) if _compact(key) in _KEPT else self.deep(value)
        return out, erased

    def record(self, record: Any) -> Any:
        """A decision record (or event detail) with personal values erased: field maps drop
        personal fields, flags on personal fields lose their message, and every other text
        loses the person's values. The account, config conditions and candidates stay."""
        if isinstance(record, list):
            return [self.record(v) for v in record]
        if not isinstance(record, dict):
            return self.deep(record)
        flagged = isinstance(record.get("field"), str) and is_personal(record["field"])
        out: dict[str, Any] = {}
        for key, value in record.items():
            if key in _KEEP_KEYS:
                out[key] = value
                continue
            key = self.text(key) if isinstance(key, str) else key
            if key in _FIELD_MAPS and isinstance(value, dict):
                out[key] = {k: self._field(k, v) for k, v in value.items()}
            elif flagged and key in ("message", "value", "before", "after"):
                out[key] = _erase_value(value)
            else:
                out[key] = self.record(value)
        return out

    def _field(self, name: Any, value: Any) -> Any:
        if not isinstance(name, str):
            return self.record(value)
        if is_personal(name):
            return _erase_value(value)
        return self._kept(value) if _compact(name) in _KEPT else self.record(value)

    def _kept(self, value: Any) -> Any:
        """A field kept as company or location data loses only the person's emails."""
        return self._sure.deep(value) if self._sure is not None else value


def erased_marker(at: str) -> dict[str, Any]:
    """What replaces a whole payload (an outbox message, a stored API answer)."""
    return {"erased": True, "erased_at": at}


@dataclass
class PersonRows:
    """One person's leads as a store found them: id -> (data, raw), every email they use, and
    the leads found through duplicate links."""

    leads: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)
    emails: set[str] = field(default_factory=set)
    linked: set[str] = field(default_factory=set)

    def scrubber(self) -> PersonScrubber:
        fields = [f for data, raw in self.leads.values() for f in (data, raw)]
        return PersonScrubber.of(fields, self.emails)
