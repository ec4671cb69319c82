"""Routing config templates shipped with leadroute."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def template_names() -> list[str]:
    folder = resources.files("leadroute.templates")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def template_path(name: str) -> Path:
    """The file of a shipped template, by name (without .yaml)."""
    path = Path(str(resources.files("leadroute.templates").joinpath(f"{name}.yaml")))
    if not path.exists():
        raise LookupError(f"no template '{name}'; shipped: {', '.join(template_names())}")
    return path
