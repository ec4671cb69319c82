"""Which database errors mean "the database is not there right now, try again".

PostgreSQL restarting, failing over or refusing connections, a connection cut mid-transaction,
no free connection in the pool, SQLite's write lock held for longer than the busy timeout: the
work was not done (its transaction rolled back) and the same work can be tried again shortly.
Anything else (a constraint, a missing table, a bug) is not retryable and is reported as it is.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa

RETRY_AFTER_SECONDS = 2

# SQLite reports both passing trouble and real errors (no such table) as OperationalError.
_SQLITE_PASSING = ("database is locked", "database is busy", "unable to open database file")


def database_unavailable(error: BaseException) -> bool:
    """True if `error` says the database is unreachable or busy for now (retry later)."""
    if isinstance(error, sa.TimeoutError):  # no connection free in the pool in time
        return True
    if not isinstance(error, sa.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa.InterfaceError):
        return True  # the connection broke (server restarted, network cut)
    if not isinstance(error, sa.OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        message = str(error.orig).lower()
        return any(text in message for text in _SQLITE_PASSING)
    return True  # PostgreSQL: refused, shutting down, starting up, terminated, serialization


def unavailable_detail(error: BaseException) -> str:
    """One line for an operator or a client: what failed, without the SQL and parameters."""
    orig = getattr(error, "orig", None) or error
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"the database is unavailable ({first})"
