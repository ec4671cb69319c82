"""Route conditions: parsed from config data and compiled once into plain Python callables.

Condition syntax (YAML):
    {country: US}                          field equals value (strings case-insensitively)
    {country: [US, CA]}                    field is one of
    {employees: {gte: 100, lt: 500}}       operators; several in one mapping must all hold
    {all: [...]}, {any: [...]}, {not: ...} combinators; a mapping with several keys means all
    {territory: na_west}                   the lead is in a territory (or any of a list)
    {segment: [C, D]}                      the lead's size segment is one of
    {jsonlogic: {...}}                     a JsonLogic expression (jsonlogic.com); a bare
                                           expression such as {"and": [...]} works too
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leadroute.domain.fields import OPERATORS, FieldSpec, FieldType, Vocabulary
from leadroute.domain.jsonlogic import JsonLogicError, compile_jsonlogic_predicate, jsonlogic_vars
from leadroute.domain.org import Org

Data = Mapping[str, Any]
Test = Callable[[Data], bool]
Path = tuple[str | int, ...]
_EMPTY: Mapping[str, Any] = {}


_MEMO_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in a config, at a path inside the document."""

    path: Path
    message: str
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class Leaf:
    field: str
    op: str
    value: Any
    many: bool = False  # the field holds a list: eq/in/contains test any one of its items


@dataclass(frozen=True)
class Condition:
    test: Test
    text: str
    fields: tuple[str, ...] = ()
    leaves: tuple[Leaf, ...] = ()
    conjunctive: bool = True
    always: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


# JsonLogic operators that cannot be a leadroute key or field name: a mapping with one of these
# as its only key is read as a JsonLogic expression without the `jsonlogic:` wrapper.
BARE_JSONLOGIC = frozenset(
    {
        "==",
        "===",
        "!=",
        "!==",
        "!",
        "!!",
        "and",
        "or",
        "if",
        "?:",
        ">",
        ">=",
        "<",
        "<=",
        "var",
        "missing",
        "missing_some",
        "some",
        "none",
        "merge",
        "cat",
        "substr",
        "+",
        "-",
        "*",
        "/",
        "%",
        "max",
        "min",
        "map",
        "filter",
        "reduce",
    }
)

ALWAYS = Condition(test=lambda _d: True, text="always", always=True)


def getter(name: str) -> Callable[[Data], Any]:
    """A fast accessor for a field name; dotted names read nested mappings (account.status)."""
    if "." not in name:

        def get(d: Data) -> Any:
            return d.get(name)

        return get
    head, _, rest = name.partition(".")
    inner = getter(rest)

    def get_nested(d: Data) -> Any:
        sub = d.get(head)
        return inner(sub) if isinstance(sub, Mapping) else None

    return get_nested


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


Getter = Callable[[Data], Any]


def _equals(get: Getter, op: str, value: Any) -> Test:
    expected = _fold(value)
    negate = op == "ne"

    def eq(d: Data) -> bool:
        actual = get(d)
        if isinstance(actual, str):
            actual = actual.casefold()
        elif isinstance(actual, list):
            return (expected in [_fold(a) for a in actual]) != negate
        return bool(actual == expected) != negate

    return eq


def _member(get: Getter, op: str, value: Any) -> Test:
    options = frozenset(_fold(v) for v in value)
    negate = op == "not_in"

    def member(d: Data) -> bool:
        actual = get(d)
        if isinstance(actual, str):
            return (actual.casefold() in options) != negate
        if isinstance(actual, list):
            return any(_fold(a) in options for a in actual) != negate
        try:
            return (actual in options) != negate
        except TypeError:
            return negate

    return member


def _contains(get: Getter, op: str, value: Any) -> Test:
    needle = _fold(value)

    def contains(d: Data) -> bool:
        actual = get(d)
        if isinstance(actual, str):
            return isinstance(needle, str) and needle in actual.casefold()
        if isinstance(actual, list):
            return needle in [_fold(a) for a in actual]
        return False

    return contains


def _affix(get: Getter, op: str, value: Any) -> Test:
    affix = str(value).casefold()
    method = str.startswith if op == "starts_with" else str.endswith

    def affix_test(d: Data) -> bool:
        actual = get(d)
        return isinstance(actual, str) and method(actual.casefold(), affix)

    return affix_test


def _matches(get: Getter, op: str, value: Any) -> Test:
    pattern = re.compile(str(value), re.IGNORECASE)

    def matches(d: Data) -> bool:
        actual = get(d)
        return isinstance(actual, str) and pattern.search(actual) is not None

    return matches


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _ordered(get: Getter, op: str, value: Any) -> Test:
    bound = value
    compare = _ORDER[op]

    def ordered(d: Data) -> bool:
        actual = get(d)
        return _number(actual) and compare(actual, bound)

    return ordered


