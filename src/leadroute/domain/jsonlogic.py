"""JsonLogic (jsonlogic.com) compiled once into plain Python functions.

    fn = compile_jsonlogic({"and": [{"in": [{"var": "country"}, ["US", "CA"]]},
                                    {"<=": [50, {"var": "employees"}, 500]}]})
    fn({"country": "US", "employees": 120})  # True

All dispatch happens at compile time, in two layers:

1. Every operator becomes a closure over its compiled arguments; literal-only subtrees are
   folded to constants and `and`/`or`/`if` drop branches a literal decides.
2. The shapes routing rules are made of (a field compared with a literal, a field in a literal
   list, between checks, substring checks, missing fields, and/or/not/if over those) are also
   emitted as one Python expression, compiled into a single function per rule, so evaluating
   a rule is one call: it reads fields with `dict.get` (`data.get` for other Mappings) and
   takes Python's own `==`, `<` and set lookups when the value has the literal's type,
   falling back to the JavaScript coercions otherwise. The
   generated source holds only generated names: every literal, key and helper is passed in
   the function's namespace, never written into source text. Data that is not a Mapping
   (None, a list, ...) runs the closures of layer 1, which implement every operator.

Semantics follow the reference JavaScript implementation and its official test suite: loose
`==`, truthiness where [] and "" are falsy and "0" is truthy, parseFloat arithmetic, `in` as
strict membership or substring. Data may be any Mapping; lists and tuples are arrays.

On purpose, unlike the reference: malformed rules fail at compile time with a JsonLogicError
(unknown operator, an object with several keys, wrong argument count), `log` returns its
argument without printing, and a one-argument `*` converts its argument to a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from leadroute.domain import _jsonlogic_ops as js

Fn = Callable[[Any], Any]
Pred = Callable[[Any], bool]

__all__ = [
    "JsonLogicError",
    "compile_jsonlogic",
    "compile_jsonlogic_predicate",
    "evaluate",
    "jsonlogic_vars",
    "truthy",
]

truthy: Final = js.truthy
_SCOPED: Final = frozenset({"map", "filter", "reduce", "all", "none", "some"})
_NUMBER_TYPES: Final = (int, float)


class JsonLogicError(ValueError):
    """A rule that cannot be compiled (unknown operator, malformed arguments)."""


@dataclass(frozen=True, slots=True)
class _Node:
    """A compiled subtree (compile time only: evaluation runs the function it becomes)."""

    fn: Fn
    boolean: bool = False  # fn always returns a bool
    const: bool = False  # value is the result, whatever the data
    value: Any = None
    emit: Callable[[_Gen], str] | None = None  # the subtree as one Python expression
    emit_test: Callable[[_Gen], str] | None = None  # ... or just its truthiness, if cheaper


class _Gen:
    """Builds the source of one generated function: `d` is the data and `g` is `d.get`."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {}
        self._names: dict[int, str] = {}
        self._temps = 0
        self.exact_dict = False  # d is a dict: read with dict.get(d, key), no bound method

    def read(self, key: Any, default: Any = None) -> str:
        """`d.get(key, default)`, for a literal key and default."""
        args = self.name(key) if default is None else f"{self.name(key)}, {self.lit(default)}"
        return f"{self.name(dict.get)}(d, {args})" if self.exact_dict else f"g({args})"

    def name(self, value: Any) -> str:
        """A global name bound to `value` (how literals and helpers reach the source)."""
        found = self._names.get(id(value))
        if found is None:
            found = self._names[id(value)] = f"_c{len(self.ns)}"
            self.ns[found] = value
        return found

    def lit(self, value: Any) -> str:
        return repr(value) if value is None or type(value) is bool else self.name(value)

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def expr(self, node: _Node) -> str:
        if node.emit is not None:
            return node.emit(self)
        if _scalar(node):
            return self.lit(node.value)
        return f"{self.name(node.fn)}(d)"

    def test(self, node: _Node) -> str:
        """`node` as a condition: its JsonLogic truthiness."""
        if node.emit_test is not None:
            return node.emit_test(self)
        text = self.expr(node)
        return text if node.boolean else f"{self.name(js.truthy)}({text})"


