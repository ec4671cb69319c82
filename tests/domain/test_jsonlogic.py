"""JsonLogic compiler: the official conformance suite (all 277 cases), JavaScript coercion edge
cases, compile errors, `jsonlogic_vars`, and property tests against a naive reference evaluator."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain.jsonlogic import (
    JsonLogicError,
    _compile,
    compile_jsonlogic,
    compile_jsonlogic_predicate,
    evaluate,
    jsonlogic_vars,
    truthy,
)

SUITE = Path(__file__).parent / "data" / "jsonlogic_tests.json"
# The shared copy the in-repo one was taken from (only present next to the main checkout).
SHARED_SUITE = Path(__file__).resolve().parents[3] / "shared/conformance/jsonlogic/tests.json"


def load_suite() -> list[tuple[Any, Any, Any]]:
    """`[rule, data, expected]` cases; the section titles in between are skipped."""
    raw = json.loads(SUITE.read_text(encoding="utf-8"))
    return [(case[0], case[1], case[2]) for case in raw if not isinstance(case, str)]


CASES = load_suite()


def case_id(index: int, rule: Any) -> str:
    text = json.dumps(rule, separators=(",", ":"))
    return f"{index:03d}:{text if len(text) <= 40 else text[:37] + '...'}"


def json_equal(got: Any, expected: Any) -> bool:
    """Equality of JSON values: true is not 1, 1 is 1.0, lists and objects compare deeply."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if expected is None or got is None:
        return got is None and expected is None
    if isinstance(expected, (int, float)):
        return isinstance(got, (int, float)) and (
            got == expected or (math.isnan(got) and math.isnan(expected))
        )
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(expected)
            and all(json_equal(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, Mapping):
        return (
            isinstance(got, Mapping)
            and got.keys() == expected.keys()
            and all(json_equal(got[k], expected[k]) for k in expected)
        )
    raise TypeError(f"not a JSON value: {expected!r}")


def test_json_equal_is_strict() -> None:
    assert not json_equal(1, True)
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal([1], [True])
    assert not json_equal(None, [])
    assert not json_equal("1", 1)
    assert json_equal(2.0, 2)
    assert json_equal([1, [2, "a"]], [1.0, [2, "a"]])


# --- the official suite --------------------------------------------------------------------


def test_suite_has_277_cases() -> None:
    assert len(CASES) == 277


def test_in_repo_suite_matches_shared_copy() -> None:
    if not SHARED_SUITE.is_file():
        pytest.skip(f"no shared suite at {SHARED_SUITE}")
    assert json.loads(SHARED_SUITE.read_text(encoding="utf-8")) == json.loads(
        SUITE.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [pytest.param(*case, id=case_id(i, case[0])) for i, case in enumerate(CASES)],
)
def test_conformance(rule: Any, data: Any, expected: Any) -> None:
    got = compile_jsonlogic(rule)(data)
    assert json_equal(got, expected), f"{rule!r} on {data!r}: expected {expected!r}, got {got!r}"
    assert json_equal(evaluate(rule, data), expected)  # the closures alone, no generated code
    assert compile_jsonlogic_predicate(rule)(data) is truthy(expected)


# --- JavaScript semantics beyond the suite -------------------------------------------------

EDGE_CASES: list[tuple[Any, Any, Any]] = [
    # loose equality
    ({"==": [None, False]}, {}, False),
    ({"==": [0, ""]}, {}, True),
    ({"==": ["", False]}, {}, True),
    ({"==": [{"var": "x"}, None]}, {}, True),
    ({"==": [{"var": "x"}, None]}, {"x": False}, False),
    ({"==": [{"var": "x"}, "1"]}, {"x": 1}, True),
    ({"==": [{"var": "x"}, "1"]}, {"x": True}, True),
    ({"==": [{"var": "x"}, "true"]}, {"x": True}, False),
    ({"==": [{"var": "x"}, 1]}, {"x": " 1.0 "}, True),
    ({"==": [{"var": "x"}, 1]}, {"x": [1]}, True),
    ({"==": [{"var": "x"}, "a,b"]}, {"x": ["a", "b"]}, True),
    ({"==": [{"var": "x"}, {"var": "y"}]}, {"x": [1], "y": [1]}, False),
    ({"==": ["US", {"var": "x"}]}, {"x": "US"}, True),
    ({"!=": [{"var": "x"}, "US"]}, {"x": "us"}, True),
    ({"==": [{"var": "x"}, 2.5]}, {"x": "2.5"}, True),
    ({"==": [{"var": "x"}, 2]}, {"x": "0x2"}, True),
    ({"==": [{"var": "x"}, 0]}, {"x": "abc"}, False),
    # strict equality
    ({"===": [{"var": "x"}, 1]}, {"x": 1.0}, True),
    ({"===": [{"var": "x"}, 1]}, {"x": True}, False),
    ({"!==": [{"var": "x"}, "1"]}, {"x": 1}, True),
    # membership is strict; substring converts the needle to a string
    ({"in": [{"var": "x"}, [1, 2]]}, {"x": True}, False),
    ({"in": [{"var": "x"}, [1, 2]]}, {"x": 2.0}, True),
    ({"in": [{"var": "x"}, ["1"]]}, {"x": 1}, False),
    ({"in": [{"var": "x"}, ["US", 1, None]]}, {"x": None}, True),
    ({"in": [{"var": "x"}, ["US", "CA"]]}, {"x": ["US"]}, False),
    ({"in": [{"var": "x"}, ["US", "CA"]]}, {}, False),
    ({"in": [{"var": "x"}, "nullable"]}, {"x": None}, True),
    ({"in": [{"var": "x"}, "a1b"]}, {"x": 1}, True),
    ({"in": ["VP", {"var": "title"}]}, {"title": "SVP Sales"}, True),
    ({"in": ["VP", {"var": "title"}]}, {"title": None}, False),
    ({"in": ["b", {"var": "tags"}]}, {"tags": ("a", "b")}, True),
    ({"in": [{"var": "x"}, {"var": "y"}]}, {"x": 1, "y": 5}, False),
    # ordering: strings as strings, everything else as numbers
    ({"<": [{"var": "x"}, 10]}, {"x": "9"}, True),
    ({"<": [{"var": "x"}, "10"]}, {"x": "9"}, False),
    ({"<": [{"var": "x"}, 10]}, {"x": None}, True),
    ({"<": [{"var": "x"}, 10]}, {"x": "abc"}, False),
    ({">=": [{"var": "x"}, 10]}, {"x": "abc"}, False),
    ({">": [{"var": "x"}, 1]}, {"x": True}, False),
    ({"<=": [{"var": "x"}, {"var": "y"}]}, {"x": [2], "y": "3"}, True),
    ({"<=": [1, {"var": "x"}, 5]}, {"x": None}, False),
    ({"<=": [0, {"var": "x"}, 5]}, {}, True),
    ({"<": [0, {"var": "x"}, 5]}, {"x": "4"}, True),
    ({"<": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}, {"a": 1, "b": 2, "c": 3}, True),
    ({"<=": ["b", {"var": "x"}, "d"]}, {"x": "c"}, True),
    # var
    ({"var": ["a", 5]}, {"a": None}, None),
    ({"var": ["a.b", 5]}, {"a": None}, 5),
    ({"var": ["a", {"var": "b"}]}, {"b": 7}, 7),
    ({"var": ["a", [1]]}, {}, [1]),
    ({"var": "1"}, ("a", "b"), "b"),
    ({"var": "01"}, ["a", "b"], None),
    ({"var": "a.0"}, {"a": "xyz"}, "x"),
    ({"var": "a"}, 5, None),
    ({"var": 1.5}, {"1": {"5": "deep"}}, "deep"),
    ({"var": ""}, {"a": 1}, {"a": 1}),
    # truthiness, and/or/if
    ({"!": [{}]}, {}, False),
    ({"!": [{"var": "x"}]}, {"x": {}}, False),
    ({"!!": [{"var": "x"}]}, {"x": "0"}, True),
    ({"!!": [{"var": "x"}]}, {"x": 0.0}, False),
    ({"and": [{"var": "x"}, "yes"]}, {"x": "0"}, "yes"),
    ({"and": [True, {"var": "x"}]}, {"x": 0}, 0),
    ({"and": [{"var": "x"}, True]}, {"x": []}, []),
    ({"or": [{"var": "x"}, {"var": "y"}]}, {"x": [], "y": 0}, 0),
    ({"or": [False, {"var": "x"}, 1]}, {"x": ""}, 1),
    ({"or": [{"==": [{"var": "x"}, 1]}, {"==": [{"var": "x"}, 2]}]}, {"x": 2}, True),
    ({"and": [{"var": "x"}, {"var": "y"}, {"var": "z"}, {"var": "w"}]}, {"x": 1, "y": 2}, None),
    ({"if": [{"var": "x"}, "a", "b"]}, {"x": "0"}, "a"),
    ({"if": [{"var": "x"}, "a", {"var": "y"}, "b", "c"]}, {"y": [0]}, "b"),
    ({"if": [False, "a", {"var": "x"}]}, {"x": 3}, 3),
    ({"if": [True, {"var": "x"}, "b"]}, {"x": 3}, 3),
    # arithmetic
    ({"%": [-7, 2]}, {}, -1),
    ({"%": [7.5, 2]}, {}, 1.5),
    ({"/": [1, 0]}, {}, math.inf),
    ({"/": [-1, 0]}, {}, -math.inf),
    ({"+": ["3", "1"]}, {}, 4.0),
    ({"+": "3.14"}, {}, 3.14),
    ({"+": ["3px", {"var": "x"}]}, {"x": "2"}, 5.0),
    ({"+": [{"var": "x"}, 1]}, {"x": 2}, 3),
    ({"-": "2"}, {}, -2),
    ({"-": [{"var": "x"}]}, {"x": "5"}, -5),
    ({"*": [{"var": "x"}, "2"]}, {"x": 1.5}, 3.0),
    ({"max": [1, "3", {"var": "x"}]}, {"x": 2}, 3),
    ({"min": []}, {}, math.inf),
    ({"max": [1, "x"]}, {}, math.nan),
    # strings and arrays
    ({"cat": [1.5, None, True, [1, None, 2]]}, {}, "1.5true1,,2"),
    (
        {"cat": [0.000001, 1e-7, 1e21, 2.0, {"var": "o"}]},
        {"o": {}},
        "0.0000011e-71e+212[object Object]",
    ),
    ({"substr": ["jsonlogic", 20]}, {}, ""),
    ({"substr": ["jsonlogic", -20, 4]}, {}, "json"),
    ({"substr": [12345, 1, 2]}, {}, "23"),
    ({"merge": [{"var": "t"}, [3], 4]}, {"t": (1, 2)}, [1, 2, 3, 4]),
    ({"map": [{"var": "t"}, {"+": [{"var": ""}, 1]}]}, {"t": (1, 2)}, [2, 3]),
    ({"all": [{"var": "xs"}, True]}, {}, False),
    ({"none": [{"var": "xs"}, True]}, {}, True),
    ({"some": [[1, 2], {"==": [{"var": ""}, 2]}]}, {}, True),
    ({"reduce": [[1, 2, 3], {"max": [{"var": "current"}, {"var": "accumulator"}]}]}, {}, 3),
    ({"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 1]}, {}, 1),
    ({"log": [{"var": "x"}]}, {"x": [1]}, [1]),
    # missing
    ({"missing": ["a", "b"]}, {"a": ""}, ["a", "b"]),
    ({"missing": ["a", "b.c"]}, {"a": 0, "b": {"c": False}}, []),
    ({"missing_some": [1, {"var": "keys"}]}, {"keys": ["a", "b"], "b": 1}, []),
    ({"missing": [{"var": "k"}]}, {"k": "z"}, ["z"]),
]


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [pytest.param(*case, id=case_id(i, case[0])) for i, case in enumerate(EDGE_CASES)],
)
def test_javascript_semantics(rule: Any, data: Any, expected: Any) -> None:
    assert json_equal(compile_jsonlogic(rule)(data), expected)
    assert json_equal(_compile(rule).fn(data), expected)


class FrozenMapping(Mapping[str, Any]):
    """A Mapping that is not a dict."""

    def __init__(self, **items: Any) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@pytest.mark.parametrize("wrap", [dict, MappingProxyType, lambda d: FrozenMapping(**d)])
def test_data_may_be_any_mapping(wrap: Any) -> None:
    rule = {
        "and": [
            {"==": [{"var": "country"}, "US"]},
            {"in": [{"var": "state"}, ["CA", "WA"]]},
            {"<=": [10, {"var": "employees"}, 500]},
            {"<": [{"var": "score"}, 90]},
            {"==": [{"var": "account.tier"}, "gold"]},
            {"!": {"missing": ["email"]}},
        ]
    }
    lead = {
        "country": "US",
        "state": "CA",
        "employees": 50,
        "score": 12.5,
        "account": wrap({"tier": "gold"}),
        "email": "a@b.co",
    }
    assert compile_jsonlogic(rule)(wrap(lead)) is True
    assert compile_jsonlogic(rule)(wrap({**lead, "state": "NY"})) is False
    assert compile_jsonlogic({"var": "country"})(wrap({})) is None


def test_results_are_fresh_copies() -> None:
    fn = compile_jsonlogic({"merge": [[1], [[2]]]})
    first = fn({})
    first.append(9)
    first[1].append(9)
    assert fn({}) == [1, [2]]
    literal = compile_jsonlogic({"if": [{"var": "x"}, [[1]], []]})
    literal({"x": True})[0].append(2)
    assert literal({"x": True}) == [[1]]
    default = compile_jsonlogic({"var": ["x", [1]]})
    default({}).append(2)
    assert default({}) == [1]


def test_predicate_uses_jsonlogic_truthiness() -> None:
    fn = compile_jsonlogic_predicate({"var": "x"})
    assert fn({"x": []}) is False
    assert fn({"x": "0"}) is True
    assert fn({"x": {}}) is True
    assert fn({}) is False
    assert compile_jsonlogic_predicate(True)(None) is True
    assert compile_jsonlogic_predicate({"and": [True, []]})(None) is False


def test_literals_never_become_source_text() -> None:
    odd = "x') or __import__('os') or print('\\n"  # no dots: a dotted name is a path
    rule = {"and": [{"==": [{"var": odd}, odd]}, {"in": [odd, {"var": "t"}]}, {"<": [odd, "z"]}]}
    fn = compile_jsonlogic(rule)
    assert fn({odd: odd, "t": f"<{odd}>"}) is True
    assert fn({odd: "x", "t": odd}) is False


def test_very_deep_rules_fall_back_to_closures() -> None:
    rule: Any = {"var": "x"}
    for _ in range(300):
        rule = {"!": [rule]}
    assert compile_jsonlogic(rule)({"x": 1}) is True
    assert compile_jsonlogic(rule)({"x": 0}) is False


def test_non_mapping_data_uses_the_closures() -> None:
    rule = {"or": [{"==": [{"var": "0"}, "a"]}, {"in": [{"var": "1"}, ["b", "c"]]}]}
    fn = compile_jsonlogic(rule)
    assert fn(["a", "x"]) is True
    assert fn(("z", "c")) is True
    assert fn(None) is False
    assert fn("ab") is True


# --- compile errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"foo": [1]}, 'unknown JsonLogic operator "foo"'),
        ({"and": [{"==": [1, 1]}, {"bar": []}]}, 'unknown JsonLogic operator "bar"'),
        ({"map": [[1], {"baz": 1}]}, 'unknown JsonLogic operator "baz"'),
        ([1, {"if": [{"Var": "x"}, 1]}], 'unknown JsonLogic operator "Var"'),
        ({"==": [1, 1], "!=": [1, 2]}, 'exactly one operator key, got "==", "!="'),
        ({"==": [1]}, 'operator "==" takes 2 arguments, got 1'),
        ({">": [1, 2, 3]}, 'operator ">" takes 2 arguments, got 3'),
        ({"<": [1]}, 'operator "<" takes 2 to 3 arguments, got 1'),
        ({"!": []}, 'operator "!" takes 1 argument, got 0'),
        ({"and": []}, 'operator "and" takes at least 1 argument, got 0'),
        ({"missing_some": [1]}, 'operator "missing_some" takes 2 arguments, got 1'),
        ({"map": [[1]]}, 'operator "map" takes 2 arguments, got 1'),
        ({"*": []}, 'operator "*" takes at least 1 argument, got 0'),
        ({"var": ["a", 1, 2]}, 'operator "var" takes 0 to 2 arguments, got 3'),
    ],
)
def test_compile_errors(rule: Any, message: str) -> None:
    with pytest.raises(JsonLogicError, match=re.escape(message)):
        compile_jsonlogic(rule)