def _between(get: Getter, op: str, value: Any) -> Test:
    low, high = value

    def between(d: Data) -> bool:
        actual = get(d)
        return _number(actual) and low <= actual <= high

    return between


def _presence(get: Getter, op: str, value: Any) -> Test:
    want_present = bool(value) == (op == "exists")

    def presence(d: Data) -> bool:
        return (not _is_empty(get(d))) == want_present

    return presence


# operator -> how a leaf with it becomes a test (getter of the field, operator, value)
LEAF_COMPILERS: dict[str, Callable[[Getter, str, Any], Test]] = {
    "eq": _equals,
    "ne": _equals,
    "in": _member,
    "not_in": _member,
    "contains": _contains,
    "starts_with": _affix,
    "ends_with": _affix,
    "matches": _matches,
    "gt": _ordered,
    "gte": _ordered,
    "lt": _ordered,
    "lte": _ordered,
    "between": _between,
    "exists": _presence,
    "missing": _presence,
}


def _compile_leaf(leaf: Leaf) -> Test:
    compiler = LEAF_COMPILERS.get(leaf.op)
    if compiler is None:
        raise AssertionError(f"unhandled operator {leaf.op}")
    return compiler(getter(leaf.field), leaf.op, leaf.value)


def _describe_leaf(leaf: Leaf) -> str:
    symbols = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
    if leaf.op in symbols:
        return f"{leaf.field} {symbols[leaf.op]} {leaf.value!r}"
    if leaf.op in ("exists", "missing"):
        positive = bool(leaf.value) == (leaf.op == "exists")
        return f"{leaf.field} {'is present' if positive else 'is missing'}"
    return f"{leaf.field} {leaf.op.replace('_', ' ')} {leaf.value!r}"


