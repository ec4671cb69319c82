"""The composition root: settings read when asked for, secrets kept secret, the adapters it
builds configured from them (tests/test_architecture.py keeps every other module from reading
the environment)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from leadroute.adapters.store.key_store import KeyStore
from leadroute.bootstrap import Root
from leadroute.domain.lead import LeadLimits
from leadroute.settings import Settings
from tests.api.server import serve


def test_a_root_reads_the_environment_when_asked_and_a_fixed_one_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADROUTE_CHUNK_SIZE", "40")
    root = Root()  # nothing is read yet
    monkeypatch.setenv("LEADROUTE_CHUNK_SIZE", "41")
    fixed = root.fixed()
    assert root.settings.chunk_size == 41 and fixed.settings.chunk_size == 41
    monkeypatch.setenv("LEADROUTE_CHUNK_SIZE", "42")
    assert root.settings.chunk_size == 42  # read again
    assert fixed.settings.chunk_size == 41  # kept
    assert Root(Settings(chunk_size=7)).settings.chunk_size == 7


def test_webhook_secrets_are_secret_and_an_empty_variable_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADROUTE_HUBSPOT_SECRET", "hub-secret")
    monkeypatch.setenv("LEADROUTE_SALESFORCE_ORG_ID", "")
    monkeypatch.setenv("LEADROUTE_PUBLIC_URL", "")
    monkeypatch.setenv("LEADROUTE_CONSOLE_SECRET", "")
    webhooks = Root().webhooks()
    assert isinstance(webhooks.hubspot_secret, SecretStr)
    assert webhooks.hubspot_secret.get_secret_value() == "hub-secret"
    assert "hub-secret" not in repr(webhooks) and "hub-secret" not in repr(Root().settings)
    assert webhooks.salesforce_org_id is None and webhooks.public_url is None
    assert Root().console_secret() is None


def test_what_the_root_builds_is_configured_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        db=f"sqlite:///{tmp_path / 'root.db'}",
        chunk_size=9,
        rate_per_minute=120,
        lead_max_fields=3,
        lead_max_depth=1,
        console_idle_minutes=5,
        console_session_hours=2,
        console_secret=SecretStr("s3cret"),
    )
    root = Root(settings, environ={"VENDOR_KEY": "k"})
    store = root.store()  # migrated
    try:
        assert store.active_config_seq() is None
        assert root.routing(store, base_dir=tmp_path).chunk_size == 9
        assert root.api_state(store).limits() == LeadLimits(max_fields=3, max_depth=1)
        assert root.authenticator(store).rate_per_minute == 120
        assert root.authenticator(store, rate_per_minute=60).rate_per_minute == 60
        auth = root.console_auth(store)
        assert (auth.idle, auth.lifetime) == (timedelta(minutes=5), timedelta(hours=2))
        assert root.console_secret() == "s3cret"
        assert root.worker(store, lease=timedelta(seconds=30)).env == {"VENDOR_KEY": "k"}
    finally:
        store.dispose()


def test_the_api_the_root_builds_holds_keys_to_the_configured_rate(tmp_path: Path) -> None:
    root = Root(Settings(db=f"sqlite:///{tmp_path / 'api.db'}", rate_per_minute=60))
    store = root.store()
    try:
        key, _ = KeyStore(store).create("ops", ["read"])
        with serve(root.api(store)) as api:
            answer = api.get("/v1/configs", headers={"X-API-Key": key})
            assert answer.status_code == 200
            assert answer.headers["X-RateLimit-Limit"] == "60"
            assert httpx.get(f"{api.base_url}/v1/health").json()["status"] == "ok"
    finally:
        store.dispose()