def _function(node: _Node, predicate: bool = False) -> Fn:
    """The fastest function for a compiled node (generated when it has an expression)."""
    if node.const:
        result = js.truthy(node.value) if predicate else None
        return (lambda _d: result) if predicate else node.fn
    slow = node.fn if node.boolean or not predicate else _truthy_of(node.fn)
    if node.emit is None and not (predicate and node.emit_test):
        return slow
    gen = _Gen()
    try:
        bodies = []
        for gen.exact_dict in (True, False):  # dicts first: the common, fastest case
            bodies.append(gen.test(node) if predicate else gen.expr(node))
        gen.ns["_slow"] = slow
        source = (
            f"def _jl(d):\n    if type(d) is dict:\n        return {bodies[0]}\n"
            "    try:\n        g = d.get\n    except AttributeError:\n"
            f"        return _slow(d)\n    return {bodies[1]}\n"
        )
        exec(compile(source, "<jsonlogic>", "exec"), gen.ns)
    except (SyntaxError, RecursionError, MemoryError):  # absurdly deep rules: closures only
        return slow
    fn: Fn = gen.ns["_jl"]
    return fn


def _const(value: Any) -> _Node:
    if isinstance(value, (list, dict)):
        return _Node(lambda _d: js.copy_json(value), const=True, value=value)
    return _Node(lambda _d: value, boolean=type(value) is bool, const=True, value=value)


def _fold(node: _Node) -> _Node:
    return _const(node.fn(None))


def _scalar(node: _Node) -> bool:
    return node.const and js.kind(node.value) <= js.STR


def _truthy_of(f: Fn) -> Pred:
    return lambda d: js.truthy(f(d))


def _identity(d: Any) -> Any:
    return d


def _fast_types(node: _Node) -> tuple[type, ...] | None:
    """For a literal number or string: the value types Python compares the way JS does."""
    if not node.const:
        return None
    kind = js.kind(node.value)
    return _NUMBER_TYPES if kind == js.NUM else (str,) if kind == js.STR else None


def _type_test(gen: _Gen, temp: str, expr: str, types: tuple[type, ...]) -> str:
    if types == (str,):
        return f"type({temp} := {expr}) is str"
    return f"type({temp} := {expr}) in {gen.name(types)}"


# --- var ---------------------------------------------------------------------------------


def _var(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 0, 2)
    if not args:
        return _Node(_identity)
    key = _compile(args[0])
    dflt = _compile(args[1]) if len(args) > 1 else _const(None)
    if not key.const:
        key_fn, dflt_fn = key.fn, dflt.fn
        return _Node(lambda d: js.get_key(d, key_fn(d), dflt_fn(d)))
    k = key.value
    if k is None or k == "" or (js.is_array(k) and not k):
        return _Node(_identity)
    segments = tuple(js.to_str(k).split("."))
    if not _scalar(dflt):
        missing, dflt_fn = js.MISSING, dflt.fn

        def var_computed_default(d: Any) -> Any:
            v = js.get_path(d, segments, missing)
            return dflt_fn(d) if v is missing else v

        return _Node(var_computed_default)
    default = dflt.value
    if len(segments) > 1:
        return _Node(lambda d: js.get_path(d, segments, default))
    k0 = segments[0]

    def var(d: Any) -> Any:
        try:
            return d.get(k0, default)
        except AttributeError:
            return js.get_path(d, segments, default)

    def emit(gen: _Gen) -> str:
        return gen.read(k0, default)

    return _Node(var, emit=emit)


# --- comparisons -------------------------------------------------------------------------


def _equality(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 2, 2)
    a, b = _compile(args[0]), _compile(args[1])
    cmp = js.loose_eq if op in ("==", "!=") else js.strict_eq
    negate = op in ("!=", "!==")
    if a.const and b.const:
        return _const(cmp(a.value, b.value) is not negate)
    if a.const:
        a, b = b, a  # both are symmetric: the literal goes right
    fa, fb = a.fn, b.fn
    if not _scalar(b):
        node = _Node(
            lambda d: cmp(fa(d), fb(d)),
            boolean=True,
            emit=lambda gen: f"{gen.name(cmp)}({gen.expr(a)}, {gen.expr(b)})",
        )
    elif b.value is None and cmp is js.loose_eq:  # only null (and a missing field) == null
        node = _Node(lambda d: fa(d) is None, True, emit=lambda gen: f"({gen.expr(a)} is None)")
    else:
        lit = b.value
        t = type(lit)

        def eq(d: Any) -> bool:
            v = fa(d)
            return bool(v == lit) if type(v) is t else cmp(v, lit)

        def emit(gen: _Gen) -> str:
            tmp, name = gen.temp(), gen.lit(lit)
            return (
                f"({tmp} == {name} if type({tmp} := {gen.expr(a)}) is {gen.name(t)} "
                f"else {gen.name(cmp)}({tmp}, {name}))"
            )

        node = _Node(eq, boolean=True, emit=emit)
    return _negate(node) if negate else node


