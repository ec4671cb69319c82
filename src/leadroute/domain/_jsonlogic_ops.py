"""JavaScript value semantics for the JsonLogic compiler (private helpers).

JsonLogic is defined by its reference implementation in JavaScript, so equality, ordering,
arithmetic and truthiness follow the JavaScript rules for JSON values:

    null -> None, true/false -> bool, number -> int | float, string -> str,
    array -> list | tuple, object -> any Mapping (other Python objects count as objects).

Every helper is total: it returns a value (NaN for failed arithmetic, False for impossible
comparisons) and never raises on JSON-shaped input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

MISSING: Final[Any] = object()  # "undefined": a key that is not there
NAN: Final = math.nan
INF: Final = math.inf

# JSON kinds, as JavaScript sees them.
NULL, BOOL, NUM, STR, ARR, OBJ = range(6)

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z")
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_INDEX = re.compile(r"(?:0|[1-9]\d*)\Z")


def kind(v: Any) -> int:
    t = type(v)
    if t is str:
        return STR
    if t is bool:
        return BOOL
    if t is int or t is float:
        return NUM
    if v is None:
        return NULL
    if isinstance(v, str):
        return STR
    if isinstance(v, (int, float)):
        return NUM
    if isinstance(v, (list, tuple)):
        return ARR
    return OBJ


def is_array(v: Any) -> bool:
    return isinstance(v, (list, tuple))


def truthy(v: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that an empty array is falsy."""
    if v is True:
        return True
    if v is False or v is None:
        return False
    t = type(v)
    if t is str or t is int or t is list:
        return bool(v)
    if t is float:
        return bool(v == v and v != 0.0)
    if isinstance(v, (str, int, list, tuple)):
        return bool(v)
    if isinstance(v, float):
        return v == v and v != 0.0
    return True  # objects (any Mapping, other Python objects) are truthy, even when empty


def index_of(segment: str) -> int:
    """The array index a path segment names, or -1 (JavaScript accepts only canonical forms)."""
    return int(segment) if _INDEX.match(segment) else -1


def get_path(data: Any, segments: Sequence[str], default: Any) -> Any:
    """`data.a.b` the JavaScript way: a missing step, or null before the end, gives `default`."""
    cur = data
    for seg in segments:
        if cur is None:
            return default
        if isinstance(cur, Mapping):
            cur = cur.get(seg, MISSING)
        elif isinstance(cur, (list, tuple, str)):
            i = index_of(seg)
            cur = cur[i] if 0 <= i < len(cur) else MISSING
        else:
            return default
        if cur is MISSING:
            return default
    return cur


def get_key(data: Any, key: Any, default: Any) -> Any:
    """`var` with a key only known at evaluation time."""
    if key is None or key == "" or (is_array(key) and not key):
        return data
    return get_path(data, to_str(key).split("."), default)


def num_to_str(n: float) -> str:
    """JavaScript's Number::toString for a double (or a Python int)."""
    if type(n) is int or isinstance(n, int):
        return str(int(n))
    if n != n:
        return "NaN"
    if n in (INF, -INF):
        return "Infinity" if n > 0 else "-Infinity"
    if n.is_integer() and abs(n) < 1e21:
        return str(int(n))
    text = repr(n)
    if "e" not in text:
        return text
    mantissa, exp_text = text.split("e")
    exp = int(exp_text)
    if -7 < exp < 21:  # JavaScript writes these positionally; only -6 and -5 can get here
        sign = "-" if mantissa.startswith("-") else ""
        digits = mantissa.lstrip("-").replace(".", "")
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    return f"{mantissa}e{'+' if exp > 0 else '-'}{abs(exp)}"


def to_str(v: Any) -> str:
    """JavaScript's String(v)."""
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    k = kind(v)
    if k == NUM:
        return num_to_str(v)
    if k == STR:
        return str.__str__(v)
    if k == ARR:
        return ",".join("" if x is None else to_str(x) for x in v)
    return "[object Object]"


def str_to_number(s: str) -> float:
    """JavaScript's ToNumber for a string: the whole (trimmed) text must be a number."""
    s = s.strip()
    if not s:
        return 0.0
    if _DECIMAL.match(s):
        return float(s)
    if s in ("Infinity", "+Infinity"):
        return INF
    if s == "-Infinity":
        return -INF
    if _RADIX.match(s):
        return float(int(s, 0))
    return NAN


def to_number(v: Any) -> float:
    """JavaScript's ToNumber (used by -, /, %, min, max, ==, <)."""
    t = type(v)
    if t is int or t is float:
        return v  # type: ignore[no-any-return]
    if t is str:
        return str_to_number(v)
    if v is None:
        return 0
    k = kind(v)
    if k in (BOOL, NUM):
        return int(v) if isinstance(v, int) else float(v)
    if k == STR:
        return str_to_number(v)
    if k == ARR:
        return str_to_number(to_str(v))
    return NAN


