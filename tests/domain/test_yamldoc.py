"""YAML with line numbers: every key and list item knows its line; errors say where."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from leadroute.domain.yamldoc import YamlError, line_of, load_with_lines

TEXT = textwrap.dedent("""\
    name: demo
    pools:
      na:
        members: [r1, r2]
        method: weighted
    flow:
      - id: first
        when:
          country: US
          employees: {gte: 100}
        then: {distribute: na}

      - id: fallback
        fallback: true
        then:
          queue: nurture
    """)


def test_values_round_trip() -> None:
    data, _ = load_with_lines(TEXT)
    assert data["pools"]["na"] == {"members": ["r1", "r2"], "method": "weighted"}
    assert data["flow"][0]["when"] == {"country": "US", "employees": {"gte": 100}}
    assert data["flow"][1]["fallback"] is True


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 1),
        (("name",), 1),
        (("pools",), 2),
        (("pools", "na"), 3),
        (("pools", "na", "members"), 4),
        (("pools", "na", "members", 1), 4),
        (("pools", "na", "method"), 5),
        (("flow",), 6),
        (("flow", 0), 7),
        (("flow", 0, "id"), 7),
        (("flow", 0, "when"), 8),
        (("flow", 0, "when", "country"), 9),
        (("flow", 0, "when", "employees"), 10),
        (("flow", 0, "when", "employees", "gte"), 10),
        (("flow", 0, "then", "distribute"), 11),
        (("flow", 1), 13),
        (("flow", 1, "fallback"), 14),
        (("flow", 1, "then"), 15),
        (("flow", 1, "then", "queue"), 16),
    ],
)
def test_every_key_and_item_has_its_line(path: tuple[str | int, ...], line: int) -> None:
    _, lines = load_with_lines(TEXT)
    assert lines[path] == line


def test_list_items_on_their_own_lines() -> None:
    _, lines = load_with_lines("members:\n  - r1\n  - r2\n\n  - r3\n")
    assert [lines[("members", i)] for i in range(3)] == [2, 3, 5]


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    _, lines = load_with_lines(TEXT)
    assert line_of(lines, ("flow", 0, "when", "employees", "gte", "nope")) == 10
    assert line_of(lines, ("flow", 0, "then", "distribute", "pool")) == 11
    assert line_of(lines, ("nowhere", "at", "all")) == 1
    assert line_of({}, ("x",)) is None


def test_duplicate_keys_are_an_error_at_the_second_key() -> None:
    text = "flow:\n  - id: a\n    when: {country: US}\n    id: b\n"
    with pytest.raises(YamlError, match="duplicate key 'id'") as info:
        load_with_lines(text)
    assert info.value.line == 4


def test_duplicate_keys_nested_in_flow_style() -> None:
    with pytest.raises(YamlError, match="duplicate key 'gte'") as info:
        load_with_lines("a: 1\nwhen: {employees: {gte: 1, gte: 2}}\n")
    assert info.value.line == 2


def test_syntax_error_has_its_line() -> None:
    text = "name: x\nflow:\n  - id: a\n    when: {country: US\n  - id: b\n"
    with pytest.raises(YamlError, match="not valid YAML") as info:
        load_with_lines(text)
    assert info.value.line == 5


def test_bad_indentation_has_its_line() -> None:
    with pytest.raises(YamlError) as info:
        load_with_lines("a:\n  b: 1\n c: 2\n")
    assert info.value.line == 3


def test_tab_indentation_is_reported() -> None:
    with pytest.raises(YamlError) as info:
        load_with_lines("a:\n\tb: 1\n")
    assert info.value.line == 2


def test_a_mapping_key_must_be_plain() -> None:
    with pytest.raises(YamlError, match="mapping key must be a plain value") as info:
        load_with_lines("a: 1\n? [x, y]\n: 2\n")
    assert info.value.line == 2


def test_empty_documents() -> None:
    assert load_with_lines("") == (None, {})
    assert load_with_lines("# just a comment\n") == (None, {})


def test_scalars_keep_their_yaml_types() -> None:
    data, _ = load_with_lines("n: 5\nf: 1.5\nb: yes\nd: 2026-11-24\ns: '007'\nnull_: ~\n")
    assert data == {"n": 5, "f": 1.5, "b": True, "d": date(2026, 11, 24), "s": "007", "null_": None}


def test_anchors_and_aliases() -> None:
    data, lines = load_with_lines("base: &b {country: US}\nother: *b\n")
    assert data["other"] == {"country": "US"}
    assert lines[("other",)] == 2


def test_multiple_documents_are_an_error() -> None:
    with pytest.raises(YamlError) as info:
        load_with_lines("a: 1\n---\nb: 2\n")
    assert info.value.line == 2


def test_merge_keys_are_an_error_with_their_line() -> None:
    with pytest.raises(YamlError, match="merge keys") as info:
        load_with_lines("base: &b {country: US}\nother:\n  <<: *b\n  employees: 5\n")
    assert info.value.line == 3


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\nwhen: {day: 2026-13-45}\n", 2),  # looks like a date, is not one
        ("a: 1\nb: !custom x\n", 2),  # unknown tag
        ("a: !!int abc\n", 1),
    ],
)
def test_values_yaml_cannot_construct_are_errors_with_their_line(text: str, line: int) -> None:
    with pytest.raises(YamlError, match="not valid YAML") as info:
        load_with_lines(text)
    assert info.value.line == line