def _negate(node: _Node) -> _Node:
    f = node.fn
    return _Node(lambda d: not f(d), True, emit=lambda gen: f"(not {gen.expr(node)})")


def _ordering(op: str, args: list[Any]) -> _Node:
    between = op in ("<", "<=")
    _arity(op, args, 2, 3 if between else 2)
    nodes = [_compile(x) for x in args]
    if not between:
        nodes.reverse()  # a > b is b < a
    cmp = js.lt if op in ("<", ">") else js.le
    sym = "<" if op in ("<", ">") else "<="
    if all(n.const for n in nodes):
        return _const(all(cmp(x.value, y.value) for x, y in pairwise(nodes)))
    if len(nodes) == 3:
        return _between(nodes, cmp, sym)
    a, b = nodes
    fa, fb = a.fn, b.fn
    types = _fast_types(b) or _fast_types(a)

    def emit(gen: _Gen) -> str:
        c = gen.name(cmp)
        if types is None:
            return f"{c}({gen.expr(a)}, {gen.expr(b)})"
        # Python's own < agrees with JavaScript's when the value has the literal's type.
        tmp = gen.temp()
        if a.const:
            x, y, check = gen.lit(a.value), tmp, _type_test(gen, tmp, gen.expr(b), types)
        else:
            x, y, check = tmp, gen.lit(b.value), _type_test(gen, tmp, gen.expr(a), types)
        return f"({x} {sym} {y} if {check} else {c}({x}, {y}))"

    return _Node(lambda d: cmp(fa(d), fb(d)), boolean=True, emit=emit)


def _between(nodes: list[_Node], cmp: Callable[[Any, Any], bool], sym: str) -> _Node:
    lo, mid, hi = nodes
    f1, f2, f3 = (n.fn for n in nodes)
    types = _fast_types(lo)
    if types != _fast_types(hi) or mid.const:
        types = None

    def between(d: Any) -> bool:
        v = f2(d)
        return cmp(f1(d), v) and cmp(v, f3(d))

    def emit(gen: _Gen) -> str:
        c, tmp = gen.name(cmp), gen.temp()
        if types is None:
            return (
                f"({c}({gen.expr(lo)}, ({tmp} := {gen.expr(mid)})) and {c}({tmp}, {gen.expr(hi)}))"
            )
        x, z = gen.lit(lo.value), gen.lit(hi.value)
        check = _type_test(gen, tmp, gen.expr(mid), types)
        return f"({x} {sym} {tmp} {sym} {z} if {check} else ({c}({x}, {tmp}) and {c}({tmp}, {z})))"

    return _Node(between, boolean=True, emit=emit)


def _in(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 2, 2)
    a, b = _compile(args[0]), _compile(args[1])
    if a.const and b.const:
        return _const(js.in_(a.value, b.value))
    fa, fb = a.fn, b.fn
    if b.const and js.is_array(b.value):
        return _in_list(a, tuple(b.value))
    if (b.const and isinstance(b.value, str)) or (a.const and isinstance(a.value, str)):
        field = b if a.const else a  # the other side is a string literal

        def emit(gen: _Gen) -> str:
            tmp, slow = gen.temp(), gen.name(js.in_)
            needle, hay = (gen.lit(a.value), tmp) if a.const else (tmp, gen.lit(b.value))
            check = f"type({tmp} := {gen.expr(field)}) is str"
            return f"({needle} in {hay} if {check} else {slow}({needle}, {hay}))"

        return _Node(lambda d: js.in_(fa(d), fb(d)), boolean=True, emit=emit)
    return _Node(
        lambda d: js.in_(fa(d), fb(d)),
        boolean=True,
        emit=lambda gen: f"{gen.name(js.in_)}({gen.expr(a)}, {gen.expr(b)})",
    )


