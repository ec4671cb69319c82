"""Web-to-lead form posts, with Salesforce's web-to-lead field names.

A page built for Salesforce web-to-lead posts form-encoded fields (first_name, last_name,
email, company, ...), its org id as `oid`, where to send the visitor next as `retURL`, and
custom fields by their 15- or 18-character field id (00N...). Pointing the form's action at
leadroute takes the same post: known names map to leadroute fields, custom ids and any other
names are kept as extra fields, and the visitor is redirected (303) to retURL.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

from leadroute.adapters.inbound.types import (
    InboundError,
    InboundLead,
    map_fields,
    same_salesforce_id,
)
from leadroute.adapters.leadfile import canonical_header
from leadroute.domain.fields import FieldType, Vocabulary
from leadroute.domain.lead import Channel, Lead

# Salesforce web-to-lead names -> leadroute fields; None: form plumbing, not lead data.
WEB_TO_LEAD_FIELDS: Mapping[str, str | None] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "company": "company",
    "title": "title",
    "phone": "phone",
    "mobile": "mobile_phone",
    "fax": "fax",
    "URL": "website",
    "url": "website",
    "street": "street",
    "city": "city",
    "state_code": "state",
    "state": "state",
    "zip": "postal_code",
    "country_code": "country",
    "country": "country",
    "description": "description",
    "lead_source": "lead_source",
    "industry": "industry",
    "employees": "employees",
    "revenue": "annual_revenue",
    "rating": "rating",
    "salutation": "salutation",
    "emailOptOut": "email_opt_out",
    "recordType": "record_type",
    "Campaign_ID": "campaign_id",
    "member_status": "member_status",
    "oid": None,
    "orgid": None,
    "retURL": None,
    "debug": None,
    "debugEmail": None,
    "encoding": None,
    "submit": None,
    "captcha_settings": None,
    "g-recaptcha-response": None,
}
# A custom field's id: key prefix 00N, 15 case-sensitive characters or 18 with the checksum.
CUSTOM_FIELD_ID = re.compile(r"00N[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
REQUIRED_MESSAGE = "a web-to-lead post needs email, or last_name and company"
FORM_TYPE = "application/x-www-form-urlencoded"
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WebToLead:
    """A parsed web-to-lead post.

    return_url: retURL when it is an absolute http(s) URL (else None): answer 303 to it.
    organization_id: the post's `oid` (or `orgid`), as sent.
    debug / debug_email: Salesforce's debug switches; with debug on, show what was received
      instead of redirecting.
    """

    lead: InboundLead
    return_url: str | None
    organization_id: str | None
    debug: bool = False
    debug_email: str | None = None


def parse_web_to_lead(
    form: Mapping[str, str | list[str]],
    *,
    organization_id: str | None = None,
    lead_id: str | None = None,
    vocabulary: Vocabulary | None = None,
) -> WebToLead:
    """Read a web-to-lead post (a field may repeat, e.g. a multi-select picklist).

    Raises InboundError 422 when the post has neither an email nor a last name and a company,
    403 when `organization_id` is given and the post's oid is missing or another org's.
    The lead's id is `lead_id`, else "w2l-" and a hash of the post: an identical resubmit
    (a double click) gets the same id.
    """
    values = {name: _values(value) for name, value in form.items()}
    oid = _first(values.get("oid")) or _first(values.get("orgid"))
    if organization_id and not (oid and same_salesforce_id(organization_id.strip(), oid)):
        got = f"oid {oid}" if oid else "no oid"
        raise InboundError(
            403, f"the post has {got}; this endpoint takes posts for org {organization_id}"
        )
    vocabulary = vocabulary or Vocabulary()
    pairs: list[tuple[str, str]] = []
    aliases: dict[str, str | None] = dict(WEB_TO_LEAD_FIELDS)
    for name, texts in values.items():
        if CUSTOM_FIELD_ID.fullmatch(name):
            aliases[name] = name  # kept under its field id
        if not texts:
            continue
        target = aliases[name] if name in aliases else canonical_header(name, vocabulary)
        spec = vocabulary.get(target) if target else None
        if spec is not None and spec.type is not FieldType.LIST:
            pairs.append((name, texts[0]))
        else:
            pairs.append((name, ";".join(texts)))
    fields, problems = map_fields(pairs, vocabulary=vocabulary, aliases=aliases)
    if not fields.get("email") and not (fields.get("last_name") and fields.get("company")):
        raise InboundError(422, REQUIRED_MESSAGE)
    return_url = _first(values.get("retURL"))
    if return_url and not _is_web_url(return_url):
        problems = (*problems, f"retURL: not an http(s) URL, ignored: {return_url[:200]!r}")
        return_url = None
    lead = Lead(
        id=lead_id or _post_id(values),
        fields=fields,
        source=str(fields.get("lead_source") or "web-to-lead"),
        channel=Channel.WEB_FORM.value,
    )
    raw = {name: value if isinstance(value, str) else list(value) for name, value in form.items()}
    return WebToLead(
        lead=InboundLead(lead=lead, problems=problems, raw=raw),
        return_url=return_url,
        organization_id=oid,
        debug=_first(values.get("debug")) in ("1", "true", "on", "yes"),
        debug_email=_first(values.get("debugEmail")),
    )


def read_form(body: bytes, content_type: str | None = None) -> dict[str, list[str]]:
    """The fields of a form post, each with its values in order, decoded in the charset the
    Content-Type names (UTF-8 when it names none).

    Raises InboundError 415 when the body is declared as something other than a form or in an
    unknown charset, 400 when a field is not text in the charset (latin-1 bytes sent as UTF-8):
    nothing is guessed or replaced.
    """
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind and kind != FORM_TYPE:
        raise InboundError(415, f"a web-to-lead post is {FORM_TYPE}; got {kind[:100]}")
    found = _CHARSET.search(content_type or "")
    charset = found.group(1) if found else "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise InboundError(415, f"unknown charset {charset[:40]!r} in Content-Type") from None
    fields: dict[str, list[str]] = {}
    for number, part in enumerate(body.split(b"&"), start=1):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        try:
            key = raw_name.decode(charset)
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode(charset)
        except UnicodeDecodeError as exc:
            shown = raw_name.decode(charset, "replace")[:60]
            raise InboundError(
                400,
                f"field {number} ({shown!r}) is not {charset} text ({exc.reason}); name the "
                f"form's charset in Content-Type, e.g. '{FORM_TYPE}; charset=ISO-8859-1'",
            ) from None
        fields.setdefault(key, []).append(text)
    return fields


def _values(value: str | list[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [text.strip() for text in items if isinstance(text, str) and text.strip()]


def _first(texts: list[str] | None) -> str | None:
    return texts[0] if texts else None


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text


def _post_id(values: Mapping[str, list[str]]) -> str:
    digest = hashlib.sha256()
    for name in sorted(values):
        for text in values[name]:
            digest.update(name.encode("utf-8", "surrogatepass") + b"\x00")
            digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return f"w2l-{digest.hexdigest()[:16]}"
