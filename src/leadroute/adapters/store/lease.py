"""Claiming rows for a while: the one way workers take due timers and outbox messages.

`claim(conn, dialect, query, table=..., values=...)` runs inside the caller's write transaction:
it picks the rows `query` selects (their ids, in its order and limit), marks them with `values`
(a status and a lease: when the claim runs out) in one UPDATE, and returns them as stored after
that. On PostgreSQL the pick is FOR UPDATE SKIP LOCKED, so claimers never wait on each other and
never take the same row; on SQLite the write transaction (BEGIN IMMEDIATE) makes them take
turns. A claimer that dies leaves its rows to the lease: once it runs out, `query` selects them
again for the next claimer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, Table, select, update


def claim(
    conn: Connection,
    dialect: str,
    query: Select[Any],
    *,
    table: Table,
    values: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Claim the rows of `table` whose ids `query` selects: set `values` on them (plain values
    or SQL expressions of the row) and return them, updated, in the query's order."""
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.scalars(query))
    if not ids:
        return []
    key = table.c.id
    conn.execute(update(table).where(key.in_(ids)).values(**values))
    found = {
        row["id"]: dict(row) for row in conn.execute(select(table).where(key.in_(ids))).mappings()
    }
    return [found[ident] for ident in ids]