def test_error_is_a_value_error() -> None:
    assert issubclass(JsonLogicError, ValueError)
    with pytest.raises(ValueError, match="nope"):
        evaluate({"nope": 1}, {})


# --- jsonlogic_vars ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "names"),
    [
        (True, []),
        ({"var": "a"}, ["a"]),
        (
            {
                "and": [
                    {"==": [{"var": "country"}, "US"]},
                    {"<": [{"var": ["employees", 0]}, 100]},
                    {"==": [{"var": "country"}, "CA"]},
                    {"in": ["VP", {"var": "title"}]},
                ]
            },
            ["country", "employees", "title"],
        ),
        ({"var": "account.tier"}, ["account.tier"]),
        ({"var": 1}, ["1"]),
        ({"var": ""}, []),
        ({"var": []}, []),
        ({"var": ["a", {"var": "b"}]}, ["a", "b"]),
        ({"var": [{"if": [{"var": "flag"}, "x", "y"]}]}, ["flag"]),
        ({"all": [{"var": "items"}, {">": [{"var": "qty"}, 1]}]}, ["items"]),
        ({"map": [{"var": "xs"}, {"var": ""}]}, ["xs"]),
        (
            {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, 1]}, {"var": "start"}]},
            ["xs", "start"],
        ),
        ({"missing": ["a", "b"]}, ["a", "b"]),
        ({"missing": "a"}, ["a"]),
        ({"missing_some": [1, ["c", "d"]]}, ["c", "d"]),
        ({"missing": {"merge": ["vin", {"if": [{"var": "fin"}, ["apr"], []]}]}}, ["fin"]),
        ([{"var": "a"}, {"cat": [{"var": "b"}, {"var": "a"}]}], ["a", "b"]),
    ],
)
def test_jsonlogic_vars(rule: Any, names: list[str]) -> None:
    assert jsonlogic_vars(rule) == names