class ConditionCompiler:
    """Parses and compiles conditions against the vocabulary and the org, collecting issues."""

    def __init__(self, vocabulary: Vocabulary, org: Org, issues: list[Issue]) -> None:
        self.vocabulary = vocabulary
        self.org = org
        self.issues = issues

    def compile(self, raw: Any, path: Path) -> Condition:
        if raw is None or raw is True:
            return ALWAYS
        if raw is False:
            return Condition(test=lambda _d: False, text="never")
        if isinstance(raw, list):
            return self._all([self.compile(item, (*path, i)) for i, item in enumerate(raw)])
        if not isinstance(raw, Mapping):
            self._error(path, f"a condition must be a mapping or a list, not {raw!r}")
            return ALWAYS
        if len(raw) == 1 and next(iter(raw)) in BARE_JSONLOGIC:
            return self._jsonlogic(raw, path)  # a JsonLogic expression pasted as it is
        parts = [self._compile_key(str(key), value, (*path, key)) for key, value in raw.items()]
        if not parts:
            return ALWAYS
        return parts[0] if len(parts) == 1 else self._all(parts)

    def _error(self, path: Path, message: str) -> None:
        self.issues.append(Issue(path, message))

    def _compile_key(self, key: str, value: Any, path: Path) -> Condition:
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self._error(path, f"'{key}' needs a non-empty list of conditions")
                return ALWAYS
            children = [self.compile(item, (*path, i)) for i, item in enumerate(value)]
            return self._all(children) if key == "all" else self._any(children)
        if key == "not":
            return self._not(self.compile(value, path))
        if key == "jsonlogic":
            return self._jsonlogic(value, path)
        if key == "territory":
            return self._territory(value, path)
        if key == "segment":
            return self._membership("segment", value, path, self.org.segments, "segment")
        return self._field(key, value, path)

    def _field(self, name: str, value: Any, path: Path) -> Condition:
        spec = self.vocabulary.get(name)
        if spec is None:
            self._error(
                path, f"unknown field '{name}': declare it under 'fields:' or check the spelling"
            )
        leaves: list[Leaf]
        if isinstance(value, Mapping):
            if not value:
                self._error(
                    path,
                    f"'{name}' has an empty mapping: give an operator, e.g. "
                    f"{{{name}: {{eq: value}}}}",
                )
                return ALWAYS
            parsed = [
                self._leaf(name, str(op), operand, (*path, op)) for op, operand in value.items()
            ]
            leaves = [leaf for leaf in parsed if leaf is not None]
        else:
            op = "in" if isinstance(value, list) else "eq"
            plain = self._plain_values(name, op, value, path)
            leaves = [Leaf(name, op, value, _many(spec))] if plain else []
        if not leaves:
            return ALWAYS
        tests = [_compile_leaf(leaf) for leaf in leaves]
        text = " and ".join(_describe_leaf(leaf) for leaf in leaves)
        if len(tests) == 1:
            return Condition(tests[0], text, (name,), tuple(leaves))
        return Condition(_and(tests), text, (name,), tuple(leaves))

    def _leaf(self, name: str, op: str, operand: Any, path: Path) -> Leaf | None:
        spec = self.vocabulary.get(name)
        allowed = (
            OPERATORS[spec.type]
            if spec
            else OPERATORS[FieldType.STRING] + ("gt", "gte", "lt", "lte", "between")
        )
        if op not in allowed:
            kind = spec.type.value if spec else "unknown"
            self._error(
                path,
                f"operator '{op}' does not apply to {kind} field '{name}'; "
                f"use one of: {', '.join(allowed)}",
            )
            return None
        if op in ("in", "not_in") and not isinstance(operand, list):
            operand = [operand]
        if op in ("eq", "ne", "in", "not_in") and not self._plain_values(name, op, operand, path):
            return None
        if op == "between":
            if (
                not isinstance(operand, list)
                or len(operand) != 2
                or not all(_number(x) for x in operand)
            ):
                self._error(path, f"'between' on '{name}' needs two numbers, e.g. [100, 499]")
                return None
            if operand[0] > operand[1]:
                self._error(
                    path, f"'between' on '{name}': low {operand[0]} is above high {operand[1]}"
                )
                return None
        if op in ("gt", "gte", "lt", "lte") and not _number(operand):
            self._error(path, f"'{op}' on '{name}' needs a number, got {operand!r}")
            return None
        if op in ("exists", "missing") and not isinstance(operand, bool):
            self._error(path, f"'{op}' on '{name}' needs true or false, got {operand!r}")
            return None
        if op == "matches":
            try:
                re.compile(str(operand))
            except re.error as exc:
                self._error(path, f"'matches' on '{name}': invalid regular expression: {exc}")
                return None
        return Leaf(name, op, operand, _many(spec))

    def _plain_values(self, name: str, op: str, operand: Any, path: Path) -> bool:
        """Values to compare must be plain, and text fields must not get YAML's true/false."""
        spec = self.vocabulary.get(name)
        for value in operand if op in ("in", "not_in") else [operand]:
            if isinstance(value, list | Mapping):
                self._error(path, f"'{op}' on '{name}' needs plain values, got {value!r}")
                return False
            if isinstance(value, bool) and spec and spec.type in (FieldType.STRING, FieldType.LIST):
                self._error(
                    path,
                    f"'{name}' is a {spec.type.value} field but got "
                    f"{str(value).lower()}: YAML reads unquoted yes, no, on and "
                    "off (and NO, Norway) as true/false; quote the value",
                )
                return False
        return True

    def _membership(
        self, field_name: str, value: Any, path: Path, known: Mapping[str, Any], kind: str
    ) -> Condition:
        ids = value if isinstance(value, list) else [value]
        for ident in ids:
            if str(ident) not in known:
                self._error(
                    path,
                    f"unknown {kind} '{ident}'"
                    + (
                        f"; known: {', '.join(sorted(known))}" if known else f"; no {kind}s defined"
                    ),
                )
        leaf = Leaf(field_name, "in", [str(i) for i in ids])
        return Condition(
            _compile_leaf(leaf), f"{kind} in {', '.join(map(str, ids))}", (field_name,), (leaf,)
        )

    def _territory(self, value: Any, path: Path) -> Condition:
        ids = [str(i) for i in (value if isinstance(value, list) else [value])]
        territories = []
        for ident in ids:
            territory = self.org.territories.get(ident)
            if territory is None:
                known = ", ".join(sorted(self.org.territories)) or "none defined"
                self._error(path, f"unknown territory '{ident}'; known: {known}")
            else:
                territories.append(territory)

        # Leads repeat the same few locations: remember each location's answer (the memo is
        # emptied when it grows past _MEMO_SIZE distinct locations).
        memo: dict[tuple[Any, Any, Any], bool] = {}

        def in_territory(d: Data) -> bool:
            key = (d.get("country"), d.get("state"), d.get("postal_code"))
            found = memo.get(key)
            if found is None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                found = any(t.contains(*key) for t in territories)
                memo[key] = found
            return found

        if territories and all(not t.subdivisions and not t.postal for t in territories):
            # Countries only: exactly `country in [...]`, which lets checks compare it.
            countries = sorted({c for t in territories for c in t.countries})
            leaf = Leaf("country", "in", countries)
        else:
            leaf = Leaf("territory", "in", ids)
        return Condition(
            in_territory,
            f"territory in {', '.join(ids)}",
            ("country", "state", "postal_code"),
            (leaf,),
        )

    def _jsonlogic(self, rule: Any, path: Path) -> Condition:
        try:
            test = compile_jsonlogic_predicate(rule)  # JsonLogic truthiness, compiled once
        except JsonLogicError as exc:
            self._error(path, f"invalid JsonLogic: {exc}")
            return ALWAYS
        names = tuple(jsonlogic_vars(rule))
        for name in names:
            if self.vocabulary.get(name) is None:
                self._error(path, f"unknown field '{name}' in JsonLogic var")
        return Condition(
            test,
            f"jsonlogic {json.dumps(rule)}",
            names,
            conjunctive=False,
            extra={"jsonlogic": rule},
        )

    def _all(self, children: list[Condition]) -> Condition:
        children = [c for c in children if not c.always]
        if not children:
            return ALWAYS
        if len(children) == 1:
            return children[0]
        return Condition(
            _and([c.test for c in children]),
            " and ".join(f"({c.text})" if not c.conjunctive else c.text for c in children),
            _merge_fields(children),
            tuple(leaf for c in children for leaf in c.leaves),
            conjunctive=all(c.conjunctive for c in children),
        )

    def _any(self, children: list[Condition]) -> Condition:
        if any(c.always for c in children):
            return ALWAYS
        tests = tuple(c.test for c in children)

        def any_test(d: Data) -> bool:
            for test in tests:
                if test(d):
                    return True
            return False

        return Condition(
            any_test,
            " or ".join(f"({c.text})" for c in children),
            _merge_fields(children),
            conjunctive=False,
        )

    def _not(self, child: Condition) -> Condition:
        inner = child.test
        return Condition(
            lambda d: not inner(d), f"not ({child.text})", child.fields, conjunctive=False
        )


