"""Versioned predictive models in the SQL store (table `models`, migration 0004).

Each save of a model name gets the next version of that name and becomes its active version;
the other versions of the name stay, inactive, and can be activated again. Models are stored as
plain JSON (`LinearModel.to_json()`), never pickled: loading one runs no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from leadroute.adapters.store.scoring_tables import models
from leadroute.adapters.store.sql import Store, aware
from leadroute.domain.predictive import LinearModel

_LOCK_SPACE = 7412020  # pg_advisory_xact_lock(space, hashtext(name)): one save per name at once


@dataclass(frozen=True, slots=True)
class StoredModel:
    name: str
    version: int
    created_at: datetime
    rows: int
    metrics: dict[str, Any]
    active: bool
    model: LinearModel


class ModelStore:
    """Predictive model versions, on the store's engine (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.dialect = store.dialect

    def save(self, model: LinearModel, metrics: Mapping[str, Any], rows: int) -> int:
        """Store `model` as the next version of its name and make it the active one."""
        with self.store.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(
                    select(func.pg_advisory_xact_lock(_LOCK_SPACE, func.hashtext(model.name)))
                )
            latest = conn.scalar(
                select(func.max(models.c.version)).where(models.c.name == model.name)
            )
            version = int(latest or 0) + 1
            conn.execute(
                update(models)
                .where(models.c.name == model.name, models.c.active)
                .values(active=False)
            )
            conn.execute(
                models.insert().values(
                    name=model.name,
                    version=version,
                    created_at=datetime.now(UTC),
                    rows=rows,
                    metrics=dict(metrics),
                    model=replace(model, version=version).to_json(),
                    active=True,
                )
            )
        return version

    def active(self, name: str) -> LinearModel | None:
        """The active version of a model name, or None."""
        query = select(models.c.model).where(models.c.name == name, models.c.active)
        with self.engine.connect() as conn:
            document = conn.scalar(query)
        return LinearModel.from_json(document) if document is not None else None

    def get(self, name: str, version: int | None = None) -> StoredModel | None:
        """One version of a model name (default: the active one), with its metrics."""
        query = select(models).where(models.c.name == name)
        query = (
            query.where(models.c.version == version)
            if version is not None
            else query.where(models.c.active)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _stored(row) if row is not None else None

    def list(self, name: str | None = None) -> list[StoredModel]:
        """Every stored version (of one name, or of all), by name then version."""
        query = select(models).order_by(models.c.name, models.c.version)
        if name is not None:
            query = query.where(models.c.name == name)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query).mappings()]

    def activate(self, name: str, version: int) -> bool:
        """Make one version of a name the active one; False if there is no such version."""
        with self.store.write() as conn:
            if not _exists(conn, name, version):
                return False
            conn.execute(
                update(models)
                .where(models.c.name == name)
                .values(active=models.c.version == version)
            )
        return True


def _exists(conn: Connection, name: str, version: int) -> bool:
    found = conn.scalar(
        select(models.c.id).where(models.c.name == name, models.c.version == version)
    )
    return found is not None


def _stored(row: Mapping[Any, Any]) -> StoredModel:
    return StoredModel(
        row["name"],
        int(row["version"]),
        aware(row["created_at"]),
        int(row["rows"]),
        dict(row["metrics"]),
        bool(row["active"]),
        LinearModel.from_json(row["model"]),
    )
