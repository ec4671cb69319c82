"""Loading routing configs from files: parse, validate, compile, and report issues at file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadroute.adapters.store.sql import Store
from leadroute.domain.checks import lint
from leadroute.domain.conditions import Issue
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.org import Org
from leadroute.domain.yamldoc import YamlError, line_of, load_with_lines


@dataclass(frozen=True)
class Problem:
    """An issue placed in a file."""

    file: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class LoadedConfig:
    file: str
    source: str
    document: Any = None
    config: RoutingConfig | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not any(p.severity == "error" for p in self.problems)


def load_config_text(
    source: str, org: Org, *, file: str = "<config>", with_lint: bool = True
) -> LoadedConfig:
    loaded = LoadedConfig(file=file, source=source)
    try:
        document, lines = load_with_lines(source)
    except YamlError as exc:
        loaded.problems.append(Problem(file, exc.line, str(exc)))
        return loaded
    loaded.document = document
    config, issues = compile_config(document, org)
    if config is not None and with_lint:
        issues = [*issues, *lint(config, org)]
    loaded.config = config
    loaded.problems = [_place(file, lines, issue) for issue in issues]
    loaded.problems.sort(key=lambda p: (p.line or 0, p.severity))
    return loaded


def load_config_file(path: str | Path, org: Org, *, with_lint: bool = True) -> LoadedConfig:
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        return LoadedConfig(
            file=str(path),
            source="",
            problems=[Problem(str(path), None, f"cannot read: {exc.strerror}")],
        )
    return load_config_text(source, org, file=str(path), with_lint=with_lint)


def _place(file: str, lines: dict[tuple[str | int, ...], int], issue: Issue) -> Problem:
    where = ".".join(str(p) for p in issue.path)
    message = f"{where}: {issue.message}" if where else issue.message
    return Problem(file, line_of(lines, issue.path), message, issue.severity)


def validate_source(store: Store, source: str) -> tuple[LoadedConfig | None, list[dict[str, Any]]]:
    """Check a config's YAML against the stored org (and that any model it names is stored):
    the loaded config if it is valid, and every problem with its line."""
    from leadroute.services.routing import predictor_for

    loaded = load_config_text(source, store.load_org(), file="config")
    problems: list[dict[str, Any]] = [
        {"line": p.line, "severity": p.severity, "message": p.message} for p in loaded.problems
    ]
    if loaded.ok and loaded.config is not None:
        try:
            predictor_for(store, loaded.config)
        except LookupError as exc:
            problems.append({"line": None, "severity": "error", "message": str(exc)})
    ok = loaded.ok and not any(p["severity"] == "error" for p in problems)
    return (loaded if ok else None), problems


def config_diff(store: Store, a: int, b: int) -> str:
    """A unified diff of two stored versions' YAML; LookupError for an unknown version."""
    import difflib

    first, second = store.config(a), store.config(b)
    if first is None or second is None:
        raise LookupError(f"no config #{a if first is None else b}")
    return "".join(
        difflib.unified_diff(
            first.source.splitlines(keepends=True),
            second.source.splitlines(keepends=True),
            fromfile=f"#{a} {first.name}",
            tofile=f"#{b} {second.name}",
        )
    )
