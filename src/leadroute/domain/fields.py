"""The vocabulary of routing: the fields a rule may read and the operators each type supports.

Declared once; validation, error messages, the JSON Schema and the docs are all driven from here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    description: str


_STRING_OPS = ("eq", "ne", "in", "not_in", "contains", "starts_with", "ends_with", "matches")
_NUMBER_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between")
_PRESENCE_OPS = ("exists", "missing")

OPERATORS: Mapping[FieldType, tuple[str, ...]] = {
    FieldType.STRING: _STRING_OPS + _PRESENCE_OPS,
    FieldType.NUMBER: _NUMBER_OPS + _PRESENCE_OPS,
    FieldType.BOOLEAN: ("eq", "ne", *_PRESENCE_OPS),
    FieldType.LIST: ("contains", "in", "not_in", *_PRESENCE_OPS),
}

ALL_OPERATORS: tuple[str, ...] = (*_STRING_OPS, "gt", "gte", "lt", "lte", "between", *_PRESENCE_OPS)

OPERATOR_HELP: Mapping[str, str] = {
    "eq": "equals (strings compare case-insensitively)",
    "ne": "does not equal; true when the field is missing",
    "in": "is one of a list of values",
    "not_in": "is none of a list of values; true when the field is missing",
    "contains": "text contains a substring, or a list contains a value",
    "starts_with": "text starts with a prefix",
    "ends_with": "text ends with a suffix",
    "matches": "text matches a regular expression (case-insensitive, searched anywhere)",
    "gt": "greater than",
    "gte": "greater than or equal to",
    "lt": "less than",
    "lte": "less than or equal to",
    "between": "within [low, high], both ends included",
    "exists": "has a non-empty value (value true) or not (value false)",
    "missing": "has no value (value true) or has one (value false)",
}

_S, _N, _B, _L = FieldType.STRING, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.LIST

LEAD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", _S, "the lead's id"),
    FieldSpec("email", _S, "email address"),
    FieldSpec("email_domain", _S, "domain part of the email address"),
    FieldSpec("first_name", _S, "first name"),
    FieldSpec("last_name", _S, "last name"),
    FieldSpec("company", _S, "company name"),
    FieldSpec("domain", _S, "company web domain"),
    FieldSpec("website", _S, "company website"),
    FieldSpec("title", _S, "job title"),
    FieldSpec("seniority", _S, "seniority derived from the title"),
    FieldSpec("department", _S, "department derived from the title"),
    FieldSpec("phone", _S, "phone number"),
    FieldSpec("country", _S, "ISO 3166-1 alpha-2 country code"),
    FieldSpec("state", _S, "state or province (ISO 3166-2 code or its subdivision part)"),
    FieldSpec("city", _S, "city"),
    FieldSpec("postal_code", _S, "postal code"),
    FieldSpec("industry", _S, "industry"),
    FieldSpec("employees", _N, "number of employees"),
    FieldSpec("annual_revenue", _N, "annual revenue"),
    FieldSpec("lead_source", _S, "lead source (e.g. Web, Webinar, Trade Show)"),
    FieldSpec("channel", _S, "capture channel: web_form, list_import, outbound, manual, api"),
    FieldSpec("product_interest", _S, "product line the lead asked about"),
    FieldSpec("lead_type", _S, "inbound or outbound"),
    FieldSpec("request_type", _S, "what the lead asked for (demo, contact, trial, content)"),
    FieldSpec("score", _N, "lead score"),
    FieldSpec("fit_score", _N, "fit score from the config's scoring rules"),
    FieldSpec("fit_tier", _S, "fit tier (A-D) from the config's scoring rules"),
    FieldSpec("intent_score", _N, "intent score: decayed engagement points (scoring.intent)"),
    FieldSpec("intent_tier", _S, "intent tier (high/low) from scoring.intent"),
    FieldSpec("intent_product", _S, "the product the lead's activity engaged with most"),
    FieldSpec("path", _S, "path from the fit x intent matrix (scoring.matrix)"),
    FieldSpec(
        "conversion_probability", _N, "predictive model's probability of converting (0 to 1)"
    ),
    FieldSpec("tags", _L, "free tags"),
    FieldSpec("segment", _S, "size segment id, derived from the org's segments"),
    FieldSpec("free_email", _B, "email is from a free-mail provider"),
    FieldSpec("disposable_email", _B, "email is from a disposable-mail provider"),
    FieldSpec("phone_valid", _B, "the phone number is a valid number for its country"),
    FieldSpec("mobile_phone", _S, "mobile phone number"),
    FieldSpec("street", _S, "street address"),
    FieldSpec("timezone", _S, "IANA time zone of the lead (given or inferred)"),
    FieldSpec("company_key", _S, "company name reduced for matching (no legal suffix, case)"),
    FieldSpec(
        "crm_owner_id", _S, "owner id in the CRM the lead came from (OwnerId, Contact owner)"
    ),
    FieldSpec("lead_status", _S, "status in the CRM (Status, hs_lead_status)"),
    FieldSpec("lifecycle_stage", _S, "HubSpot lifecycle stage"),
    FieldSpec("rating", _S, "CRM rating (Hot, Warm, Cold)"),
    FieldSpec("crm_id", _S, "the record's id in the CRM"),
)

ACCOUNT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("account.id", _S, "matched account id"),
    FieldSpec("account.name", _S, "matched account name"),
    FieldSpec("account.domain", _S, "matched account domain"),
    FieldSpec("account.parent_id", _S, "parent account id"),
    FieldSpec("account.owner", _S, "account owner rep id"),
    FieldSpec("account.status", _S, "prospect or customer"),
    FieldSpec("account.opportunity_stage", _S, "stage of the account's open opportunity"),
    FieldSpec("account.named", _B, "account is a named (target) account"),
    FieldSpec("account.industry", _S, "account industry"),
    FieldSpec("account.employees", _N, "account employees"),
    FieldSpec("account.intent_score", _N, "intent of the account's people and visits"),
    FieldSpec("account.surging", _B, "the account's web visits are surging (a hot account)"),
)


_SCALE = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_NUMBER = re.compile(
    r"^\s*[$€£]?\s*([0-9][0-9,_ ]*(?:\.[0-9]+)?)\s*(k|m|mm|b|bn)?\s*\+?\s*$", re.IGNORECASE
)
_RANGE = re.compile(r"^\s*(.+?)\s*(?:-|\u2013|to)\s*(.+?)\s*$", re.IGNORECASE)


def parse_number(text: str) -> float | None:
    """Numbers as CRMs and spreadsheets write them: "1,200", "1.2k", "$5M", "1000+", and
    ranges such as HubSpot's "25-50" (the midpoint). None if it is not a number."""
    text = text.strip()
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        pass
    match = _NUMBER.match(text)
    if match:
        digits, scale = match.groups()
        value = float(digits.replace(",", "").replace("_", "").replace(" ", ""))
        return value * _SCALE[scale.lower()] if scale else value
    ranged = _RANGE.match(text)
    if ranged and not text.startswith("-"):
        low, high = parse_number(ranged.group(1)), parse_number(ranged.group(2))
        if low is not None and high is not None and low <= high:
            return float(round((low + high) / 2))
    return None


