"""The API as routers: every operation's answer is a named model, and the paths work for every
id the API hands out (a key's name may hold a slash)."""

from __future__ import annotations

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from tests.api.server import serve

TEXT_ANSWERS = {("get", "/v1/configs/diff"), ("get", "/metrics")}  # plain text, by design


def test_every_json_answer_of_every_operation_names_its_schema(store: Store) -> None:
    described = create_app(store).openapi()
    unnamed = []
    for path, methods in described["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None:
                    continue
                named = schema.get("items", schema).get("$ref", "")
                if not named.startswith("#/components/schemas/"):
                    unnamed.append(f"{method.upper()} {path} {status}")
    operations = {(m, p) for p, ms in described["paths"].items() for m in ms}
    assert len(operations) == 32 and operations >= TEXT_ANSWERS
    assert not unnamed, unnamed


def test_a_key_whose_name_holds_a_slash_can_be_revoked(store: Store) -> None:
    admin, _ = KeyStore(store).create("ops", ["admin"])
    with serve(create_app(store)) as api:
        headers = {"X-API-Key": admin}
        made = api.post("/v1/keys", json={"name": "team/a", "scopes": ["read"]}, headers=headers)
        assert made.status_code == 201, made.text
        revoked = api.delete("/v1/keys/team%2Fa", headers=headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["name"] == "team/a" and revoked.json()["revoked_at"]
        assert api.delete("/v1/keys/team%2Fb", headers=headers).status_code == 404
