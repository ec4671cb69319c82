"""API keys in the store: created once, verified by hash, revoked; the plaintext is never kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leadroute.adapters.store.key_store import ApiKey, KeyStore
from leadroute.adapters.store.service_tables import api_keys
from leadroute.adapters.store.sql import Store

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_key_verifies_and_is_stored_only_as_prefix_and_hash(store: Store) -> None:
    keys = KeyStore(store)
    plaintext, key = keys.create("crm-sync", ["ingest", "read"])
    assert plaintext.startswith(f"lr_{key.prefix}_") and len(plaintext) > 40
    assert key.scopes == {"ingest", "read"} and key.active
    verified = keys.verify(plaintext)
    assert verified is not None and verified.name == "crm-sync" and verified.id == key.id
    with store.engine.connect() as conn:
        rows = conn.execute(select(api_keys)).mappings().all()
    assert len(rows) == 1
    secret = plaintext.split("_", 2)[2]
    stored = " ".join(str(v) for v in rows[0].values())
    assert plaintext not in stored and secret not in stored
    assert rows[0]["hash"].startswith("sha256:")


def test_wrong_malformed_and_revoked_keys_fail(store: Store) -> None:
    keys = KeyStore(store)
    plaintext, _ = keys.create("web", ["ingest"])
    prefix, secret = plaintext.split("_", 2)[1:]
    assert keys.verify(f"lr_{prefix}_{secret[:-1]}x") is None
    assert keys.verify(f"lr_{prefix}_short") is None
    assert keys.verify("Bearer " + plaintext) is None
    assert keys.verify("") is None
    revoked = keys.revoke("web")
    assert revoked is not None and not revoked.active
    assert keys.verify(plaintext) is None
    assert keys.revoke("nope") is None
    again = keys.revoke("web")
    assert again is not None and again.revoked_at == revoked.revoked_at


def test_scopes_admin_implies_the_others() -> None:
    admin = ApiKey(1, "ops", "abcd1234", frozenset({"admin"}), T0)
    reader = ApiKey(2, "bi", "abcd1235", frozenset({"read"}), T0)
    assert admin.allows("ingest") and admin.allows("read") and admin.allows("admin")
    assert reader.allows("read") and not reader.allows("ingest") and not reader.allows("admin")


def test_names_and_scopes_are_checked(store: Store) -> None:
    keys = KeyStore(store)
    keys.create("one", ["read"])
    with pytest.raises(ValueError, match="exists"):
        keys.create("one", ["read"])
    with pytest.raises(ValueError, match="unknown scope"):
        keys.create("two", ["read", "write"])
    with pytest.raises(ValueError, match="at least one scope"):
        keys.create("three", [])
    with pytest.raises(ValueError, match="needs a name"):
        keys.create("  ", ["read"])
    assert [k.name for k in keys.list()] == ["one"]


def test_last_used_is_written_at_most_once_a_minute(store: Store) -> None:
    clock = Clock()
    keys = KeyStore(store, clock=clock)
    plaintext, _ = keys.create("bi", ["read"])
    assert keys.verify(plaintext) is not None
    first = keys.get("bi")
    assert first is not None and first.last_used_at == T0
    clock.now = T0 + timedelta(seconds=30)
    keys.verify(plaintext)
    assert (keys.get("bi") or first).last_used_at == T0
    clock.now = T0 + timedelta(minutes=2)
    keys.verify(plaintext)
    assert (keys.get("bi") or first).last_used_at == T0 + timedelta(minutes=2)
    listed = keys.list()
    assert [(k.name, k.active, sorted(k.scopes)) for k in listed] == [("bi", True, ["read"])]
