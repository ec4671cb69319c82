"""The layers keep to their imports (read from the source with `ast`, nothing imported):

- domain/ is pure: it imports the standard library, third-party libraries and itself, and
  `leadroute.ports`; nothing of leadroute's I/O (adapters, services, settings, api, console, cli);
- services/ use the domain, the ports and the adapters, never api/, console/ or cli/;
- adapters/ never import services/, api/, console/ or cli/;
- SQL lives in adapters/store: services/ import neither SQLAlchemy nor the store's tables and
  hold no connection or transaction of their own (SQL_ALLOWED names what may, for now);
- only settings.py and the composition root (bootstrap.py) read the environment: no other
  module touches `os.environ` or `os.getenv`, calls `get_settings()` or builds `Settings()`.
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


# -- SQL lives in adapters/store ------------------------------------------------------------------

# Modules that are SQL: SQLAlchemy itself, the store's table definitions, the lease-claim helper.
SQL_MODULES = (
    "sqlalchemy",
    "leadroute.adapters.store.tables",
    "leadroute.adapters.store.service_tables",
    "leadroute.adapters.store.scoring_tables",
    "leadroute.adapters.store.enrichment_tables",
    "leadroute.adapters.store.console_tables",
    "leadroute.adapters.store.lease",
)
# A service holding a connection or a transaction of its own: `x.engine`, `x.conn`, `x.write()`.
SQL_HANDLES = ("engine", "conn")

# Services that still issue SQL, each with why. Shrink it; never add to it. A name that no
# longer issues SQL fails `test_the_sql_allow_list_names_only_what_still_issues_sql`.
SQL_ALLOWED = {
    # RoutingService hands its RoutingSession's connection to the store (insert_leads, the
    # dedupe lookups): it and RoutingSession are being rewritten together by another change.
    "services/routing.py",
}


def _sql_uses(path: Path) -> list[tuple[int, str]]:
    """Where `path` issues SQL: imports an SQL module (`from leadroute.adapters.store import
    tables` too), or touches a connection, an engine or a write transaction."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [(line, f"imports {m}") for line, m in _imports(path) if _under(m, SQL_MODULES)]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "leadroute.adapters.store":
            found += [
                (node.lineno, f"imports {node.module}.{alias.name}")
                for alias in node.names
                if _under(f"{node.module}.{alias.name}", SQL_MODULES)
            ]
        elif isinstance(node, ast.Attribute) and node.attr in SQL_HANDLES:
            found.append((node.lineno, f"uses .{node.attr}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "write"
            and not node.args
            and not node.keywords
        ):
            found.append((node.lineno, "opens .write()"))
    return sorted(found)


def _services() -> list[Path]:
    return sorted((PACKAGE / "services").rglob("*.py"))


def test_services_issue_no_sql() -> None:
    """Queries live in adapters/store (one module per concept); services call them through the
    ports, so they run on the memory store as well (tests/services/test_memory_ports.py)."""
    broken = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {what}"
        for path in _services()
        if str(path.relative_to(PACKAGE)) not in SQL_ALLOWED
        for line, what in _sql_uses(path)
    ]
    assert not broken, "\n".join(broken)


def test_the_sql_allow_list_names_only_what_still_issues_sql() -> None:
    stale = sorted(name for name in SQL_ALLOWED if not _sql_uses(PACKAGE / name))
    assert not stale, f"no longer issue SQL, take them off SQL_ALLOWED: {stale}"


