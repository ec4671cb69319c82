"""Normalising a lead's fields: cleaned values, derived fields, flags, and nothing lost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain.normalize import Flag, Normalized, Normalizer, company_key


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"normalisation tried to use the network: {args!r}")


@pytest.fixture(scope="module", autouse=True)
def network_down() -> Iterator[None]:
    """Every test here, and the Normalizer's construction, runs with the network cut."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        yield


@pytest.fixture(scope="module")
def normalizer(network_down: None) -> Normalizer:
    return Normalizer()


def codes(result: Normalized) -> set[str]:
    return {flag.code for flag in result.flags}


# --- Flag and Normalized ----------------------------------------------------------------------


def test_flag_as_record() -> None:
    flag = Flag("email", "email_invalid", "Email 'x' is not a valid address.")
    assert flag.as_record() == {
        "field": "email",
        "code": "email_invalid",
        "message": "Email 'x' is not a valid address.",
    }


def test_unknown_fields_pass_through_and_input_is_not_mutated(normalizer: Normalizer) -> None:
    lead = {"email": "ADA@ACME.COM", "utm_campaign": "  Spring  ", "score": 7, "tags": ["a"]}
    before = dict(lead)
    result = normalizer.normalize(lead)
    assert lead == before
    assert result.fields["utm_campaign"] == "  Spring  "
    assert result.fields["score"] == 7
    assert result.fields["tags"] == ["a"]
    assert "utm_campaign" not in result.changes


def test_changes_record_raw_and_cleaned_values(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"country": "U.S.A.", "state": "california", "city": "Fresno"})
    assert result.changes["country"] == ("U.S.A.", "US")
    assert result.changes["state"] == ("california", "CA")
    assert result.changes["timezone"] == (None, "America/Los_Angeles")
    assert "city" not in result.changes
    for name, (_raw, cleaned) in result.changes.items():
        assert result.fields[name] == cleaned


def test_an_empty_lead_stays_empty(normalizer: Normalizer) -> None:
    result = normalizer.normalize({})
    assert result == Normalized({}, (), {})


# --- email ------------------------------------------------------------------------------------

EMAILS = [
    (" Ada.Lovelace@ACME.Co.UK ", "Ada.Lovelace@acme.co.uk", "acme.co.uk"),
    ("ada@acme.com", "ada@acme.com", "acme.com"),
    ("mailto:ada@acme.com", "ada@acme.com", "acme.com"),
    ("ADA@EU.ACME.COM", "ADA@eu.acme.com", "eu.acme.com"),
    ("ada@Müller.DE", "ada@müller.de", "müller.de"),
]


@pytest.mark.parametrize(("raw", "email", "domain"), EMAILS)
def test_valid_emails_are_normalised(
    normalizer: Normalizer, raw: str, email: str, domain: str
) -> None:
    result = normalizer.normalize({"email": raw})
    assert result.fields["email"] == email
    assert result.fields["email_domain"] == domain
    assert result.fields["free_email"] is False
    assert result.fields["disposable_email"] is False
    assert not result.flags


@pytest.mark.parametrize(
    "raw",
    ["ada@", "ada@acme", "ada at acme.com", "ada@@acme.com", "a b@acme.com", "ada@acme.com.", "-"],
)
def test_invalid_emails_are_kept_raw_and_flagged(normalizer: Normalizer, raw: str) -> None:
    result = normalizer.normalize({"email": raw})
    assert result.fields == {"email": raw}
    (flag,) = result.flags
    assert (flag.field, flag.code) == ("email", "email_invalid")
    assert repr(raw) in flag.message
    assert "email" not in result.changes


def test_a_non_text_email_is_flagged(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"email": 42})
    assert result.fields == {"email": 42}
    assert codes(result) == {"email_invalid"}


