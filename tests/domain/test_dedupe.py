"""Duplicate detection (email, then fuzzy with blocking) and the survivor rule of merges."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain.dedupe import (
    DuplicateMatch,
    LeadIndex,
    LeadMeta,
    email_key,
    fold,
    merge,
    sound,
    status_rank,
)
from leadroute.sample.noisy_leads import company_key, noisy_lead_stream

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def lead(
    first: str | None = "Ann",
    last: str | None = "Lee",
    *,
    email: str | None = None,
    company: str | None = "Acme Corporation",
    domain: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """Fields as the normaliser produces them; None leaves a field out."""
    fields: dict[str, Any] = {"first_name": first, "last_name": last, "phone": phone}
    if email is not None:
        host = email.rsplit("@", 1)[1].lower()
        fields |= {"email": email, "email_domain": host}
        fields["free_email"] = host in ("gmail.com", "googlemail.com", "yahoo.com")
        if not fields["free_email"] and domain is None:
            domain = host
    if company is not None:
        fields |= {"company": company, "company_key": company_key(company)}
    fields["domain"] = domain
    return {k: v for k, v in fields.items() if v is not None}


def found(index: LeadIndex, fields: dict[str, Any], *, exclude: str | None = None) -> str | None:
    """The id of the lead the index finds for these fields, or None."""
    match = index.find(fields, exclude=exclude)
    return None if match is None else match.lead_id


def index_of(*leads: tuple[str, dict[str, Any]], **options: Any) -> LeadIndex:
    index = LeadIndex(**options)
    for lead_id, fields in leads:
        index.add(lead_id, fields)
    return index


# --- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Ann.Lee@Acme.com", "ann.lee@acme.com"),
        ("ann.lee+webinar@acme.com", "ann.lee@acme.com"),
        ("A.n.n.Lee+x@gmail.com", "annlee@gmail.com"),
        ("annlee@googlemail.com", "annlee@gmail.com"),
        ("not-an-email", ""),
        (None, ""),
    ],
)
def test_email_key(email: Any, key: str) -> None:
    assert email_key(email) == key


def test_fold_and_sound() -> None:
    assert fold("Müller") == "muller"
    assert fold("O'Connor") == "oconnor"
    assert fold("Paweł Yılmaz") == "pawelyilmaz"  # noqa: RUF001
    assert sound("smith") == sound("smyth") == "s530"
    assert sound("lee") == "l000"
    assert sound("王") == "王"


def test_status_rank_follows_the_documented_order() -> None:
    order = ["converted", "contacted", "routed", "held", "new", "unrouted", "rejected"]
    ranks = [status_rank(s) for s in order]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == len(ranks)
    assert status_rank("assigned") == status_rank("routed")
    assert status_rank("disqualified") == status_rank("contacted")
    assert status_rank("Contacted") == status_rank("contacted")


# --- exact email -------------------------------------------------------------------------------


def test_same_email_is_a_duplicate_whatever_else_differs() -> None:
    index = index_of(("L12", lead(email="ann@acme.com")))
    match = index.find(lead("Zed", "Other", email="ANN@acme.com", company="Globex"))
    assert match == DuplicateMatch(
        "L12", 1.0, "email", {"email": 1.0}, "same email ANN@acme.com as lead L12"
    )
    assert match.as_record() == {
        "lead_id": "L12",
        "score": 1.0,
        "method": "email",
        "evidence": {"email": 1.0},
        "reason": "same email ANN@acme.com as lead L12",
    }


def test_gmail_ignores_dots_and_tags_other_domains_only_tags() -> None:
    index = index_of(
        ("L1", lead("Ann", "Lee", email="annlee@gmail.com", company=None)),
        ("L2", lead("Bo", "Kim", email="bo.kim@acme.com", company=None)),
    )
    match = index.find(lead("X", "Y", email="Ann.Lee+crm@googlemail.com", company=None))
    assert match is not None and match.lead_id == "L1" and match.method == "email"
    assert "compared as annlee@gmail.com" in match.reason
    tagged = index.find(lead("X", "Y", email="bo.kim+news@acme.com", company=None))
    assert tagged is not None and tagged.lead_id == "L2"
    assert index.find(lead("X", "Y", email="bokim@acme.com", company=None)) is None


def test_email_match_comes_first_and_skips_the_excluded_lead() -> None:
    index = index_of(
        ("L1", lead(email="ann@acme.com", phone="+14155550100")),
        ("L2", lead(email="ann@acme.com")),
    )
    assert found(index, lead(email="ann@acme.com")) == "L1"
    assert found(index, lead(email="ann@acme.com"), exclude="L1") == "L2"


# --- fuzzy -------------------------------------------------------------------------------------


def test_typo_in_a_name_at_the_same_company() -> None:
    index = index_of(("L7", lead("Jennifer", "Okafor", email="jokafor@acme.com")))
    match = index.find(lead("Jenifer", "Okafor", email="jen.okafor@gmail.com", company="ACME Inc."))
    assert match is not None and match.method == "fuzzy" and match.lead_id == "L7"
    assert match.score >= 0.9
    assert set(match.evidence) == {"name", "company"}
    assert match.evidence["company"] == 1.0
    assert re.fullmatch(r"same person: name 0\.\d+, company 1\.0, as lead L7", match.reason)


def test_reason_names_every_field_compared() -> None:
    index = index_of(("L7", lead("Ann", "Lee", email="ann@acme.com", phone="+14155550100")))
    match = index.find(lead("Ann", "Lee", email="ann.lee@acme.com", phone="+1 415 555 0100"))
    assert match is not None
    assert match.evidence == {"name": 1.0, "phone": 1.0, "domain": 1.0, "company": 1.0}
    assert match.reason == (
        "same person: name 1.0, company 1.0, domain equal, phone equal, as lead L7"
    )


def test_swapped_first_and_last_name() -> None:
    index = index_of(("L1", lead("Wei", "Zhang", email="wei.zhang@acme.com")))
    match = index.find(lead("Zhang", "Wei", email="wzhang@gmail.com", company="Acme"))
    assert match is not None and match.lead_id == "L1"
    assert "first and last swapped" in match.reason


def test_nickname() -> None:
    index = index_of(("L1", lead("Robert", "Brown", company="Acme", phone="+14155550100")))
    match = index.find(lead("Bob", "Brown", company="Acme Inc"))
    assert match is not None and match.lead_id == "L1"


def test_free_mail_leads_with_same_name_and_phone_are_duplicates() -> None:
    index = index_of(
        ("L1", lead("Ann", "Lee", email="annlee77@gmail.com", company=None, phone="+442071234567"))
    )
    match = index.find(
        lead("Ann", "Lee", email="ann.lee@yahoo.com", company=None, phone="+442071234567")
    )
    assert match is not None and match.lead_id == "L1" and match.evidence["phone"] == 1.0


def test_same_name_at_another_company_is_not_a_duplicate_unless_phone_is_equal() -> None:
    index = index_of(
        ("L1", lead("John", "Smith", email="john.smith@acme.com", phone="+14155550100"))
    )
    elsewhere = lead("John", "Smith", email="john.smith@globex.com", company="Globex")
    assert index.find(elsewhere) is None
    assert index.find(elsewhere | {"phone": "+14155550199"}) is None
    same_phone = index.find(elsewhere | {"phone": "+14155550100"})
    assert same_phone is not None and same_phone.lead_id == "L1"


def test_family_members_at_one_company_are_not_duplicates() -> None:
    line = "+4930123456"
    index = index_of(
        ("L1", lead("Anna", "Berg", email="anna@berg.de", company="Berg GmbH", phone=line))
    )
    assert (
        index.find(lead("Peter", "Berg", email="peter@berg.de", company="Berg GmbH", phone=line))
        is None
    )
    assert index.find(lead("Anja", "Berg", company="Berg", phone=line)) is not None  # a typo


def test_name_alone_or_company_alone_is_not_enough() -> None:
    index = index_of(("L1", lead("Ann", "Lee", email="ann@acme.com", phone="+14155550100")))
    assert index.find(lead("Ann", "Lee", company=None)) is None
    assert index.find(lead("Bob", "Stone", company="Acme", phone="+14155550100")) is None


def test_company_name_against_the_other_leads_domain() -> None:
    index = index_of(("L1", lead("Ann", "Lee", email="ann@bluepeak.io", company=None)))
    match = index.find(lead("Ann", "Lee", email="annlee@gmail.com", company="Blue Peak Ltd"))
    assert match is not None and match.lead_id == "L1"


def test_a_lead_without_first_name_needs_an_equal_phone() -> None:
    index = index_of(
        ("L1", lead("Ann", "Lee", email="ann.lee@acme.com", phone="+14155550100")),
        ("L2", lead("Bo", "Lee", email="bo.lee@acme.com", phone="+14155550111")),
    )
    assert index.find(lead(None, "Lee", company="Acme")) is None
    match = index.find(lead(None, "Lee", company="Acme", phone="+14155550111"))
    assert match is not None and match.lead_id == "L2" and "only part of the name" in match.reason


def test_a_partial_name_never_matches_another_mailbox_at_the_company() -> None:
    line = "+4930123456"
    index = index_of(("L1", lead("Anna", "Berg", email="anna@berg.de", phone=line)))
    assert index.find(lead(None, "Berg", email="peter@berg.de", phone=line)) is None
    assert index.find(lead(None, "Berg", email="berg77@gmail.com", phone=line)) is not None


def test_first_name_read_from_the_email_address() -> None:
    index = index_of(("L1", lead("Ann", "Lee", email="ann@acme.com")))
    match = index.find(lead(None, "Lee", email="ann.lee84@gmail.com", company="Acme"))
    assert match is not None and match.lead_id == "L1"


def test_a_partial_name_shared_by_two_people_matches_neither() -> None:
    line = "+4930123456"
    index = index_of(
        ("L1", lead("Anna", "Berg", company="Berg", phone=line)),
        ("L2", lead("Peter", "Berg", company="Berg", phone=line)),
    )
    assert index.find(lead(None, "Berg", phone=line, company=None)) is None


def test_threshold() -> None:
    fields = lead("Jennifer", "Okafor", company="Acme")
    typo = lead("Jenifer", "Okafr", company="Acme")
    assert index_of(("L1", fields)).find(typo) is not None
    assert index_of(("L1", fields), threshold=0.99).find(typo) is None
    with pytest.raises(ValueError):
        LeadIndex(threshold=0)


def test_best_candidate_wins_and_ties_go_to_the_first_added() -> None:
    index = index_of(
        ("L1", lead("Ann", "Lea", company="Acme")),
        ("L2", lead("Ann", "Lee", company="Acme")),
        ("L3", lead("Ann", "Lee", company="Acme")),
    )
    assert found(index, lead("Ann", "Lee", company="Acme")) == "L2"


# --- add, remove, update -----------------------------------------------------------------------


def test_remove_forgets_a_lead() -> None:
    index = index_of(
        ("L1", lead(email="ann@acme.com", phone="+14155550100")),
        ("L2", lead("Bo", "Kim", email="bo@acme.com")),
    )
    assert len(index) == 2 and "L1" in index
    index.remove("L1")
    assert len(index) == 1 and "L1" not in index
    assert index.find(lead(email="ann@acme.com")) is None
    assert index.find(lead(phone="+14155550100")) is None
    with pytest.raises(KeyError):
        index.remove("L1")
    index.add("L3", lead(email="ann@acme.com"))
    assert found(index, lead(email="ann@acme.com")) == "L3"


def test_add_again_updates_a_lead() -> None:
    index = index_of(("L1", lead(email="ann@acme.com")))
    index.add("L1", lead(email="ann@globex.com", company="Globex"))
    assert len(index) == 1
    assert index.find(lead(email="ann@acme.com", company="Initech")) is None
    assert found(index, lead(email="ann@globex.com")) == "L1"
    assert found(index, lead("Ann", "Lee", company="Globex Ltd")) == "L1"


def test_exclude_skips_the_lead_itself_after_an_update() -> None:
    fields = lead(email="ann@acme.com")
    index = index_of(("L1", fields))
    assert index.find(fields, exclude="L1") is None
    assert found(index, fields, exclude="not-indexed") == "L1"


# --- blocking caps -----------------------------------------------------------------------------


def test_a_key_shared_by_too_many_leads_is_skipped() -> None:
    switchboard = "+14155550100"
    index = LeadIndex(max_block=5)
    for i in range(6):  # six people behind one company phone, no other key in common
        index.add(f"L{i}", lead(f"Person{i}x", f"Zq{i}", company=f"Shop {i}", phone=switchboard))
    # The phone block overflowed: nobody is a candidate through the phone any more.
    assert index.candidates(lead("Person0x", "Zq0", company=None, phone=switchboard)) == []
    assert index.find(lead("Person0x", "Zq0", company=None, phone=switchboard)) is None
    # Other keys still work.
    assert found(index, lead("Person0x", "Zq0", company="Shop 0")) == "L0"
    # The key stays dropped after removals.
    for i in range(6):
        index.remove(f"L{i}")
    index.add("L9", lead("Person9x", "Zq9", company=None, phone=switchboard))
    assert index.candidates(lead("Person9x", "Zq9", company=None, phone=switchboard)) == []


def test_a_block_at_the_cap_is_still_used() -> None:
    index = LeadIndex(max_block=5)
    for i in range(5):
        index.add(f"L{i}", lead(f"Person{i}x", f"Zq{i}", company=f"Shop {i}", phone="+14155550100"))
    assert len(index.candidates(lead("A", "B", company=None, phone="+14155550100"))) == 5


def test_candidates_stay_bounded_however_many_leads_look_alike() -> None:
    index = LeadIndex(max_block=20)
    for i in range(500):  # 500 John Smiths at one company
        index.add(f"L{i}", lead("John", "Smith", email=f"js{i}@acme.com", phone=f"+1415555{i:04d}"))
    query = lead("John", "Smith", email="john@acme.com", phone="+14155550007")
    candidates = index.candidates(query)
    assert candidates == ["L7"]  # only the phone block is still specific
    at_most = 10 * 20  # ten keys per lead at most, each with at most max_block leads
    assert len(index.candidates(lead("John", "Smith", company="Acme"))) <= at_most


# --- merge -------------------------------------------------------------------------------------


def meta(lead_id: str, status: str = "new", minutes: int = 0, *sources: str) -> LeadMeta:
    return LeadMeta(lead_id, status, T0 + timedelta(minutes=minutes), tuple(sources))


def test_the_most_advanced_lead_survives() -> None:
    old = {"email": "ann@acme.com", "first_name": "Ann"}
    new = {"email": "ann@acme.com", "first_name": "Ann", "last_name": "Lee", "phone": "+1415"}
    result = merge(new, old, survivor_meta=meta("L2", "new", 5), other_meta=meta("L1", "contacted"))
    assert result.survivor_id == "L1" and result.merged_id == "L2"
    assert result.fields == {
        "email": "ann@acme.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "+1415",
    }
    assert result.filled == {"last_name": "L2", "phone": "L2"}
    assert result.reason == "L1 survives: status contacted ranks above new"


def test_then_the_most_complete_then_the_most_recent() -> None:
    rich = {"email": "a@x.com", "company": "X", "phone": "+1"}
    poor: dict[str, Any] = {"email": "a@x.com", "company": "", "phone": None, "tags": []}
    result = merge(poor, rich, survivor_meta=meta("L1", "held", 9), other_meta=meta("L2", "held"))
    assert result.survivor_id == "L2"
    assert "3 fields filled against 1" in result.reason
    same = {"email": "a@x.com"}
    later = merge(
        same, dict(same), survivor_meta=meta("L1", "new"), other_meta=meta("L2", "new", 1)
    )
    assert later.survivor_id == "L2" and "received later" in later.reason
    tie = merge(same, dict(same), survivor_meta=meta("L1"), other_meta=meta("L2"))
    assert tie.survivor_id == "L1" and "kept as given" in tie.reason


def test_routed_and_assigned_rank_alike_other_statuses_rank_last() -> None:
    a, b = {"x": 1}, {"x": 1}
    later = merge(a, b, survivor_meta=meta("A", "routed"), other_meta=meta("B", "assigned", 1))
    assert later.survivor_id == "B"  # same rank, so the more recent one
    odd = merge(a, b, survivor_meta=meta("A", "rejected", 5), other_meta=meta("B", "unrouted"))
    assert odd.survivor_id == "B"
    worked = merge(a, b, survivor_meta=meta("A", "new", 5), other_meta=meta("B", "disqualified"))
    assert worked.survivor_id == "B"


def test_conflicts_keep_the_survivors_value_and_list_both() -> None:
    survivor = {"email": "ann@acme.com", "phone": "+14155550100", "company": "ACME", "title": ""}
    other = {"email": "Ann@Acme.com", "phone": "+14155550199", "company": "acme ", "title": "CTO"}
    result = merge(survivor, other, survivor_meta=meta("L1", "routed"), other_meta=meta("L2"))
    assert result.fields["phone"] == "+14155550100"
    assert result.conflicts == {"phone": ("+14155550100", "+14155550199")}
    assert result.filled == {"title": "L2"}
    assert result.fields["title"] == "CTO"


def test_sources_are_unioned_in_order_and_nothing_is_dropped() -> None:
    result = merge(
        {"a": 1},
        {"a": 1},
        survivor_meta=meta("L1", "contacted", 0, "web_form:Webinar", "api:signup"),
        other_meta=meta("L2", "new", 0, "list_import:batch-x", "web_form:Webinar"),
    )
    assert result.sources == ("web_form:Webinar", "api:signup", "list_import:batch-x")
    record = result.as_record()
    assert record["sources"] == ["web_form:Webinar", "api:signup", "list_import:batch-x"]
    assert record["survivor_id"] == "L1" and record["merged_id"] == "L2"


def test_merge_with_missing_or_naive_times() -> None:
    naive = LeadMeta("L1", "new", datetime(2026, 11, 3, 9, 0), ())
    unknown = LeadMeta("L2", "new", None, ())
    assert merge({"a": 1}, {"a": 1}, survivor_meta=unknown, other_meta=naive).survivor_id == "L1"
    with pytest.raises(ValueError):
        merge({}, {}, survivor_meta=meta("L1"), other_meta=meta("L1"))


def test_merge_then_update_the_index() -> None:
    index = index_of(
        ("L1", lead("Ann", "Lee", email="ann@acme.com")),
        ("L2", lead("Ann", "Lee", email="annlee@gmail.com", company="Acme", phone="+14155550100")),
    )
    incoming = lead("Ann", "Lee", email="annlee@gmail.com")
    match = index.find(incoming)
    assert match is not None and match.lead_id == "L2"
    result = merge(
        lead("Ann", "Lee", email="ann@acme.com"),
        lead("Ann", "Lee", email="annlee@gmail.com", company="Acme", phone="+14155550100"),
        survivor_meta=meta("L1", "contacted"),
        other_meta=meta("L2"),
    )
    index.remove(result.merged_id)
    index.add(result.survivor_id, result.fields)
    assert result.fields["phone"] == "+14155550100"
    assert found(index, lead("Ann", "Lee", company=None, phone="+14155550100")) == "L1"


# --- properties --------------------------------------------------------------------------------

_names = st.sampled_from(["Ann", "Bo", "Chen", "Dana", "Eve"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.booleans(), _names, _names, st.integers(0, 3)),
        max_size=40,
    )
)
def test_index_never_returns_a_removed_lead(ops: list[tuple[int, bool, str, str, int]]) -> None:
    index = LeadIndex(max_block=3)
    live: dict[str, dict[str, Any]] = {}
    for number, add, first, last, company in ops:
        lead_id = f"L{number}"
        if add:
            fields = lead(
                first,
                last,
                email=f"{first}{company}@c{company}.com",
                phone=f"+1415555{company:04d}",
            )
            index.add(lead_id, fields)
            live[lead_id] = fields
        elif lead_id in live:
            index.remove(lead_id)
            del live[lead_id]
        assert len(index) == len(live)
        for fields in live.values():
            match = index.find(fields)
            assert match is not None and match.lead_id in live
            assert set(index.candidates(fields)) <= set(live)


# --- the labelled generator and precision / recall ---------------------------------------------


def test_generator_is_deterministic_and_labelled() -> None:
    stream = noisy_lead_stream(400, duplicates=0.3, seed=5)
    assert stream == noisy_lead_stream(400, duplicates=0.3, seed=5)
    assert stream != noisy_lead_stream(400, duplicates=0.3, seed=6)
    people = Counter(person for _, _, person in stream)
    assert len(people) == 400
    assert len(stream) == 400 + round(400 * 0.3 / 0.7)
    assert [lead_id for lead_id, _, _ in stream] == [f"L{i:07d}" for i in range(1, len(stream) + 1)]
    for _, fields, _ in stream:
        assert fields.get("last_name")
        if "phone" in fields:
            assert re.fullmatch(r"\+[1-9]\d{7,14}", fields["phone"])
        if "email" in fields:
            assert fields["email_domain"] == fields["email"].rsplit("@", 1)[1]
            assert fields["email_domain"] == fields["email_domain"].lower()
        if "company" in fields:
            assert fields["company_key"] == company_key(fields["company"])
    with pytest.raises(ValueError):
        noisy_lead_stream(10, duplicates=1.0)


def test_generator_has_hard_negatives() -> None:
    stream = noisy_lead_stream(3000, seed=3)
    firsts: dict[str, dict[str, Any]] = {}
    for _, fields, person in stream:
        firsts.setdefault(person, fields)
    john_smiths = {
        f.get("company_key")
        for f in firsts.values()
        if (f.get("first_name"), f["last_name"]) == ("John", "Smith")
    }
    assert len(john_smiths) >= 2  # one common name at several companies
    by_company_last = Counter(
        (f["domain"], f["last_name"]) for f in firsts.values() if "domain" in f
    )
    assert any(n >= 2 for n in by_company_last.values())  # relatives at one company


def evaluate(people: int, seed: int) -> tuple[float, float]:
    """Each lead is looked up, then added: precision and recall of the lookups."""
    index = LeadIndex()
    person_of: dict[str, str] = {}
    seen: set[str] = set()
    right = matched = duplicates = 0
    for lead_id, fields, person in noisy_lead_stream(people, seed=seed):
        match = index.find(fields)
        duplicates += person in seen
        if match is not None:
            matched += 1
            right += person_of[match.lead_id] == person
        index.add(lead_id, fields)
        person_of[lead_id] = person
        seen.add(person)
    return right / matched, right / duplicates


def test_precision_and_recall_on_five_thousand_people() -> None:
    precision, recall = evaluate(5_000, seed=3)
    assert precision >= 0.98
    assert recall >= 0.95
