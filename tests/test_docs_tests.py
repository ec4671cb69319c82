"""The tests the docs name exist: every `tests/...py` and `tests/...py::test_name` in a page of
docs/ (a `::test_name` alone belongs to the file named before it in the same table cell or
sentence)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def _references(page: Path) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for chunk in re.split(r"\|", page.read_text(encoding="utf-8")):  # a table cell at a time
        current: str | None = None
        for match in _REFERENCE.finditer(chunk):
            path, name = match.groups()
            if path:
                current = path
            if current is not None and (path or name):
                found.append((current, name))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_test_a_page_names_exists(page: Path) -> None:
    missing = []
    for path, name in _references(page):
        file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif name is not None and name not in _tests_in(file):
            missing.append(f"{path}::{name}")
    assert not missing, f"{page.name} names tests that do not exist: {missing}"


def test_the_security_page_names_its_tests() -> None:
    assert len(_references(ROOT / "docs" / "security.md")) >= 30