def test_the_sql_rule_catches_each_way_in(tmp_path: Path) -> None:
    """The check itself works: imports of SQLAlchemy and of the tables, connections, engines
    and write transactions are found; a file's own `write(text)` is not."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from sqlalchemy import select\n"
        "import sqlalchemy.engine\n"
        "from leadroute.adapters.store import tables as t, sql\n"
        "from leadroute.adapters.store.service_tables import timers\n"
        "with store.engine.connect() as c:\n"
        "    session.conn.execute(x)\n"
        "with store.write() as conn:\n"
        "    out.write('text')\n"
    )
    assert _sql_uses(bad) == [
        (1, "imports sqlalchemy"),
        (2, "imports sqlalchemy.engine"),
        (3, "imports leadroute.adapters.store.tables"),
        (4, "imports leadroute.adapters.store.service_tables"),
        (5, "uses .engine"),
        (6, "uses .conn"),
        (7, "opens .write()"),
    ]


# -- the environment is read in one place ---------------------------------------------------------

ENVIRONMENT_READERS = ("settings.py", "bootstrap.py")
OS_READS = {"environ", "environb", "getenv", "getenvb"}
SETTINGS_READS = {"get_settings", "Settings"}


def _environment_reads(path: Path) -> list[tuple[int, str]]:
    """Where `path` reads the environment: `os.environ`/`os.getenv` (however `os` or the name
    is imported), a call of `get_settings()` or `Settings()`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    os_names = {"os"}
    direct: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {a.asname or a.name for a in node.names if a.name == "os"}
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            direct |= {a.asname or a.name for a in node.names if a.name in OS_READS}
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in OS_READS
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.Name) and node.id in direct:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Call):
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in SETTINGS_READS:
                found.append((node.lineno, f"{name}()"))
    return sorted(found)


def test_only_the_settings_and_the_composition_root_read_the_environment() -> None:
    readers = {PACKAGE / name for name in ENVIRONMENT_READERS}
    broken = [
        f"{path.relative_to(PACKAGE.parent)}:{line} reads {what}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in readers
        for line, what in _environment_reads(path)
    ]
    assert not broken, "\n".join(broken)


def test_the_environment_rule_catches_each_way_of_reading(tmp_path: Path) -> None:
    """The check itself works: every spelling of an environment read is found."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os\n"
        "import os as system\n"
        "from os import environ, getenv as ge\n"
        "from leadroute import settings\n"
        "from leadroute.settings import Settings, get_settings\n"
        "a = os.environ['X']\n"
        "b = system.getenv('X')\n"
        "c = environ.get('X')\n"
        "d = ge('X')\n"
        "e = get_settings().db\n"
        "f = settings.get_settings()\n"
        "g = Settings()\n"
        "h = os.path.join('a', 'b')\n"
    )
    assert _environment_reads(bad) == [
        (6, "os.environ"),
        (7, "os.getenv"),
        (8, "environ"),
        (9, "ge"),
        (10, "get_settings()"),
        (11, "get_settings()"),
        (12, "Settings()"),
    ]


# -- thin HTTP layers ----------------------------------------------------------------------------

HANDLER_LINES = 40  # the longest an operation or a console page may be (from `def` on)
ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}


def _handlers(path: Path) -> list[tuple[str, int, bool]]:
    """(name, lines, nested) of every function in `path` a router method decorates."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = set(tree.body)
    return [
        (node.name, node.end_lineno - node.lineno + 1, node not in top)  # type: ignore[operator]
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(
            isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and d.func.attr in ROUTE_METHODS
            for d in node.decorator_list
        )
    ]


def _http_modules() -> list[Path]:
    return sorted((PACKAGE / "api").rglob("*.py")) + sorted((PACKAGE / "console").glob("*.py"))


def test_operations_and_pages_are_module_level_and_short() -> None:
    """Each API operation and console page is a module-level function of a router (no
    closures inside an app factory) of at most HANDLER_LINES lines."""
    found = {
        f"{path.relative_to(PACKAGE.parent)}:{name}": (lines, nested)
        for path in _http_modules()
        for name, lines, nested in _handlers(path)
    }
    assert len(found) >= 32 + 30  # the API's 32 operations and the console's pages
    nested = [where for where, (_, inner) in found.items() if inner]
    long = [
        f"{where}: {lines} lines" for where, (lines, _) in found.items() if lines > HANDLER_LINES
    ]
    assert not nested, nested
    assert not long, "\n".join(long)


def test_the_handler_rule_finds_closures_and_long_handlers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(45))
    bad.write_text(
        f"@router.get('/a')\ndef short() -> None:\n    pass\n\n\n"
        f"@router.post('/b')\ndef long() -> None:\n{body}\n\n\n"
        "def create_app() -> None:\n    @app.patch('/c')\n    def inner() -> None:\n        pass\n"
    )
    assert sorted(_handlers(bad)) == [("inner", 2, True), ("long", 46, False), ("short", 2, False)]
