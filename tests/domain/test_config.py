"""compile_config: every error at its path, shorthand actions, pools, hashes and warnings."""

from __future__ import annotations

from typing import Any

import pytest

from leadroute.domain.config import ActionKind, ConfigInvalid, compile_config, content_hash
from leadroute.domain.org import RepStatus, Team
from tests.factories import (
    compile_text,
    errors,
    make_config,
    make_org,
    make_rep,
    make_reps,
    parse_yaml,
    warnings,
)

ORG = make_org()

VALID = """
name: demo
pools:
  sales: {members: [team:sales]}
flow:
  - id: us
    when: {country: US}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""


def config_errors(text: str, org: Any = ORG) -> dict[tuple[str | int, ...], str]:
    config, issues = compile_text(text, org)
    assert config is None, "expected the config to be rejected"
    return errors(issues)


def test_a_valid_config_compiles() -> None:
    config = make_config(VALID, ORG)
    assert config.name == "demo"
    assert [n.id for n in config.nodes] == ["us", "fallback"]
    assert [n.index for n in config.nodes] == [0, 1]
    assert config.nodes[1].fallback and config.nodes[1].condition.always
    assert config.pools["sales"].members == ("r1", "r2", "r3", "r4")
    assert config.node("us") is config.nodes[0]
    assert config.node("nope") is None


def test_the_document_must_be_a_mapping() -> None:
    config, issues = compile_config(["flow"], ORG)
    assert config is None
    assert issues[0].path == ()


def test_the_flow_is_required() -> None:
    assert config_errors("name: x\n") == {("flow",): "'flow' is required"}


def test_the_flow_must_not_be_empty() -> None:
    assert ("flow",) in config_errors("flow: []\n")


def test_missing_fallback() -> None:
    found = config_errors("""
        flow:
          - id: us
            when: {country: US}
            then: {queue: q}
        """)
    assert list(found) == [("flow",)]
    assert "needs a fallback" in found[("flow",)]


def test_fallback_must_be_last() -> None:
    found = config_errors("""
        flow:
          - id: fb
            fallback: true
            then: {queue: q}
          - id: us
            when: {country: US}
            then: {queue: q}
        """)
    assert found == {("flow", 0, "fallback"): "fallback node 'fb' must be the last node"}


def test_fallback_must_not_have_a_condition() -> None:
    found = config_errors("""
        flow:
          - id: fb
            fallback: true
            when: {country: US}
            then: {queue: q}
        """)
    assert found == {("flow", 0, "when"): "fallback node 'fb' must not have a condition"}


def test_unknown_pool() -> None:
    found = config_errors("""
        pools:
          sales: {members: [r1]}
        flow:
          - id: a
            then: {distribute: {pool: salez}}
          - id: fb
            fallback: true
            then: {hold: review}
        """)
    assert found == {("flow", 0, "then", "distribute"): "unknown pool 'salez'; known pools: sales"}


def test_unknown_rep_in_assign() -> None:
    found = config_errors("""
        flow:
          - id: fb
            fallback: true
            then: {assign: r9}
        """)
    assert found == {("flow", 0, "then", "assign"): "unknown rep 'r9'"}


def test_unknown_rep_and_team_in_a_pool() -> None:
    found = config_errors("""
        pools:
          p: {members: [r1, ghost, "team:nope"]}
        flow:
          - id: fb
            fallback: true
            then: {distribute: p}
        """)
    assert found == {
        ("pools", "p", "members", 1): "pool 'p' names unknown rep 'ghost'",
        ("pools", "p", "members", 2): "pool 'p' names unknown team 'nope'",
    }


def test_weight_for_a_rep_outside_the_pool() -> None:
    found = config_errors("""
        pools:
          p: {members: [r1], method: weighted, weights: {r2: 2}}
        flow:
          - id: fb
            fallback: true
            then: {distribute: p}
        """)
    assert list(found) == [("pools", "p", "weights", "r2")]


@pytest.mark.parametrize("weight", [0, -1])
def test_weights_must_be_positive(weight: int) -> None:
    found = config_errors(f"""
        pools:
          p: {{members: [r1], method: weighted, weights: {{r1: {weight}}}}}
        flow:
          - id: fb
            fallback: true
            then: {{distribute: p}}
        """)
    assert list(found) == [("pools", "p", "weights")]
    assert found[("pools", "p", "weights")].startswith(
        f"weight of r1 must be above 0, got {weight}"
    )


def test_duplicate_node_ids() -> None:
    found = config_errors("""
        flow:
          - id: a
            when: {country: US}
            then: {queue: q}
          - id: a
            when: {country: DE}
            then: {queue: q}
          - id: fb
            fallback: true
            then: {queue: q}
        """)
    assert found == {("flow", 1, "id"): "duplicate node id 'a'"}


def test_an_action_with_two_keys() -> None:
    found = config_errors("""
        flow:
          - id: fb
            fallback: true
            then: {queue: q, hold: why}
        """)
    assert list(found) == [("flow", 0, "then")]
    assert "exactly one action" in found[("flow", 0, "then")]
    assert "found 2" in found[("flow", 0, "then")]


def test_an_action_with_no_keys() -> None:
    found = config_errors("""
        flow:
          - id: fb
            fallback: true
            then: {}
        """)
    assert "found 0" in found[("flow", 0, "then")]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("colour: blue\nflow: [{id: fb, fallback: true, then: {queue: q}}]\n", ("colour",)),
        ("flow: [{id: fb, fallback: true, then: {queue: q}, when_: x}]\n", ("flow", 0, "when_")),
        (
            "flow: [{id: fb, fallback: true, then: {queue: q, extra: 1}}]\n",
            ("flow", 0, "then", "extra"),
        ),
        (
            "flow: [{id: fb, fallback: true, then: {queue: {name: q, url: x}}}]\n",
            ("flow", 0, "then", "queue", "url"),
        ),
        (
            "pools: {p: {members: [r1], metod: weighted}}\n"
            "flow: [{id: fb, fallback: true, then: {distribute: p}}]\n",
            ("pools", "p", "metod"),
        ),
    ],
)
def test_unknown_keys(text: str, path: tuple[str | int, ...]) -> None:
    found = config_errors(text)
    assert found == {path: f"unknown key '{path[-1]}'"}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("flow: [{id: 'a b', fallback: true, then: {queue: q}}]\n", ("flow", 0, "id")),
        ("flow: [{fallback: true, then: {queue: q}}]\n", ("flow", 0, "id")),
        ("flow: [{id: fb, fallback: true}]\n", ("flow", 0, "then")),
        (
            "pools: {p: {members: [r1], method: random}}\n"
            "flow: [{id: fb, fallback: true, then: {distribute: p}}]\n",
            ("pools", "p", "method"),
        ),
        (
            "pools: {p: {members: [r1], max_open: 0}}\n"
            "flow: [{id: fb, fallback: true, then: {distribute: p}}]\n",
            ("pools", "p", "max_open"),
        ),
        (
            "flow: [{id: fb, fallback: true, then: {assign_owner: {if_unavailable: later}}}]\n",
            ("flow", 0, "then", "assign_owner", "if_unavailable"),
        ),
        ("version: 2\nflow: [{id: fb, fallback: true, then: {queue: q}}]\n", ("version",)),
    ],
)
def test_schema_errors_have_their_path(text: str, path: tuple[str | int, ...]) -> None:
    assert path in config_errors(text)


def test_condition_errors_have_their_path_inside_the_flow() -> None:
    found = config_errors("""
        flow:
          - id: a
            when: {country: US}
            then: {queue: q}
          - id: b
            when: {all: [{employees: {gte: many}}]}
            then: {queue: q}
          - id: fb
            fallback: true
            then: {queue: q}
        """)
    assert list(found) == [("flow", 1, "when", "all", 0, "employees", "gte")]


def test_all_errors_are_reported_together() -> None:
    found = config_errors("""
        pools:
          p: {members: [ghost]}
        flow:
          - id: a
            when: {contry: US}
            then: {distribute: q}
          - id: a
            then: {assign: nobody}
        """)
    assert set(found) == {
        ("pools", "p", "members", 0),
        ("flow", 0, "when", "contry"),
        ("flow", 0, "then", "distribute"),
        ("flow", 1, "id"),
        ("flow", 1, "then", "assign"),
        ("flow",),
    }


# --- shorthand -----------------------------------------------------------------------------

SHORTHAND = """
pools:
  sales: {members: [r1, r2]}
