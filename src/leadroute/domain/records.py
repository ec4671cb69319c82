"""Records as they come from files and senders, made into leads: which leadroute field a column
or property holds (Salesforce Lead API names, HubSpot properties and export labels, spreadsheet
habits, a mapping file), a record made into a `Lead` or a plain reason why not, and the
delimiter of a CSV text. Pure: the files themselves are read by adapters.leadfile.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead, LeadLimits

DELIMITERS = ",;\t|"

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
    limits: LeadLimits,
) -> Lead:
    """Turn one mapped record into a Lead; raise ValueError with a plain reason if it can't
    (among them a record over `limits`)."""
    too_large = limits.problem(raw)
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


def sniff_delimiter(sample: str, candidates: str = DELIMITERS) -> str:
    """The delimiter of a CSV text from its first lines: what `csv.Sniffer` finds among
    `candidates` (`,` `;` tab `|`) if the header line holds it, else the candidate the header
    line holds most often, else `,` (a file of one column)."""
    header = sample.split("\n", 1)[0]
    counts = {c: header.count(c) for c in candidates}
    try:
        found: str | None = csv.Sniffer().sniff(sample, delimiters=candidates).delimiter
    except csv.Error:
        found = None
    if found is not None and counts.get(found):
        return found
    best = max(candidates, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","