@pytest.mark.parametrize(
    "email", ["joe@gmail.com", "joe@GoogleMail.com", "joe@yahoo.co.uk", "joe@web.de", "x@qq.com"]
)
def test_free_mail_is_flagged_and_not_used_as_the_company_domain(
    normalizer: Normalizer, email: str
) -> None:
    result = normalizer.normalize({"email": email})
    assert result.fields["free_email"] is True
    assert "domain" not in result.fields
    assert codes(result) == {"email_free"}
    assert email.split("@")[1].lower() in result.flags[0].message


@pytest.mark.parametrize("email", ["temp@mailinator.com", "x@guerrillamail.com"])
def test_disposable_mail_is_flagged_and_not_used_as_the_company_domain(
    normalizer: Normalizer, email: str
) -> None:
    result = normalizer.normalize({"email": email})
    assert result.fields["disposable_email"] is True
    assert "domain" not in result.fields
    assert "email_disposable" in codes(result)


def test_the_free_and_disposable_lists_load(normalizer: Normalizer) -> None:
    assert len(normalizer.free_domains) > 1_000
    assert len(normalizer.disposable_domains) > 1_000
    assert {"gmail.com", "outlook.com", "gmx.de", "proton.me"} <= normalizer.free_domains
    assert "mailinator.com" in normalizer.disposable_domains
    assert "acme.com" not in normalizer.free_domains | normalizer.disposable_domains


def test_extra_domain_lists(network_down: None) -> None:
    custom = Normalizer(
        extra_free_domains=["Alumni.Example.edu"], extra_disposable_domains=["tmp.io"]
    )
    assert custom.normalize({"email": "a@alumni.example.edu"}).fields["free_email"] is True
    assert custom.normalize({"email": "a@tmp.io"}).fields["disposable_email"] is True


def test_deliverability_checks_are_off_by_default(normalizer: Normalizer) -> None:
    assert normalizer.check_deliverability is False
    # a domain that does not exist still validates: no DNS was asked (the network is down)
    result = normalizer.normalize({"email": "ada@no-such-domain-leadroute-test.com"})
    assert not result.flags


# --- domain, website, company -----------------------------------------------------------------

DOMAINS = [
    ({"domain": "ACME.COM"}, "acme.com"),
    ({"domain": "www.acme.co.uk"}, "acme.co.uk"),
    ({"domain": "https://www.acme.com/"}, "acme.com"),
    ({"website": "www.acme.co.uk/about"}, "acme.co.uk"),
    ({"website": "http://shop.acme.com"}, "acme.com"),
    ({"website": "https://acme.com:8443/pricing?x=1"}, "acme.com"),
    ({"website": "ACME.COM"}, "acme.com"),
    ({"website": "acme.com.au"}, "acme.com.au"),
    ({"email": "ada@eu.acme.de"}, "acme.de"),
    ({"domain": "acme.io", "website": "other.com", "email": "a@third.com"}, "acme.io"),
    ({"website": "acme.io", "email": "a@third.com"}, "acme.io"),
    ({"website": "n/a", "email": "a@third.com"}, "third.com"),
]


@pytest.mark.parametrize(("lead", "domain"), DOMAINS)
def test_domain_from_domain_then_website_then_email(
    normalizer: Normalizer, lead: dict[str, Any], domain: str
) -> None:
    assert normalizer.normalize(lead).fields["domain"] == domain


def test_website_is_kept_as_given(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"website": "  http://www.Acme.com/about "})
    assert result.fields["website"] == "http://www.Acme.com/about"
    assert result.fields["domain"] == "acme.com"


@pytest.mark.parametrize("website", ["n/a", "localhost", "http://10.0.0.1/", "acme", "not a url"])
def test_bad_websites_are_kept_and_flagged(normalizer: Normalizer, website: str) -> None:
    result = normalizer.normalize({"website": website})
    assert result.fields == {"website": website}
    assert codes(result) == {"website_invalid"}


def test_a_social_profile_is_not_the_company_domain(normalizer: Normalizer) -> None:
    result = normalizer.normalize(
        {"website": "https://www.linkedin.com/company/acme", "email": "ada@acme.com"}
    )
    assert result.fields["domain"] == "acme.com"
    assert codes(result) == {"website_profile"}
    assert normalizer.normalize({"website": "linkedin.com"}).fields["domain"] == "linkedin.com"