# --- property tests against a naive reference evaluator ------------------------------------

FIELDS = ["a", "b", "c", "d"]
TEXTS = ["", "0", "1", "2", " 2 ", "1.5", "10", "abc", "ab", "b", "US", "1e1", "-1", "x1"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from([0.0, 0.5, 1.5, -2.25, 2.0, 10.0]),
    st.sampled_from(TEXTS),
)
NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def ref_number(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    text = v.strip()
    if text == "":
        return 0.0
    return float(text) if NUMBER_TEXT.fullmatch(text) else math.nan


def ref_string(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def ref_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    return "number" if isinstance(v, (int, float)) else "string"


def ref_loose_eq(x: Any, y: Any) -> bool:
    tx, ty = ref_type(x), ref_type(y)
    if tx == ty:
        return bool(x == y)
    if "null" in (tx, ty):
        return False
    return ref_number(x) == ref_number(y)  # bools and strings meet as numbers


def ref_truthy(v: Any) -> bool:
    if isinstance(v, float) and math.isnan(v):
        return False
    return bool(v)  # only scalars and lists reach here


def ref_order(x: Any, y: Any, op: str) -> bool:
    if isinstance(x, str) and isinstance(y, str):
        a: Any = x
        b: Any = y
    else:
        a, b = ref_number(x), ref_number(y)
    return bool({"<": a < b, "<=": a <= b}[op])


def ref_eval(rule: Any, data: dict[str, Any]) -> Any:
    if not isinstance(rule, dict):
        return rule
    ((op, args),) = rule.items()
    args = args if isinstance(args, list) else [args]
    if op == "var":
        return data.get(args[0], args[1] if len(args) > 1 else None)
    if op == "and":
        value = None
        for arg in args:
            value = ref_eval(arg, data)
            if not ref_truthy(value):
                return value
        return value
    if op == "or":
        value = None
        for arg in args:
            value = ref_eval(arg, data)
            if ref_truthy(value):
                return value
        return value
    if op == "if":
        cond, then, otherwise = args
        return ref_eval(then if ref_truthy(ref_eval(cond, data)) else otherwise, data)
    values = [ref_eval(arg, data) for arg in args]
    if op == "!":
        return not ref_truthy(values[0])
    if op == "!!":
        return ref_truthy(values[0])
    if op in ("==", "!="):
        return ref_loose_eq(values[0], values[1]) is (op == "==")
    if op in ("===", "!=="):
        same = ref_type(values[0]) == ref_type(values[1]) and values[0] == values[1]
        return same is (op == "===")
    if op in ("<", "<="):
        return all(ref_order(x, y, op) for x, y in pairwise(values))
    if op in (">", ">="):
        return ref_order(values[1], values[0], "<" if op == ">" else "<=")
    if op == "in":
        needle, haystack = values
        if isinstance(haystack, str):
            return ref_string(needle) in haystack
        if isinstance(haystack, list):
            return any(ref_type(needle) == ref_type(x) and needle == x for x in haystack)
        return False
    raise AssertionError(op)


def var_refs() -> st.SearchStrategy[Any]:
    plain = st.builds(lambda name: {"var": name}, st.sampled_from(FIELDS))
    with_default = st.builds(lambda n, d: {"var": [n, d]}, st.sampled_from(FIELDS), SCALARS)
    return st.one_of(plain, plain, with_default)


OPERAND = st.one_of(var_refs(), SCALARS)


def comparisons() -> st.SearchStrategy[Any]:
    binary = st.builds(
        lambda op, x, y: {op: [x, y]},
        st.sampled_from(["==", "!=", "===", "!==", "<", "<=", ">", ">="]),
        OPERAND,
        OPERAND,
    )
    between = st.builds(
        lambda op, lo, x, hi: {op: [lo, x, hi]},
        st.sampled_from(["<", "<="]),
        OPERAND,
        OPERAND,
        OPERAND,
    )
    literal_list = st.one_of(
        st.lists(st.sampled_from(TEXTS), max_size=4),
        st.lists(st.one_of(st.integers(-3, 12), st.sampled_from([0.5, 2.0])), max_size=4),
        st.lists(SCALARS, max_size=4),
    )
    member = st.builds(lambda x, items: {"in": [x, items]}, OPERAND, literal_list)
    substring = st.builds(lambda x, y: {"in": [x, y]}, OPERAND, st.one_of(var_refs(), SCALARS))
    return st.one_of(binary, binary, between, member, substring)


def combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    many = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        st.builds(lambda xs: {"and": xs}, many),
        st.builds(lambda xs: {"or": xs}, many),
        st.builds(lambda x: {"!": [x]}, children),
        st.builds(lambda x: {"!!": [x]}, children),
        st.builds(lambda c, t, e: {"if": [c, t, e]}, children, children, children),
    )


RULES = st.recursive(st.one_of(comparisons(), OPERAND), combine, max_leaves=12)
DATA = st.dictionaries(st.sampled_from(FIELDS), SCALARS)


@settings(max_examples=600, deadline=None)
@given(rule=RULES, data=DATA)
def test_matches_reference_evaluator(rule: Any, data: dict[str, Any]) -> None:
    expected = ref_eval(rule, data)
    assert json_equal(compile_jsonlogic(rule)(data), expected)
    assert json_equal(_compile(rule).fn(data), expected)
    assert compile_jsonlogic_predicate(rule)(data) is ref_truthy(expected)


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=4),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=8,
)
SUITE_FIELDS = ["a", "b", "x", "y", "integers", "items", "desserts", "temp", "pie", "financing"]


@settings(max_examples=300, deadline=None)
@given(
    rule=st.sampled_from([case[0] for case in CASES]),
    data=st.one_of(JSON, st.dictionaries(st.sampled_from(SUITE_FIELDS), JSON)),
)
def test_generated_code_agrees_with_closures_and_never_raises(rule: Any, data: Any) -> None:
    assert json_equal(compile_jsonlogic(rule)(data), _compile(rule).fn(data))