queues:
  nurture: {redirect_url: "https://example.com/nurture", message: Thanks}
flow:
  - id: d
    when: {country: US}
    then: {distribute: sales}
  - id: a
    when: {country: DE}
    then: {assign: r2}
  - id: o
    when: {country: FR}
    then: {assign_owner: hold}
  - id: o2
    when: {country: IT}
    then: {assign_owner: true}
  - id: h
    when: {country: ES}
    then: {hold: needs review}
  - id: fb
    fallback: true
    then: {queue: nurture}
"""


def test_shorthand_actions_expand() -> None:
    nodes = {n.id: n.action for n in make_config(SHORTHAND, ORG).nodes}
    assert (nodes["d"].kind, nodes["d"].pool, nodes["d"].if_unavailable) == (
        ActionKind.DISTRIBUTE,
        "sales",
        "fall_through",
    )
    assert (nodes["a"].kind, nodes["a"].rep) == (ActionKind.ASSIGN, "r2")
    assert (nodes["o"].kind, nodes["o"].if_unavailable) == (ActionKind.ASSIGN_OWNER, "hold")
    assert nodes["o2"].if_unavailable == "fall_through"
    assert (nodes["h"].kind, nodes["h"].reason) == (ActionKind.HOLD, "needs review")
    assert (nodes["fb"].kind, nodes["fb"].queue) == (ActionKind.QUEUE, "nurture")
    # A declared queue lends its redirect and message to actions that name it.
    assert nodes["fb"].redirect_url == "https://example.com/nurture"
    assert nodes["fb"].message == "Thanks"


def test_shorthand_and_long_forms_compile_alike() -> None:
    long_form = (
        SHORTHAND.replace("{distribute: sales}", "{distribute: {pool: sales}}")
        .replace("{assign: r2}", "{assign: {rep: r2}}")
        .replace("{assign_owner: hold}", "{assign_owner: {if_unavailable: hold}}")
        .replace("{hold: needs review}", "{hold: {reason: needs review}}")
        .replace("{queue: nurture}", "{queue: {name: nurture}}")
    )
    assert long_form != SHORTHAND
    short = [n.action for n in make_config(SHORTHAND, ORG).nodes]
    long = [n.action for n in make_config(long_form, ORG).nodes]
    assert short == long


def test_an_action_overrides_its_queue_defaults() -> None:
    text = SHORTHAND.replace(
        "{queue: nurture}", "{queue: {name: nurture, redirect_url: 'https://x/y'}}"
    )
    action = make_config(text, ORG).nodes[-1].action
    assert (action.redirect_url, action.message) == ("https://x/y", "Thanks")


def test_node_names_default_to_ids() -> None:
    config = make_config(
        """
        flow:
          - {id: a, name: Americas, when: {country: US}, then: {queue: q}}
          - {id: fb, fallback: true, then: {queue: q}}
        """,
        ORG,
    )
    assert [n.name for n in config.nodes] == ["Americas", "fb"]


# --- pools -----------------------------------------------------------------------------------


def test_pool_members_expand_teams_in_order_without_duplicates() -> None:
    org = make_org(
        [*make_reps(3), make_rep("x1", teams=("other",))],
        teams=[Team("other", "Other", members=("r2",))],
    )
    config = make_config(
        """
        pools:
          p: {members: [r3, "team:sales", x1, "team:other", r3]}
        flow: [{id: fb, fallback: true, then: {distribute: p}}]
        """,
        org,
    )
    assert config.pools["p"].members == ("r3", "r1", "r2", "x1")


def test_pool_settings() -> None:
    config = make_config(
        """
        timezone: Europe/Berlin
        pools:
          p:
            members: [r1, r2]
            method: weighted
            fairness_window: month
            absence: catch_up
            working_hours: ignore
            caps: ignore
            sticky: true
            weights: {r1: 3}
            max_open: 10
          q: {members: [r1], timezone: Asia/Tokyo}
        flow: [{id: fb, fallback: true, then: {distribute: p}}]
        """,
        ORG,
    )
    p, q = config.pools["p"], config.pools["q"]
    assert (p.method, p.fairness_window, p.absence) == ("weighted", "month", "catch_up")
    assert (p.respect_hours, p.enforce_caps, p.sticky) == (False, False, True)
    assert (dict(p.weights), p.max_open, p.timezone) == ({"r1": 3}, 10, "Europe/Berlin")
    assert q.timezone == "Asia/Tokyo"
    assert (q.method, q.fairness_window, q.absence) == ("round_robin", "week", "no_catch_up")
    assert (q.respect_hours, q.enforce_caps, q.sticky) == (True, True, False)


def test_a_pool_of_inactive_reps_is_a_warning_not_an_error() -> None:
    org = make_org([make_rep("r1", status=RepStatus.INACTIVE)])
    config, issues = compile_text(
        """
        pools:
          p: {members: [r1]}
          empty: {members: []}
        flow: [{id: fb, fallback: true, then: {distribute: p}}]
        """,
        org,
    )
    assert config is not None
    found = warnings(issues)
    assert set(found) == {("pools", "p", "members"), ("pools", "empty", "members")}
    assert "has no active reps" in found[("pools", "p", "members")]


def test_a_team_listing_a_rep_who_is_not_in_the_org() -> None:
    org = make_org(make_reps(2), teams=[Team("sales", "Sales", members=("r1", "gone"))])
    config, issues = compile_text(
        """
        pools:
          p: {members: ["team:sales"]}
        flow: [{id: fb, fallback: true, then: {distribute: p}}]
        """,
        org,
    )
    assert config is not None, issues
    assert config.pools["p"].members == ("r1", "r2")
    assert warnings(issues) == {
        ("pools", "p", "members", 0): "team 'sales' lists unknown rep 'gone', left out of pool 'p'"
    }


# --- identity ---------------------------------------------------------------------------------


def test_content_hash_is_stable_under_key_reordering() -> None:
    document = parse_yaml(VALID)
    reordered = {key: document[key] for key in reversed(list(document))}
    reordered["pools"] = {"sales": dict(reversed(list(document["pools"]["sales"].items())))}
    reordered["flow"] = [dict(reversed(list(node.items()))) for node in document["flow"]]
    assert list(reordered) != list(document)
    assert content_hash(reordered) == content_hash(document)
    assert make_config(VALID, ORG).content_hash == content_hash(document)


def test_content_hash_changes_with_the_content() -> None:
    document = parse_yaml(VALID)
    changed = parse_yaml(VALID.replace("country: US", "country: CA"))
    reordered_flow = {**document, "flow": list(reversed(document["flow"]))}
    assert content_hash(changed) != content_hash(document)
    assert content_hash(reordered_flow) != content_hash(document)  # order of nodes matters
    assert len(content_hash(document)) == 16


def test_the_compiled_config_keeps_its_document() -> None:
    document = parse_yaml(VALID)
    config, _ = compile_config(document, ORG)
    assert config is not None and config.document == document


def test_config_invalid_joins_the_error_messages() -> None:
    _, issues = compile_text("flow: [{id: a, then: {assign: nobody}}]\n", ORG)
    error = ConfigInvalid(issues)
    assert "unknown rep 'nobody'" in str(error) and "needs a fallback" in str(error)
    assert error.issues == issues


def test_custom_fields_are_declared_with_their_type() -> None:
    config = make_config(
        """
        fields:
          - {name: plan, type: string}
          - {name: seats, type: number, description: licensed seats}
        flow:
          - {id: big, when: {seats: {gte: 100}, plan: pro}, then: {queue: big}}
          - {id: fb, fallback: true, then: {queue: q}}
        """,
        ORG,
    )
    assert config.nodes[0].condition.test({"seats": 150, "plan": "PRO"})
    _, issues = compile_text(
        """
        fields: [{name: seats, type: number}]
        flow:
          - {id: big, when: {seats: {contains: 1}}, then: {queue: big}}
          - {id: fb, fallback: true, then: {queue: q}}
        """,
        ORG,
    )
    assert list(errors(issues)) == [("flow", 0, "when", "seats", "contains")]


def test_unknown_time_zones_are_config_errors() -> None:
    from leadroute.domain.config import compile_config
    from leadroute.domain.org import Org

    document = {
        "timezone": "America/New_Yrok",
        "pools": {"p": {"members": [], "timezone": "Mars/Olympus"}},
        "flow": [{"id": "fb", "fallback": True, "then": {"queue": "nurture"}}],
    }
    config, issues = compile_config(document, Org())
    assert config is None
    messages = {i.path: i.message for i in issues}
    assert "unknown time zone 'America/New_Yrok'" in messages[("timezone",)]
    assert "unknown time zone 'Mars/Olympus'" in messages[("pools", "p", "timezone")]


def test_assign_owner_counts_as_able_to_fall_through() -> None:
    from leadroute.domain.checks import lint
    from leadroute.domain.config import compile_config
    from leadroute.domain.org import Org

    document = {
        "flow": [
            {"id": "fb", "fallback": True, "then": {"assign_owner": {"if_unavailable": "hold"}}}
        ]
    }
    config, _ = compile_config(document, Org())
    assert config is not None
    assert any("fallback can fail" in i.message for i in lint(config, Org()))