def _in_list(a: _Node, items: tuple[Any, ...]) -> _Node:
    """`value in [literals]`: a frozenset lookup when every literal has one hashable kind."""
    fa = a.fn
    kinds = {js.kind(x) for x in items}
    types = (str,) if kinds == {js.STR} else _NUMBER_TYPES if kinds == {js.NUM} else None
    if not items or types is None or not {type(x) for x in items} <= {str, int, float}:
        return _Node(
            lambda d: js.strict_in(fa(d), items),
            boolean=True,
            emit=lambda gen: f"{gen.name(js.strict_in)}({gen.expr(a)}, {gen.name(items)})",
        )
    if any(x != x for x in items):  # NaN: equal to nothing, but a set finds it by identity
        items = tuple(x for x in items if x == x)
    members = frozenset(items)

    def member(d: Any) -> bool:
        v = fa(d)
        return v in members if type(v) in types else js.strict_in(v, items)

    def emit(gen: _Gen) -> str:
        tmp = gen.temp()
        check = _type_test(gen, tmp, gen.expr(a), types)
        slow = f"{gen.name(js.strict_in)}({tmp}, {gen.name(items)})"
        return f"({tmp} in {gen.name(members)} if {check} else {slow})"

    return _Node(member, boolean=True, emit=emit)


# --- logic -------------------------------------------------------------------------------


def _not(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 1, 1)
    a = _compile(args[0])
    if a.const:
        return _const(js.truthy(a.value) is (op == "!!"))
    f = a.fn
    if op == "!!":
        if a.boolean:
            return a
        return _Node(_truthy_of(f), boolean=True, emit=lambda gen: gen.test(a))
    if a.boolean:
        return _negate(a)
    return _Node(
        lambda d: not js.truthy(f(d)), boolean=True, emit=lambda gen: f"(not {gen.test(a)})"
    )


def _and_or(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 1, None)
    want = op == "or"  # `or` stops at the first truthy value, `and` at the first falsy one
    compiled = [_compile(x) for x in args]
    nodes: list[_Node] = []
    for i, node in enumerate(compiled):
        if node.const:
            if js.truthy(node.value) is want or i == len(compiled) - 1:
                nodes.append(node)  # evaluation always ends here
                break
            continue  # never stops here and is not the last: drop it
        nodes.append(node)
    if len(nodes) == 1 or nodes[0].const:
        return nodes[0]
    fns = tuple(n.fn for n in nodes)
    boolean = all(n.boolean for n in nodes)

    def chain(d: Any) -> Any:
        v = None
        for f in fns:
            v = f(d)
            if js.truthy(v) is want:
                return v
        return v

    def emit(gen: _Gen) -> str:
        if boolean:
            return "(" + f" {op} ".join(gen.expr(n) for n in nodes) + ")"
        out = gen.expr(nodes[-1])
        for n in reversed(nodes[:-1]):
            if n.boolean:
                out = f"({gen.expr(n)} {op} {out})"
            else:
                tmp = gen.temp()
                stop = f"{gen.name(js.truthy)}({tmp} := {gen.expr(n)})"
                out = f"({tmp} if {'' if want else 'not '}{stop} else {out})"
        return out

    return _Node(chain, boolean=boolean, emit=emit)


def _if(op: str, args: list[Any]) -> _Node:
    nodes = [_compile(x) for x in args]
    pairs: list[tuple[_Node, _Node]] = []
    otherwise = _const(None)
    for i in range(0, len(nodes) - 1, 2):
        cond, then = nodes[i], nodes[i + 1]
        if not cond.const:
            pairs.append((cond, then))
        elif js.truthy(cond.value):
            otherwise = then
            break
    else:
        if len(nodes) % 2 == 1:
            otherwise = nodes[-1]
    if not pairs:
        return otherwise
    boolean = otherwise.boolean and all(t.boolean for _, t in pairs)
    conds = tuple((c.fn if c.boolean else _truthy_of(c.fn), t.fn) for c, t in pairs)
    other = otherwise.fn

    def chain(d: Any) -> Any:
        for cond, then in conds:
            if cond(d):
                return then(d)
        return other(d)

    def emit(gen: _Gen) -> str:
        branches = "".join(f"{gen.expr(t)} if {gen.test(c)} else " for c, t in pairs)
        return f"({branches}{gen.expr(otherwise)})"

    return _Node(chain, boolean=boolean, emit=emit)


# --- data --------------------------------------------------------------------------------


