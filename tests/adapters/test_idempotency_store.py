"""Idempotency reservations: one request does the work; an abandoned one is taken over once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from leadroute.adapters.store.idempotency_store import IN_PROGRESS, IdempotencyStore
from leadroute.adapters.store.service_tables import idempotency
from leadroute.adapters.store.sql import Store


def _age(store: Store, key: str, minutes: int) -> None:
    with store.write() as conn:
        conn.execute(
            update(idempotency)
            .where(idempotency.c.key == key)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )


def test_a_key_is_reserved_once_and_answered(store: Store) -> None:
    keys = IdempotencyStore(store)
    assert keys.reserve("k1", "h") is None
    busy = keys.reserve("k1", "h")
    assert busy is not None and busy.status_code == IN_PROGRESS and busy.same_request
    keys.complete("k1", 201, {"lead_id": "L1"}, "L1")
    done = keys.reserve("k1", "h")
    assert done is not None and (done.status_code, done.response) == (201, {"lead_id": "L1"})
    other = keys.reserve("k1", "another request")
    assert other is not None and not other.same_request


def test_an_abandoned_reservation_is_taken_over_by_one_retry(store: Store) -> None:
    keys = IdempotencyStore(store)
    assert keys.reserve("k1", "h") is None  # and its process dies without answering
    assert keys.reserve("k1", "h") is not None  # a minute later: still in progress
    _age(store, "k1", 3)
    assert keys.reserve("k1", "different") is not None  # another request never takes it
    assert keys.reserve("k1", "h") is None  # the same request, after two minutes: taken over
    again = keys.reserve("k1", "h")  # the reservation is fresh again: the next retry waits
    assert again is not None and again.status_code == IN_PROGRESS


def test_answered_keys_are_never_taken_over(store: Store) -> None:
    keys = IdempotencyStore(store)
    assert keys.reserve_many([("a", "h"), ("b", "h")]) == {"a": None, "b": None}
    keys.complete_many([("a", 201, {"ok": True}, "L1")])
    _age(store, "a", 10)
    _age(store, "b", 10)
    found = keys.reserve_many([("a", "h"), ("b", "h"), ("c", "h")])
    assert found["a"] is not None and found["a"].status_code == 201
    assert found["b"] is None and found["c"] is None  # b was abandoned, c is new
    assert keys.reserve_many([("b", "h")])["b"] is not None  # b is reserved again
