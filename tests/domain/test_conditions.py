"""Conditions: every operator, missing values, combinators, territories, segments, compile errors,
and the soundness of `implies`."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadroute.domain.conditions import (
    Condition,
    ConditionCompiler,
    Issue,
    implies,
)
from leadroute.domain.fields import FieldSpec, FieldType, Vocabulary
from leadroute.domain.org import Account, AccountStatus, Org
from tests.factories import context, make_org

ORG = make_org()
VOCABULARY = Vocabulary(
    [FieldSpec("plan", FieldType.STRING, "custom"), FieldSpec("seats", FieldType.NUMBER, "custom")]
)


def compile_ok(raw: Any, org: Org = ORG) -> Condition:
    issues: list[Issue] = []
    condition = ConditionCompiler(VOCABULARY, org, issues).compile(raw, ("when",))
    assert issues == []
    return condition


def compile_issues(raw: Any, org: Org = ORG) -> list[Issue]:
    issues: list[Issue] = []
    ConditionCompiler(VOCABULARY, org, issues).compile(raw, ("when",))
    assert issues, "expected at least one issue"
    return issues


def matches(raw: Any, **fields: Any) -> bool:
    return compile_ok(raw).test(context(ORG, fields))


# --- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fields", "expected"),
    [
        ({"country": "US"}, {"country": "US"}, True),
        ({"country": "us"}, {"country": "US"}, True),
        ({"country": "US"}, {"country": "DE"}, False),
        ({"country": "US"}, {}, False),
        ({"country": {"eq": "US"}}, {"country": "uS"}, True),
        ({"country": {"ne": "US"}}, {"country": "us"}, False),
        ({"country": {"ne": "US"}}, {"country": "DE"}, True),
        ({"country": {"ne": "US"}}, {}, True),
        ({"country": {"ne": "US"}}, {"country": None}, True),
        ({"employees": 50}, {"employees": 50}, True),
        ({"employees": 50}, {"employees": 50.0}, True),
        ({"employees": {"ne": 50}}, {"employees": 51}, True),
        ({"free_email": True}, {"free_email": True}, True),
        ({"free_email": False}, {"free_email": True}, False),
        ({"free_email": {"ne": True}}, {}, True),
    ],
)
def test_eq_and_ne_compare_strings_case_insensitively(
    raw: Any, fields: dict[str, Any], expected: bool
) -> None:
    assert matches(raw, **fields) is expected


@pytest.mark.parametrize(
    ("raw", "fields", "expected"),
    [
        ({"country": ["US", "CA"]}, {"country": "ca"}, True),
        ({"country": ["US", "CA"]}, {"country": "DE"}, False),
        ({"country": {"in": ["US", "CA"]}}, {"country": "Us"}, True),
        ({"country": {"in": "US"}}, {"country": "us"}, True),  # a single value is a list of one
        ({"country": {"in": ["US"]}}, {}, False),
        ({"country": {"not_in": ["US", "CA"]}}, {"country": "DE"}, True),
        ({"country": {"not_in": ["US", "CA"]}}, {"country": "us"}, False),
        ({"country": {"not_in": ["US", "CA"]}}, {}, True),
        ({"employees": {"in": [10, 20]}}, {"employees": 20}, True),
        ({"employees": {"not_in": [10, 20]}}, {"employees": 30}, True),
        ({"tags": {"in": ["vip", "hot"]}}, {"tags": ["cold", "VIP"]}, True),
        ({"tags": {"in": ["vip", "hot"]}}, {"tags": ["cold"]}, False),
        ({"tags": {"not_in": ["vip"]}}, {"tags": ["cold"]}, True),
        ({"tags": {"not_in": ["vip"]}}, {"tags": ["cold", "Vip"]}, False),
        ({"tags": {"not_in": ["vip"]}}, {}, True),
    ],
)
def test_in_and_not_in(raw: Any, fields: dict[str, Any], expected: bool) -> None:
    assert matches(raw, **fields) is expected


@pytest.mark.parametrize(
    ("raw", "fields", "expected"),
    [
        ({"company": {"contains": "acme"}}, {"company": "The ACME Corp"}, True),
        ({"company": {"contains": "acme"}}, {"company": "Initech"}, False),
        ({"company": {"contains": "acme"}}, {}, False),
        ({"tags": {"contains": "vip"}}, {"tags": ["new", "VIP"]}, True),
        ({"tags": {"contains": "vip"}}, {"tags": ["very important"]}, False),
        ({"tags": {"contains": "vip"}}, {"tags": []}, False),
        ({"title": {"starts_with": "vp"}}, {"title": "VP Sales"}, True),
        ({"title": {"starts_with": "vp"}}, {"title": "SVP Sales"}, False),
        ({"title": {"starts_with": "vp"}}, {}, False),
        ({"email": {"ends_with": ".DE"}}, {"email": "a@b.de"}, True),
        ({"email": {"ends_with": ".de"}}, {"email": "a@de.com"}, False),
        ({"title": {"matches": "^(c[eft]o|chief)"}}, {"title": "CTO"}, True),
        ({"title": {"matches": "officer"}}, {"title": "Chief Revenue Officer"}, True),
        ({"title": {"matches": "^vp"}}, {"title": "SVP"}, False),
        ({"title": {"matches": ".*"}}, {}, False),
    ],
)
def test_text_operators(raw: Any, fields: dict[str, Any], expected: bool) -> None:
    assert matches(raw, **fields) is expected


@pytest.mark.parametrize(
    ("raw", "value", "expected"),
    [
        ({"gt": 100}, 101, True),
        ({"gt": 100}, 100, False),
        ({"gte": 100}, 100, True),
        ({"gte": 100}, 99.5, False),
        ({"lt": 100}, 99, True),
        ({"lt": 100}, 100, False),
        ({"lte": 100}, 100, True),
        ({"lte": 100}, 100.5, False),
        ({"between": [100, 499]}, 100, True),
        ({"between": [100, 499]}, 499, True),
        ({"between": [100, 499]}, 99, False),
        ({"between": [100, 499]}, 500, False),
        ({"gte": 100, "lt": 500}, 250, True),
        ({"gte": 100, "lt": 500}, 500, False),
        ({"gt": 0}, None, False),
        ({"lt": 100}, None, False),
        ({"between": [0, 10]}, None, False),
        ({"gt": 0}, True, False),  # booleans are not numbers
        ({"lt": 100}, "50", False),  # nor are strings: coercion happens at the edge
    ],
)
def test_numeric_operators(raw: dict[str, Any], value: Any, expected: bool) -> None:
    fields = {} if value is None else {"employees": value}
    assert matches({"employees": raw}, **fields) is expected


@pytest.mark.parametrize(
    ("raw", "fields", "expected"),
    [
        ({"phone": {"exists": True}}, {"phone": "+1 555"}, True),
        ({"phone": {"exists": True}}, {"phone": ""}, False),
        ({"phone": {"exists": True}}, {"phone": None}, False),
        ({"phone": {"exists": True}}, {}, False),
        ({"phone": {"exists": False}}, {}, True),
        ({"phone": {"exists": False}}, {"phone": "x"}, False),
        ({"phone": {"missing": True}}, {}, True),
        ({"phone": {"missing": True}}, {"phone": ""}, True),
        ({"phone": {"missing": True}}, {"phone": "x"}, False),
        ({"phone": {"missing": False}}, {"phone": "x"}, True),
        ({"tags": {"exists": True}}, {"tags": []}, False),
        ({"tags": {"exists": True}}, {"tags": ["a"]}, True),
        ({"employees": {"exists": True}}, {"employees": 0}, True),  # zero is a value
        ({"free_email": {"exists": True}}, {"free_email": False}, True),
    ],
)
def test_presence_operators(raw: Any, fields: dict[str, Any], expected: bool) -> None:
    assert matches(raw, **fields) is expected


def test_custom_fields_declared_in_the_vocabulary_can_be_used() -> None:
    assert matches({"plan": "pro", "seats": {"gte": 10}}, plan="Pro", seats=12)
    assert not matches({"plan": "pro", "seats": {"gte": 10}}, plan="Pro", seats=9)


# --- combinators ---------------------------------------------------------------------------


def test_several_keys_in_one_mapping_must_all_hold() -> None:
    raw = {"country": "US", "employees": {"gte": 100}}
    assert matches(raw, country="US", employees=100)
    assert not matches(raw, country="US", employees=99)
    assert not matches(raw, country="DE", employees=100)


def test_a_list_of_conditions_means_all() -> None:
    raw = [{"country": "US"}, {"title": {"contains": "vp"}}]
    assert matches(raw, country="US", title="VP Ops")
    assert not matches(raw, country="US", title="Engineer")


def test_all_any_not() -> None:
    raw = {
        "any": [{"country": "DE"}, {"all": [{"country": "US"}, {"employees": {"gt": 10}}]}],
        "not": {"title": {"contains": "intern"}},
    }
    assert matches(raw, country="DE", title="CEO")
    assert matches(raw, country="US", employees=11)
    assert not matches(raw, country="US", employees=10)
    assert not matches(raw, country="DE", title="Marketing intern")


def test_not_of_a_missing_field() -> None:
    assert matches({"not": {"country": "US"}})
    assert not matches({"not": {"country": {"ne": "US"}}})


@pytest.mark.parametrize("raw", [None, True, {}, [], {"all": [True]}])
def test_empty_conditions_always_match(raw: Any) -> None:
    condition = compile_ok(raw)
    assert condition.always
    assert condition.test({})


def test_false_never_matches() -> None:
    assert not compile_ok(False).test({"country": "US"})


def test_any_with_an_always_branch_is_always() -> None:
    assert compile_ok({"any": [{"country": "US"}, True]}).always


def test_condition_text_describes_it() -> None:
    text = compile_ok({"country": "US", "employees": {"gte": 100}}).text
    assert "country = 'US'" in text
    assert "employees ≥ 100" in text


# --- territories, segments, accounts -------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"country": "US"}, True),
        ({"country": "CA"}, True),
        ({"country": "DE"}, False),
        ({}, False),
    ],
)
def test_territory_by_country(fields: dict[str, Any], expected: bool) -> None:
    assert matches({"territory": "na"}, **fields) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"country": "US", "state": "CA"}, True),  # subdivision part only: the country is added
        ({"country": "US", "state": "US-WA"}, True),  # full ISO 3166-2 code
        ({"state": "US-CA"}, True),  # full code without a country
        ({"state": "CA"}, False),  # a bare part without a country is ambiguous
        ({"country": "US", "state": "NY"}, False),
        ({"country": "MX", "state": "CA"}, False),  # MX-CA is not US-CA
    ],
)
def test_territory_by_subdivision(fields: dict[str, Any], expected: bool) -> None:
    assert matches({"territory": "west"}, **fields) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"country": "US", "postal_code": "97201"}, True),  # prefix 97
        ({"country": "US", "postal_code": "98101"}, True),  # range 98000-98999
        ({"country": "US", "postal_code": "98101-1234"}, True),  # ZIP+4: the head is compared
        ({"country": "US", "postal_code": "99501"}, False),
        ({"country": "US", "postal_code": "980"}, False),  # too short for the range
        ({"country": "DE", "postal_code": "97201"}, False),  # the ranges are US postal codes
        ({"postal_code": "97201"}, False),
    ],
)
def test_territory_by_postal_code(fields: dict[str, Any], expected: bool) -> None:
    assert matches({"territory": "west"}, **fields) is expected


def test_territory_list_means_any_of_them() -> None:
    assert matches({"territory": ["dach", "west"]}, country="AT")
    assert matches({"territory": ["dach", "west"]}, country="US", state="CA")
    assert not matches({"territory": ["dach", "west"]}, country="FR")


@pytest.mark.parametrize(
    ("fields", "territory"),
    [
        ({"country": "us"}, "na"),
        ({"country": "us", "state": "ca"}, "west"),
        ({"country": "us", "state": "us-wa"}, "west"),
        ({"country": "us", "postal_code": "97201"}, "west"),
    ],
)
def test_territory_matching_ignores_the_case_of_the_lead(
    fields: dict[str, Any], territory: str
) -> None:
    # As {country: US} does: a web form's "us" is the United States.
    assert matches({"territory": territory}, **fields)


def test_territory_matches_exactly_when_the_same_country_condition_does() -> None:
    # A countries-only territory compiles to `country in [...]` for the shadow checks, so the
    # two must agree on every lead.
    territory = compile_ok({"territory": "dach"})
    countries = compile_ok({"country": ["DE", "AT", "CH"]})
    for value in ("DE", "de", "De", "AT", "ch", "FR", "", None, "DEU"):
        data = {"country": value}
        assert territory.test(data) is countries.test(data), value


@pytest.mark.parametrize(
    ("employees", "segment"),
    [
        (0, "smb"),
        (99, "smb"),
        (100, "mid"),
        (999.5, "mid"),
        (1000, "ent"),
        (None, None),
    ],
)
def test_segment_membership(employees: Any, segment: str | None) -> None:
    fields = {} if employees is None else {"employees": employees}
    for candidate in ("smb", "mid", "ent"):
        assert matches({"segment": candidate}, **fields) is (candidate == segment)
    assert matches({"segment": ["mid", "ent"]}, **fields) is (segment in ("mid", "ent"))


def test_account_fields_read_the_matched_account() -> None:
    account = Account(
        "a1",
        "Acme",
        "acme.com",
        owner_id="r1",
        status=AccountStatus.CUSTOMER,
        named=True,
        employees=5000,
        industry="Software",
    )
    raw = {
        "account.named": True,
        "account.status": "customer",
        "account.employees": {"gte": 1000},
        "account.owner": {"exists": True},
    }
    condition = compile_ok(raw)
    assert condition.test(context(ORG, {}, account))
    assert not condition.test(context(ORG, {}))  # no account: nothing to read
    assert compile_ok({"account.id": {"missing": True}}).test(context(ORG, {}))
    assert compile_ok({"account.industry": {"starts_with": "soft"}}).test(context(ORG, {}, account))


# --- compile errors, each at its path ------------------------------------------------------


def one_issue(raw: Any) -> Issue:
    issues = compile_issues(raw)
    assert len(issues) == 1, issues
    return issues[0]


def test_unknown_field() -> None:
    issue = one_issue({"all": [{"country": "US"}, {"contry": "US"}]})
    assert issue.path == ("when", "all", 1, "contry")
    assert "unknown field 'contry'" in issue.message


def test_operator_that_does_not_apply_lists_the_allowed_ones() -> None:
    issue = one_issue({"employees": {"contains": 5}})
    assert issue.path == ("when", "employees", "contains")
    assert "operator 'contains' does not apply to number field 'employees'" in issue.message
    assert "eq, ne, in, not_in, gt, gte, lt, lte, between, exists, missing" in issue.message

    issue = one_issue({"free_email": {"gt": 1}})
    assert "boolean field 'free_email'" in issue.message
    assert "use one of: eq, ne, exists, missing" in issue.message

    issue = one_issue({"country": {"gte": "M"}})
    assert issue.path == ("when", "country", "gte")
    assert "string field" in issue.message and "matches" in issue.message

    issue = one_issue({"tags": {"starts_with": "x"}})
    assert "use one of: contains, in, not_in, exists, missing" in issue.message


def test_unknown_operator() -> None:
    issue = one_issue({"any": [{"country": {"equals": "US"}}]})
    assert issue.path == ("when", "any", 0, "country", "equals")
    assert "operator 'equals'" in issue.message


def test_bad_regular_expression() -> None:
    issue = one_issue({"title": {"matches": "(vp"}})
    assert issue.path == ("when", "title", "matches")
    assert "invalid regular expression" in issue.message


@pytest.mark.parametrize("operand", [[1], [1, 2, 3], "1-2", ["a", 2], [True, 5], None])
def test_between_needs_two_numbers(operand: Any) -> None:
    issue = one_issue({"employees": {"between": operand}})
    assert issue.path == ("when", "employees", "between")
    assert "needs two numbers" in issue.message


def test_between_low_above_high() -> None:
    issue = one_issue({"employees": {"between": [500, 100]}})
    assert issue.path == ("when", "employees", "between")
    assert "low 500 is above high 100" in issue.message


@pytest.mark.parametrize("operand", ["100", None, True, [1]])
def test_comparisons_need_a_number(operand: Any) -> None:
    issue = one_issue({"employees": {"lt": operand}})
    assert issue.path == ("when", "employees", "lt")
    assert "needs a number" in issue.message


def test_unknown_territory() -> None:
    issue = one_issue({"not": {"territory": ["na", "mars"]}})
    assert issue.path == ("when", "not", "territory")
    assert "unknown territory 'mars'" in issue.message
    assert "known: dach, na, west" in issue.message


def test_unknown_segment() -> None:
    issue = one_issue({"segment": "xl"})
    assert issue.path == ("when", "segment")
    assert "unknown segment 'xl'; known: ent, mid, smb" in issue.message


def test_unknown_segment_when_none_are_defined() -> None:
    issues = compile_issues({"segment": "xl"}, make_org(segments=[]))
    assert "no segments defined" in issues[0].message


@pytest.mark.parametrize("key", ["all", "any"])
@pytest.mark.parametrize("value", [[], {"country": "US"}, "x"])
def test_all_and_any_need_a_list(key: str, value: Any) -> None:
    issue = one_issue({key: value})
    assert issue.path == ("when", key)
    assert f"'{key}' needs a non-empty list" in issue.message


@pytest.mark.parametrize("raw", ["US", 5])
def test_a_condition_must_be_a_mapping_or_list(raw: Any) -> None:
    issue = one_issue(raw)
    assert issue.path == ("when",)
    assert "must be a mapping or a list" in issue.message


def test_every_error_is_reported_not_just_the_first() -> None:
    issues = compile_issues(
        {"contry": "US", "employees": {"gt": "x", "between": [2, 1]}, "territory": "mars"}
    )
    assert {i.path for i in issues} == {
        ("when", "contry"),
        ("when", "employees", "gt"),
        ("when", "employees", "between"),
        ("when", "territory"),
    }


# --- implies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("narrow", "broad"),
    [
        ({"country": "US"}, {"country": ["US", "CA"]}),
        ({"country": "US", "employees": {"gte": 500}}, {"employees": {"gte": 100}}),
        ({"employees": {"between": [200, 300]}}, {"employees": {"gt": 100, "lte": 300}}),
        ({"country": "US"}, {"country": {"ne": "DE"}}),
        ({"country": ["US", "CA"]}, {"country": {"not_in": ["DE"]}}),
        ({"country": "US"}, {"country": {"exists": True}}),
        ({"territory": "na"}, {"country": ["US", "CA", "MX"]}),
        ({"country": "us"}, {"territory": "na"}),
        ({"country": "US"}, True),
    ],
)
def test_implies_recognises_narrower_conditions(narrow: Any, broad: Any) -> None:
    assert implies(compile_ok(narrow), compile_ok(broad))


@pytest.mark.parametrize(
    ("narrow", "broad"),
    [
        ({"country": ["US", "CA"]}, {"country": "US"}),
        ({"employees": {"gte": 100}}, {"employees": {"gt": 100}}),
        ({"employees": {"gte": 100}}, {"employees": {"gte": 500}}),
        ({"country": "US"}, {"employees": {"gte": 1}}),
        ({"any": [{"country": "US"}]}, {"country": "US"}),
        ({"country": "US"}, {"any": [{"country": "US"}, {"country": "CA"}]}),
        ({"country": "US"}, {"not": {"country": "DE"}}),
        (True, {"country": "US"}),
    ],
)
def test_implies_is_conservative(narrow: Any, broad: Any) -> None:
    assert not implies(compile_ok(narrow), compile_ok(broad))


def test_implies_is_unsound_for_negations_of_list_fields() -> None:
    # Leads whose tags hold both values match "tags in [a]" but not "tags not_in [b]".
    narrow, broad = compile_ok({"tags": {"in": ["a"]}}), compile_ok({"tags": {"not_in": ["b"]}})
    assert narrow.test({"tags": ["a", "b"]}) and not broad.test({"tags": ["a", "b"]})
    assert not implies(narrow, broad)
    assert not implies(
        compile_ok({"tags": {"contains": "a"}}), compile_ok({"tags": {"not_in": ["b"]}})
    )


def test_implies_does_not_treat_null_as_present() -> None:
    narrow = compile_ok({"phone": {"in": [None, "1"]}})
    broad = compile_ok({"phone": {"exists": True}})
    assert narrow.test({}) and not broad.test({})
    assert not implies(narrow, broad)


# The property: over a few fields of each type, random leaf conditions and random leads.

COUNTRIES = ["US", "us", "CA", "DE", "de", "AT", "FR", ""]
STATES = ["CA", "US-CA", "WA", "NY", "us-wa", ""]
POSTALS = ["97201", "98101", "98101-1234", "99501", "10115", ""]
TAGS = ["vip", "VIP", "hot", "cold"]
NUMBERS = [0, 1, 50, 99, 99.5, 100, 150, 500, 999, 1000, 5000]

leaf_strategy = st.one_of(
    st.builds(lambda v: {"country": v}, st.sampled_from(COUNTRIES[:-1])),
    st.builds(
        lambda op, vs: {"country": {op: vs}},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3),
    ),
    st.builds(
        lambda op, v: {"country": {op: v}},
        st.sampled_from(["eq", "ne", "contains", "starts_with", "ends_with"]),
        st.sampled_from(["US", "u", "s", "DE", "e"]),
    ),
    st.builds(
        lambda op, v: {"country": {op: v}}, st.sampled_from(["exists", "missing"]), st.booleans()
    ),
    st.builds(
        lambda op, v: {"employees": {op: v}},
        st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        lambda a, b: {"employees": {"between": sorted([a, b])}},
        st.sampled_from(NUMBERS),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        lambda op, vs: {"employees": {op: vs}},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3),
    ),
    st.builds(
        lambda op, v: {"employees": {op: v}}, st.sampled_from(["exists", "missing"]), st.booleans()
    ),
    st.builds(
        lambda op, vs: {"tags": {op: vs}},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
    ),
    st.builds(lambda v: {"tags": {"contains": v}}, st.sampled_from(TAGS)),
    st.builds(lambda v: {"free_email": v}, st.booleans()),
    st.builds(lambda v: {"free_email": {"ne": v}}, st.booleans()),
    st.builds(
        lambda v: {"territory": v},
        st.lists(st.sampled_from(["na", "west", "dach"]), min_size=1, max_size=2),
    ),
    st.builds(
        lambda v: {"segment": v},
        st.lists(st.sampled_from(["smb", "mid", "ent"]), min_size=1, max_size=2),
    ),
)
condition_strategy = st.one_of(
    leaf_strategy,
    st.lists(leaf_strategy, min_size=2, max_size=3).map(lambda parts: {"all": parts}),
    st.lists(leaf_strategy, min_size=1, max_size=2).map(lambda parts: {"any": parts}),
    leaf_strategy.map(lambda part: {"not": part}),
)


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(_MISSING), st.none(), values)


_MISSING = object()

lead_strategy = st.fixed_dictionaries(
    {
        "country": optional(st.sampled_from(COUNTRIES)),
        "state": optional(st.sampled_from(STATES)),
        "postal_code": optional(st.sampled_from(POSTALS)),
        "employees": optional(st.sampled_from(NUMBERS)),
        "tags": optional(st.lists(st.sampled_from(TAGS), max_size=3)),
        "free_email": optional(st.booleans()),
    }
).map(lambda d: {k: v for k, v in d.items() if v is not _MISSING})


def _corpus() -> list[dict[str, Any]]:
    """A fixed, varied set of leads: every value of every field shows up in many combinations."""
    rng = random.Random(20261124)
    pools: dict[str, list[Any]] = {
        "country": [*COUNTRIES, None],
        "state": [*STATES, None],
        "postal_code": [*POSTALS, None],
        "employees": [*NUMBERS, None],
        "tags": [[], ["vip"], ["VIP", "hot"], ["cold"], ["hot", "cold"], ["vip", "cold"], None],
        "free_email": [True, False, None],
    }
    leads = []
    for _ in range(2000):
        leads.append(
            {name: rng.choice(values) for name, values in pools.items() if rng.random() < 0.85}
        )
    return leads


CORPUS = [context(ORG, fields) for fields in _corpus()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    narrow=condition_strategy, broad=condition_strategy, leads=st.lists(lead_strategy, max_size=20)
)
def test_implies_is_sound(narrow: Any, broad: Any, leads: list[dict[str, Any]]) -> None:
    a, b = compile_ok(narrow), compile_ok(broad)
    if not implies(a, b):
        return
    for data in [*CORPUS, *(context(ORG, fields) for fields in leads)]:
        if a.test(data):
            assert b.test(data), (narrow, broad, data)


same_field_pairs = st.sampled_from(
    ["country", "employees", "tags", "free_email", "territory", "segment"]
).flatmap(lambda name: st.tuples(*[leaf_strategy.filter(lambda raw: next(iter(raw)) == name)] * 2))


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(pair=same_field_pairs)
def test_implies_is_sound_on_one_field(pair: tuple[Any, Any]) -> None:
    narrow, broad = pair
    a, b = compile_ok(narrow), compile_ok(broad)
    if implies(a, b):
        for data in CORPUS:
            if a.test(data):
                assert b.test(data), (narrow, broad, data)


@given(raw=condition_strategy)
def test_every_condition_implies_itself(raw: Any) -> None:
    condition = compile_ok(raw)
    if condition.conjunctive and condition.leaves:
        assert implies(condition, condition)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"country": False}, ("when", "country")),  # `country: NO` in YAML
        ({"country": ["SE", False]}, ("when", "country")),  # `country: [SE, NO]`
        ({"country": {"in": ["DK", False]}}, ("when", "country", "in")),
        ({"country": {"ne": True}}, ("when", "country", "ne")),
        ({"tags": {"not_in": [True]}}, ("when", "tags", "not_in")),
    ],
)
def test_yaml_booleans_for_text_fields_are_errors(raw: Any, path: tuple[Any, ...]) -> None:
    issue = one_issue(raw)
    assert issue.path == path
    assert "quote the value" in issue.message


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"country": [["US"]]}, ("when", "country")),
        ({"country": {"in": [{"a": 1}]}}, ("when", "country", "in")),
        ({"employees": {"eq": [5]}}, ("when", "employees", "eq")),
    ],
)
def test_values_to_compare_must_be_plain(raw: Any, path: tuple[Any, ...]) -> None:
    issue = one_issue(raw)
    assert issue.path == path
    assert "needs plain values" in issue.message


def test_booleans_are_fine_for_boolean_and_custom_fields() -> None:
    assert matches({"free_email": False, "account.named": {"ne": True}}, free_email=False)


def test_empty_operator_mapping_and_non_boolean_presence_are_errors() -> None:
    issues: list[Issue] = []
    compiler = ConditionCompiler(Vocabulary(), Org(), issues)
    compiler.compile({"country": {}}, ("when",))
    compiler.compile({"phone": {"exists": "false"}}, ("when",))
    messages = [i.message for i in issues]
    assert any("empty mapping" in m for m in messages)
    assert any("needs true or false" in m for m in messages)


def test_a_bare_jsonlogic_expression_is_a_condition() -> None:
    issues: list[Issue] = []
    compiler = ConditionCompiler(Vocabulary(), Org(), issues)
    rule = {"and": [{"==": [{"var": "country"}, "US"]}, {">=": [{"var": "employees"}, 100]}]}
    condition = compiler.compile(rule, ("when",))
    assert issues == []
    assert condition.fields == ("country", "employees")
    assert condition.test({"country": "US", "employees": 150})
    assert not condition.test({"country": "US", "employees": 50})


def test_jsonlogic_conditions_use_jsonlogic_truthiness() -> None:
    issues: list[Issue] = []
    compiler = ConditionCompiler(Vocabulary(), Org(), issues)
    nan = compiler.compile({"jsonlogic": {"/": [0, 0]}}, ("when",))
    empty = compiler.compile({"jsonlogic": {"merge": []}}, ("when",))
    zero_text = compiler.compile({"jsonlogic": {"cat": ["0"]}}, ("when",))
    assert issues == []
    assert not nan.test({}) and not empty.test({}) and zero_text.test({})


def test_every_operator_of_the_vocabulary_has_a_compiler() -> None:
    from leadroute.domain.conditions import LEAF_COMPILERS
    from leadroute.domain.fields import ALL_OPERATORS

    assert set(ALL_OPERATORS) == set(LEAF_COMPILERS)