def _and(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests

        def both(d: Data) -> bool:
            return first(d) and second(d)

        return both
    frozen = tuple(tests)

    def every(d: Data) -> bool:
        for test in frozen:
            if not test(d):
                return False
        return True

    return every


def _many(spec: FieldSpec | None) -> bool:
    return spec is not None and spec.type is FieldType.LIST


def _merge_fields(children: list[Condition]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for child in children:
        for name in child.fields:
            seen.setdefault(name)
    return tuple(seen)


def implies(narrow: Condition, broad: Condition) -> bool:
    """True if every lead matching `narrow` surely matches `broad` (sound, not complete)."""
    if broad.always:
        return True
    if not (narrow.conjunctive and broad.conjunctive) or not broad.leaves:
        return False
    return all(any(_leaf_implies(n, b) for n in narrow.leaves) for b in broad.leaves)


def _leaf_implies(n: Leaf, b: Leaf) -> bool:
    if n.field != b.field:
        return False
    if n == b:
        return True
    values = _value_set(n)
    if values is not None:
        if b.op == "in":
            return values <= {_fold(v) for v in b.value}
        if b.op == "eq":
            return values == {_fold(b.value)}
        # A list holding one value may hold others too: nothing follows about what it lacks.
        if b.op == "not_in":
            return not n.many and not (values & {_fold(v) for v in b.value})
        if b.op == "ne":
            return not n.many and _fold(b.value) not in values
        if b.op in ("exists",) and b.value:
            return not any(_is_empty(v) for v in values)
    low, high = _bounds(n)
    if low is not None or high is not None:
        b_low, b_high = _bounds(b)
        if b_low is None and b_high is None:
            return b.op == "exists" and bool(b.value)
        ok_low = b_low is None or (low is not None and low >= b_low)
        ok_high = b_high is None or (high is not None and high <= b_high)
        return ok_low and ok_high
    return False


def _value_set(leaf: Leaf) -> set[Any] | None:
    if leaf.op == "eq":
        return {_fold(leaf.value)}
    if leaf.op == "in":
        return {_fold(v) for v in leaf.value}
    return None


def _bounds(leaf: Leaf) -> tuple[float | None, float | None]:
    """Closed-interval approximation of a numeric leaf (strictness ignored: conservative)."""
    v = leaf.value
    if leaf.op == "between":
        return float(v[0]), float(v[1])
    if leaf.op in ("gt", "gte"):
        return float(v) + (1e-9 if leaf.op == "gt" else 0.0), None
    if leaf.op in ("lt", "lte"):
        return None, float(v) - (1e-9 if leaf.op == "lt" else 0.0)
    if leaf.op == "eq" and _number(v):
        return float(v), float(v)
    return None, None