def _missing(op: str, args: list[Any]) -> _Node:
    nodes = [_compile(x) for x in args]
    if all(n.const for n in nodes):
        values = [n.value for n in nodes]
        keys = tuple(values[0] if values and js.is_array(values[0]) else values)
        if not all(isinstance(k, str) and k and "." not in k for k in keys):
            return _Node(lambda d: js.missing(d, keys))
        absent = (None, "")

        def missing_fields(d: Any) -> list[Any]:
            try:
                get = d.get
            except AttributeError:
                return js.missing(d, keys)
            return [k for k in keys if get(k) in absent]

        def emit_test(gen: _Gen) -> str:  # "is any missing?" without building the list
            empty = gen.name(absent)
            return "(" + " or ".join(f"{gen.read(k)} in {empty}" for k in keys) + ")"

        return _Node(missing_fields, emit_test=emit_test if keys else None)
    fns = tuple(n.fn for n in nodes)

    def missing(d: Any) -> list[Any]:
        values = [f(d) for f in fns]
        return js.missing(d, values[0] if values and js.is_array(values[0]) else values)

    return _Node(missing)


def _missing_some(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 2, 2)
    need, options = _compile(args[0]).fn, _compile(args[1]).fn

    def missing_some(d: Any) -> list[Any]:
        keys = options(d)
        keys = list(keys) if js.is_array(keys) else [keys]
        absent = js.missing(d, keys)
        return [] if len(keys) - len(absent) >= js.to_number(need(d)) else absent

    return _Node(missing_some)


def _scoped(op: str, args: list[Any]) -> _Node:
    """map/filter/reduce/all/none/some: the body runs with each item as its data."""
    _arity(op, args, 2, 3 if op == "reduce" else 2)
    source, body = _compile(args[0]), _compile(args[1])
    init = _compile(args[2]) if len(args) > 2 else _const(None)
    src, each, test, start = source.fn, _function(body), _function(body, True), init.fn
    node: _Node
    if op == "map":
        node = _Node(lambda d: [each(x) for x in v] if js.is_array(v := src(d)) else [])
    elif op == "filter":
        node = _Node(lambda d: [x for x in v if test(x)] if js.is_array(v := src(d)) else [])
    elif op == "all":
        node = _Node(lambda d: js.is_array(v := src(d)) and len(v) > 0 and all(map(test, v)), True)
    elif op == "some":
        node = _Node(lambda d: js.is_array(v := src(d)) and any(map(test, v)), True)
    elif op == "none":
        node = _Node(lambda d: not (js.is_array(v := src(d)) and any(map(test, v))), True)
    else:

        def reduce(d: Any) -> Any:
            acc, items = start(d), src(d)
            if not js.is_array(items):
                return acc
            for item in items:
                acc = each({"current": item, "accumulator": acc})
            return acc

        node = _Node(reduce)
    return _fold(node) if source.const and init.const else node


# --- arithmetic and strings --------------------------------------------------------------


def _values(op: str, args: list[Any], lo: int, hi: int | None, f: Callable[..., Any]) -> _Node:
    """An operator that takes its evaluated arguments as a list."""
    _arity(op, args, lo, hi)
    nodes = [_compile(x) for x in args]
    fns = tuple(n.fn for n in nodes)
    if len(fns) == 1:
        (f1,) = fns
        node = _Node(lambda d: f([f1(d)]))
    elif len(fns) == 2:
        fa, fb = fns
        node = _Node(lambda d: f([fa(d), fb(d)]))
    else:
        node = _Node(lambda d: f([g(d) for g in fns]))
    return _fold(node) if all(n.const for n in nodes) else node


def _arith(op: str, args: list[Any]) -> _Node:
    if op == "-":
        _arity(op, args, 1, 2)
        if len(args) == 1:
            return _values(op, args, 1, 1, lambda v: js.neg(v[0]))
        return _values(op, args, 2, 2, lambda v: js.sub(v[0], v[1]))
    if op == "/":
        return _values(op, args, 2, 2, lambda v: js.div(v[0], v[1]))
    if op == "%":
        return _values(op, args, 2, 2, lambda v: js.mod(v[0], v[1]))
    if op == "*":
        return _values(op, args, 1, None, js.mul)
    if op == "+":
        return _values(op, args, 0, None, js.add)
    return _values(op, args, 0, None, lambda v: js.extreme(v, op == "max"))


