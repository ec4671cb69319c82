"""The router, as properties over random flows whose conditions are random trees.

test_engine.py's property draws each node's condition from a fixed list of leaves; here every
condition is generated: any operator its field's type allows, random operands, nested under
all, any and not, as shorthand or spelled out. Each decision is checked against a plain
evaluation of the same conditions written here:

- the lead goes to the first node whose condition holds (and whose action places it), and every
  node before it was tried and did not;
- the fallback takes every lead no node placed: with a fallback that always places, no lead is
  left unrouted;
- over a batch, the leads per node add up to the leads routed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.decision import Outcome
from leadroute.domain.engine import Router
from leadroute.domain.org import RepStatus
from tests.factories import NOW, make_config, make_lead, make_org, make_rep

TEXT_FIELDS = ("industry", "city", "lead_source")
NUMBER_FIELDS = ("employees", "annual_revenue")
WORDS = ("Software", "soft", "WARE", "Café", "CAFÉ", "retail", "Berlin", "web", "Web Form")
PATTERNS = ("^soft", "ware$", "caf", "b.rl", "^web( form)?$")
NUMBERS = (0, 1, 49, 50, 99.5, 100, 1000, 250000)

ORG = make_org([make_rep("ok"), make_rep("away", status=RepStatus.PAUSED)])

Cond = Any  # a condition as config data: a mapping or a list of them


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def leaf_holds(field: str, op: str, operand: Any, fields: dict[str, Any]) -> bool:
    """One comparison, as the config reference states it."""
    actual = fields.get(field)
    if op in ("eq", "ne"):
        equal = actual is not None and _fold(actual) == _fold(operand)
        return equal if op == "eq" else not equal
    if op in ("in", "not_in"):
        inside = actual is not None and _fold(actual) in {_fold(o) for o in operand}
        return inside if op == "in" else not inside
    if op == "contains":
        return isinstance(actual, str) and operand.casefold() in actual.casefold()
    if op == "starts_with":
        return isinstance(actual, str) and actual.casefold().startswith(operand.casefold())
    if op == "ends_with":
        return isinstance(actual, str) and actual.casefold().endswith(operand.casefold())
    if op == "matches":
        return isinstance(actual, str) and re.search(operand, actual, re.IGNORECASE) is not None
    if op == "between":
        return _number(actual) and bool(operand[0] <= actual <= operand[1])
    if op in ("gt", "gte", "lt", "lte"):
        if not _number(actual):
            return False
        outcome: bool = {
            "gt": actual > operand,
            "gte": actual >= operand,
            "lt": actual < operand,
            "lte": actual <= operand,
        }[op]
        return outcome
    present = actual is not None and actual != ""
    return present == bool(operand) if op == "exists" else present != bool(operand)


def holds(condition: Cond, fields: dict[str, Any]) -> bool:
    """A whole condition: a list or a mapping of several keys is 'all of them'."""
    if isinstance(condition, list):
        return all(holds(c, fields) for c in condition)
    results = []
    for key, value in condition.items():
        if key == "all":
            results.append(all(holds(c, fields) for c in value))
        elif key == "any":
            results.append(any(holds(c, fields) for c in value))
        elif key == "not":
            results.append(not holds(value, fields))
        elif isinstance(value, dict):
            results.append(all(leaf_holds(key, op, arg, fields) for op, arg in value.items()))
        elif isinstance(value, list):
            results.append(leaf_holds(key, "in", value, fields))
        else:
            results.append(leaf_holds(key, "eq", value, fields))
    return all(results)


# --- strategies --------------------------------------------------------------------------------

words = st.sampled_from(WORDS)
numbers = st.sampled_from(NUMBERS)


def _text_leaf(field: str) -> st.SearchStrategy[Cond]:
    return st.one_of(
        words.map(lambda w: {field: w}),
        st.lists(words, min_size=1, max_size=3).map(lambda ws: {field: ws}),
        st.tuples(st.sampled_from(["eq", "ne", "contains", "starts_with", "ends_with"]), words).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.tuples(st.sampled_from(["in", "not_in"]), st.lists(words, min_size=1, max_size=3)).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.sampled_from(PATTERNS).map(lambda p: {field: {"matches": p}}),
        st.tuples(st.sampled_from(["exists", "missing"]), st.booleans()).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
    )


def _number_leaf(field: str) -> st.SearchStrategy[Cond]:
    return st.one_of(
        numbers.map(lambda n: {field: n}),
        st.tuples(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), numbers).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.tuples(st.sampled_from(["in", "not_in"]), st.lists(numbers, min_size=1, max_size=3)).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.lists(numbers, min_size=2, max_size=2).map(lambda b: {field: {"between": sorted(b)}}),
        st.tuples(numbers, numbers).map(  # two operators on one field: both must hold
            lambda t: {field: {"gte": min(t), "lt": max(t) + 1}}
        ),
        st.tuples(st.sampled_from(["exists", "missing"]), st.booleans()).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
    )


leaves = st.one_of(*(_text_leaf(f) for f in TEXT_FIELDS), *(_number_leaf(f) for f in NUMBER_FIELDS))


def _extend(children: st.SearchStrategy[Cond]) -> st.SearchStrategy[Cond]:
    several = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        several.map(lambda cs: {"all": cs}),
        several.map(lambda cs: {"any": cs}),
        children.map(lambda c: {"not": c}),
        st.lists(children, min_size=2, max_size=3),  # a list: all of them
    )


conditions = st.recursive(leaves, _extend, max_leaves=6)

leads = st.fixed_dictionaries(
    {},
    optional={
        **{f: st.one_of(words, words.map(str.upper), st.just("")) for f in TEXT_FIELDS},
        **{f: st.one_of(numbers, st.sampled_from([-1, 75, 99.99, 10**6])) for f in NUMBER_FIELDS},
    },
)

# A node's action: a queue always places the lead; assigning a paused rep falls through.
PLACES = "{queue: q%d}"
FALLS_THROUGH = "{assign: {rep: away, if_unavailable: fall_through}}"
nodes = st.lists(st.tuples(conditions, st.sampled_from([True, True, True, False])), max_size=6)


def flow_yaml(plan: list[tuple[Cond, bool]]) -> str:
    lines = ["name: generated", "flow:"]
    for i, (condition, places) in enumerate(plan):
        action = PLACES % i if places else FALLS_THROUGH
        lines += [f"  - id: n{i}", f"    when: {json.dumps(condition)}", f"    then: {action}"]
    lines += ["  - id: fallback", "    fallback: true", "    then: {queue: rest}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=nodes, batch=st.lists(leads, min_size=1, max_size=30))
def test_the_first_node_that_holds_takes_the_lead_and_the_fallback_the_rest(
    plan: list[tuple[Cond, bool]], batch: list[dict[str, Any]]
) -> None:
    router = Router(make_config(flow_yaml(plan), ORG), ORG)
    state = MemoryRoutingState(ORG)
    per_node: Counter[str | None] = Counter()
    expected: Counter[str] = Counter()
    for n, fields in enumerate(batch):
        decision = router.route(make_lead(f"L{n}", **fields), now=NOW, state=state)
        tried, taker = [], "fallback"
        for i, (condition, places) in enumerate(plan):
            matched = holds(condition, fields)
            tried.append((f"n{i}", matched))
            if matched and places:
                taker = f"n{i}"
                break
        else:
            tried.append(("fallback", True))
        assert [(t.node, t.matched) for t in decision.nodes] == tried, (fields, flow_yaml(plan))
        assert decision.node == taker
        assert decision.outcome is Outcome.ROUTED  # the fallback places whatever is left
        assert decision.queue == ("rest" if taker == "fallback" else f"q{taker[1:]}")
        event("taken by the fallback" if taker == "fallback" else "taken by a node")
        per_node[decision.node] += 1
        expected[taker] += 1
    assert per_node == expected
    assert sum(per_node.values()) == len(batch)
