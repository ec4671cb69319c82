"""Which fields are personal, and how one person's values are erased from records."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from leadroute.domain.privacy import (
    ERASED,
    PersonScrubber,
    emails_in,
    is_personal,
    personal_values,
)

BEA = {
    "email": "Bea.Two@small.com",
    "first_name": "Bea",
    "last_name": "Paris",
    "title": "Sales",
    "phone": "+14155550100",
    "company": "Small Co",
    "city": "Paris",
    "department": "sales",
    "email_domain": "small.com",
    "free_email": False,
}


def test_personal_fields_as_canonical_names_and_raw_headers() -> None:
    for name in ("email", "Email Address", "FirstName", "MobilePhone", "Job Title", "LinkedIn__c"):
        assert is_personal(name), name
    for name in (
        "company",
        "email_domain",
        "free_email",
        "phone_valid",
        "city",
        "NumberOfEmployees",
    ):
        assert not is_personal(name), name
    assert emails_in(
        {"Email": " BEA@X.COM ", "email_domain": "x.com", "Work Email": "b@y.org"}
    ) == {
        "bea@x.com",
        "b@y.org",
    }
    assert personal_values(BEA) >= {"Bea.Two@small.com", "Bea", "Paris", "Bea Paris"}
    assert personal_values(BEA, whole=True) == {"Sales"}


def test_a_lead_keeps_company_and_location_even_when_they_equal_a_personal_value() -> None:
    scrub = PersonScrubber.of([BEA])
    fields, erased = scrub.fields(BEA)
    assert fields is not None
    assert erased == {"email", "first_name", "last_name", "title", "phone"}
    assert all(fields[k] == ERASED for k in erased)
    assert fields["city"] == "Paris" and fields["department"] == "sales"
    assert fields["company"] == "Small Co" and fields["free_email"] is False


def test_a_record_loses_the_person_and_keeps_the_account_and_config() -> None:
    scrub = PersonScrubber.of([BEA])
    record = {
        "reason": "na: r1 from pool sales",
        "account": {"id": "a1", "name": "Bea Paris Holdings"},
        "nodes": [
            {
                "node": "vip",
                "condition": "email ends_with small.com",
                "values": {"email": "Bea.Two@small.com", "city": "Paris", "country": "US"},
            }
        ],
        "data_quality": {
            "changes": {"phone": ["(415) 555-0100", "+14155550100"], "country": ["usa", "US"]},
            "flags": [{"field": "phone", "code": "phone_invalid", "message": "bad (415) 555"}],
            "duplicate": {"lead_id": "B1", "reason": "same email bea.two@SMALL.com as lead B1"},
        },
    }
    out = scrub.record(record)
    assert out["account"] == record["account"] and out["reason"] == record["reason"]
    node = out["nodes"][0]
    assert node["condition"] == "email ends_with small.com"
    assert node["values"] == {"email": ERASED, "city": "Paris", "country": "US"}
    quality = out["data_quality"]
    assert quality["changes"] == {"phone": [ERASED, ERASED], "country": ["usa", "US"]}
    assert quality["flags"] == [{"field": "phone", "code": "phone_invalid", "message": ERASED}]
    assert quality["duplicate"]["reason"] == f"same email {ERASED} as lead B1"


def test_text_erases_whole_words_and_leaves_other_addresses() -> None:
    scrub = PersonScrubber(["bea@small.com", "Al", "Twofold"])
    assert scrub.text("mail BEA@small.com now") == f"mail {ERASED} now"
    assert scrub.text("click-bea@small.com-1") == f"click-{ERASED}-1"
    assert scrub.text("x.bea@small.com") == "x.bea@small.com"  # someone else
    assert scrub.text("bea@small.com.au") == "bea@small.com.au"
    assert scrub.text("Al") == ERASED and scrub.text("Sales Alps") == "Sales Alps"
    assert scrub.text("Twofolded Twofold.") == f"Twofolded {ERASED}."
    assert not PersonScrubber([]) and PersonScrubber([ERASED, " "]).values == frozenset()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["bea@small.com", "x", "Bea"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["email", "values", "city", "note", "k"]), inner, max_size=4
        )
    ),
    max_leaves=20,
)


def _shape(value: Any) -> Any:
    """Keys and list lengths; what a personal field holds may become the marker."""
    if isinstance(value, dict):
        return {k: "personal" if k in ("email", "note") else _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "leaf"


@given(json_values)
def test_erasing_keeps_the_shape_of_any_record_and_is_idempotent(value: Any) -> None:
    scrub = PersonScrubber(["Bea"], emails=["bea@small.com"])
    once = scrub.record(value)
    assert _shape(once) == _shape(value)
    assert scrub.record(once) == once
    assert "bea@small.com" not in str(once)
