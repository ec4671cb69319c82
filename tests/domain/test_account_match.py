"""Lead-to-account matching: domains, company names, tiebreakers, hierarchy, accuracy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain import account_match, normalize
from leadroute.domain.account_match import (
    AccountIndex,
    AccountMatch,
    company_key,
    host_of,
    registrable_domain,
)
from leadroute.domain.org import Account, AccountStatus
from leadroute.sample.noisy_accounts import noisy_accounts, noisy_leads

CUSTOMER = AccountStatus.CUSTOMER


def acct(account_id: str, name: str, domain: str | None = None, **fields: Any) -> Account:
    return Account(id=account_id, name=name, domain=domain, **fields)


def index(*accounts: Account, **options: Any) -> AccountIndex:
    return AccountIndex(accounts, **options)


def matched(result: AccountMatch) -> str | None:
    return result.account.id if result.account else None


# --- keys and domains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("The Acme Corporation, Inc.", "acme"),
        ("ACME corp", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Smith & Co", "smith"),
        ("Smith and Co.", "smith"),
        ("Smith & Sons Ltd", "smith and sons"),
        ("Société Générale S.A.", "societe generale"),
        ("Łódź Foods sp. z o.o.", "lodz foods"),
        ("Foo Pty. Ltd.", "foo"),
        ("Acme A/S", "acme"),
        ("O'Brien-Smith Partners LLP", "obrien smith partners"),
        ("Acme.io Ltd", "acmeio"),
        ("  Acme   (Europe)  Ltd. ", "acme europe"),
        ("Company Inc", "company"),
        ("The", "the"),
        ("", ""),
    ],
)
def test_company_key(name: str, key: str) -> None:
    assert company_key(name) == key


def test_company_key_of_a_non_string_is_empty() -> None:
    assert company_key(None) == ""
    assert company_key(42) == ""


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=1, max_size=4),
    st.sampled_from([" ", " & ", ", ", "-", " and "]),
)
def test_company_key_ignores_case_spacing_the_and_legal_form(words: list[str], sep: str) -> None:
    name = sep.join(words)
    key = company_key(name)
    assert key
    assert company_key(name.upper()) == key
    assert company_key(f"  The {name}  ") == key
    assert company_key(f"{name} Inc.") == key
    assert company_key(f"{name} GmbH & Co. KG") == key
    assert company_key(name.replace(" & ", " and ")) == key
    assert normalize.company_key(name) == key


@pytest.mark.parametrize(
    ("value", "host", "domain"),
    [
        ("https://www.EU.Acme.co.uk:443/about?x=1", "eu.acme.co.uk", "acme.co.uk"),
        ("ada@Acme.com", "acme.com", "acme.com"),
        ("WWW.ACME.COM", "acme.com", "acme.com"),
        ("acme.com/", "acme.com", "acme.com"),
        ("http://user@shop.acme.com.au/p", "shop.acme.com.au", "acme.com.au"),
        ("acme.de", "acme.de", "acme.de"),
        ("localhost", None, None),
        ("not a domain", None, None),
    ],
)
def test_hosts_and_registrable_domains(value: str, host: str | None, domain: str | None) -> None:
    assert host_of(value) == host
    assert registrable_domain(value) == domain


# --- rule 1: domain -------------------------------------------------------------------------------


def test_accounts_are_indexed_by_registrable_domain_in_any_form() -> None:
    idx = index(
        acct("a1", "Acme Inc", "https://www.ACME.com/"),
        acct("a2", "Globex Ltd", "globex.co.uk"),
    )
    assert matched(idx.match({"website": "acme.com"})) == "a1"
    assert matched(idx.match({"website": "http://eu.globex.co.uk/contact"})) == "a2"
    assert matched(idx.match({"domain": "GLOBEX.CO.UK"})) == "a2"


def test_website_and_domain_give_099_and_email_domain_095() -> None:
    idx = index(acct("a1", "Acme Inc", "acme.com"))
    by_site = idx.match({"website": "www.acme.com"})
    assert (by_site.method, by_site.confidence) == ("website", 0.99)
    by_domain = idx.match({"domain": "acme.com"})
    assert (by_domain.method, by_domain.confidence) == ("domain", 0.99)
    by_email = idx.match({"email": "ada@acme.com"})
    assert (by_email.method, by_email.confidence) == ("email_domain", 0.95)
    assert by_email.reason == "email domain acme.com matches account Acme Inc (a1)"


def test_a_domain_taken_from_the_email_counts_as_email_evidence() -> None:
    idx = index(acct("a1", "Acme Inc", "acme.com"))
    result = idx.match({"email": "ada@mail.acme.com", "domain": "acme.com"})
    assert (result.method, result.confidence) == ("email_domain", 0.95)


def test_website_beats_an_email_domain_of_another_account() -> None:
    idx = index(acct("a1", "Acme Inc", "acme.com"), acct("a2", "Globex", "globex.com"))
    result = idx.match({"website": "globex.com", "email": "ada@acme.com"})
    assert matched(result) == "a2"
    assert [c.account_id for c in result.candidates] == ["a2", "a1"]


def test_free_mail_never_matches_by_domain() -> None:
    idx = index(acct("a1", "Gmail Lovers", "gmail.com"), acct("a2", "Acme", "acme.com"))
    result = idx.match({"email": "ada@gmail.com"})
    assert result.account is None
    assert result.reason == "no account: free-mail address and no company name"
    # the lead's own free_email flag is trusted over the built-in list
    assert idx.match({"email": "ada@acme.com", "free_email": True}).account is None


def test_free_mail_lead_matches_by_company_name() -> None:
    idx = index(acct("a1", "Brentova Analytics Inc.", "brentova.com"))
    result = idx.match({"email": "ada@gmail.com", "free_email": True, "company": "Brentova"})
    assert result.account is None  # "brentova" is not "brentova analytics"
    result = idx.match({"email": "ada@gmail.com", "company": "brentova analytics"})
    assert (matched(result), result.method, result.confidence) == ("a1", "name_exact", 0.9)


# --- rule 3: tiebreakers --------------------------------------------------------------------------


def test_shared_domain_prefers_customer_then_open_opportunity_then_prospect() -> None:
    prospect = acct("a1", "Acme", "acme.com")
    opportunity = acct("a2", "Acme", "acme.com", opportunity_stage="Demo")
    customer = acct("a3", "Acme", "acme.com", status=CUSTOMER)
    assert matched(index(prospect, opportunity, customer).match({"domain": "acme.com"})) == "a3"
    result = index(prospect, opportunity).match({"domain": "acme.com"})
    assert matched(result) == "a2"
    assert result.reason.endswith(
        "chosen over 1 equally scored account by status (open opportunity)"
    )


def test_shared_domain_then_most_contacts_then_latest_activity_then_lowest_id() -> None:
    accounts = [acct(i, "Acme", "acme.com") for i in ("a3", "a1", "a2")]
    lead = {"domain": "acme.com"}
    assert matched(index(*accounts).match(lead)) == "a1"
    assert matched(index(*accounts, contacts={"a2": 5, "a3": 2}).match(lead)) == "a2"
    recent = {"a3": datetime(2026, 11, 20, tzinfo=UTC), "a1": datetime(2026, 1, 1)}
    assert matched(index(*accounts, last_activity=recent).match(lead)) == "a3"
    both = index(*accounts, contacts={"a1": 3, "a3": 3}, last_activity=recent)
    result = both.match(lead)
    assert matched(result) == "a3"
    assert "most recent activity" in result.reason


def test_shared_domain_prefers_the_account_whose_name_the_lead_gives() -> None:
    parent = acct("a1", "Brentova Analytics Inc", "brentova.com", status=CUSTOMER)
    child = acct("a2", "Brentova Deutschland GmbH", "de.brentova.com", parent_id="a1")
    idx = index(parent, child)
    assert matched(idx.match({"email": "hans@brentova.com"})) == "a1"
    lead = {"email": "hans@brentova.com", "company": "Brentova Deutschlnd"}
    result = idx.match(lead)
    assert matched(result) == "a2"
    assert "by company name" in result.reason
    # with no company, the exact host decides
    assert matched(idx.match({"website": "https://de.brentova.com"})) == "a2"


def test_duplicate_names_are_broken_by_the_tiebreakers() -> None:
    idx = index(
        acct("a1", "Brentova Analytics"),
        acct("a2", "Brentova Analytics Inc.", status=CUSTOMER),
    )
    result = idx.match({"company": "BRENTOVA ANALYTICS LLC"})
    assert (matched(result), result.method) == ("a2", "name_exact")


# --- rule 2: company names ------------------------------------------------------------------------


def test_fuzzy_name_match_survives_typos() -> None:
    idx = index(acct("a1", "Kalovent Robotics GmbH"), acct("a2", "Zentora Foods Ltd"))
    result = idx.match({"company": "Kalovnet Robotcs"})
    assert (matched(result), result.method) == ("a1", "name_fuzzy")
    assert 0.8 < result.confidence < 0.9
    assert result.reason.startswith("company name 'Kalovnet Robotcs' is similar")


def test_the_given_company_key_is_tried_too() -> None:
    idx = index(acct("a1", "Kalovent Robotics GmbH"))
    assert matched(idx.match({"company_key": "kalovent robotics"})) == "a1"


def test_below_the_threshold_nothing_matches_but_candidates_are_listed() -> None:
    idx = index(acct("a1", "Kalovent Robotics"))
    result = idx.match({"company": "Kalovxyz Robotics"})
    assert result.account is None
    assert result.method == "none"
    assert [c.account_id for c in result.candidates] == ["a1"]
    assert "below the 0.90 threshold" in result.reason
    lenient = index(acct("a1", "Kalovent Robotics"), name_threshold=0.8)
    assert matched(lenient.match({"company": "Kalovxyz Robotics"})) == "a1"


def test_far_apart_keys_are_not_a_typo() -> None:
    idx = index(acct("a1", "Jentdroix"))
    assert idx.match({"company": "Jeltdroix"}).account is None  # n and l are far apart
    assert matched(idx.match({"company": "Jentdroic"})) == "a1"  # x and c are neighbours


def test_generic_names_do_not_match_each_other() -> None:
    idx = index(
        acct("a1", "Global Consulting Solutions Ltd"),
        acct("a2", "Consulting Group Inc"),
        acct("a3", "Flintrise Medical"),
    )
    result = idx.match({"company": "Global Consulting Solutions"})
    assert result.account is None
    assert "too generic" in result.reason
    assert idx.match({"company": "Consulting Group"}).account is None
    assert idx.match({"company": "Consulting Groups"}).account is None
    assert idx.match({"company": "Flintrise Media"}).account is None  # another common word
    assert matched(idx.match({"company": "Flintrise Medcal"})) == "a3"  # a typo


def test_words_most_accounts_share_become_generic() -> None:
    accounts = [acct(f"a{i}", f"Nimbus {name}") for i, name in enumerate(range(150))]
    accounts.append(acct("z", "Nimbus Quorvex"))
    idx = index(*accounts)
    assert idx.match({"company": "Nimbus Quorvxe"}).account is not None
    assert idx.match({"company": "Nimbus Zzzzz"}).account is None


def test_short_keys_match_only_exactly() -> None:
    idx = index(acct("a1", "IBM Corp"), acct("a2", "Ibex"))
    assert matched(idx.match({"company": "IBM"})) == "a1"
    assert idx.match({"company": "IBX"}).account is None


def test_a_name_on_another_companys_domain_is_not_enough() -> None:
    idx = index(acct("a1", "Zentora Analytics", "zentora.com"))
    assert matched(idx.match({"email": "a@zentora.de", "company": "Zentora Analytics"})) == "a1"
    other = idx.match({"email": "a@zentara-analytics.com", "company": "Zentora Analytics"})
    assert other.account is None
    assert [c.account_id for c in other.candidates] == ["a1"]


def test_two_equally_close_names_are_ambiguous() -> None:
    idx = index(acct("a1", "Kalovent Corporation"), acct("a2", "Kalovant K.K."), acct("a3", "Kiwi"))
    result = idx.match({"company": "Kalovnt"})
    assert result.account is None
    assert "is as close to" in result.reason
    assert {c.account_id for c in result.candidates} == {"a1", "a2"}
    assert matched(idx.match({"company": "Kalovemt"})) == "a1"


def test_candidates_are_best_first_and_at_most_five() -> None:
    accounts = [acct(f"a{i}", "Acme", "acme.com") for i in range(8)]
    result = index(*accounts, contacts={"a6": 9}).match({"domain": "acme.com"})
    assert len(result.candidates) == 5
    assert result.candidates[0].account_id == "a6"
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_records_are_plain_data() -> None:
    idx = index(acct("a1", "Acme Inc", "acme.com", parent_id="p"), acct("p", "Acme Group"))
    record = idx.match({"email": "ada@acme.com"}).as_record()
    assert record == {
        "account_id": "a1",
        "account_name": "Acme Inc",
        "confidence": 0.95,
        "method": "email_domain",
        "reason": "email domain acme.com matches account Acme Inc (a1)",
        "candidates": [
            {"account_id": "a1", "name": "Acme Inc", "score": 0.95, "method": "email_domain"},
            {"account_id": "p", "name": "Acme Group", "score": 0.95, "method": "parent"},
        ],
    }


def test_no_evidence_at_all() -> None:
    idx = index(acct("a1", "Acme", "acme.com"))
    result = idx.match({})
    assert (result.account, result.method, result.confidence) == (None, "none", 0.0)
    assert result.reason == "no account: no domain or company name to match on"
    weird = idx.match({"email": 7, "website": ["x"], "company": None, "free_email": None})
    assert weird.account is None


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["email", "email_domain", "domain", "website", "company", "company_key"]),
        st.one_of(st.none(), st.text(max_size=25), st.sampled_from(["acme.com", "a@acme.com"])),
    )
)
def test_match_never_fails_and_stays_in_bounds(fields: dict[str, Any]) -> None:
    result = _SMALL.match(fields)
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.candidates) <= 5
    assert all(0.0 <= c.score <= 1.0 for c in result.candidates)
    assert (result.account is None) == (result.method == "none")


_SMALL = index(
    acct("a1", "Acme Inc", "acme.com"),
    acct("a2", "Brentova Analytics", "brentova.de"),
    acct("a3", "Harlow & Finch"),
)


# --- typo neighbours at scale ---------------------------------------------------------------------


def test_typo_neighbours_are_found_when_buckets_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_match, "BUCKET_SIZE", 3)
    endings = ["ora", "ira", "ura", "era", "yra"]
    names = [
        f"{head}{mid}{end}" for head in "bkdtz" for mid in ("lv", "rn", "st") for end in endings
    ]
    idx = index(*(acct(f"a{i}", n) for i, n in enumerate(names)))
    assert idx._split  # the buckets were too big and got split
    for i, name in enumerate(names[::7]):
        typo = name[:2] + name[3] + name[2] + name[4:]  # two letters swapped in the middle
        assert matched(idx.match({"company": typo})) in {f"a{i * 7}", None}
    assert matched(idx.match({"company": "blvorra"})) == "a0"


def test_many_shared_words_narrow_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_match, "SCAN_LIMIT", 50)
    accounts = [acct(f"s{i}", f"Sutton and X{i:03d}q Data") for i in range(60)]
    accounts.append(acct("t", "Sutton and Nilsson Data"))
    accounts += [acct(f"n{i}", f"Nilsson Y{i:03d}q Data") for i in range(60)]
    idx = index(*accounts)
    assert idx._block("sutton and nilssn data") == {60}
    assert matched(idx.match({"company": "Sutton & Nilssn Data"})) == "t"
    assert len(idx._block("sutton and zzzzz")) == 61  # no second word to narrow by


# --- rule 5: hierarchy ----------------------------------------------------------------------------


def test_parent_and_ultimate_parent() -> None:
    top = acct("a1", "Acme Group")
    mid = acct("a2", "Acme Europe", parent_id="a1")
    leaf = acct("a3", "Acme Deutschland", parent_id="a2")
    orphan = acct("a4", "Acme Lost", parent_id="gone")
    idx = index(top, mid, leaf, orphan)
    assert idx.parent(leaf) == mid
    assert idx.parent(top) is None
    assert idx.parent(orphan) is None
    assert idx.ultimate_parent(leaf) == top
    assert idx.ultimate_parent(top) == top
    assert idx.ultimate_parent(orphan) == orphan


def test_hierarchy_cycles_end_at_the_lowest_id_of_the_cycle() -> None:
    a = acct("c2", "Two", parent_id="c3")
    b = acct("c3", "Three", parent_id="c1")
    c = acct("c1", "One", parent_id="c2")
    tail = acct("t", "Tail", parent_id="c3")
    me = acct("self", "Myself", parent_id="self")
    idx = index(a, b, c, tail, me)
    assert {idx.ultimate_parent(x).id for x in (a, b, c, tail)} == {"c1"}
    assert idx.parent(me) is None
    assert idx.ultimate_parent(me) == me


def test_the_matched_accounts_parent_is_listed() -> None:
    idx = index(acct("p", "Acme Group"), acct("c", "Acme Japan K.K.", "acme.co.jp", parent_id="p"))
    result = idx.match({"website": "acme.co.jp"})
    assert [(c.account_id, c.method) for c in result.candidates] == [
        ("c", "website"),
        ("p", "parent"),
    ]


# --- the labelled generator and accuracy ----------------------------------------------------------


def test_generator_is_deterministic_and_consistent() -> None:
    accounts = noisy_accounts(300, seed=5)
    assert accounts == noisy_accounts(300, seed=5)
    assert accounts != noisy_accounts(300, seed=6)
    ids = {a.id for a in accounts}
    assert len(ids) == 300
    assert all(a.parent_id in ids for a in accounts if a.parent_id)
    leads = noisy_leads(accounts, 200, seed=3)
    assert leads == noisy_leads(accounts, 200, seed=3)
    assert {truth for _, truth in leads} - ids <= {None}
    assert any(truth is None for _, truth in leads)
    for fields, _ in leads:
        assert fields["company_key"] == (company_key(fields["company"]) or None)
        if fields["free_email"]:
            assert fields["email_domain"] != fields["domain"]


def test_small_scale_accuracy() -> None:
    accounts = noisy_accounts(2_000, seed=11)
    leads = noisy_leads(accounts, 1_000, seed=12)
    idx = AccountIndex(accounts)
    tally: dict[str, list[bool]] = {"domain": [], "name": [], "unknown": []}
    for fields, truth in leads:
        got = matched(idx.match(fields))
        kind = "unknown" if truth is None else "domain" if fields["domain"] else "name"
        tally[kind].append(got == truth)
    rate = {kind: sum(oks) / len(oks) for kind, oks in tally.items()}
    assert rate["domain"] >= 0.97
    assert rate["name"] >= 0.90
    assert rate["unknown"] >= 0.97  # at most 3% of unknown companies matched to an account
