"""Countries, states and time zones from the packaged reference data."""

from __future__ import annotations

from typing import Any

import pycountry
import pytest

from leadroute.domain import geo

COUNTRIES = [
    ("US", "US"),
    ("us", "US"),
    ("USA", "US"),
    ("U.S.", "US"),
    ("U.S.A.", "US"),
    ("  United States  ", "US"),
    ("United States of America", "US"),
    ("America", "US"),
    ("UK", "GB"),
    ("U.K.", "GB"),
    ("Great Britain", "GB"),
    ("United Kingdom", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Wales", "GB"),
    ("GBR", "GB"),
    ("Deutschland", "DE"),
    ("germany", "DE"),
    ("DEU", "DE"),
    ("Holland", "NL"),
    ("The Netherlands", "NL"),
    ("South Korea", "KR"),
    ("Korea", "KR"),
    ("Korea, Republic of", "KR"),
    ("North Korea", "KP"),
    ("Russia", "RU"),
    ("Russian Federation", "RU"),
    ("Czechia", "CZ"),
    ("Czech Republic", "CZ"),
    ("UAE", "AE"),
    ("United Arab Emirates", "AE"),
    ("Ivory Coast", "CI"),
    ("Côte d'Ivoire", "CI"),
    ("cote d\u2019ivoire", "CI"),  # typographic apostrophe
    ("Viet Nam", "VN"),
    ("Vietnam", "VN"),
    ("Iran", "IR"),
    ("Bolivia", "BO"),
    ("Tanzania", "TZ"),
    ("Türkiye", "TR"),
    ("Turkey", "TR"),
    ("México", "MX"),
    ("Brasil", "BR"),
    ("St. Lucia", "LC"),
    ("Bosnia & Herzegovina", "BA"),
    ("The Gambia", "GM"),
    ("Hong Kong", "HK"),
    ("Taiwan", "TW"),
    ("DRC", "CD"),
]


@pytest.mark.parametrize(("text", "code"), COUNTRIES)
def test_country_code(text: str, code: str) -> None:
    assert geo.country_code(text) == code


@pytest.mark.parametrize("text", ["Narnia", "", "xx", "Europe", "N/A", "123456"])
def test_unknown_countries(text: str) -> None:
    assert geo.country_code(text) is None


def test_every_iso_country_reads_as_itself_by_code_and_name() -> None:
    for country in pycountry.countries:
        assert geo.country_code(country.alpha_2) == country.alpha_2
        assert geo.country_code(country.alpha_3) == country.alpha_2
        assert geo.country_code(country.name) == country.alpha_2


STATES = [
    ("US", "California", "CA"),
    ("US", "california", "CA"),
    ("US", "new york", "NY"),
    ("US", "NY", "NY"),
    ("US", "ca", "CA"),
    ("US", "US-CA", "CA"),
    ("US", "us-tx", "TX"),
    ("US", "District of Columbia", "DC"),
    ("US", "Washington D.C.", "DC"),
    ("US", "D.C.", "DC"),
    ("DE", "Bayern", "BY"),
    ("DE", "Bavaria", "BY"),
    ("DE", "Baden-Württemberg", "BW"),
    ("DE", "NRW", "NW"),
    ("CA", "Ontario", "ON"),
    ("CA", "Québec", "QC"),
    ("CA", "CA-BC", "BC"),
    ("AU", "NSW", "NSW"),
    ("AU", "New South Wales", "NSW"),
    ("AU", "vic", "VIC"),
    ("GB", "Scotland", "SCT"),
    ("ES", "Cataluña", "CT"),
    ("ES", "Madrid", "MD"),
    ("MX", "Ciudad de México", "CMX"),
    ("MX", "Mexico City", "CMX"),
    ("BR", "São Paulo", "SP"),
    ("CN", "Guangdong", "GD"),
    ("IN", "Maharashtra", "MH"),
    ("CH", "Zurich", "ZH"),
]


@pytest.mark.parametrize(("country", "text", "code"), STATES)
def test_state_code(country: str, text: str, code: str) -> None:
    assert geo.state_code(country, text) == code


@pytest.mark.parametrize(("country", "text"), [("US", "Ontario"), ("US", "Narnia"), ("CA", "TX")])
def test_unknown_states(country: str, text: str) -> None:
    assert geo.state_code(country, text) is None


@pytest.mark.parametrize("country", ["US", "CA", "AU", "DE", "GB", "FR", "ES", "MX", "BR", "IN"])
def test_every_subdivision_code_reads_as_itself(country: str) -> None:
    subdivisions: list[Any] = pycountry.subdivisions.get(country_code=country)  # type: ignore[no-untyped-call]
    for sub in subdivisions:
        short = sub.code.split("-", 1)[1]
        assert geo.state_code(country, short) == short
        assert geo.state_code(country, sub.code) == short


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Texas", "US"),
        ("CA", "US"),
        ("new york", "US"),
        ("Ontario", "CA"),
        ("QC", "CA"),
        ("Victoria", "AU"),
        ("NSW", "AU"),
        ("WA", None),  # Washington or Western Australia
        ("NT", None),  # Northwest Territories or Northern Territory
        ("Bavaria", None),  # only US, Canada and Australia are guessed
        ("Narnia", None),
    ],
)
def test_country_of_a_bare_state(text: str, country: str | None) -> None:
    assert geo.country_of_state(text) == country


