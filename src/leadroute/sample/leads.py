"""A deterministic generator of sample B2B leads for the sample org.

`generate_leads(org_doc, n, seed)` returns lead rows (plain dicts keyed by leadroute field
names) drawn from a seeded `random.Random`: the same org document, count and seed always give
the same rows. No wall clock is read; `received_at` spans the three weeks ending 2026-11-20.

The mix, roughly:
- regions NA 55% / EMEA 30% / APAC 12% / LATAM 3% (by the lead's country; ~2% have no country);
- ~35% of leads work at one of the org's accounts (email at the account's domain);
- ~8% use a free-mail address (gmail.com, ...), ~1% have no email (phone only), ~1% are
  re-submissions of an earlier lead's email;
- a few percent miss industry (~4%) or employees (~5%);
- channels: web forms ~47%, list imports ~24%, outbound lists ~15%, api ~8%, manual ~6%.

Malformed rows: every `MALFORMED_EVERY`-th row (ids lead-00500, lead-01000, ...) is deliberately
broken so that the intake's rejection path is exercised; the defects cycle through: employees
"lots" (not a number); nothing that identifies the lead (no email, company, last name, phone,
domain or website); annual_revenue "approx. 5M" (not a number). These are exactly the rows
`leadroute.adapters.leadfile.build_lead` rejects. `malformed_reason(row)` says what is wrong
with a row (None for a sound row); with n=10,000 there are exactly 20 malformed rows.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from leadroute.sample.org import (
    INDUSTRIES,
    account_country,
    account_region,
    company_employees,
    make_company,
    sample_org_doc,
)

Row = dict[str, object]

MALFORMED_EVERY = 500
_IDENTIFYING = ("email", "company", "last_name", "phone", "domain")
WINDOW_START = datetime(2026, 10, 31, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 21, tzinfo=UTC)  # exclusive: the last leads arrive on 2026-11-20

REGION_SHARE: tuple[tuple[str, int], ...] = (("NA", 55), ("EMEA", 30), ("APAC", 12), ("LATAM", 3))
ACCOUNT_SHARE = 0.35

FIELD_ORDER: tuple[str, ...] = (
    "id",
    "first_name",
    "last_name",
    "email",
    "company",
    "domain",
    "website",
    "title",
    "phone",
    "country",
    "state",
    "city",
    "postal_code",
    "industry",
    "employees",
    "annual_revenue",
    "lead_source",
    "channel",
    "product_interest",
    "request_type",
    "lead_type",
    "score",
    "received_at",
)

FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "proton.me",
    "live.com",
    "gmx.de",
    "web.de",
    "orange.fr",
    "yahoo.co.uk",
    "hotmail.co.uk",
    "yahoo.co.jp",
    "qq.com",
    "163.com",
    "naver.com",
    "bol.com.br",
    "yahoo.com.mx",
)
_FREE_MAIL_BY_REGION: dict[str, tuple[tuple[str, int], ...]] = {
    "NA": (
        ("gmail.com", 55),
        ("yahoo.com", 12),
        ("outlook.com", 10),
        ("hotmail.com", 8),
        ("icloud.com", 8),
        ("aol.com", 3),
        ("proton.me", 2),
        ("live.com", 2),
    ),
    "EMEA": (
        ("gmail.com", 50),
        ("outlook.com", 10),
        ("hotmail.co.uk", 6),
        ("yahoo.co.uk", 5),
        ("gmx.de", 9),
        ("web.de", 6),
        ("orange.fr", 6),
        ("proton.me", 4),
        ("live.com", 4),
    ),
    "APAC": (
        ("gmail.com", 55),
        ("yahoo.co.jp", 10),
        ("qq.com", 10),
        ("163.com", 5),
        ("naver.com", 7),
        ("outlook.com", 8),
        ("hotmail.com", 5),
    ),
    "LATAM": (
        ("gmail.com", 60),
        ("hotmail.com", 15),
        ("yahoo.com.mx", 10),
        ("bol.com.br", 8),
        ("outlook.com", 7),
    ),
}

# --- geography ---------------------------------------------------------------------------------
# city, state (ISO 3166-2 subdivision part, or ""), postal pattern ('#' digit, '@' letter),
# time zone ("" = the country's), weight


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    state: str
    postal: str
    tz: str
    weight: float


def _cities(rows: Iterable[tuple[str, str, str, str, float]]) -> tuple[_City, ...]:
    return tuple(_City(*row) for row in rows)


_NY, _CHI, _DEN, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)

CITIES: dict[str, tuple[_City, ...]] = {
    "US": _cities(
        (
            ("San Francisco", "CA", "941##", _LA, 6),
            ("San Jose", "CA", "951##", _LA, 3),
            ("Oakland", "CA", "946##", _LA, 2),
            ("Palo Alto", "CA", "943##", _LA, 2),
            ("Los Angeles", "CA", "900##", _LA, 5),
            ("San Diego", "CA", "921##", _LA, 3),
            ("Irvine", "CA", "926##", _LA, 2),
            ("Sacramento", "CA", "958##", _LA, 1),
            ("Seattle", "WA", "981##", _LA, 5),
            ("Bellevue", "WA", "980##", _LA, 1),
            ("Portland", "OR", "972##", _LA, 2),
            ("Las Vegas", "NV", "891##", _LA, 1),
            ("Denver", "CO", "802##", _DEN, 3),
            ("Boulder", "CO", "803##", _DEN, 1),
            ("Phoenix", "AZ", "850##", "America/Phoenix", 2),
            ("Salt Lake City", "UT", "841##", _DEN, 2),
            ("Boise", "ID", "837##", "America/Boise", 1),
            ("Albuquerque", "NM", "871##", _DEN, 1),
            ("Honolulu", "HI", "968##", "Pacific/Honolulu", 0.5),
            ("Anchorage", "AK", "995##", "America/Anchorage", 0.3),
            ("New York", "NY", "100##", _NY, 10),
            ("Brooklyn", "NY", "112##", _NY, 2),
            ("Boston", "MA", "021##", _NY, 5),
            ("Cambridge", "MA", "021##", _NY, 1),
            ("Chicago", "IL", "606##", _CHI, 6),
            ("Austin", "TX", "787##", _CHI, 4),
            ("Dallas", "TX", "752##", _CHI, 3),
            ("Houston", "TX", "770##", _CHI, 3),
            ("Atlanta", "GA", "303##", _NY, 4),
            ("Miami", "FL", "331##", _NY, 3),
            ("Tampa", "FL", "336##", _NY, 1),
            ("Washington", "DC", "200##", _NY, 3),
            ("Arlington", "VA", "222##", _NY, 1),
            ("Philadelphia", "PA", "191##", _NY, 2),
            ("Pittsburgh", "PA", "152##", _NY, 1),
            ("Charlotte", "NC", "282##", _NY, 2),
            ("Raleigh", "NC", "276##", _NY, 2),
            ("Minneapolis", "MN", "554##", _CHI, 2),
            ("Detroit", "MI", "482##", "America/Detroit", 1),
            ("Columbus", "OH", "432##", _NY, 1),
            ("Nashville", "TN", "372##", _CHI, 1),
            ("Baltimore", "MD", "212##", _NY, 1),
            ("Newark", "NJ", "071##", _NY, 1),
            ("Jersey City", "NJ", "073##", _NY, 1),
            ("Kansas City", "MO", "641##", _CHI, 1),
            ("St. Louis", "MO", "631##", _CHI, 1),
            ("Indianapolis", "IN", "462##", "America/Indiana/Indianapolis", 1),
            ("Milwaukee", "WI", "532##", _CHI, 1),
            ("Stamford", "CT", "069##", _NY, 1),
        )
    ),
    "CA": _cities(
        (
            ("Toronto", "ON", "M5V #@#", "America/Toronto", 5),
            ("Vancouver", "BC", "V6B #@#", "America/Vancouver", 3),
            ("Montréal", "QC", "H3B #@#", "America/Toronto", 3),
            ("Calgary", "AB", "T2P #@#", "America/Edmonton", 2),
            ("Ottawa", "ON", "K1P #@#", "America/Toronto", 1),
            ("Waterloo", "ON", "N2L #@#", "America/Toronto", 1),
            ("Edmonton", "AB", "T5J #@#", "America/Edmonton", 1),
            ("Halifax", "NS", "B3H #@#", "America/Halifax", 0.5),
            ("Winnipeg", "MB", "R3C #@#", "America/Winnipeg", 0.5),
        )
    ),
    "GB": _cities(
        (
            ("London", "", "EC#A #@@", "", 8),
            ("Manchester", "", "M# #@@", "", 2),
            ("Edinburgh", "", "EH# #@@", "", 1),
            ("Cambridge", "", "CB# #@@", "", 1),
            ("Bristol", "", "BS# #@@", "", 1),
            ("Leeds", "", "LS# #@@", "", 1),
        )
    ),
    "IE": _cities((("Dublin", "", "D0# @###", "", 4), ("Cork", "", "T12 @###", "", 1))),
    "DE": _cities(
        (
            ("Berlin", "", "10###", "", 4),
            ("München", "", "80###", "", 3),
            ("Hamburg", "", "20###", "", 2),
            ("Frankfurt am Main", "", "60###", "", 2),
            ("Köln", "", "50###", "", 1),
            ("Stuttgart", "", "70###", "", 1),
        )
    ),
    "AT": _cities((("Wien", "", "1##0", "", 1),)),
    "CH": _cities((("Zürich", "", "80##", "", 2), ("Genève", "", "12##", "", 1))),
    "FR": _cities(
        (
            ("Paris", "", "750##", "", 6),
            ("Lyon", "", "690##", "", 1),
            ("Toulouse", "", "310##", "", 1),
            ("Nantes", "", "440##", "", 1),
        )
    ),
    "BE": _cities((("Bruxelles", "", "10#0", "", 1),)),
    "NL": _cities(
        (
            ("Amsterdam", "", "10## @@", "", 4),
            ("Rotterdam", "", "30## @@", "", 1),
            ("Utrecht", "", "35## @@", "", 1),
            ("Eindhoven", "", "56## @@", "", 1),
        )
    ),
    "ES": _cities((("Madrid", "", "280##", "", 2), ("Barcelona", "", "080##", "", 2))),
    "IT": _cities((("Milano", "", "201##", "", 2), ("Roma", "", "001##", "", 1))),
    "PT": _cities((("Lisboa", "", "1###-###", "", 1),)),
    "SE": _cities((("Stockholm", "", "11# ##", "", 2), ("Göteborg", "", "41# ##", "", 1))),
    "DK": _cities((("København", "", "1###", "", 1),)),
    "NO": _cities((("Oslo", "", "0###", "", 1),)),
    "FI": _cities((("Helsinki", "", "00###", "", 1),)),
    "PL": _cities((("Warszawa", "", "00-###", "", 2), ("Kraków", "", "30-###", "", 1))),
    "CZ": _cities((("Praha", "", "1## 00", "", 1),)),
    "IL": _cities((("Tel Aviv", "", "61#####", "", 1),)),
    "AE": _cities((("Dubai", "", "", "", 2), ("Abu Dhabi", "", "", "", 1))),
    "SA": _cities((("Riyadh", "", "11###", "", 1),)),
    "TR": _cities((("İstanbul", "", "34###", "", 1),)),
    "ZA": _cities((("Cape Town", "", "80##", "", 1), ("Johannesburg", "", "20##", "", 1))),
    "NG": _cities((("Lagos", "", "10####", "", 1),)),
    "KE": _cities((("Nairobi", "", "00100", "", 1),)),
    "AU": _cities(
        (
            ("Sydney", "NSW", "20##", "Australia/Sydney", 5),
            ("Melbourne", "VIC", "30##", "Australia/Melbourne", 4),
            ("Brisbane", "QLD", "40##", "Australia/Brisbane", 2),
            ("Perth", "WA", "60##", "Australia/Perth", 1),
        )
    ),
    "NZ": _cities((("Auckland", "", "10##", "", 2), ("Wellington", "", "60##", "", 1))),
    "SG": _cities((("Singapore", "", "0#####", "", 1),)),
    "JP": _cities((("Tokyo", "", "1##-####", "", 4), ("Osaka", "", "5##-####", "", 1))),
    "KR": _cities((("Seoul", "", "0####", "", 1),)),
    "HK": _cities((("Hong Kong", "", "", "", 1),)),
    "TW": _cities((("Taipei", "", "1##", "", 1),)),
    "CN": _cities((("Shanghai", "", "200###", "", 1),)),
    "IN": _cities(
        (
            ("Bengaluru", "KA", "5600##", "", 4),
            ("Mumbai", "MH", "4000##", "", 3),
            ("Pune", "MH", "4110##", "", 1),
            ("New Delhi", "DL", "1100##", "", 2),
            ("Hyderabad", "TG", "5000##", "", 2),
        )
    ),
    "MY": _cities((("Kuala Lumpur", "", "50###", "", 1),)),
    "ID": _cities((("Jakarta", "", "10###", "", 1),)),
    "PH": _cities((("Manila", "", "10##", "", 1),)),
    "BR": _cities(
        (
            ("São Paulo", "SP", "0####-###", "America/Sao_Paulo", 3),
            ("Rio de Janeiro", "RJ", "2####-###", "America/Sao_Paulo", 1),
        )
    ),
    "MX": _cities(
        (
            ("Ciudad de México", "CMX", "0####", "America/Mexico_City", 3),
            ("Monterrey", "NLE", "64###", "America/Monterrey", 1),
            ("Guadalajara", "JAL", "44###", "America/Mexico_City", 1),
        )
    ),
    "AR": _cities((("Buenos Aires", "", "C1###@@@", "", 1),)),
    "CL": _cities((("Santiago", "", "83#####", "", 1),)),
    "CO": _cities((("Bogotá", "", "11####", "", 1),)),
}

COUNTRY_TZ: dict[str, str] = {
    "US": _NY,
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "PT": "Europe/Lisbon",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw",
    "CZ": "Europe/Prague",
    "IL": "Asia/Jerusalem",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "TR": "Europe/Istanbul",
    "ZA": "Africa/Johannesburg",
    "NG": "Africa/Lagos",
    "KE": "Africa/Nairobi",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "CN": "Asia/Shanghai",
    "IN": "Asia/Kolkata",
    "MY": "Asia/Kuala_Lumpur",
    "ID": "Asia/Jakarta",
    "PH": "Asia/Manila",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
}

CALLING_CODES: dict[str, str] = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "IE": "353",
    "DE": "49",
    "AT": "43",
    "CH": "41",
    "FR": "33",
    "BE": "32",
    "NL": "31",
    "ES": "34",
    "IT": "39",
    "PT": "351",
    "SE": "46",
    "DK": "45",
    "NO": "47",
    "FI": "358",
    "PL": "48",
    "CZ": "420",
    "IL": "972",
    "AE": "971",
    "SA": "966",
    "TR": "90",
    "ZA": "27",
    "NG": "234",
    "KE": "254",
    "AU": "61",
    "NZ": "64",
    "SG": "65",
    "JP": "81",
    "KR": "82",
    "HK": "852",
    "TW": "886",
    "CN": "86",
    "IN": "91",
    "MY": "60",
    "ID": "62",
    "PH": "63",
    "BR": "55",
    "MX": "52",
    "AR": "54",
    "CL": "56",
    "CO": "57",
}

LEAD_COUNTRIES: dict[str, tuple[tuple[str, int], ...]] = {
    "NA": (("US", 88), ("CA", 12)),
    "EMEA": (
        ("GB", 26),
        ("DE", 17),
        ("FR", 11),
        ("NL", 7),
        ("IE", 4),
        ("ES", 5),
        ("IT", 4),
        ("SE", 3),
        ("CH", 3),
        ("DK", 2),
        ("PL", 3),
        ("AT", 2),
        ("BE", 2),
        ("NO", 1),
        ("FI", 1),
        ("PT", 1),
        ("CZ", 1),
        ("IL", 2),
        ("AE", 2),
        ("SA", 1),
        ("TR", 1),
        ("ZA", 2),
        ("NG", 1),
        ("KE", 1),
    ),
    "APAC": (
        ("AU", 24),
        ("IN", 22),
        ("SG", 14),
        ("JP", 14),
        ("NZ", 5),
        ("KR", 5),
        ("HK", 5),
        ("MY", 3),
        ("ID", 3),
        ("PH", 3),
        ("TW", 1),
        ("CN", 1),
    ),
    "LATAM": (("BR", 40), ("MX", 35), ("AR", 10), ("CL", 8), ("CO", 7)),
}
COUNTRY_REGION: dict[str, str] = {
    country: region for region, pairs in LEAD_COUNTRIES.items() for country, _ in pairs
}

# --- people ------------------------------------------------------------------------------------

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "na": (
        (
            "James",
            "Michael",
            "Sarah",
            "Jennifer",
            "David",
            "Emily",
            "Chris",
            "Jessica",
            "Daniel",
            "Ashley",
            "Matthew",
            "Amanda",
            "Andrew",
            "Megan",
            "Brian",
            "Lauren",
            "Kevin",
            "Rachel",
            "Jason",
            "Nicole",
            "Carlos",
            "María",
            "Wei",
            "Priya",
            "Omar",
            "Fatima",
            "Jamal",
            "Keisha",
            "Tyler",
            "Hannah",
            "Ethan",
            "Grace",
            "Noah",
            "Zoë",
        ),
        (
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
            "Martinez",
            "Wilson",
            "Anderson",
            "Taylor",
            "Thomas",
            "Moore",
            "Jackson",
            "Lee",
            "Thompson",
            "White",
            "Harris",
            "Clark",
            "Lewis",
            "Robinson",
            "Walker",
            "Young",
            "Allen",
            "King",
            "Wright",
            "Scott",
            "Nguyen",
            "Patel",
            "Kim",
            "Chen",
            "O'Connor",
            "Murphy",
            "Rivera",
            "Brooks",
            "Foster",
            "Hughes",
            "Sullivan",
        ),
    ),
    "en": (
        (
            "Oliver",
            "George",
            "Harry",
            "Amelia",
            "Olivia",
            "Isla",
            "Jack",
            "Charlotte",
            "Sophie",
            "Thomas",
            "Emma",
            "Liam",
            "Aoife",
            "Ciarán",
            "Priya",
            "Mohammed",
            "Ruth",
            "Thabo",
            "Chidi",
            "Wanjiru",
        ),
        (
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Evans",
            "Thomas",
            "Roberts",
            "Walsh",
            "Byrne",
            "O'Sullivan",
            "Khan",
            "Ahmed",
            "Patel",
            "Naidoo",
            "Okafor",
            "Mwangi",
            "Campbell",
            "Stewart",
        ),
    ),
    "de": (
        (
            "Lukas",
            "Leon",
            "Felix",
            "Jonas",
            "Anna",
            "Lena",
            "Laura",
            "Julia",
            "Sophie",
            "Maximilian",
            "Katharina",
            "Tobias",
            "Jürgen",
            "Sabine",
            "Niklas",
            "Mia",
        ),
        (
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Koch",
            "Richter",
            "Wolf",
            "Schröder",
            "Neumann",
            "Huber",
        ),
    ),
    "fr": (
        (
            "Camille",
            "Léa",
            "Manon",
            "Chloé",
            "Hugo",
            "Lucas",
            "Louis",
            "Thomas",
            "Julien",
            "Émilie",
            "Nicolas",
            "Mathilde",
            "Antoine",
            "Sophie",
            "Maxime",
            "Inès",
        ),
        (
            "Martin",
            "Bernard",
            "Dubois",
            "Thomas",
            "Robert",
            "Richard",
            "Petit",
            "Durand",
            "Leroy",
            "Moreau",
            "Simon",
            "Laurent",
            "Lefèvre",
            "Michel",
            "Garcia",
            "Peeters",
        ),
    ),
    "nl": (
        ("Daan", "Sem", "Lucas", "Emma", "Julia", "Sanne", "Lotte", "Bram", "Thijs", "Fleur"),
        (
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "Mulder",
        ),
    ),
    "nordic": (
        (
            "Erik",
            "Lars",
            "Anders",
            "Johan",
            "Elsa",
            "Freja",
            "Ingrid",
            "Sofia",
            "Mikko",
            "Aino",
            "Magnus",
            "Astrid",
        ),
        (
            "Andersson",
            "Johansson",
            "Karlsson",
            "Nilsson",
            "Hansen",
            "Jensen",
            "Larsen",
            "Virtanen",
            "Korhonen",
            "Berg",
            "Lindqvist",
            "Olsen",
        ),
    ),
    "south": (
        (
            "Marco",
            "Giulia",
            "Alessandro",
            "Francesca",
            "Javier",
            "Lucía",
            "Pablo",
            "Carmen",
            "João",
            "Inês",
            "Luca",
            "Sofía",
        ),
        (
            "Rossi",
            "Russo",
            "Ferrari",
            "Esposito",
            "García",
            "Fernández",
            "López",
            "Martínez",
            "Silva",
            "Santos",
            "Bianchi",
            "Romano",
        ),
    ),
    "central": (
        ("Jakub", "Anna", "Piotr", "Katarzyna", "Tomáš", "Petra", "Marek", "Zofia"),
        (
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Novák",
            "Dvořák",
            "Kowalczyk",
            "Svoboda",
            "Lewandowski",
        ),
    ),
    "me": (
        (
            "Ahmed",
            "Mohammed",
            "Fatima",
            "Layla",
            "Omar",
            "Yousef",
            "Noa",
            "Yael",
            "Emre",
            "Elif",
            "Khalid",
            "Sara",
        ),
        (
            "Al-Mansouri",
            "Haddad",
            "Khalil",
            "Al-Farsi",
            "Cohen",
            "Levi",
            "Mizrahi",
            "Öztürk",
            "Demir",
            "Al-Rashid",
            "Nasser",
            "Saleh",
        ),
    ),
    "au": (
        (
            "Jack",
            "Charlotte",
            "Oliver",
            "Mia",
            "William",
            "Chloe",
            "Lachlan",
            "Ruby",
            "Sienna",
            "Cooper",
            "Aroha",
            "Tane",
        ),
        (
            "Smith",
            "Jones",
            "Williams",
            "Brown",
            "Wilson",
            "Taylor",
            "Nguyen",
            "Kelly",
            "Ryan",
            "Walker",
            "Ngata",
            "Campbell",
        ),
    ),
    "in": (
        (
            "Aarav",
            "Vivaan",
            "Aditya",
            "Ananya",
            "Diya",
            "Rohan",
            "Priya",
            "Sneha",
            "Arjun",
            "Kavya",
            "Rahul",
            "Neha",
        ),
        (
            "Sharma",
            "Verma",
            "Gupta",
            "Iyer",
            "Reddy",
            "Nair",
            "Patel",
            "Singh",
            "Kumar",
            "Menon",
            "Rao",
            "Agarwal",
        ),
    ),
    "cn": (
        (
            "Wei",
            "Jing",
            "Li",
            "Hui",
            "Ming",
            "Xin",
            "Jun",
            "Mei",
            "Kai",
            "Yan",
            "Siti",
            "Ahmad",
            "Maria",
            "Jose",
        ),
        (
            "Tan",
            "Lim",
            "Lee",
            "Ng",
            "Wong",
            "Chan",
            "Chen",
            "Lin",
            "Zhang",
            "Wang",
            "Santos",
            "Reyes",
            "Hassan",
            "Wijaya",
        ),
    ),
    "jp": (
        ("Haruto", "Yuto", "Sota", "Yui", "Hina", "Aoi", "Takeshi", "Naoko", "Kenta", "Sakura"),
        (
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Kato",
        ),
    ),
    "kr": (
        ("Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang"),
    ),
    "latam": (
        (
            "José",
            "Juan",
            "Luis",
            "Carlos",
            "María",
            "Ana",
            "Sofía",
            "Valentina",
            "Diego",
            "Camila",
            "Mateo",
            "Lucía",
        ),
        (
            "Hernández",
            "García",
            "Martínez",
            "López",
            "González",
            "Rodríguez",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
            "Flores",
            "Díaz",
        ),
    ),
    "br": (
        (
            "João",
            "Gabriel",
            "Lucas",
            "Pedro",
            "Maria",
            "Ana",
            "Beatriz",
            "Juliana",
            "Rafael",
            "Fernanda",
        ),
        (
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Pereira",
            "Costa",
            "Rodrigues",
            "Almeida",
            "Nascimento",
            "Lima",
        ),
    ),
}
_NAME_GROUP: dict[str, str] = {
    "US": "na",
    "CA": "na",
    "GB": "en",
    "IE": "en",
    "ZA": "en",
    "NG": "en",
    "KE": "en",
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "FR": "fr",
    "BE": "fr",
    "NL": "nl",
    "SE": "nordic",
    "DK": "nordic",
    "NO": "nordic",
    "FI": "nordic",
    "ES": "south",
    "IT": "south",
    "PT": "south",
    "PL": "central",
    "CZ": "central",
    "IL": "me",
    "AE": "me",
    "SA": "me",
    "TR": "me",
    "AU": "au",
    "NZ": "au",
    "IN": "in",
    "SG": "cn",
    "HK": "cn",
    "TW": "cn",
    "CN": "cn",
    "MY": "cn",
    "ID": "cn",
    "PH": "cn",
    "JP": "jp",
    "KR": "kr",
    "BR": "br",
    "MX": "latam",
    "AR": "latam",
    "CL": "latam",
    "CO": "latam",
}

# title, weight, score bonus
TITLES: tuple[tuple[str, int, int], ...] = (
    ("Chief Executive Officer", 3, 20),
    ("Founder & CEO", 3, 18),
    ("Chief Financial Officer", 2, 20),
    ("Chief Technology Officer", 2, 18),
    ("Chief Revenue Officer", 1, 22),
    ("VP of Sales", 4, 18),
    ("VP Marketing", 3, 15),
    ("VP Engineering", 3, 14),
    ("Head of Revenue Operations", 3, 20),
    ("Head of Data", 2, 15),
    ("Director of Finance", 3, 14),
    ("Director, IT", 3, 12),
    ("Director of Operations", 3, 12),
    ("Sales Operations Manager", 5, 12),
    ("Marketing Manager", 6, 8),
    ("Product Manager", 5, 8),
    ("Engineering Manager", 4, 8),
    ("Finance Manager", 4, 8),
    ("Operations Manager", 4, 6),
    ("Procurement Specialist", 3, 4),
    ("Data Analyst", 5, 3),
    ("Software Engineer", 6, 2),
    ("Business Analyst", 4, 3),
    ("Account Manager", 3, 2),
    ("Consultant", 3, 2),
    ("Marketing Coordinator", 3, 1),
    ("Intern", 1, -10),
    ("Student", 1, -15),
)

# channel, lead_source, lead_type, request types (choice, weight), weight
CAPTURE_MIX: tuple[tuple[str, str, str, tuple[tuple[str, int], ...], int], ...] = (
    ("web_form", "Web", "inbound", (("demo", 45), ("contact", 55)), 22),
    ("web_form", "Content Download", "inbound", (("content", 1),), 12),
    ("web_form", "Free Trial", "inbound", (("trial", 1),), 8),
    ("web_form", "Webinar", "inbound", (("content", 1),), 5),
    ("list_import", "Webinar", "inbound", (), 6),
    ("list_import", "Trade Show", "inbound", (("", 70), ("contact", 30)), 9),
    ("list_import", "Purchased List", "outbound", (), 9),
    ("outbound", "Outbound List", "outbound", (), 15),
    ("manual", "Partner Referral", "inbound", (("contact", 50), ("demo", 50)), 4),
    ("manual", "Trade Show", "inbound", (("contact", 1),), 2),
    ("api", "Free Trial", "inbound", (("trial", 1),), 5),
    ("api", "Partner Referral", "inbound", (("demo", 1),), 3),
)

PRODUCTS: tuple[tuple[str, int], ...] = (("Analytics", 40), ("Payments", 30), ("Platform", 30))
_REQUEST_SCORE = {"demo": 45, "trial": 40, "contact": 30, "content": 18, "": 10}
_LEAD_SIZE_BANDS: tuple[tuple[int, int, int], ...] = (
    (1, 19, 34),
    (20, 99, 30),
    (100, 499, 22),
    (500, 5000, 11),
    (5000, 80000, 3),
)
_REVENUE_PER_EMPLOYEE: dict[str, tuple[int, int]] = {
    "Software": (150_000, 400_000),
    "Financial Services": (200_000, 600_000),
    "Healthcare": (90_000, 250_000),
    "Manufacturing": (120_000, 350_000),
    "Retail": (80_000, 250_000),
    "Education": (60_000, 150_000),
    "Media": (100_000, 300_000),
    "Logistics": (100_000, 280_000),
    "Energy": (250_000, 900_000),
    "Government": (70_000, 180_000),
    "Professional Services": (90_000, 220_000),
}


# --- helpers -----------------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def _fill(rng: random.Random, pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randint(0, 9)))
        elif ch == "@":
            out.append(rng.choice("ABCEGHJKLMNPRSTVWXYZ"))
        else:
            out.append(ch)
    return "".join(out)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-").replace("-", "")


def _local_part(rng: random.Random, first: str, last: str, free: bool) -> str:
    f, la = _ascii(first), _ascii(last)
    if free:
        style = rng.random()
        if style < 0.4:
            return f"{f}.{la}{rng.randint(1, 99)}"
        if style < 0.7:
            return f"{f}{la}"
        return f"{f[0]}{la}{rng.randint(70, 2005)}"
    formats = (
        (f"{f}.{la}", 50),
        (f"{f[0]}{la}", 20),
        (f, 10),
        (f"{f}{la[0]}", 10),
        (f"{f}_{la}", 5),
        (f"{la}.{f}", 5),
    )
    return _weighted(rng, formats)


def _phone(rng: random.Random, country: str) -> str:
    code = CALLING_CODES.get(country, "44")
    if code == "1":
        return f"+1 {rng.randint(201, 989)} 555 01{rng.randint(0, 99):02d}"
    groups = " ".join(_fill(rng, "###") for _ in range(2)) + " " + _fill(rng, "###")
    return f"+{code} {groups}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _business_moment(rng: random.Random, tz: str) -> datetime:
    """A moment in the window, during weekday business hours in `tz` (peaks mid-morning)."""
    zone = ZoneInfo(tz)
    days = (WINDOW_END - WINDOW_START).days
    while True:
        day = (WINDOW_START + timedelta(days=rng.randrange(days))).date()
        if day.weekday() >= 5:
            continue
        hour = rng.triangular(8.0, 18.5, 10.5)
        local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour)
        moment = local.astimezone(UTC)
        if WINDOW_START <= moment < WINDOW_END:
            return moment


def _any_moment(rng: random.Random) -> datetime:
    span = (WINDOW_END - WINDOW_START).total_seconds()
    return WINDOW_START + timedelta(seconds=rng.randrange(int(span)))


@dataclass(frozen=True, slots=True)
class _Company:
    name: str
    domain: str
    country: str
    industry: str | None
    employees: int | None
    account: Mapping[str, Any] | None = None


def _prospect_pool(rng: random.Random, region: str, size: int, taken: set[str]) -> list[_Company]:
    companies = []
    for _ in range(size):
        country = _weighted(rng, LEAD_COUNTRIES[region])
        industry = rng.choices(INDUSTRIES, weights=(26, 12, 10, 9, 9, 7, 6, 6, 4, 3, 8))[0]
        name, domain = make_company(rng, country, industry, taken)
        companies.append(
            _Company(name, domain, country, industry, company_employees(rng, _LEAD_SIZE_BANDS))
        )
    return companies


def _account_company(account: Mapping[str, Any]) -> _Company:
    return _Company(
        str(account["name"]),
        str(account.get("domain") or ""),
        account_country(dict(account)),
        account.get("industry"),
        account.get("employees"),
        account,
    )


def _strip_legal(name: str) -> str:
    words = name.split(" ")
    if len(words) > 1 and (
        words[-1].endswith(".")
        or words[-1] in ("Ltd", "plc", "GmbH", "AG", "LLC", "AB", "SAS", "SA")
    ):
        return " ".join(words[:-1])
    return name


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value.replace(",", "").replace("_", ""))
        except ValueError:
            return False
        return True
    return False


def malformed_reason(row: Mapping[str, object]) -> str | None:
    """Why a sample row is malformed (the generator's rule), or None if it is sound.

    A row is malformed if employees or annual_revenue is present but not a number, or if
    nothing identifies the lead: no email, company, last name, phone or domain.
    """
    for name in ("employees", "annual_revenue"):
        value = row.get(name)
        if value not in (None, "") and not _is_number(value):
            return f"{name} is not a number: {value!r}"
    if not any(row.get(k) for k in _IDENTIFYING):
        return "no email, company, last name, phone or domain"
    return None


def is_free_mail(email: object) -> bool:
    """True if an email address is at one of the sample's free-mail domains."""
    if not isinstance(email, str) or "@" not in email:
        return False
    return email.rsplit("@", 1)[1].lower() in FREE_MAIL_DOMAINS


# --- the generator -----------------------------------------------------------------------------


def generate_leads(org_doc: Mapping[str, Any], n: int = 10_000, seed: int = 7) -> list[Row]:
    """`n` lead rows for `org_doc` (see the module docstring for the mix), deterministic."""
    rng = random.Random(seed)
    accounts = [a for a in org_doc.get("accounts") or [] if a.get("domain")]
    taken = {str(a["domain"]).lower() for a in accounts}
    taken |= {f"name:{a['name']}" for a in accounts}
    account_pools: dict[str, tuple[list[_Company], list[float]]] = {}
    for region, _ in REGION_SHARE:
        members = [a for a in accounts if account_region(a) == region]
        weights = [
            3.0 if a.get("named") else 2.0 if a.get("status") == "customer" else 1.0
            for a in members
        ]
        account_pools[region] = ([_account_company(a) for a in members], weights)
    prospects = {
        region: _prospect_pool(rng, region, max(20, n * share // 200), taken)
        for region, share in REGION_SHARE
    }
    import_batches = sorted(_business_moment(rng, _CHI) for _ in range(max(3, n // 500)))

    drafts: list[tuple[datetime, int, Row]] = []
    people: list[_Person] = []
    for i in range(n):
        row, moment = _draft(rng, account_pools, prospects, import_batches, people)
        drafts.append((moment, i, row))
    drafts.sort(key=lambda item: (item[0], item[1]))

    rows: list[Row] = []
    for position, (moment, _, draft) in enumerate(drafts, start=1):
        full: Row = {"id": f"lead-{position:05d}", **draft, "received_at": _iso(moment)}
        if position % MALFORMED_EVERY == 0:
            _break(full, position // MALFORMED_EVERY)
        rows.append({k: full[k] for k in FIELD_ORDER if k in full})
    return rows


@dataclass(frozen=True, slots=True)
class _Person:
    """Who a lead is (kept so that a later re-submission repeats the same person)."""

    fields: Row
    region: str
    tz: str
    title_bonus: int
    at_account: bool
    free: bool


def _draft(
    rng: random.Random,
    account_pools: Mapping[str, tuple[list[_Company], list[float]]],
    prospects: Mapping[str, list[_Company]],
    import_batches: Sequence[datetime],
    people: list[_Person],
) -> tuple[Row, datetime]:
    channel, source, lead_type, requests, _ = rng.choices(
        CAPTURE_MIX, weights=[m[-1] for m in CAPTURE_MIX]
    )[0]
    request = _weighted(rng, requests) if requests else ""
    if people and rng.random() < 0.01:
        person = rng.choice(people)  # a re-submission by someone already seen
    else:
        person = _person(rng, account_pools, prospects, channel)
        people.append(person)
    row: Row = dict(person.fields)

    row["lead_source"] = source
    row["channel"] = channel
    industry = row.get("industry")
    if lead_type == "inbound" or rng.random() < 0.5:
        product = _weighted(rng, PRODUCTS)
        if industry in ("Financial Services", "Retail") and rng.random() < 0.4:
            product = "Payments"
        row["product_interest"] = product
    if request:
        row["request_type"] = request
    row["lead_type"] = lead_type
    if lead_type == "inbound" or rng.random() < 0.6:
        employees = row.get("employees")
        size = employees if isinstance(employees, int) else 0
        score = (
            _REQUEST_SCORE[request]
            + person.title_bonus
            + (15 if size >= 500 else 8 if size >= 100 else 0)
            + (10 if person.at_account else 0)
            - (15 if person.free else 0)
            + rng.randint(-10, 25)
        )
        row["score"] = max(0, min(100, score))

    if channel == "list_import":
        batch = rng.choice(import_batches)
        moment = batch + timedelta(seconds=rng.randrange(0, 90))
    elif rng.random() < 0.8:
        moment = _business_moment(rng, person.tz)
    else:
        moment = _any_moment(rng)
    return row, moment


def _person(
    rng: random.Random,
    account_pools: Mapping[str, tuple[list[_Company], list[float]]],
    prospects: Mapping[str, list[_Company]],
    channel: str,
) -> _Person:
    region = _weighted(rng, REGION_SHARE)
    pool, weights = account_pools[region]
    if pool and rng.random() < ACCOUNT_SHARE:
        company = rng.choices(pool, weights=weights)[0]
    else:
        candidates = prospects[region]
        company = candidates[int(len(candidates) * rng.random() ** 1.5)]
    at_account = company.account is not None

    country = company.country if rng.random() < 0.8 else _weighted(rng, LEAD_COUNTRIES[region])
    cities = CITIES.get(country) or CITIES["US"]
    city = rng.choices(cities, weights=[c.weight for c in cities])[0]
    first_names, last_names = _NAMES[_NAME_GROUP.get(country, "en")]
    first, last = rng.choice(first_names), rng.choice(last_names)

    row: Row = {"first_name": first, "last_name": last}
    free = not at_account and rng.random() < 0.125
    if rng.random() < 0.01 and channel in ("list_import", "manual"):
        pass  # a phone-only contact from a badge scan or a call
    elif free:
        domain = _weighted(rng, _FREE_MAIL_BY_REGION[region])
        row["email"] = f"{_local_part(rng, first, last, True)}@{domain}"
    else:
        row["email"] = f"{_local_part(rng, first, last, False)}@{company.domain}"

    if not free or rng.random() < 0.8:
        row["company"] = _strip_legal(company.name) if rng.random() < 0.5 else company.name
    if not free or rng.random() < 0.3:
        if channel in ("web_form", "api") and rng.random() < 0.6:
            row["website"] = rng.choice(
                (
                    f"https://www.{company.domain}",
                    f"www.{company.domain}",
                    f"https://{company.domain}/",
                    company.domain,
                )
            )
        elif channel not in ("web_form", "api") and rng.random() < 0.75:
            row["domain"] = company.domain
    title, _, title_bonus = rng.choices(TITLES, weights=[t[1] for t in TITLES])[0]
    if rng.random() < 0.93:
        row["title"] = title
    if rng.random() < 0.8 or channel in ("outbound", "manual") or "email" not in row:
        row["phone"] = _phone(rng, country)

    if rng.random() < 0.02:
        if rng.random() < 0.5:
            row["city"] = city.name
    else:
        row["country"] = country
        if city.state:
            row["state"] = city.state
        row["city"] = city.name
        if city.postal:
            row["postal_code"] = _fill(rng, city.postal)

    industry = company.industry
    if industry and rng.random() >= 0.04:
        row["industry"] = industry
    employees = company.employees
    if employees is not None and rng.random() >= 0.05:
        if not at_account and rng.random() < 0.3:
            employees = max(1, int(employees * rng.uniform(0.85, 1.15)))
        row["employees"] = employees
        if rng.random() < 0.85:
            low, high = _REVENUE_PER_EMPLOYEE.get(industry or "", (100_000, 250_000))
            row["annual_revenue"] = int(round(employees * rng.uniform(low, high), -4))
    tz = city.tz or COUNTRY_TZ.get(country, "UTC")
    return _Person(row, region, tz, title_bonus, at_account, free)


def _break(row: Row, k: int) -> None:
    kind = k % 3
    if kind == 1:
        row["employees"] = "lots"
    elif kind == 2:
        for name in (*_IDENTIFYING, "website"):
            row.pop(name, None)
    else:
        row["annual_revenue"] = "approx. 5M"


# --- files -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleFiles:
    org: Path
    leads: Path


def leads_header(rows: Iterable[Mapping[str, object]]) -> list[str]:
    """The union of the rows' keys: FIELD_ORDER first, then any others alphabetically."""
    seen: set[str] = set()
    for row in rows:
        seen.update(row)
    return [k for k in FIELD_ORDER if k in seen] + sorted(seen - set(FIELD_ORDER))


def write_leads_csv(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=leads_header(rows), restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


def write_sample(directory: Path, *, leads: int = 10_000, seed: int = 7) -> SampleFiles:
    """Write `org.yaml` and `leads.csv` for the sample org into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    doc = sample_org_doc(seed)
    org_path = directory / "org.yaml"
    header = f"# leadroute sample org (seed {seed}): generated by leadroute.sample; edit freely.\n"
    org_path.write_text(
        header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    leads_path = directory / "leads.csv"
    write_leads_csv(leads_path, generate_leads(doc, leads, seed))
    return SampleFiles(org_path, leads_path)
