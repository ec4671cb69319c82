"""A local table as an enrichment provider: a CSV file loaded once, or a SQL table by key.

Keys match case-insensitively; domains are normalised first (lower-case, no scheme, no www.).
Column names match case-insensitively too. Problems with the file or the table are raised when
the provider is built (`ProviderSetupError`), not at the first lead.
"""

from __future__ import annotations

import csv
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, func, select
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from leadroute.domain.enrichment import (
    LookupKey,
    ProviderError,
    ProviderSetupError,
    TableProviderModel,
    render,
)
from leadroute.domain.matching import domain_of
from leadroute.settings import environment


def normalise(part: str, value: Any) -> str | None:
    """The form keys are compared in: domains reduced to the host, everything else case-folded."""
    if value is None:
        return None
    if part == "domain":
        return domain_of(str(value))
    text = " ".join(str(value).split()).casefold()
    return text or None


def _column(columns: Mapping[str, str], wanted: str, where: str) -> str:
    """The actual name of column `wanted` (case-insensitive) among `columns` (folded -> actual)."""
    actual = columns.get(wanted.strip().casefold())
    if actual is None:
        listed = ", ".join(columns.values()) or "none"
        raise ProviderSetupError(f"{where}: no column {wanted!r} (columns: {listed})")
    return actual


class CsvTableProvider:
    """Implements the `Provider` port over a CSV file held in memory."""

    def __init__(self, name: str, model: TableProviderModel, *, base_dir: Path) -> None:
        assert model.path is not None
        self.name = name
        self.fields = frozenset(model.fields)
        self.part = model.lookup_part
        path = Path(model.path).expanduser()
        self.path = path if path.is_absolute() else base_dir / path
        self._rows = self._load(model)

    def _load(self, model: TableProviderModel) -> dict[str, dict[str, str]]:
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = next(reader, [])
                columns = {h.strip().casefold(): i for i, h in enumerate(header)}
                names = {h.strip().casefold(): h.strip() for h in header}
                key_at = columns[_column(names, model.key, str(self.path)).casefold()]
                wanted = {
                    lead_field: columns[_column(names, column, str(self.path)).casefold()]
                    for lead_field, column in model.fields.items()
                }
                rows: dict[str, dict[str, str]] = {}
                for record in reader:
                    if key_at >= len(record):
                        continue
                    key = normalise(self.part, record[key_at])
                    if key is None or key in rows:
                        continue  # the first row of a key wins
                    rows[key] = {
                        lead_field: record[i].strip()
                        for lead_field, i in wanted.items()
                        if i < len(record) and record[i].strip()
                    }
                return rows
        except OSError as exc:
            raise ProviderSetupError(f"cannot read {self.path}: {exc.strerror}") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ProviderSetupError(f"{self.path}: not a readable CSV file: {exc}") from None

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        wanted = normalise(self.part, key.get(self.part))
        if wanted is None:
            return {}
        return dict(self._rows.get(wanted, {}))


class SqlTableProvider:
    """Implements the `Provider` port over a database table, with a small LRU of answers."""

    def __init__(
        self,
        name: str,
        model: TableProviderModel,
        *,
        environ: Mapping[str, str] | None = None,
        cache_size: int = 4096,
        engine: Engine | None = None,
    ) -> None:
        assert model.url is not None and model.table is not None
        self.name = name
        self.fields = frozenset(model.fields)
        self.part = model.lookup_part
        self._cache_size = cache_size
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        if engine is None:
            try:
                url = render(model.url, environ=environment() if environ is None else environ)
            except ProviderError as exc:
                raise ProviderSetupError(f"table provider {name}: {exc}") from None
            engine = create_engine(url, pool_pre_ping=True)
            self._owns_engine = True
        else:
            self._owns_engine = False
        self.engine = engine
        schema, _, table_name = model.table.rpartition(".")
        try:
            table = Table(table_name, MetaData(), schema=schema or None, autoload_with=engine)
        except NoSuchTableError:
            raise ProviderSetupError(f"table provider {name}: no table {model.table}") from None
        except SQLAlchemyError as exc:
            raise ProviderSetupError(
                f"table provider {name}: cannot read {model.table}: {type(exc).__name__}"
            ) from None
        names = {c.name.casefold(): c.name for c in table.columns}
        where = f"table {model.table}"
        self._key = table.c[_column(names, model.key, where)]
        self._columns = {f: table.c[_column(names, c, where)] for f, c in model.fields.items()}

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        wanted = normalise(self.part, key.get(self.part))
        if wanted is None:
            return {}
        with self._lock:
            if wanted in self._cache:
                self._cache.move_to_end(wanted)
                return dict(self._cache[wanted])
        found = self._query(wanted)
        with self._lock:
            self._cache[wanted] = found
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return dict(found)

    def _query(self, wanted: str) -> dict[str, Any]:
        candidates = [wanted, f"www.{wanted}"] if self.part == "domain" else [wanted]
        query = (
            select(*(c.label(f) for f, c in self._columns.items()))
            .where(func.lower(func.trim(self._key)).in_(candidates))
            .limit(1)
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            raise ProviderError(f"table query failed ({type(exc).__name__})") from None
        if row is None:
            return {}
        return {
            f: v
            for f, v in row.items()
            if v is not None and not (isinstance(v, str) and not v.strip())
        }
