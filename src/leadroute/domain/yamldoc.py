"""Read a YAML document while remembering the line of every value, for errors at file:line."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text; return the data and a map from each value's path to its 1-based line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(
            f"not valid YAML: {problem}", mark.line + 1 if mark is not None else None
        ) from None
    lines: dict[Path, int] = {}
    if root is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    return _build(root, (), lines, constructor), lines


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(
                    "merge keys (<<) are not supported: use an alias for the whole value instead",
                    key_node.start_mark.line + 1,
                )
            key = _construct(key_node, loader)
            if isinstance(key, list | dict):
                raise YamlError("a mapping key must be a plain value", key_node.start_mark.line + 1)
            child = (*path, key)
            if key in result:
                raise YamlError(f"duplicate key '{key}'", key_node.start_mark.line + 1)
            result[key] = _build(value_node, child, lines, loader)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return _construct(node, loader)


def _construct(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """A scalar's value; an unknown tag or an impossible date is an error at its line."""
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"not valid YAML: {problem}", node.start_mark.line + 1) from None


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of a path, or of its nearest ancestor that has one."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())
