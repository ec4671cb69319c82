"""Enrichment providers, one module per kind, built from their config in one place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from leadroute.adapters.enrichers.http_json import HttpJsonProvider
from leadroute.adapters.enrichers.inference import InferenceProvider
from leadroute.adapters.enrichers.local_table import CsvTableProvider, SqlTableProvider
from leadroute.domain.enrichment import (
    AnyProviderModel,
    HttpProviderModel,
    InferenceProviderModel,
    Provider,
)

__all__ = [
    "CsvTableProvider",
    "HttpJsonProvider",
    "InferenceProvider",
    "SqlTableProvider",
    "build_provider",
]


def build_provider(
    name: str,
    model: AnyProviderModel,
    *,
    base_dir: Path,
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> Provider:
    """The provider a config entry describes; raises ProviderSetupError if it cannot be built."""
    if isinstance(model, HttpProviderModel):
        return HttpJsonProvider(name, model, transport=transport, environ=environ)
    if isinstance(model, InferenceProviderModel):
        return InferenceProvider(name, model)
    if model.path is not None:
        return CsvTableProvider(name, model, base_dir=base_dir)
    return SqlTableProvider(name, model, environ=environ)
