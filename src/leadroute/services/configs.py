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
from leadroute.ports import ConfigReads


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


def config_diff(store: ConfigReads, a: int, b: int) -> str:
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


class ConfigRejected(Exception):
    """A config that cannot be stored or activated, with its problems at their lines."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(p["message"] for p in problems) or "not valid")
        self.problems = problems


def save_version(
    store: Store, source: str, *, activate: bool = False
) -> tuple[int, list[dict[str, Any]]]:
    """Store a config's YAML as a version (a draft unless `activate`) once it is valid against
    the stored org; its sequence number and any warnings. ConfigRejected otherwise."""
    loaded, problems = validate_source(store, source)
    if loaded is None or loaded.config is None:
        raise ConfigRejected(problems)
    seq = store.save_config(
        content_hash=loaded.config.content_hash,
        name=loaded.config.name,
        document=loaded.document,
        source=source,
        activate=activate,
    )
    return seq, problems


def activate_version(store: Store, seq: int) -> int:
    """Make a stored version the active one, checked against today's org first.
    LookupError for an unknown version, ConfigRejected for one no longer valid."""
    stored = store.config(seq)
    if stored is None:
        raise LookupError(f"no config #{seq}")
    loaded, problems = validate_source(store, stored.source)
    if loaded is None:
        raise ConfigRejected(problems)
    store.save_config(
        content_hash=stored.hash,
        name=stored.name,
        document=stored.document,
        source=stored.source,
        activate=True,
    )
    return seq


def rollback(store: Store) -> int:
    """Activate the version that was active before the current one; LookupError if none."""
    active = store.config()
    previous = store.previous_config(active.seq) if active is not None else None
    if previous is None:
        raise LookupError("no earlier active version to roll back to")
    return activate_version(store, previous)
