"""Factories for domain test data: reps, orgs, leads, pools and compiled configs.

Each factory takes keyword overrides and fills the rest with plain, valid defaults, so a test
states only what it is about.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time
from typing import Any

from leadroute.domain.conditions import Issue
from leadroute.domain.config import Pool, RoutingConfig, compile_config
from leadroute.domain.lead import Lead
from leadroute.domain.org import (
    Account,
    Org,
    PostalRange,
    Rep,
    Segment,
    Team,
    Territory,
    WorkingHours,
    build_org,
)
from leadroute.domain.yamldoc import load_with_lines

# A Tuesday afternoon in UTC: inside 09:00-17:00 working hours in London, before them in
# New York (10:00 there) and after them in Tokyo (00:00 Wednesday there).
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

OFFICE_HOURS = WorkingHours.weekdays(time(9), time(17))


def make_rep(rep_id: str = "r1", **overrides: Any) -> Rep:
    """A rep with id `rep_id`; any Rep field may be overridden."""
    values: dict[str, Any] = {"name": f"Rep {rep_id}", "email": f"{rep_id}@example.com"}
    values.update(overrides)
    return Rep(id=rep_id, **values)


def make_reps(count: int, *, team: str = "sales", **overrides: Any) -> list[Rep]:
    """`count` reps r1..rN in team `team`."""
    return [make_rep(f"r{i}", teams=(team,), **overrides) for i in range(1, count + 1)]


def make_territories() -> list[Territory]:
    """na (US, CA), west (US-CA, US-WA, US postal 97*, 98000-98999), dach (DE, AT, CH)."""
    return [
        Territory("na", "North America", frozenset({"US", "CA"})),
        Territory(
            "west",
            "US West",
            subdivisions=frozenset({"US-CA", "US-WA"}),
            postal=(PostalRange("US", prefix="97"), PostalRange("US", low="98000", high="98999")),
        ),
        Territory("dach", "DACH", frozenset({"DE", "AT", "CH"})),
    ]


def make_segments() -> list[Segment]:
    """smb [0, 100), mid [100, 1000), ent [1000, inf) on employees."""
    return [
        Segment("smb", "Small", low=None, high=100),
        Segment("mid", "Mid-market", low=100, high=1000),
        Segment("ent", "Enterprise", low=1000, high=None),
    ]


def make_org(
    reps: Iterable[Rep] | None = None,
    *,
    teams: Iterable[Team] = (),
    territories: Iterable[Territory] | None = None,
    segments: Iterable[Segment] | None = None,
    accounts: Iterable[Account] = (),
) -> Org:
    """An org with four sales reps, the standard territories and segments unless overridden."""
    return build_org(
        reps=make_reps(4) if reps is None else reps,
        teams=teams,
        territories=make_territories() if territories is None else territories,
        segments=make_segments() if segments is None else segments,
        accounts=accounts,
    )


def make_lead(lead_id: str = "L1", **fields: Any) -> Lead:
    """A lead with the given fields (and nothing else)."""
    return Lead(lead_id, dict(fields))


def make_pool(members: Iterable[str], **overrides: Any) -> Pool:
    """A compiled pool, as compile_config would build it."""
    values: dict[str, Any] = {"id": "pool", "members": tuple(members)}
    values.update(overrides)
    return Pool(**values)


def parse_yaml(yaml_text: str) -> Any:
    document, _ = load_with_lines(textwrap.dedent(yaml_text))
    return document


def compile_text(yaml_text: str, org: Org) -> tuple[RoutingConfig | None, list[Issue]]:
    """Compile a YAML config text (dedented) against `org`."""
    return compile_config(parse_yaml(yaml_text), org)


def make_config(yaml_text: str, org: Org) -> RoutingConfig:
    """A compiled config; fails the test if the text has errors."""
    config, issues = compile_text(yaml_text, org)
    assert config is not None, [(i.path, i.message) for i in issues]
    return config


def errors(issues: Iterable[Issue]) -> dict[tuple[str | int, ...], str]:
    """Error issues by path (the last message wins for a repeated path)."""
    return {i.path: i.message for i in issues if i.severity == "error"}


def warnings(issues: Iterable[Issue]) -> dict[tuple[str | int, ...], str]:
    return {i.path: i.message for i in issues if i.severity == "warning"}


def context(org: Org, fields: Mapping[str, Any], account: Account | None = None) -> dict[str, Any]:
    """The data a condition sees for a lead with `fields`, as the router builds it."""
    data = dict(fields)
    data.setdefault("segment", org.segment_of(data))
    data["account"] = account.as_fields() if account is not None else None
    return data
