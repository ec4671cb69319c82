"""The vocabulary: declared fields, the operators of each type, and coercion of raw values."""

from __future__ import annotations

from typing import Any

import pytest

from leadroute.domain.fields import (
    ACCOUNT_FIELDS,
    ALL_OPERATORS,
    LEAD_FIELDS,
    OPERATOR_HELP,
    OPERATORS,
    FieldSpec,
    FieldType,
    Vocabulary,
)


def test_every_operator_is_documented() -> None:
    assert set(ALL_OPERATORS) == set(OPERATOR_HELP)
    for operators in OPERATORS.values():
        assert set(operators) <= set(ALL_OPERATORS)


def test_every_type_supports_presence_checks() -> None:
    for field_type in FieldType:
        assert {"exists", "missing"} <= set(OPERATORS[field_type])


def test_field_names_are_unique() -> None:
    names = [f.name for f in (*LEAD_FIELDS, *ACCOUNT_FIELDS)]
    assert len(names) == len(set(names))
    assert all(f.name.startswith("account.") for f in ACCOUNT_FIELDS)


def test_custom_fields_extend_and_override() -> None:
    vocabulary = Vocabulary(
        [
            FieldSpec("plan", FieldType.STRING, "plan"),
            FieldSpec("score", FieldType.STRING, "now text"),
        ]
    )
    assert vocabulary.get("plan") is not None
    assert vocabulary.operators("score") == OPERATORS[FieldType.STRING]
    assert vocabulary.operators("employees") == OPERATORS[FieldType.NUMBER]
    assert vocabulary.operators("nope") == ALL_OPERATORS
    assert Vocabulary().get("plan") is None


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("employees", "1,200", 1200),
        ("employees", " 42 ", 42),
        ("employees", "12.5", 12.5),
        ("employees", "12.0", 12),
        ("employees", "1_000", 1000),
        ("employees", 7, 7),
        ("employees", 7.5, 7.5),
        ("employees", "", None),
        ("employees", "   ", None),
        ("employees", None, None),
        ("free_email", "yes", True),
        ("free_email", "TRUE", True),
        ("free_email", "1", True),
        ("free_email", "n", False),
        ("free_email", False, False),
        ("tags", "a; b ;;c", ["a", "b", "c"]),
        ("tags", ("a", "b"), ["a", "b"]),
        ("country", " US ", "US"),
        ("country", 49, "49"),
        ("unknown_field", {"kept": "as is"}, {"kept": "as is"}),
    ],
)
def test_coerce(name: str, raw: Any, expected: Any) -> None:
    assert Vocabulary().coerce(name, raw) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("employees", "lots", "employees must be a number, got 'lots'"),
        ("employees", True, "employees must be a number, got True"),
        ("free_email", "maybe", "free_email must be true or false, got 'maybe'"),
    ],
)
def test_coerce_errors(name: str, raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Vocabulary().coerce(name, raw)


def test_non_finite_numbers_are_rejected() -> None:
    import pytest

    from leadroute.domain.fields import Vocabulary

    for text in ("nan", "inf", "-Infinity"):
        with pytest.raises(ValueError, match="finite"):
            Vocabulary().coerce("employees", text)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("email", {}, "email must be text, got an object"),
        ("company", ["Acme"], "company must be text, got a list"),
        ("title", {"a": 1}, "title must be text, got an object"),
    ],
)
def test_a_text_field_refuses_a_structure_instead_of_storing_its_repr(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Vocabulary().coerce(name, value)
