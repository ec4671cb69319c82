"""`leadroute key create|list|revoke` on a temporary SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.cli.keys import key_app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # tables are not wrapped


def test_create_prints_the_key_once_and_it_works(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    created = runner.invoke(
        key_app, ["create", "web-forms", "--scope", "ingest", "-s", "read", "--db", db]
    )
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip()
    assert plaintext.startswith("lr_") and "\n" not in plaintext
    assert "cannot be shown again" in created.stderr
    store = Store(db)
    key = KeyStore(store).verify(plaintext)
    assert key is not None and key.scopes == {"ingest", "read"}
    listed = runner.invoke(key_app, ["list", "--db", db])
    assert listed.exit_code == 0
    assert "web-forms" in listed.stdout and f"lr_{key.prefix}_" in listed.stdout
    assert plaintext not in listed.stdout and "active" in listed.stdout
    revoked = runner.invoke(key_app, ["revoke", "web-forms", "--db", db])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert KeyStore(store).verify(plaintext) is None
    assert "revoked" in runner.invoke(key_app, ["list", "--db", db]).stdout
    store.dispose()


def test_mistakes_are_reported(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    unknown = runner.invoke(key_app, ["create", "x", "--scope", "write", "--db", db])
    assert unknown.exit_code == 1 and "unknown scope(s) write" in unknown.stderr
    no_scope = runner.invoke(key_app, ["create", "x", "--db", db])
    assert no_scope.exit_code == 2  # typer: --scope is required
    assert runner.invoke(key_app, ["create", "x", "-s", "admin", "--db", db]).exit_code == 0
    taken = runner.invoke(key_app, ["create", "x", "-s", "read", "--db", db])
    assert taken.exit_code == 1 and "exists" in taken.stderr
    missing = runner.invoke(key_app, ["revoke", "nope", "--db", db])
    assert missing.exit_code == 1 and "no key named 'nope'" in missing.stderr
    empty = tmp_path / "empty.db"
    assert "no API keys" in runner.invoke(key_app, ["list", "--db", f"sqlite:///{empty}"]).stdout
