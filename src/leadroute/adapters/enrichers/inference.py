"""Inference from the lead itself: country from an international phone number, time zone from
country and state (or the phone's area). Never invents company facts such as employees.

Uses `leadroute.domain.geo.infer_timezone(country, state, postal_code, phone_e164)` when that
module exists; otherwise a small table of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

import phonenumbers
from phonenumbers import timezone as phone_timezones
from phonenumbers.tzdata import TIMEZONE_DATA

from leadroute.domain.enrichment import InferenceProviderModel, LookupKey, capabilities

TimezoneRule = Callable[[str | None, str | None, str | None, str | None], str | None]

_ALIASES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
}

# Countries spanning zones whose people mostly live in one of them.
_MAIN_ZONE = {
    "GB": "Europe/London",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "IT": "Europe/Rome",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "NZ": "Pacific/Auckland",
    "CN": "Asia/Shanghai",
    "IN": "Asia/Kolkata",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
}

_PACIFIC, _MOUNTAIN, _CENTRAL, _EASTERN = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
)

# Main zone of each US state, Canadian province and Australian state.
_STATE_ZONE: dict[str, dict[str, str]] = {
    "US": {
        **dict.fromkeys(["CA", "NV", "OR", "WA"], _PACIFIC),
        **dict.fromkeys(["CO", "ID", "MT", "NM", "UT", "WY"], _MOUNTAIN),
        "AZ": "America/Phoenix",
        **dict.fromkeys(
            [
                *("AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK"),
                *("SD", "TN", "TX", "WI"),
            ],
            _CENTRAL,
        ),
        **dict.fromkeys(
            [
                *("CT", "DC", "DE", "FL", "GA", "IN", "KY", "MA", "MD", "ME", "MI", "NC"),
                *("NH", "NJ", "NY", "OH", "PA", "RI", "SC", "VA", "VT", "WV"),
            ],
            _EASTERN,
        ),
        "AK": "America/Anchorage",
        "HI": "Pacific/Honolulu",
        "PR": "America/Puerto_Rico",
    },
    "CA": {
        "BC": "America/Vancouver",
        "AB": "America/Edmonton",
        "SK": "America/Regina",
        "MB": "America/Winnipeg",
        "ON": "America/Toronto",
        "QC": "America/Toronto",
        "NB": "America/Halifax",
        "NS": "America/Halifax",
        "PE": "America/Halifax",
        "NL": "America/St_Johns",
        "YT": "America/Whitehorse",
        "NT": "America/Yellowknife",
        "NU": "America/Iqaluit",
    },
    "AU": {
        "NSW": "Australia/Sydney",
        "ACT": "Australia/Sydney",
        "VIC": "Australia/Melbourne",
        "QLD": "Australia/Brisbane",
        "SA": "Australia/Adelaide",
        "WA": "Australia/Perth",
        "TAS": "Australia/Hobart",
        "NT": "Australia/Darwin",
    },
}


def parse_phone(phone: str | None, country: str | None = None) -> phonenumbers.PhoneNumber | None:
    """A valid phone number: international form, or national form read in `country`."""
    if not phone:
        return None
    region = None if phone.lstrip().startswith("+") else country
    if region is None and not phone.lstrip().startswith("+"):
        return None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def country_of_phone(number: phonenumbers.PhoneNumber) -> str | None:
    region = phonenumbers.region_code_for_number(number)
    return region if region and region not in ("ZZ", "001") else None


def _one_zone(zones: tuple[str, ...] | list[str]) -> str | None:
    known = {_ALIASES.get(z, z) for z in zones if z != phone_timezones.UNKNOWN_TIMEZONE}
    return known.pop() if len(known) == 1 else None


def _state_code(country: str, state: str) -> str:
    """'us-tx' or 'TX' -> 'TX': the subdivision part of an ISO 3166-2 code, upper-case."""
    code = state.strip().upper()
    return code.removeprefix(f"{country.upper()}-")


def fallback_timezone(
    country: str | None, state: str | None, postal_code: str | None, phone_e164: str | None
) -> str | None:
    """Time zone from the state, else the phone's area, else a one-zone (or mostly one) country."""
    country = country.strip().upper() if country else None
    if country and state:
        zone = _STATE_ZONE.get(country, {}).get(_state_code(country, state))
        if zone:
            return zone
    number = parse_phone(phone_e164)
    if number is not None and (country is None or country_of_phone(number) == country):
        zone = _one_zone(phone_timezones.time_zones_for_number(number))
        if zone:
            return zone
    if not country:
        return None
    if country in _MAIN_ZONE:
        return _MAIN_ZONE[country]
    code = phonenumbers.country_code_for_region(country)
    if not code or phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code) != (country,):
        return None
    return _one_zone(TIMEZONE_DATA.get(str(code), ()))


def _timezone_rule() -> TimezoneRule:
    try:
        geo = importlib.import_module("leadroute.domain.geo")
    except ImportError:
        return fallback_timezone
    rule = getattr(geo, "infer_timezone", None)
    return cast(TimezoneRule, rule) if callable(rule) else fallback_timezone


class InferenceProvider:
    """Implements the `Provider` port by inference; no I/O."""

    def __init__(
        self,
        name: str,
        model: InferenceProviderModel,
        *,
        timezone_rule: TimezoneRule | None = None,
    ) -> None:
        self.name = name
        self.fields = capabilities(model)
        self._timezone = timezone_rule or _timezone_rule()

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        number = parse_phone(key.phone, key.country)
        phone_country = country_of_phone(number) if number is not None else None
        if "country" in self.fields and phone_country and key.phone and key.phone.startswith("+"):
            found["country"] = phone_country
        if "timezone" in self.fields:
            e164 = (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if number is not None
                else None
            )
            country = key.country or phone_country
            state = _state_code(country, key.state) if country and key.state else key.state
            try:
                zone = self._timezone(country, state, key.postal_code, e164)
            except ValueError:
                zone = None
            if zone:
                found["timezone"] = zone
        return found