def test_a_bad_domain_is_kept_and_flagged(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"domain": "n/a", "website": "acme.com"})
    assert result.fields["domain"] == "n/a"
    assert codes(result) == {"domain_invalid"}


COMPANIES = [
    ("The Acme Corporation, Inc.", "acme"),
    ("Müller & Söhne GmbH", "muller and sohne"),
    ("ACME, LLC", "acme"),
    ("Acme Corp.", "acme"),
    ("Acme Ltd", "acme"),
    ("Acme Pty. Ltd.", "acme"),
    ("Acme GmbH & Co. KG", "acme"),
    ("Acme S.A.", "acme"),
    ("Société Générale S.A.", "societe generale"),
    ("O'Reilly Media", "oreilly media"),
    ("Acme Holdings plc", "acme holdings"),
    ("Smith & Co.", "smith"),
    ("  The   Beatles  ", "beatles"),
    ("Inc.", "inc"),  # a name that is only a suffix keeps it
    ("The Company", "company"),
]


@pytest.mark.parametrize(("name", "key"), COMPANIES)
def test_company_key(name: str, key: str) -> None:
    assert company_key(name) == key


def test_company_is_trimmed_and_keyed(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"company": "  The Acme   Corporation, Inc. "})
    assert result.fields["company"] == "The Acme Corporation, Inc."
    assert result.fields["company_key"] == "acme"


# --- country, state, phone, postal code -------------------------------------------------------

PLACES = [
    ({"country": "United States of America"}, {"country": "US"}),
    ({"country": "U.K."}, {"country": "GB"}),
    ({"country": "Deutschland", "state": "Bayern"}, {"country": "DE", "state": "BY"}),
    ({"country": "germany", "state": "Bavaria"}, {"country": "DE", "state": "BY"}),
    ({"country": "Canada", "state": "Ontario"}, {"country": "CA", "state": "ON"}),
    ({"country": "AU", "state": "nsw"}, {"country": "AU", "state": "NSW"}),
    ({"country": "US", "state": "US-CA"}, {"country": "US", "state": "CA"}),
    ({"country": "usa", "state": "new york"}, {"country": "US", "state": "NY"}),
    # no country: an unambiguous US/Canadian/Australian state says which
    ({"state": "Texas"}, {"country": "US", "state": "TX"}),
    ({"state": "ca"}, {"country": "US", "state": "CA"}),
    ({"state": "Ontario"}, {"country": "CA", "state": "ON"}),
    # no country: a +number says which
    ({"phone": "+44 20 7946 0958"}, {"country": "GB", "phone": "+442079460958"}),
    ({"state": "WA", "phone": "+61 8 9222 1234"}, {"country": "AU", "state": "WA"}),
    # a given country is never overridden by the phone
    ({"country": "FR", "phone": "+44 20 7946 0958"}, {"country": "FR"}),
]


@pytest.mark.parametrize(("lead", "expected"), PLACES)
def test_places(normalizer: Normalizer, lead: dict[str, Any], expected: dict[str, Any]) -> None:
    result = normalizer.normalize(lead)
    assert {k: result.fields.get(k) for k in expected} == expected
    assert not result.flags


def test_an_unknown_country_is_kept_and_flagged(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"country": "Narnia", "phone": "+44 20 7946 0958"})
    assert result.fields["country"] == "Narnia"
    assert codes(result) == {"country_unknown"}
    assert "'Narnia'" in result.flags[0].message


@pytest.mark.parametrize(
    "lead",
    [
        {"country": "US", "state": "Ontario"},
        {"country": "US", "state": "Narnia"},
        {"state": "WA"},  # Washington or Western Australia, and no country to say which
        {"country": "N/A", "state": "TX"},
    ],
)
def test_an_unknown_state_is_kept_and_flagged(normalizer: Normalizer, lead: dict[str, Any]) -> None:
    result = normalizer.normalize(lead)
    assert result.fields["state"] == lead["state"]
    assert "state_unknown" in codes(result)


