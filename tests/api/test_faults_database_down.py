"""Database errors as the API answers them: an outage (PostgreSQL refusing connections, SQLite's
lock held too long) is a 503 with Retry-After and a JSON body saying to retry; any other
database error stays a 500. The classification itself is checked on real errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa

from leadroute.adapters.store.errors import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    unavailable_detail,
)
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from tests.api.server import free_port, serve


def _refused() -> Store:
    """A store whose PostgreSQL is not there: nothing listens on the port."""
    return Store(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone?connect_timeout=3")


def _error(call: object) -> BaseException:
    with pytest.raises(Exception) as caught:
        call()  # type: ignore[operator]
    return caught.value


# -- which errors are an outage --------------------------------------------------------------------


def test_a_refused_connection_is_an_outage_and_its_detail_has_no_sql() -> None:
    store = _refused()
    error = _error(store.lead_counts)
    store.dispose()
    assert isinstance(error, sa.OperationalError)
    assert database_unavailable(error)
    detail = unavailable_detail(error)
    assert detail.startswith("the database is unavailable (") and "SELECT" not in detail


def test_sqlite_locked_is_an_outage_but_a_missing_table_is_not(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("create table t (id integer primary key)")
    holder.execute("begin immediate")  # another process holds the write lock
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.connect() as conn:
            locked = _error(lambda: conn.execute(text("insert into t values (1)")))
        with engine.connect() as conn:
            missing = _error(lambda: conn.execute(text("select * from no_such_table")))
    finally:
        holder.execute("rollback")
        holder.close()
        engine.dispose()
    assert isinstance(locked, sa.OperationalError) and database_unavailable(locked)
    assert isinstance(missing, sa.OperationalError) and not database_unavailable(missing)


def test_constraint_errors_and_plain_exceptions_are_not_an_outage(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as conn:
        conn.execute(text("create table t (id integer primary key)"))
        conn.execute(text("insert into t values (1)"))
    with engine.connect() as conn:
        duplicate = _error(lambda: conn.execute(text("insert into t values (1)")))
    engine.dispose()
    assert isinstance(duplicate, sa.IntegrityError) and not database_unavailable(duplicate)
    assert not database_unavailable(ValueError("bad input"))
    assert database_unavailable(sa.TimeoutError("QueuePool limit reached"))


# -- what the API answers --------------------------------------------------------------------------


def _check_503(response: object) -> None:
    assert getattr(response, "status_code", None) == 503, getattr(response, "text", response)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["retryable"] is True
    assert body["detail"].startswith("the database is unavailable: try again")
    assert "127.0.0.1" not in body["detail"]  # no connection details to the client


def test_every_kind_of_request_gets_503_with_retry_after_while_the_database_is_down() -> None:
    store = _refused()
    lead = {"email": "ada@acme.com", "company": "Acme", "country": "US"}
    with serve(create_app(store, auth=False)) as client:
        _check_503(client.get("/v1/health"))
        _check_503(client.post("/v1/leads", json=lead, headers={"Idempotency-Key": "k1"}))
        _check_503(client.post("/v1/leads", json=lead))
        _check_503(client.post("/v1/leads/bulk", json={"leads": [lead]}))
        _check_503(client.get("/v1/leads/L1"))
        _check_503(client.get("/v1/reps"))
    store.dispose()


def test_the_api_key_check_answers_503_too_not_401(tmp_path: Path) -> None:
    keys = Store(f"sqlite:///{tmp_path / 'keys.db'}")
    keys.migrate()
    plaintext, _ = KeyStore(keys).create("web", ["ingest", "read"])
    keys.dispose()
    store = _refused()
    with serve(create_app(store)) as client:
        response = client.get("/v1/reps", headers={"Authorization": f"Bearer {plaintext}"})
    store.dispose()
    _check_503(response)


def test_a_database_error_that_is_not_an_outage_stays_a_500(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    with serve(create_app(store, auth=False)) as client:
        response = client.get("/v1/health")
    store.dispose()
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
