"""The layers keep to their imports (read from the source with `ast`, nothing imported):

- domain/ is pure: it imports the standard library, third-party libraries and itself, and
  `leadroute.ports`; nothing of leadroute's I/O (adapters, services, settings, api, console, cli);
- services/ use the domain, the ports and the adapters, never api/, console/ or cli/;
- adapters/ never import services/, api/, console/ or cli/.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "leadroute"

FORBIDDEN = {
    "services": ("leadroute.api", "leadroute.console", "leadroute.cli"),
    "adapters": ("leadroute.services", "leadroute.api", "leadroute.console", "leadroute.cli"),
}
DOMAIN_MAY = ("leadroute.domain", "leadroute.ports")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _broken(layer: str, wrong: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line, module in _imports(path)
        if wrong(module)
    ]


def test_the_domain_imports_only_itself_and_the_ports() -> None:
    broken = _broken("domain", lambda m: _under(m, ("leadroute",)) and not _under(m, DOMAIN_MAY))
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_services_and_adapters_never_import_the_layers_above(layer: str) -> None:
    broken = _broken(layer, lambda m: _under(m, FORBIDDEN[layer]))
    assert not broken, "\n".join(broken)


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The check itself works: a domain module importing an adapter is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("from leadroute.adapters.store.sql import Store\nimport leadroute.cli\n")
    assert [m for _, m in _imports(bad)] == ["leadroute.adapters.store.sql", "leadroute.cli"]