PHONES = [
    ("US", "(415) 555-2671", "+14155552671"),
    ("US", "415.555.2671", "+14155552671"),
    ("US", "+1 415 555 2671 ext. 12", "+14155552671"),
    ("US", 4155552671, "+14155552671"),
    ("GB", "020 7946 0958", "+442079460958"),
    ("DE", "030 1234567", "+49301234567"),
    ("DE", "+49 (0)30 1234567", "+49301234567"),
    ("FR", "01 42 68 53 00", "+33142685300"),
    ("US", "+44 20 7946 0958", "+442079460958"),
]


@pytest.mark.parametrize(("country", "raw", "e164"), PHONES)
def test_phones_become_e164(normalizer: Normalizer, country: str, raw: Any, e164: str) -> None:
    result = normalizer.normalize({"country": country, "phone": raw})
    assert result.fields["phone"] == e164
    assert result.fields["phone_valid"] is True
    assert not result.flags


@pytest.mark.parametrize(
    ("country", "raw"),
    [("US", "123"), ("US", "call me"), ("US", "(000) 000-0000"), (None, "415 555 2671")],
)
def test_bad_phones_are_kept_and_flagged(
    normalizer: Normalizer, country: str | None, raw: str
) -> None:
    lead = {"phone": raw} if country is None else {"country": country, "phone": raw}
    result = normalizer.normalize(lead)
    assert result.fields["phone"] == raw
    assert result.fields["phone_valid"] is False
    assert codes(result) == {"phone_invalid"}


def test_mobile_phone_is_normalised_too(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"country": "GB", "mobile_phone": "07911 123456"})
    assert result.fields["mobile_phone"] == "+447911123456"
    bad = normalizer.normalize({"country": "GB", "mobile_phone": "12"})
    assert codes(bad) == {"mobile_phone_invalid"}


POSTAL_CODES = [
    ("US", "94107", "94107"),
    ("US", " 94107-1234 ", "94107"),
    ("US", "941071234", "94107"),
    ("US", 2134, "02134"),  # a spreadsheet dropped the leading zero
    ("US", "2134", "02134"),
    ("CA", "k1a0b1", "K1A 0B1"),
    ("GB", "sw1a1aa", "SW1A 1AA"),
    ("GB", "sw1a  1aa", "SW1A 1AA"),
    ("NL", "1012 ab", "1012 AB"),
    ("DE", "10115", "10115"),
]


@pytest.mark.parametrize(("country", "raw", "cleaned"), POSTAL_CODES)
def test_postal_codes(normalizer: Normalizer, country: str, raw: Any, cleaned: str) -> None:
    result = normalizer.normalize({"country": country, "postal_code": raw})
    assert result.fields["postal_code"] == cleaned
    assert not result.flags


@pytest.mark.parametrize("raw", ["9410", "ABCDE", "941"])
def test_a_bad_us_zip_is_kept_and_flagged(normalizer: Normalizer, raw: str) -> None:
    result = normalizer.normalize({"country": "US", "postal_code": raw})
    if raw == "9410":
        assert result.fields["postal_code"] == "09410"  # four digits: the lost leading zero
        return
    assert result.fields["postal_code"] == raw
    assert codes(result) == {"postal_code_invalid"}


# --- title, numbers, time zone ----------------------------------------------------------------


def test_title_gives_seniority_and_department(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"title": "  SVP,  Sales "})
    assert result.fields["title"] == "SVP, Sales"
    assert result.fields["seniority"] == "vp"
    assert result.fields["department"] == "sales"


def test_given_seniority_and_department_are_not_overwritten(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"title": "CEO", "seniority": "owner", "department": "ops"})
    assert result.fields["seniority"] == "owner"
    assert result.fields["department"] == "ops"


NUMBERS = [
    ("1,200", 1200),
    ("1.2k", 1200),
    ("10-50", 30),  # a range is read as its midpoint
    ("$5M", 5_000_000),
    ("1000+", 1000),
    (250, 250),
    (12.0, 12),
    (0, 0),
]