class Vocabulary:
    """Known fields, including custom fields a config declares."""

    def __init__(self, extra: Iterable[FieldSpec] = ()) -> None:
        self.fields: dict[str, FieldSpec] = {f.name: f for f in (*LEAD_FIELDS, *ACCOUNT_FIELDS)}
        for spec in extra:
            self.fields[spec.name] = spec

    def get(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def operators(self, name: str) -> tuple[str, ...]:
        spec = self.fields.get(name)
        return OPERATORS[spec.type] if spec else ALL_OPERATORS

    def coerce(self, name: str, value: Any) -> Any:
        """Turn a raw input value (e.g. a CSV string) into the field's type; raise ValueError."""
        spec = self.fields.get(name)
        if value is None or spec is None:
            return value
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
        if spec.type is FieldType.NUMBER:
            if isinstance(value, bool):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if isinstance(value, int | float):
                return value
            number = parse_number(str(value))
            if number is None:
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(number):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            return int(number) if number.is_integer() else number
        if spec.type is FieldType.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("true", "yes", "1", "y"):
                return True
            if text in ("false", "no", "0", "n"):
                return False
            raise ValueError(f"{name} must be true or false, got {value!r}")
        if spec.type is FieldType.LIST:
            if isinstance(value, list | tuple):
                return list(value)
            if isinstance(value, Mapping):
                raise ValueError(f"{name} must be a list or text, got an object")
            return [part.strip() for part in str(value).split(";") if part.strip()]
        if isinstance(value, Mapping | list | tuple):  # no text field holds a structure
            kind = "an object" if isinstance(value, Mapping) else "a list"
            raise ValueError(f"{name} must be text, got {kind}")
        return value if isinstance(value, str) else str(value)
