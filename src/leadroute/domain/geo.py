"""Countries, states and time zones from the reference data that ships inside packages.

Offline by construction: ISO 3166 from pycountry, US ZIPs from zipcodes, numbering-plan time
zones from phonenumbers, the IANA zone list from zoneinfo/tzdata. Every lookup is cached, so
a lead costs a few dictionary reads once the common values have been seen.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import phonenumbers
import pycountry
import zipcodes
from phonenumbers import timezone as phone_zones

# Letters that NFKD does not split into a base letter and an accent.
_FOLD_EXTRA = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"})
_APOSTROPHES = re.compile("['\u2019`\u00b4]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Müller Søhne' -> 'muller sohne'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_FOLD_EXTRA)


def place_key(text: str) -> str:
    """'U.S.A.' -> 'usa', 'The Netherlands' -> 'netherlands', 'Côte d'Ivoire' -> 'cote divoire'."""
    folded = _APOSTROPHES.sub("", fold(text).replace("&", " and "))
    words: list[str] = []
    initials = False  # the last word was built from single letters: "U.S.A.", "D.C."
    for word in _NOT_WORD.sub(" ", folded).split():
        if len(word) == 1 and initials:
            words[-1] += word
        else:
            words.append("saint" if word == "st" else word)
            initials = len(word) == 1
    if len(words) > 1 and words[0] == "the":
        del words[0]
    return " ".join(words)


# --- countries ------------------------------------------------------------------------------

COUNTRY_ALIASES: Mapping[str, tuple[str, ...]] = {
    "US": ("usa", "u s", "america", "united states of america", "us of a", "the states"),
    "GB": ("uk", "great britain", "britain", "england", "scotland", "wales", "northern ireland"),
    "DE": ("deutschland", "brd", "federal republic of germany"),
    "NL": ("holland", "nederland", "the netherlands"),
    "KR": ("korea", "south korea", "republic of korea", "rok"),
    "KP": ("north korea",),
    "RU": ("russia",),
    "CZ": ("czech republic", "czechia"),
    "AE": ("uae", "emirates"),
    "CI": ("ivory coast",),
    "VN": ("vietnam",),
    "CH": ("schweiz", "suisse", "svizzera"),
    "AT": ("osterreich",),
    "ES": ("espana",),
    "IT": ("italia",),
    "BR": ("brasil",),
    "BE": ("belgie", "belgique", "belgien"),
    "SE": ("sverige",),
    "NO": ("norge",),
    "DK": ("danmark",),
    "FI": ("suomi",),
    "PL": ("polska",),
    "IE": ("eire", "republic of ireland"),
    "JP": ("nippon", "nihon"),
    "CN": ("prc", "mainland china", "peoples republic of china"),
    "TW": ("taiwan",),
    "HK": ("hong kong sar",),
    "MO": ("macau",),
    "TR": ("turkey", "turkiye"),
    "SA": ("ksa",),
    "PS": ("palestine",),
    "VA": ("vatican", "vatican city", "holy see"),
    "MK": ("macedonia",),
    "CV": ("cape verde",),
    "SZ": ("swaziland",),
    "MM": ("burma",),
    "TL": ("east timor",),
    "BN": ("brunei",),
    "CD": ("drc", "dr congo", "democratic republic of the congo", "congo kinshasa"),
    "CG": ("republic of the congo", "congo brazzaville"),
    "LA": ("laos",),
    "SY": ("syria",),
}


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    before_comma: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if isinstance(value, str) and value:
                index.setdefault(place_key(value), code)
                if "," in value:  # "Iran, Islamic Republic of" -> "iran"
                    before_comma.setdefault(place_key(value.split(",")[0]), code)
    for key, code in before_comma.items():
        index.setdefault(key, code)
    for code, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            index[place_key(alias)] = code
    return index


_CACHE_LIMIT = 50_000  # bounds the per-value caches against endless junk values
_country_cache: dict[str, str | None] = {}


