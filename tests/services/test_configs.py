"""Storing, activating and rolling back config versions, checked against the stored org."""

from __future__ import annotations

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.services.configs import (
    ConfigRejected,
    activate_version,
    config_diff,
    rollback,
    save_version,
    validate_source,
)
from tests.services.fixtures import CONFIG, activate, org


def test_a_draft_is_stored_inactive_and_activated_later(store: Store) -> None:
    activate(store, org())
    draft = CONFIG.replace("name: service-test", "name: draft")
    seq, warnings = save_version(store, draft)
    assert seq == 2 and [w["severity"] for w in warnings] == ["warning"]  # undeclared queue
    assert store.config().seq == 1  # type: ignore[union-attr]
    assert save_version(store, draft)[0] == 2  # the same content is the same version
    assert activate_version(store, seq) == 2 and store.config().seq == 2  # type: ignore[union-attr]
    assert "+name: draft" in config_diff(store, 1, 2)
    assert rollback(store) == 1 and store.config().seq == 1  # type: ignore[union-attr]
    assert rollback(store) == 2  # a rollback is itself an activation


def test_invalid_configs_are_refused_with_their_lines(store: Store) -> None:
    activate(store, org())
    broken = CONFIG.replace("distribute: sales", "distribute: nowhere")
    with pytest.raises(ConfigRejected) as caught:
        save_version(store, broken, activate=True)
    assert caught.value.problems[0]["line"] == 13
    assert "nowhere" in str(caught.value) and len(store.configs()) == 1
    loaded, problems = validate_source(store, "flow: [")
    assert loaded is None and problems[0]["severity"] == "error"
    with pytest.raises(LookupError, match="no config #7"):
        activate_version(store, 7)


def test_a_version_that_no_longer_fits_the_org_is_not_activated(store: Store) -> None:
    activate(store, org())
    other = CONFIG.replace("then: {distribute: sales}", "then: {assign: r4}")
    seq, _ = save_version(store, other)
    store.save_org(org(reps=2), replace=True)  # r4 leaves
    with pytest.raises(ConfigRejected, match="r4"):
        activate_version(store, seq)
    assert store.config().seq == 1  # type: ignore[union-attr]


def test_nothing_to_roll_back_to(store: Store) -> None:
    with pytest.raises(LookupError, match="no earlier"):
        rollback(store)
    activate(store, org())
    with pytest.raises(LookupError, match="no earlier"):
        rollback(store)
