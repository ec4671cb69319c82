"""A sample B2B sales organisation: reps, teams, territories, segments and accounts.

The rep roster, teams, territories and segments are fixed (so shipped templates can name them);
the ~600 accounts and their owners are drawn from a seeded `random.Random`, so the same seed
always gives the same document. Nothing reads the wall clock.

The result of `sample_org_doc` has the shape of an org YAML file (see
`leadroute.adapters.orgfile`) and loads with `org_from_doc`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

ORG_DOMAIN = "leadroute-demo.example"
BOOKING_BASE = f"https://meet.{ORG_DOMAIN}"

REGIONS: tuple[str, ...] = ("NA", "EMEA", "APAC", "LATAM")

INDUSTRIES: tuple[str, ...] = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
    "Energy",
    "Government",
    "Professional Services",
)

OPPORTUNITY_STAGES: tuple[str, ...] = ("Discovery", "Demo", "Proposal", "Negotiation")

# --- territories -------------------------------------------------------------------------------

NA_WEST_SUBDIVISIONS: tuple[str, ...] = (
    "US-CA",
    "US-WA",
    "US-OR",
    "US-NV",
    "US-AZ",
    "US-UT",
    "US-CO",
    "US-ID",
    "US-MT",
    "US-WY",
    "US-NM",
    "US-AK",
    "US-HI",
    "CA-BC",
    "CA-AB",
    "CA-SK",
    "CA-YT",
    "CA-NT",
)
NA_COUNTRIES: tuple[str, ...] = ("US", "CA", "PR")
EMEA_COUNTRIES: tuple[str, ...] = (
    "GB",
    "IE",
    "DE",
    "AT",
    "CH",
    "FR",
    "BE",
    "NL",
    "LU",
    "ES",
    "PT",
    "IT",
    "MT",
    "CY",
    "GR",
    "SE",
    "NO",
    "DK",
    "FI",
    "IS",
    "EE",
    "LV",
    "LT",
    "PL",
    "CZ",
    "SK",
    "HU",
    "SI",
    "HR",
    "RS",
    "RO",
    "BG",
    "UA",
    "TR",
    "IL",
    "AE",
    "SA",
    "QA",
    "KW",
    "BH",
    "OM",
    "JO",
    "EG",
    "MA",
    "TN",
    "NG",
    "GH",
    "KE",
    "ZA",
)
APAC_COUNTRIES: tuple[str, ...] = (
    "SG",
    "AU",
    "NZ",
    "JP",
    "KR",
    "CN",
    "HK",
    "TW",
    "IN",
    "ID",
    "MY",
    "TH",
    "PH",
    "VN",
    "PK",
    "BD",
    "LK",
)
LATAM_COUNTRIES: tuple[str, ...] = (
    "MX",
    "BR",
    "AR",
    "CL",
    "CO",
    "PE",
    "UY",
    "EC",
    "CR",
    "PA",
    "DO",
    "GT",
    "VE",
    "BO",
    "PY",
)
BAY_AREA_POSTAL = "US:940-951"


def _territories() -> list[dict[str, Any]]:
    # Order matters only to the flows that use them: a flow must test na_west (and bay_area)
    # before na_east, because na_east takes every US/CA lead by country.
    return [
        {"id": "bay_area", "name": "SF Bay Area (US ZIP 940xx-951xx)", "postal": [BAY_AREA_POSTAL]},
        {"id": "na_west", "name": "North America West", "subdivisions": list(NA_WEST_SUBDIVISIONS)},
        {
            "id": "na_east",
            "name": "North America East and Central (rest of US/CA)",
            "countries": list(NA_COUNTRIES),
        },
        {"id": "emea", "name": "Europe, Middle East and Africa", "countries": list(EMEA_COUNTRIES)},
        {"id": "apac", "name": "Asia-Pacific", "countries": list(APAC_COUNTRIES)},
        {"id": "latam", "name": "Latin America", "countries": list(LATAM_COUNTRIES)},
    ]


def _segments() -> list[dict[str, Any]]:
    return [
        {"id": "A", "name": "Small business (<20 employees)", "field": "employees", "max": 20},
        {"id": "B", "name": "Commercial (20-99)", "field": "employees", "min": 20, "max": 100},
        {"id": "C", "name": "Mid-market (100-499)", "field": "employees", "min": 100, "max": 500},
        {"id": "D", "name": "Enterprise (500+)", "field": "employees", "min": 500},
    ]


# --- reps and teams ----------------------------------------------------------------------------

STANDARD_HOURS = "mon-fri 09:00-17:30"


@dataclass(frozen=True)
class _RepSpec:
    id: str
    name: str
    role: str
    teams: tuple[str, ...]
    timezone: str
    manager: str | None = None
    hours: str | dict[str, list[str]] = STANDARD_HOURS
    weight: float | None = None
    caps: dict[str, int] = field(default_factory=dict)
    status: str = "active"
    ooo: tuple[tuple[date, date, str], ...] = ()


_NY, _CHI, _DEN, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
_LON, _BER, _PAR = "Europe/London", "Europe/Berlin", "Europe/Paris"
_SG, _SYD, _TYO = "Asia/Singapore", "Australia/Sydney", "Asia/Tokyo"

ROSTER: tuple[_RepSpec, ...] = (
    # managers: not in any selling team, so never in a pool built from teams
    _RepSpec("olivia.bennett", "Olivia Bennett", "manager", (), _NY),
    _RepSpec("marcus.reed", "Marcus Reed", "manager", (), _CHI),
    _RepSpec("sophie.laurent", "Sophie Laurent", "manager", (), _PAR),
    _RepSpec("mei.tan", "Mei Tan", "manager", (), _SG),
    _RepSpec("daniel.okafor", "Daniel Okafor", "manager", (), _NY),
    _RepSpec("rachel.kim", "Rachel Kim", "manager", (), _LA),
    # North America SDRs
    _RepSpec(
        "jasmine.patel",
        "Jasmine Patel",
        "SDR",
        ("na_sdr", "na_east_sdr"),
        _NY,
        "olivia.bennett",
        ooo=((date(2026, 11, 23), date(2026, 11, 27), "vacation"),),
    ),
    _RepSpec(
        "tyler.brooks",
        "Tyler Brooks",
        "SDR",
        ("na_sdr", "na_east_sdr"),
        _NY,
        "olivia.bennett",
        weight=1.2,
    ),
    _RepSpec(
        "aisha.johnson",
        "Aisha Johnson",
        "SDR",
        ("na_sdr", "na_east_sdr"),
        _CHI,
        "olivia.bennett",
        hours="mon-fri 08:00-16:30",
    ),
    _RepSpec(
        "kevin.nguyen",
        "Kevin Nguyen",
        "SDR",
        ("na_sdr", "na_west_sdr"),
        _LA,
        "olivia.bennett",
        hours="mon-fri 07:00-15:30",
    ),
    _RepSpec(
        "emily.carter",
        "Emily Carter",
        "SDR",
        ("na_sdr", "na_west_sdr"),
        _LA,
        "olivia.bennett",
        weight=0.8,
    ),
    _RepSpec(
        "diego.ramirez",
        "Diego Ramírez",
        "SDR",
        ("na_sdr", "na_west_sdr"),
        _DEN,
        "olivia.bennett",
        hours="mon-fri 08:00-16:30",
    ),
    # North America AEs
    _RepSpec(
        "ryan.mitchell",
        "Ryan Mitchell",
        "AE",
        ("na_ae", "na_east_ae", "vertical_public", "product_payments"),
        _NY,
        "marcus.reed",
        weight=1.3,
        caps={"day": 30, "week": 120},
    ),
    _RepSpec(
        "priya.shah",
        "Priya Shah",
        "AE",
        ("na_ae", "na_east_ae", "vertical_fins", "product_payments"),
        _NY,
        "marcus.reed",
        weight=1.5,
    ),
    _RepSpec(
        "greg.holloway",
        "Greg Holloway",
        "AE",
        ("na_ae", "na_east_ae"),
        _CHI,
        "marcus.reed",
        status="inactive",
    ),
    _RepSpec(
        "natalie.wood",
        "Natalie Wood",
        "AE",
        ("na_ae", "na_east_ae", "vertical_health", "product_analytics"),
        _CHI,
        "marcus.reed",
        caps={"day": 25},
    ),
    _RepSpec(
        "jordan.lee",
        "Jordan Lee",
        "AE",
        ("na_ae", "na_west_ae", "vertical_industrial", "product_analytics"),
        _LA,
        "marcus.reed",
        hours="mon-fri 07:00-15:30",
        weight=1.1,
    ),
    _RepSpec(
        "camila.torres",
        "Camila Torres",
        "AE",
        ("na_ae", "na_west_ae", "vertical_health", "product_platform"),
        _LA,
        "marcus.reed",
        weight=0.7,
    ),
    # EMEA SDRs
    _RepSpec("oliver.hughes", "Oliver Hughes", "SDR", ("emea_sdr",), _LON, "sophie.laurent"),
    _RepSpec(
        "lena.fischer",
        "Lena Fischer",
        "SDR",
        ("emea_sdr",),
        _BER,
        "sophie.laurent",
        status="paused",
    ),
    _RepSpec(
        "lucas.martin",
        "Lucas Martin",
        "SDR",
        ("emea_sdr",),
        _PAR,
        "sophie.laurent",
        caps={"day": 40},
    ),
    _RepSpec(
        "chloe.dubois", "Chloé Dubois", "SDR", ("emea_sdr",), _PAR, "sophie.laurent", weight=0.9
    ),
    # EMEA AEs
    _RepSpec(
        "james.whitaker",
        "James Whitaker",
        "AE",
        ("emea_ae", "vertical_fins", "product_payments"),
        _LON,
        "sophie.laurent",
        weight=1.4,
    ),
    _RepSpec(
        "anna.schmidt",
        "Anna Schmidt",
        "AE",
        ("emea_ae", "vertical_public"),
        _BER,
        "sophie.laurent",
        ooo=((date(2026, 12, 21), date(2027, 1, 1), "holiday"),),
    ),
    _RepSpec(
        "thomas.mueller",
        "Thomas Müller",
        "AE",
        ("emea_ae", "vertical_industrial"),
        _BER,
        "sophie.laurent",
        weight=0.6,
        caps={"week": 60},
    ),
    _RepSpec(
        "elena.rossi",
        "Elena Rossi",
        "AE",
        ("emea_ae", "vertical_health", "product_analytics"),
        _PAR,
        "sophie.laurent",
        hours={"mon-fri": ["09:00-12:30", "13:30-18:00"]},
    ),
    # APAC SDRs
    _RepSpec("wei.lim", "Wei Lim", "SDR", ("apac_sdr",), _SG, "mei.tan"),
    _RepSpec(
        "hannah.cooper",
        "Hannah Cooper",
        "SDR",
        ("apac_sdr",),
        _SYD,
        "mei.tan",
        hours="mon-fri 08:30-17:00",
    ),
    _RepSpec("kenji.sato", "Kenji Sato", "SDR", ("apac_sdr",), _TYO, "mei.tan"),
    # APAC AEs
    _RepSpec(
        "arjun.mehta",
        "Arjun Mehta",
        "AE",
        ("apac_ae", "vertical_industrial", "product_platform"),
        _SG,
        "mei.tan",
        weight=1.2,
    ),
    _RepSpec(
        "grace.wong",
        "Grace Wong",
        "AE",
        ("apac_ae",),
        _SYD,
        "mei.tan",
        ooo=((date(2026, 11, 16), date(2026, 11, 20), "conference"),),
    ),
    _RepSpec(
        "yuki.tanaka",
        "Yuki Tanaka",
        "AE",
        ("apac_ae", "product_analytics"),
        _TYO,
        "mei.tan",
        hours="mon-fri 09:30-18:00",
    ),
    # Strategic (enterprise) AEs
    _RepSpec(
        "alexander.grant",
        "Alexander Grant",
        "AE",
        ("strategic_ae", "vertical_fins", "product_platform"),
        _NY,
        "daniel.okafor",
        caps={"week": 25},
    ),
    _RepSpec(
        "victoria.hale",
        "Victoria Hale",
        "AE",
        ("strategic_ae", "vertical_health"),
        _LA,
        "daniel.okafor",
        hours="mon-fri 08:00-17:00",
    ),
    _RepSpec(
        "sebastian.vogel",
        "Sebastian Vogel",
        "AE",
        ("strategic_ae", "product_platform"),
        _LON,
        "daniel.okafor",
        weight=1.2,
    ),
    _RepSpec(
        "isabella.moreau",
        "Isabella Moreau",
        "AE",
        ("strategic_ae",),
        _PAR,
        "daniel.okafor",
        ooo=((date(2026, 12, 7), date(2026, 12, 11), "vacation"),),
    ),
    # Customer success
    _RepSpec("michael.chen", "Michael Chen", "CSM", ("csm",), _LA, "rachel.kim"),
    _RepSpec("laura.garcia", "Laura García", "CSM", ("csm",), _CHI, "rachel.kim"),
    _RepSpec("niamh.obrien", "Niamh O'Brien", "CSM", ("csm",), _LON, "rachel.kim"),
    _RepSpec("ravi.kumar", "Ravi Kumar", "CSM", ("csm",), _SG, "rachel.kim"),
)

TEAMS: tuple[tuple[str, str, str], ...] = (
    # id, name, manager
    ("na_sdr", "North America SDRs", "olivia.bennett"),
    ("na_east_sdr", "North America East SDR pod", "olivia.bennett"),
    ("na_west_sdr", "North America West SDR pod", "olivia.bennett"),
    ("na_ae", "North America Account Executives", "marcus.reed"),
    ("na_east_ae", "North America East AE pod", "marcus.reed"),
    ("na_west_ae", "North America West AE pod", "marcus.reed"),
    ("emea_sdr", "EMEA SDRs", "sophie.laurent"),
    ("emea_ae", "EMEA Account Executives", "sophie.laurent"),
    ("apac_sdr", "APAC SDRs", "mei.tan"),
    ("apac_ae", "APAC Account Executives", "mei.tan"),
    ("strategic_ae", "Strategic / Enterprise AEs", "daniel.okafor"),
    ("csm", "Customer Success Managers", "rachel.kim"),
    ("vertical_fins", "Financial Services specialists (overlay)", "daniel.okafor"),
    ("vertical_health", "Healthcare specialists (overlay)", "daniel.okafor"),
    ("vertical_public", "Public sector and Education specialists (overlay)", "marcus.reed"),
    (
        "vertical_industrial",
        "Manufacturing, Logistics and Energy specialists (overlay)",
        "marcus.reed",
    ),
    ("product_payments", "Payments product specialists (overlay)", "marcus.reed"),
    ("product_analytics", "Analytics product specialists (overlay)", "marcus.reed"),
    ("product_platform", "Platform product specialists (overlay)", "daniel.okafor"),
)

# Which AEs own accounts in each region (strategic AEs own enterprise accounts of NA and EMEA).
REGION_AES: dict[str, tuple[str, ...]] = {
    "NA": (
        "ryan.mitchell",
        "priya.shah",
        "greg.holloway",
        "natalie.wood",
        "jordan.lee",
        "camila.torres",
    ),
    "EMEA": ("james.whitaker", "anna.schmidt", "thomas.mueller", "elena.rossi"),
    "APAC": ("arjun.mehta", "grace.wong", "yuki.tanaka"),
    "LATAM": ("ryan.mitchell", "priya.shah", "natalie.wood"),
}
REGION_STRATEGIC: dict[str, tuple[str, ...]] = {
    "NA": ("alexander.grant", "victoria.hale"),
    "EMEA": ("sebastian.vogel", "isabella.moreau"),
    "APAC": ("arjun.mehta", "yuki.tanaka"),
    "LATAM": ("alexander.grant",),
}
REGION_CSMS: dict[str, tuple[str, ...]] = {
    "NA": ("michael.chen", "laura.garcia"),
    "EMEA": ("niamh.obrien",),
    "APAC": ("ravi.kumar",),
    "LATAM": ("laura.garcia",),
}


def _rep_doc(spec: _RepSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "email": f"{spec.id}@{ORG_DOMAIN}",
        "role": spec.role,
        "teams": list(spec.teams),
        "timezone": spec.timezone,
        "working_hours": spec.hours if isinstance(spec.hours, str) else dict(spec.hours),
    }
    if spec.status != "active":
        doc["status"] = spec.status
    if spec.weight is not None:
        doc["weight"] = spec.weight
    if spec.caps:
        doc["caps"] = dict(spec.caps)
    if spec.ooo:
        doc["out_of_office"] = [{"start": s, "end": e, "reason": r} for s, e, r in spec.ooo]
    if spec.role in ("SDR", "AE", "CSM"):
        doc["booking_link"] = f"{BOOKING_BASE}/{spec.id.replace('.', '-')}"
    if spec.manager:
        doc["manager"] = spec.manager
    return doc


def _team_docs() -> list[dict[str, Any]]:
    return [
        {
            "id": team_id,
            "name": name,
            "manager": manager,
            "members": [r.id for r in ROSTER if team_id in r.teams],
        }
        for team_id, name, manager in TEAMS
    ]


# --- accounts ----------------------------------------------------------------------------------

_ONSETS = (
    "b",
    "br",
    "c",
    "cl",
    "d",
    "dr",
    "f",
    "fl",
    "g",
    "gr",
    "h",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "qu",
    "r",
    "s",
    "st",
    "t",
    "tr",
    "v",
    "z",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "y")
_CODAS = ("", "", "n", "r", "l", "x", "s", "nt", "rn", "m", "v", "th", "ck")
_ENDINGS = (
    "ex",
    "ora",
    "ium",
    "ify",
    "ica",
    "ara",
    "eon",
    "yx",
    "ent",
    "ova",
    "ic",
    "is",
    "o",
    "a",
    "ia",
    "ar",
    "um",
    "en",
)
_WORDS = (
    "North",
    "Blue",
    "Silver",
    "Cedar",
    "Harbor",
    "Summit",
    "Granite",
    "Maple",
    "Copper",
    "Willow",
    "Beacon",
    "Meridian",
    "Falcon",
    "Juniper",
    "Orchard",
    "Ridge",
    "Lantern",
    "Prairie",
    "Tidal",
    "Ember",
    "Aspen",
    "Cobalt",
    "Quarry",
    "Marble",
    "Harvest",
)

_INDUSTRY_NOUNS: dict[str, tuple[str, ...]] = {
    "Software": ("Labs", "Software", "Systems", "Cloud", "Data", "AI"),
    "Financial Services": ("Capital", "Financial", "Bancorp", "Partners", "Insurance", "Pay"),
    "Healthcare": ("Health", "Medical", "Bio", "Clinics", "Care", "Pharma"),
    "Manufacturing": ("Industries", "Manufacturing", "Components", "Works", "Materials"),
    "Retail": ("Retail", "Goods", "Outfitters", "Market", "Brands", "Stores"),
    "Education": ("Learning", "Academy", "University", "Education", "Schools"),
    "Media": ("Media", "Studios", "Publishing", "Network", "Digital"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Supply"),
    "Energy": ("Energy", "Power", "Renewables", "Utilities", "Solar"),
    "Government": ("County", "Authority", "Agency", "Council", "Department"),
    "Professional Services": ("Consulting", "Advisors", "Group", "Associates", "Legal"),
}
_INDUSTRY_WEIGHTS = (24, 14, 10, 10, 8, 6, 6, 6, 5, 3, 8)

# Company name suffixes and top-level domains by headquarters country.
_LEGAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp.", ""),
    "CA": ("Inc.", "Ltd.", ""),
    "GB": ("Ltd", "plc", ""),
    "IE": ("Ltd", ""),
    "DE": ("GmbH", "AG", ""),
    "AT": ("GmbH",),
    "CH": ("AG", "SA"),
    "FR": ("SAS", "SA", ""),
    "NL": ("B.V.", ""),
    "ES": ("S.L.", "S.A."),
    "IT": ("S.p.A.", "S.r.l."),
    "SE": ("AB",),
    "DK": ("A/S",),
    "PL": ("Sp. z o.o.",),
    "IL": ("Ltd",),
    "AE": ("LLC", "FZ-LLC"),
    "ZA": ("(Pty) Ltd",),
    "AU": ("Pty Ltd", ""),
    "NZ": ("Ltd",),
    "SG": ("Pte. Ltd.", ""),
    "JP": ("K.K.", ""),
    "IN": ("Pvt. Ltd.", ""),
    "BR": ("Ltda.", "S.A."),
    "MX": ("S.A. de C.V.",),
}
_TLDS: dict[str, tuple[str, ...]] = {
    "US": ("com", "com", "com", "io", "ai", "co"),
    "CA": ("ca", "com"),
    "GB": ("co.uk", "com"),
    "IE": ("ie", "com"),
    "DE": ("de", "de", "com"),
    "AT": ("at",),
    "CH": ("ch",),
    "FR": ("fr", "com"),
    "NL": ("nl", "com"),
    "ES": ("es",),
    "IT": ("it",),
    "SE": ("se",),
    "DK": ("dk",),
    "PL": ("pl",),
    "IL": ("co.il", "com"),
    "AE": ("ae", "com"),
    "ZA": ("co.za",),
    "AU": ("com.au",),
    "NZ": ("co.nz",),
    "SG": ("com.sg", "sg"),
    "JP": ("co.jp", "jp"),
    "IN": ("in", "co.in", "com"),
    "BR": ("com.br",),
    "MX": ("com.mx", "mx"),
}
ACCOUNT_COUNTRIES: dict[str, tuple[tuple[str, int], ...]] = {
    "NA": (("US", 86), ("CA", 14)),
    "EMEA": (
        ("GB", 28),
        ("DE", 20),
        ("FR", 12),
        ("NL", 8),
        ("IE", 5),
        ("ES", 5),
        ("IT", 4),
        ("SE", 4),
        ("CH", 3),
        ("DK", 2),
        ("PL", 2),
        ("AT", 2),
        ("IL", 2),
        ("AE", 2),
        ("ZA", 1),
    ),
    "APAC": (("AU", 30), ("SG", 20), ("JP", 18), ("IN", 22), ("NZ", 10)),
    "LATAM": (("BR", 55), ("MX", 45)),
}
# Country-code TLDs that reveal an account's headquarters country.
TLD_COUNTRY: dict[str, str] = {
    tld: country
    for country, tlds in _TLDS.items()
    for tld in tlds
    if tld not in ("com", "io", "ai", "co")
}

ACCOUNT_COUNTS: dict[str, int] = {"NA": 330, "EMEA": 180, "APAC": 78, "LATAM": 12}


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def company_stem(rng: random.Random) -> str:
    """An invented brand-like word, e.g. 'Vortalex' or 'Silver Brenova'."""
    syllables = rng.choice((1, 2, 2, 2))
    word = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    ) + rng.choice(_ENDINGS)
    word = word.capitalize()
    if rng.random() < 0.15:
        word = f"{rng.choice(_WORDS)} {word}"
    return word


def company_employees(rng: random.Random, bands: Sequence[tuple[int, int, int]]) -> int:
    """Employees drawn from (low, high, weight) bands, log-uniform inside the band."""
    low, high, _ = rng.choices(bands, weights=[w for *_, w in bands])[0]
    value: int = round(low * (high / low) ** rng.random())
    return max(1, value)


ACCOUNT_SIZE_BANDS: tuple[tuple[int, int, int], ...] = (
    (3, 19, 22),
    (20, 99, 30),
    (100, 499, 28),
    (500, 5000, 15),
    (5000, 60000, 5),
)


def make_company(
    rng: random.Random, country: str, industry: str, taken: set[str]
) -> tuple[str, str]:
    """A unique (company name, domain) pair for an invented company in `country`."""
    while True:
        stem = company_stem(rng)
        noun = rng.choice(_INDUSTRY_NOUNS[industry]) if rng.random() < 0.7 else ""
        tld = rng.choice(_TLDS.get(country, ("com",)))
        slug = stem.lower().replace(" ", "")
        if noun and rng.random() < 0.4:
            slug += noun.lower()
        domain = f"{slug}.{tld}"
        suffix = rng.choice(_LEGAL_SUFFIX.get(country, ("",)))
        name = " ".join(part for part in (stem, noun, suffix) if part)
        if domain in taken or f"name:{name}" in taken:
            continue
        taken.update((domain, f"name:{name}"))
        return name, domain


def _accounts(rng: random.Random) -> list[dict[str, Any]]:
    taken: set[str] = set()
    accounts: list[dict[str, Any]] = []
    for region in REGIONS:
        for i in range(1, ACCOUNT_COUNTS[region] + 1):
            country = _weighted(rng, ACCOUNT_COUNTRIES[region])
            industry = rng.choices(INDUSTRIES, weights=_INDUSTRY_WEIGHTS)[0]
            name, domain = make_company(rng, country, industry, taken)
            employees = company_employees(rng, ACCOUNT_SIZE_BANDS)
            accounts.append(
                {
                    "id": f"acc-{region.lower()}-{i:04d}",
                    "name": name,
                    "domain": domain,
                    "industry": industry,
                    "employees": employees,
                    "status": "prospect",
                }
            )
    by_region = {r: [a for a in accounts if account_region(a) == r] for r in REGIONS}

    # Parent/subsidiary pairs: the subsidiary has no owner, the parent is named and owned.
    parents = rng.sample([a for a in accounts if a["employees"] >= 500], 16)
    subsidiaries: list[dict[str, Any]] = []
    for parent in parents:
        region = account_region(parent)
        country = _weighted(rng, ACCOUNT_COUNTRIES[region])
        words = parent["name"].split(" ")
        stem = " ".join(words[:2]) if words[0] in _WORDS and len(words) > 1 else words[0]
        tld = rng.choice(_TLDS.get(country, ("com",)))
        label = rng.choice(("Labs", "Services", "Digital", "Solutions", "Ventures", "Group"))
        domain = f"{stem.lower().replace(' ', '')}{label.lower()}.{tld}"
        name = f"{stem} {label}"
        if domain in taken or f"name:{name}" in taken:
            continue
        taken.update((domain, f"name:{name}"))
        sub_id = f"{parent['id']}-s"
        parent["named"] = True
        subsidiaries.append(
            {
                "id": sub_id,
                "name": name,
                "domain": domain,
                "parent": parent["id"],
                "industry": parent["industry"],
                "employees": max(20, parent["employees"] // rng.randint(4, 20)),
                "status": "prospect",
                "named": rng.random() < 0.6,
            }
        )

    # Named accounts: the parents above plus the largest-looking prospects, ~60 in all.
    named = len(parents) + sum(1 for s in subsidiaries if s["named"])
    candidates = [a for a in accounts if not a.get("named") and a["employees"] >= 100]
    ranked = sorted(candidates, key=lambda a: -a["employees"] * rng.uniform(0.2, 1.0))
    for account in ranked[: max(0, 60 - named)]:
        account["named"] = True

    for region in REGIONS:
        for account in by_region[region]:
            if account.get("named"):
                account["owner"] = _region_owner(rng, region, account["employees"])
            roll = rng.random()
            if roll < 0.17:
                account["status"] = "customer"
                if "owner" not in account:
                    owner_roll = rng.random()
                    if owner_roll < 0.5:
                        account["owner"] = rng.choice(REGION_CSMS[region])
                    elif owner_roll < 0.85:
                        account["owner"] = _region_owner(rng, region, account["employees"])
            elif roll < 0.29:
                account["opportunity_stage"] = rng.choice(OPPORTUNITY_STAGES)
                account.setdefault("owner", _region_owner(rng, region, account["employees"]))
            elif roll < 0.37 and "owner" not in account:
                account["owner"] = _region_owner(rng, region, account["employees"])
    accounts += subsidiaries
    accounts.sort(key=lambda a: str(a["id"]))
    return [_tidy(a) for a in accounts]


def _region_owner(rng: random.Random, region: str, employees: int) -> str:
    pool = REGION_STRATEGIC[region] if employees >= 500 else REGION_AES[region]
    return rng.choice(pool)


def _tidy(account: dict[str, Any]) -> dict[str, Any]:
    order = (
        "id",
        "name",
        "domain",
        "parent",
        "owner",
        "status",
        "opportunity_stage",
        "named",
        "industry",
        "employees",
    )
    tidy = {k: account[k] for k in order if account.get(k) not in (None, False)}
    return tidy


def account_region(account: dict[str, Any]) -> str:
    """The sales region of a sample account, encoded in its id ('acc-emea-0042')."""
    parts = str(account.get("id", "")).split("-")
    region = parts[1].upper() if len(parts) > 1 else ""
    return region if region in REGIONS else "NA"


def account_country(account: dict[str, Any]) -> str:
    """Headquarters country of a sample account: from a country-code TLD, else by region."""
    domain = str(account.get("domain") or "")
    for tld, country in sorted(TLD_COUNTRY.items(), key=lambda kv: -len(kv[0])):
        if domain.endswith("." + tld):
            return country
    return _weighted(
        random.Random(str(account.get("id"))), ACCOUNT_COUNTRIES[account_region(account)]
    )


# --- the document ------------------------------------------------------------------------------


def sample_org_doc(seed: int = 7) -> dict[str, Any]:
    """The sample org as an orgfile document (reps, teams, territories, segments, accounts)."""
    rng = random.Random(seed)
    return {
        "reps": [_rep_doc(spec) for spec in ROSTER],
        "teams": _team_docs(),
        "territories": _territories(),
        "segments": _segments(),
        "accounts": _accounts(rng),
    }