def parse_float(v: Any) -> float:
    """JavaScript's parseFloat (used by + and *): the longest numeric prefix, else NaN."""
    t = type(v)
    if t is int or t is float:
        return v  # type: ignore[no-any-return]
    m = _FLOAT_PREFIX.match(to_str(v).lstrip())
    if m is None:
        return NAN
    text = m.group()
    if text.endswith("Infinity"):
        return -INF if text.startswith("-") else INF
    return float(text)


def to_int(v: Any) -> int:
    """ToIntegerOrInfinity, clamped to a finite int (for substr)."""
    n = to_number(v)
    if n != n:
        return 0
    if n in (INF, -INF):
        return 1 << 62 if n > 0 else -(1 << 62)
    return int(n)


def _primitive(v: Any, k: int) -> Any:
    return to_str(v) if k >= ARR else v


def loose_eq(a: Any, b: Any) -> bool:
    """JavaScript `a == b`."""
    ka, kb = kind(a), kind(b)
    if ka == kb:
        return a is b if ka >= ARR else bool(a == b)
    if ka == NULL or kb == NULL:
        return False
    if ka == BOOL:
        return loose_eq(int(a), b)
    if kb == BOOL:
        return loose_eq(a, int(b))
    if ka >= ARR or kb >= ARR:
        if ka >= ARR and kb >= ARR:
            return False
        return loose_eq(_primitive(a, ka), _primitive(b, kb))
    return to_number(a) == to_number(b)  # a number and a string


def strict_eq(a: Any, b: Any) -> bool:
    """JavaScript `a === b` (arrays and objects are equal only to themselves)."""
    ka = kind(a)
    if ka != kind(b):
        return False
    return a is b if ka >= ARR else bool(a == b)


def strict_in(v: Any, items: Sequence[Any]) -> bool:
    """`items.indexOf(v) !== -1`: membership under strict equality."""
    for item in items:
        if strict_eq(v, item):
            return True
    return False


def in_(a: Any, b: Any) -> bool:
    """JsonLogic `in`: substring for a string, strict membership for an array."""
    if isinstance(b, str):
        return to_str(a) in b
    if is_array(b):
        return strict_in(a, b)
    return False


def _order_operands(a: Any, b: Any) -> tuple[Any, Any, bool]:
    pa, pb = _primitive(a, kind(a)), _primitive(b, kind(b))
    if isinstance(pa, str) and isinstance(pb, str):
        return pa, pb, True
    return to_number(pa), to_number(pb), False


def lt(a: Any, b: Any) -> bool:
    """JavaScript `a < b` (strings compare as strings, everything else as numbers)."""
    x, y, _ = _order_operands(a, b)
    return bool(x < y)


def le(a: Any, b: Any) -> bool:
    """JavaScript `a <= b` (false when either side is NaN)."""
    x, y, _ = _order_operands(a, b)
    return bool(x <= y)


def add(values: Sequence[Any]) -> float:
    total: float = 0
    for v in values:
        total += v if (type(v) is int or type(v) is float) else parse_float(v)
    return total


def mul(values: Sequence[Any]) -> float:
    product = parse_float(values[0])
    for v in values[1:]:
        product *= v if (type(v) is int or type(v) is float) else parse_float(v)
    return product


def sub(a: Any, b: Any) -> float:
    return to_number(a) - to_number(b)


def neg(a: Any) -> float:
    return -to_number(a)


def div(a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or x != x:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)
    try:
        return x / y
    except OverflowError:
        return float(x) / float(y)


def mod(a: Any, b: Any) -> float:
    """JavaScript `%`: the remainder takes the sign of the dividend."""
    x, y = to_number(a), to_number(b)
    if y == 0 or x != x or y != y or x in (INF, -INF):
        return NAN
    if type(x) is int and type(y) is int:
        r = abs(x) % abs(y)
        return -r if x < 0 else r
    return math.fmod(x, y)


def extreme(values: Sequence[Any], pick_max: bool) -> float:
    nums = [to_number(v) for v in values]
    if not nums:
        return -INF if pick_max else INF
    for n in nums:
        if n != n:
            return NAN
    return max(nums) if pick_max else min(nums)


def cat(values: Sequence[Any]) -> str:
    return "".join(v if type(v) is str else ("" if v is None else to_str(v)) for v in values)


def substr(source: Any, start: Any, length: Any = MISSING) -> str:
    s = to_str(source)
    size = len(s)
    i = to_int(start)
    i = max(size + i, 0) if i < 0 else min(i, size)
    if length is MISSING:
        return s[i:]
    n = to_int(length)
    if n < 0:
        return s[i : max(size + n, i)]
    return s[i : i + n]


def merge(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if is_array(v):
            out.extend(v)
        else:
            out.append(v)
    return out


def missing(data: Any, keys: Sequence[Any]) -> list[Any]:
    out = []
    for key in keys:
        value = get_key(data, key, None)
        if value is None or (type(value) is str and value == ""):
            out.append(key)
    return out


def copy_json(v: Any) -> Any:
    """A fresh copy of a literal array/object, so callers may mutate what a rule returns."""
    if isinstance(v, list):
        return [copy_json(x) for x in v]
    if isinstance(v, dict):
        return {k: copy_json(x) for k, x in v.items()}
    return v