@pytest.mark.parametrize("name", ["employees", "annual_revenue"])
@pytest.mark.parametrize(("raw", "number"), NUMBERS)
def test_numbers(normalizer: Normalizer, name: str, raw: Any, number: int) -> None:
    result = normalizer.normalize({name: raw})
    assert result.fields[name] == number
    assert type(result.fields[name]) is int
    assert not result.flags


@pytest.mark.parametrize("name", ["employees", "annual_revenue"])
@pytest.mark.parametrize(
    ("raw", "code"),
    [(-5, "negative"), ("-1,200", "negative"), ("lots", "invalid"), (True, "invalid")],
)
def test_bad_numbers_are_kept_and_flagged(
    normalizer: Normalizer, name: str, raw: Any, code: str
) -> None:
    result = normalizer.normalize({name: raw})
    assert result.fields == {name: raw}
    assert codes(result) == {f"{name}_{code}"}


TIMEZONES = [
    ({"country": "US", "postal_code": "10001"}, "America/New_York"),
    ({"country": "US", "postal_code": "85001-0001"}, "America/Phoenix"),
    ({"country": "United States", "state": "Texas"}, "America/Chicago"),
    ({"country": "US", "phone": "(415) 555-2671"}, "America/Los_Angeles"),
    ({"country": "Canada", "state": "British Columbia"}, "America/Vancouver"),
    ({"country": "Australia", "state": "Western Australia"}, "Australia/Perth"),
    ({"country": "Brasil", "state": "São Paulo"}, "America/Sao_Paulo"),
    ({"country": "México", "state": "Jalisco"}, "America/Mexico_City"),
    ({"country": "Germany"}, "Europe/Berlin"),
    ({"phone": "+33 1 42 68 53 00"}, "Europe/Paris"),
]


@pytest.mark.parametrize(("lead", "zone"), TIMEZONES)
def test_timezone_is_inferred(normalizer: Normalizer, lead: dict[str, Any], zone: str) -> None:
    assert normalizer.normalize(lead).fields["timezone"] == zone


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("EST", "America/New_York"),
    ],
)
def test_a_given_timezone_is_kept_in_its_canonical_spelling(
    normalizer: Normalizer, raw: str, zone: str
) -> None:
    result = normalizer.normalize({"timezone": raw, "country": "JP"})
    assert result.fields["timezone"] == zone
    assert not result.flags


def test_an_unknown_timezone_is_kept_and_flagged(normalizer: Normalizer) -> None:
    result = normalizer.normalize({"timezone": "Mars/Olympus", "country": "DE"})
    assert result.fields["timezone"] == "Mars/Olympus"
    assert codes(result) == {"timezone_unknown"}


# --- the whole lead ---------------------------------------------------------------------------


def test_a_messy_web_form_lead(normalizer: Normalizer) -> None:
    result = normalizer.normalize(
        {
            "first_name": " Ada ",
            "email": " Ada.Lovelace@ACME.co.uk ",
            "company": "  The Acme   Corporation, Inc. ",
            "website": "www.acme.co.uk/about",
            "phone": "020 7946 0958",
            "country": "U.K.",
            "state": "Scotland",
            "postal_code": "eh1 1yz",
            "title": "Sr. Director of Engineering",
            "employees": "1,200",
            "lead_source": "Web",
        }
    )
    assert result.fields == {
        "first_name": "Ada",
        "email": "Ada.Lovelace@acme.co.uk",
        "email_domain": "acme.co.uk",
        "free_email": False,
        "disposable_email": False,
        "company": "The Acme Corporation, Inc.",
        "company_key": "acme",
        "domain": "acme.co.uk",
        "website": "www.acme.co.uk/about",
        "phone": "+442079460958",
        "phone_valid": True,
        "country": "GB",
        "state": "SCT",
        "postal_code": "EH1 1YZ",
        "title": "Sr. Director of Engineering",
        "seniority": "director",
        "department": "engineering",
        "employees": 1200,
        "timezone": "Europe/London",
        "lead_source": "Web",
    }
    assert result.flags == ()