def _log(op: str, args: list[Any]) -> _Node:
    _arity(op, args, 1, 1)
    return _compile(args[0])


_OPS: Final[dict[str, Callable[[str, list[Any]], _Node]]] = {
    "var": _var,
    "missing": _missing,
    "missing_some": _missing_some,
    "if": _if,
    "?:": _if,
    "==": _equality,
    "===": _equality,
    "!=": _equality,
    "!==": _equality,
    "<": _ordering,
    "<=": _ordering,
    ">": _ordering,
    ">=": _ordering,
    "!": _not,
    "!!": _not,
    "and": _and_or,
    "or": _and_or,
    "in": _in,
    **dict.fromkeys(("+", "-", "*", "/", "%", "min", "max"), _arith),
    "cat": lambda op, args: _values(op, args, 0, None, js.cat),
    "substr": lambda op, args: _values(op, args, 2, 3, lambda v: js.substr(*v)),
    "merge": lambda op, args: _values(op, args, 0, None, js.merge),
    "log": _log,
    **dict.fromkeys(_SCOPED, _scoped),
}


def _arity(op: str, args: list[Any], lo: int, hi: int | None) -> None:
    n = len(args)
    if n < lo or (hi is not None and n > hi):
        if hi == lo:
            want = f"{lo} argument{'s' if lo != 1 else ''}"
        elif hi is None:
            want = f"at least {lo} argument{'s' if lo != 1 else ''}"
        else:
            want = f"{lo} to {hi} arguments"
        raise JsonLogicError(f'JsonLogic operator "{op}" takes {want}, got {n}')


def _compile(rule: Any) -> _Node:
    if isinstance(rule, dict):
        if not rule:
            return _const(rule)
        if len(rule) != 1:
            keys = ", ".join(f'"{k}"' for k in rule)
            raise JsonLogicError(
                f"a JsonLogic rule object must have exactly one operator key, got {keys}"
            )
        ((op, args),) = rule.items()
        build = _OPS.get(op) if isinstance(op, str) else None
        if build is None:
            raise JsonLogicError(f'unknown JsonLogic operator "{op}"')
        return build(op, list(args) if isinstance(args, list) else [args])
    if isinstance(rule, list):
        nodes = [_compile(x) for x in rule]
        if all(n.const for n in nodes):
            return _const([n.value for n in nodes])
        fns = tuple(n.fn for n in nodes)
        return _Node(lambda d: [f(d) for f in fns])
    return _const(rule)


# --- public API --------------------------------------------------------------------------


def compile_jsonlogic(rule: Any) -> Callable[[Any], Any]:
    """Compile a JsonLogic rule once into `fn(data) -> value`; raises JsonLogicError."""
    return _function(_compile(rule))


def compile_jsonlogic_predicate(rule: Any) -> Callable[[Any], bool]:
    """Like compile_jsonlogic, but `fn(data)` is the JsonLogic truthiness of the result."""
    return _function(_compile(rule), predicate=True)


def evaluate(rule: Any, data: Any = None) -> Any:
    """One-off evaluation; compile once with compile_jsonlogic when a rule runs repeatedly."""
    return _compile(rule).fn(data)


def jsonlogic_vars(rule: Any) -> list[str]:
    """The distinct literal field paths a rule reads (`var`, `missing`, `missing_some`), in order.

    Bodies of map/filter/reduce/all/none/some are skipped (their vars name parts of each item),
    as are computed names and `{"var": ""}` (the whole data).
    """
    seen: dict[str, None] = {}

    def names(keys: list[Any]) -> None:
        for key in keys:
            if isinstance(key, (dict, list)):
                walk(key)  # a computed name: only the fields it reads itself
            elif isinstance(key, (str, int, float)) and not isinstance(key, bool) and key != "":
                seen.setdefault(js.to_str(key), None)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return
        ((op, args),) = node.items()
        args = args if isinstance(args, list) else [args]
        if op == "var":
            names(args[:1])
            walk(args[1:])
        elif op == "missing":
            names(args[0] if args and isinstance(args[0], list) else args)
        elif op == "missing_some":
            walk(args[:1])
            names(args[1] if len(args) > 1 and isinstance(args[1], list) else args[1:])
        elif op in _SCOPED:
            walk(args[:1])
            walk(args[2:])  # reduce's initial value is read from the data
        else:
            walk(args)

    walk(rule)
    return list(seen)
