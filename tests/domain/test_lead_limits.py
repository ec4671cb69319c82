"""The caps on one lead: how many fields it holds and how deeply a field's value nests."""

from __future__ import annotations

from typing import Any

import pytest

from leadroute.domain.lead import LEAD_LIMITS, LeadLimits


def nested(levels: int) -> Any:
    """A value `levels` objects and lists deep (0: a text)."""
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def test_the_defaults_are_500_fields_and_5_levels() -> None:
    assert (LEAD_LIMITS.max_fields, LEAD_LIMITS.max_depth) == (500, 5)


def test_a_lead_at_the_field_cap_passes_and_one_over_it_is_named() -> None:
    at_cap = {f"f{i}": "v" for i in range(500)}
    assert LEAD_LIMITS.problem(at_cap) is None
    over = {f"f{i}": "v" for i in range(10_000)}
    assert LEAD_LIMITS.problem(over) == (
        "the lead has 10,000 fields: over the cap of 500 fields per lead"
    )


def test_entries_inside_a_field_count_as_fields() -> None:
    one_big_field = {"email": "a@b.io", "tags": [f"t{i}" for i in range(600)]}
    reason = LEAD_LIMITS.problem(one_big_field)
    assert reason is not None
    assert "counting each entry of the objects and lists inside them" in reason
    assert "over the cap of 500 fields per lead" in reason
    assert LEAD_LIMITS.problem({"email": "a@b.io", "tags": ["t"] * 498}) is None
    assert LEAD_LIMITS.problem({"email": "a@b.io", "tags": ["t"] * 499}) is not None
    objects = {"email": "a@b.io", "rows": [{"a": 1, "b": 2}] * 200}  # 2 + 200 + 400 = 602
    assert LEAD_LIMITS.problem(objects) is not None


@pytest.mark.parametrize("levels", [0, 1, 2, 5])
def test_values_nested_up_to_the_cap_pass(levels: int) -> None:
    assert LEAD_LIMITS.problem({"email": "a@b.io", "deep": nested(levels)}) is None


@pytest.mark.parametrize("levels", [6, 7, 50])
def test_values_nested_past_the_cap_are_named(levels: int) -> None:
    assert LEAD_LIMITS.problem({"email": "a@b.io", "deep": nested(levels)}) == (
        "field 'deep' is nested more than 5 levels deep: over the cap of 5 levels per field"
    )


def test_other_caps_and_a_long_name_shown_short() -> None:
    limits = LeadLimits(max_fields=3, max_depth=0)
    assert limits.problem({"a": 1, "b": 2, "c": 3}) is None
    assert limits.problem({"a": 1, "b": 2, "c": 3, "d": 4}) == (
        "the lead has 4 fields: over the cap of 3 fields per lead"
    )
    reason = limits.problem({"n" * 500: []})
    assert reason is not None and reason.startswith("field 'nnn") and "...'" in reason
    assert len(reason) < 200
    with pytest.raises(ValueError):
        LeadLimits(max_fields=0)
    with pytest.raises(ValueError):
        LeadLimits(max_depth=-1)