# What forms put in a place field when there is no answer; "N/A" must not read as Namibia.
PLACEHOLDERS = frozenset({"n/a", "n.a.", "n.a", "none", "null", "unknown", "not applicable"})


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a country name, code or alias; None if not recognised."""
    try:
        return _country_cache[value]
    except KeyError:
        pass
    is_placeholder = value.strip().casefold() in PLACEHOLDERS
    code = None if is_placeholder else _country_index().get(place_key(value))
    if len(_country_cache) < _CACHE_LIMIT:
        _country_cache[value] = code
    return code


# --- states and provinces -------------------------------------------------------------------

STATE_ALIASES: Mapping[str, Mapping[str, str]] = {
    "US": {"washington dc": "DC", "washington d c": "DC"},
    "CA": {"pq": "QC", "newfoundland": "NL", "pei": "PE", "yukon territory": "YT"},
    "DE": {
        "bavaria": "BY",
        "lower saxony": "NI",
        "north rhine westphalia": "NW",
        "nrw": "NW",
        "rhineland palatinate": "RP",
        "saxony": "SN",
        "saxony anhalt": "ST",
        "thuringia": "TH",
        "hesse": "HE",
        "mecklenburg western pomerania": "MV",
        "baden wuerttemberg": "BW",
    },
    "IT": {"lombardy": "25", "piedmont": "21", "tuscany": "52", "sicily": "82", "apulia": "75"},
    "ES": {"andalusia": "AN", "catalonia": "CT", "basque country": "PV", "valencia": "VC"},
    "MX": {"mexico city": "CMX", "cdmx": "CMX", "df": "CMX", "state of mexico": "MEX"},
    "CH": {"geneva": "GE", "bern": "BE", "lucerne": "LU", "saint gallen": "SG"},
    "NL": {"north holland": "NH", "south holland": "ZH", "friesland": "FR"},
    "IN": {"orissa": "OD", "new delhi": "DL"},
}
_CN_SUFFIXES = frozenset({"sheng", "shi", "zizhiqu", "sar", "huizu", "zhuangzu", "uygur"})


def _name_variants(name: str) -> list[str]:
    """'Catalunya [Cataluña]', 'Madrid, Comunidad de', 'Guangdong Sheng' -> their plain forms."""
    variants = [name]
    main, _, bracketed = name.partition("[")
    variants.append(main)
    if bracketed:
        variants.append(bracketed.rstrip("]").split(" GB-")[0])
    variants.append(re.sub(r"\s*\(.*?\)", "", main))
    variants.append(main.split(",")[0])
    words = place_key(main).split()
    while len(words) > 1 and words[-1] in _CN_SUFFIXES:
        words.pop()
    variants.append(" ".join(words))
    return variants


# pycountry's lookup carries no annotations; this names the shape used here.
_subdivisions_of: Callable[..., list[Any] | None] = pycountry.subdivisions.get


@cache
def _state_index(country: str) -> dict[str, str]:
    subdivisions = list(_subdivisions_of(country_code=country) or [])
    subdivisions.sort(key=lambda s: s.parent_code is not None)  # top level wins a clash
    # Codes first, so a code always reads as itself; then aliases; then names.
    index = {place_key(code): code for code in (s.code.split("-", 1)[1] for s in subdivisions)}
    for alias, code in STATE_ALIASES.get(country, {}).items():
        index.setdefault(place_key(alias), code)
    for sub in subdivisions:
        for variant in _name_variants(sub.name):
            index.setdefault(place_key(variant), sub.code.split("-", 1)[1])
    return index


_state_cache: dict[tuple[str, str], str | None] = {}


def state_code(country: str, value: str) -> str | None:
    """The ISO 3166-2 subdivision code without the country prefix ('CA', 'BY', 'NSW')."""
    try:
        return _state_cache[country, value]
    except KeyError:
        pass
    index = _state_index(country)
    key = place_key(value)
    code = None if value.strip().casefold() in PLACEHOLDERS else index.get(key)
    prefix = country.lower() + " "
    if code is None and key.startswith(prefix):  # "US-CA", "us ca"
        code = index.get(key[len(prefix) :])
    if len(_state_cache) < _CACHE_LIMIT:
        _state_cache[country, value] = code
    return code


# States are read without a country only where the value belongs to exactly one of these.
STATE_INFERENCE_COUNTRIES = ("US", "CA", "AU")


def country_of_state(value: str) -> str | None:
    """The country a bare state belongs to when that is unambiguous ('Texas' -> 'US';
    'WA' is Washington or Western Australia, so None)."""
    found = {c for c in STATE_INFERENCE_COUNTRIES if state_code(c, value) is not None}
    return found.pop() if len(found) == 1 else None


# --- time zones -----------------------------------------------------------------------------


def _by_zone(table: Mapping[str, str]) -> dict[str, str]:
    return {state: zone for zone, states in table.items() for state in states.split()}


# The zone most of each subdivision's people and businesses keep (split states take the
# majority zone: Texas -> Chicago, Florida -> New York, Indiana -> Indianapolis).
STATE_ZONES: Mapping[str, Mapping[str, str]] = {
    "US": _by_zone(
        {
            "America/New_York": "CT DC DE FL GA KY MA MD ME NC NH NJ NY OH PA RI SC VA VT WV",
            "America/Detroit": "MI",
            "America/Indiana/Indianapolis": "IN",
            "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI",
            "America/Denver": "CO MT NM UT WY",
            "America/Boise": "ID",
            "America/Phoenix": "AZ",
            "America/Los_Angeles": "CA NV OR WA",
            "America/Anchorage": "AK",
            "Pacific/Honolulu": "HI",
            "America/Puerto_Rico": "PR",
            "America/St_Thomas": "VI",
            "Pacific/Guam": "GU",
            "Pacific/Saipan": "MP",
            "Pacific/Pago_Pago": "AS",
        }
    ),
    "CA": _by_zone(
        {
            "America/Toronto": "ON QC",
            "America/Vancouver": "BC",
            "America/Edmonton": "AB NT",
            "America/Winnipeg": "MB",
            "America/Regina": "SK",
            "America/Halifax": "NS PE",
            "America/Moncton": "NB",
            "America/St_Johns": "NL",
            "America/Whitehorse": "YT",
            "America/Iqaluit": "NU",
        }
    ),
    "AU": _by_zone(
        {
            "Australia/Sydney": "NSW ACT",
            "Australia/Melbourne": "VIC",
            "Australia/Brisbane": "QLD",
            "Australia/Adelaide": "SA",
            "Australia/Perth": "WA",
            "Australia/Hobart": "TAS",
            "Australia/Darwin": "NT",
        }
    ),
    "BR": _by_zone(
        {
            "America/Sao_Paulo": "SP RJ MG ES PR SC RS GO DF",
            "America/Bahia": "BA",
            "America/Fortaleza": "CE MA PI RN PB",
            "America/Recife": "PE",
            "America/Maceio": "AL SE",
            "America/Belem": "PA AP",
            "America/Araguaina": "TO",
            "America/Manaus": "AM",
            "America/Cuiaba": "MT",
            "America/Campo_Grande": "MS",
            "America/Porto_Velho": "RO",
            "America/Boa_Vista": "RR",
            "America/Rio_Branco": "AC",
        }
    ),
    "MX": _by_zone(
        {
            "America/Tijuana": "BCN",
            "America/Mazatlan": "BCS SIN NAY",
            "America/Hermosillo": "SON",
            "America/Chihuahua": "CHH",
            "America/Cancun": "ROO",
            "America/Mexico_City": "AGU CAM CHP CMX COA COL DUR GRO GUA HID JAL MEX MIC MOR "
            "NLE OAX PUE QUE SLP TAB TAM TLA VER YUC ZAC",
        }
    ),
}

# Countries with more than one zone in zone.tab where one zone holds nearly everyone.
MAIN_ZONES: Mapping[str, str] = {
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "CN": "Asia/Shanghai",
    "NZ": "Pacific/Auckland",
    "UA": "Europe/Kyiv",
    "MY": "Asia/Kuala_Lumpur",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "AR": "America/Argentina/Buenos_Aires",
    "UZ": "Asia/Tashkent",
    "KZ": "Asia/Almaty",
}


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _country_zones() -> dict[str, str]:
    """Country -> its only zone, from the tz database's zone.tab, plus MAIN_ZONES."""
    text = ""
    with contextlib.suppress(ModuleNotFoundError, OSError):
        text = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    zones: dict[str, set[str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            zones.setdefault(parts[0], set()).add(parts[2])
    single = {c: next(iter(z)) for c, z in zones.items() if len(z) == 1}
    return {**single, **MAIN_ZONES}


# zipcodes' functions carry no annotations; this names the one shape used here.
_list_zips: Callable[[], list[dict[str, Any]]] = zipcodes.list_all


@cache
def _zip_zones() -> dict[str, str]:
    """US ZIP (5 digits) -> IANA zone, from the zipcodes package (loaded once, ~0.3 s)."""
    known = iana_zones()
    return {
        row["zip_code"]: row["timezone"]
        for row in _list_zips()
        if row.get("timezone") in known and row.get("country") in ("US", "")
    }


def warm_up() -> None:
    """Load every table now, so the first lead does not pay for it."""
    _country_index()
    _country_zones()
    _zip_zones()
    for country in (*STATE_INFERENCE_COUNTRIES, *STATE_ZONES):
        _state_index(country)


@lru_cache(maxsize=4096)
def _phone_zone(phone_e164: str) -> str | None:
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return None
    zones = phone_zones.time_zones_for_number(number)
    if len(zones) == 1 and zones[0] in iana_zones():
        return zones[0]
    return None


def infer_timezone(
    country: str | None, state: str | None, postal_code: str | None, phone_e164: str | None
) -> str | None:
    """The lead's IANA zone from, in order: its US ZIP; its country and state; its phone
    number's area code; its country when that keeps one zone. None when none of them says.

    Expects normalised values: ISO alpha-2 country, subdivision code without the prefix,
    a 5-digit ZIP for the US, an E.164 phone number.
    """
    if country == "US" and postal_code and (len(postal_code) == 5 or postal_code[5:6] == "-"):
        zone = _zip_zones().get(postal_code[:5])
        if zone:
            return zone
    if country and state:
        zone = STATE_ZONES.get(country, {}).get(state)
        if zone:
            return zone
    if phone_e164:
        zone = _phone_zone(phone_e164)
        if zone:
            return zone
    if country:
        return _country_zones().get(country)
    return None