@pytest.mark.parametrize(
    ("country", "state", "postal_code", "phone", "zone"),
    [
        ("US", None, "10001", None, "America/New_York"),
        ("US", "CA", "10001", None, "America/New_York"),  # the ZIP is more precise
        ("US", None, "85001", None, "America/Phoenix"),
        ("US", None, "46201-1234", None, "America/Indiana/Indianapolis"),
        ("US", "TX", None, None, "America/Chicago"),
        ("US", "CA", None, None, "America/Los_Angeles"),
        ("US", None, None, "+14155552671", "America/Los_Angeles"),
        ("US", None, None, None, None),  # four zones and nothing to choose by
        ("CA", "ON", None, None, "America/Toronto"),
        ("CA", "BC", None, None, "America/Vancouver"),
        ("AU", "WA", None, None, "Australia/Perth"),
        ("AU", "NSW", None, None, "Australia/Sydney"),
        ("BR", "SP", None, None, "America/Sao_Paulo"),
        ("BR", "AM", None, None, "America/Manaus"),
        ("MX", "CMX", None, None, "America/Mexico_City"),
        ("MX", "BCN", None, None, "America/Tijuana"),
        ("GB", None, None, None, "Europe/London"),
        ("FR", None, None, None, "Europe/Paris"),
        ("DE", None, None, None, "Europe/Berlin"),
        ("IN", None, None, None, "Asia/Kolkata"),
        ("JP", None, None, None, "Asia/Tokyo"),
        (None, None, None, "+442079460958", "Europe/London"),
        (None, None, None, "+4930123456", "Europe/Berlin"),
        (None, None, None, None, None),
        ("RU", None, None, None, None),
    ],
)
def test_infer_timezone(
    country: str | None,
    state: str | None,
    postal_code: str | None,
    phone: str | None,
    zone: str | None,
) -> None:
    assert geo.infer_timezone(country, state, postal_code, phone) == zone


def test_zone_tables_name_real_zones_and_real_subdivisions() -> None:
    zones = geo.iana_zones()
    for country, table in geo.STATE_ZONES.items():
        for state, zone in table.items():
            assert zone in zones, zone
            assert geo.state_code(country, state) == state, (country, state)
    for zone in geo.MAIN_ZONES.values():
        assert zone in zones


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("U.S.A.", "usa"),
        ("The Netherlands", "netherlands"),
        ("Côte d'Ivoire", "cote divoire"),
        ("Bosnia & Herzegovina", "bosnia and herzegovina"),
        ("St. Lucia", "saint lucia"),
        ("Washington D.C.", "washington dc"),
    ],
)
def test_place_key(text: str, key: str) -> None:
    assert geo.place_key(text) == key