def test_every_bad_value_is_flagged_and_kept(normalizer: Normalizer) -> None:
    lead = {
        "email": "ada@",
        "website": "n/a",
        "country": "Narnia",
        "state": "Atlantis",
        "phone": "12",
        "employees": -3,
        "annual_revenue": "approx. 5M",
        "timezone": "Mars/Olympus",
    }
    result = normalizer.normalize(lead)
    assert codes(result) == {
        "email_invalid",
        "website_invalid",
        "country_unknown",
        "state_unknown",
        "phone_invalid",
        "employees_negative",
        "annual_revenue_invalid",
        "timezone_unknown",
    }
    assert {k: result.fields[k] for k in lead} == lead
    for flag in result.flags:
        assert repr(lead[flag.field]) in flag.message


# --- idempotence ------------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_FIELDS = {
    "email": st.one_of(
        st.sampled_from(
            [
                "Ada@ACME.com",
                " joe@gmail.com ",
                "x@mailinator.com",
                "bad@",
                "a@b.co",
                "mailto:z@q.io",
            ]
        ),
        _TEXT,
        st.emails(),
    ),
    "company": st.one_of(st.sampled_from(["The Acme Corp, Inc.", "Müller & Söhne GmbH"]), _TEXT),
    "domain": st.one_of(st.sampled_from(["ACME.COM", "www.acme.co.uk", "n/a"]), _TEXT),
    "website": st.one_of(st.sampled_from(["http://shop.acme.com/x", "linkedin.com/in/a"]), _TEXT),
    "country": st.one_of(
        st.sampled_from(["USA", "U.K.", "Deutschland", "Narnia", "ca", "N/A", "Korea", ""]), _TEXT
    ),
    "state": st.one_of(
        st.sampled_from(["California", "ca", "WA", "Bavaria", "Ontario", "NSW", "Atlantis"]), _TEXT
    ),
    "phone": st.one_of(
        st.sampled_from(
            ["(415) 555-2671", "+44 20 7946 0958", "020 7946 0958", "123", "+61 8 9222 1234"]
        ),
        st.integers(min_value=0, max_value=10**12),
        _TEXT,
    ),
    "postal_code": st.one_of(
        st.sampled_from(["94107-1234", "2134", "k1a0b1", "sw1a1aa"]),
        st.integers(min_value=0, max_value=99999),
        _TEXT,
    ),
    "title": st.one_of(st.sampled_from(["CEO", "SVP, Sales", "Geschäftsführer", "n/a"]), _TEXT),
    "employees": st.one_of(
        st.sampled_from(["1,200", "1.2k", "10-50", "lots", "-5"]),
        st.integers(min_value=-10, max_value=10**6),
        st.floats(allow_nan=False),
        st.booleans(),
    ),
    "annual_revenue": st.one_of(st.sampled_from(["$5M", "1e6", "n/a"]), st.floats(allow_nan=False)),
    "timezone": st.one_of(st.sampled_from(["europe/berlin", "EST", "Mars/Olympus", ""]), _TEXT),
    "city": _TEXT,
    "custom_field": st.one_of(_TEXT, st.integers()),
}
LEADS = st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), v) for k, v in _FIELDS.items()})


@settings(max_examples=400, deadline=None)
@given(LEADS)
def test_normalising_twice_changes_nothing(normalizer: Normalizer, lead: dict[str, Any]) -> None:
    once = normalizer.normalize(lead)
    twice = normalizer.normalize(once.fields)
    assert twice.fields == once.fields
    assert set(twice.changes) <= set(once.changes) | {"phone_valid"}
    for name in lead:
        assert name in once.fields  # nothing is dropped


@settings(max_examples=200, deadline=None)
@given(LEADS)
def test_changes_describe_exactly_the_differences(
    normalizer: Normalizer, lead: dict[str, Any]
) -> None:
    result = normalizer.normalize(lead)
    for name, value in result.fields.items():
        if name in result.changes:
            assert result.changes[name] == (lead.get(name), value)
        else:
            assert lead[name] is value or lead[name] == value
