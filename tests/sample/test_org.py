"""The sample org: deterministic, loads cleanly, internally consistent, realistic shape."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.orgfile import load_org, org_from_doc
from leadroute.domain.org import AccountStatus, Org, RepStatus, Role
from leadroute.sample import sample_org_doc, write_sample
from leadroute.sample.org import (
    APAC_COUNTRIES,
    EMEA_COUNTRIES,
    LATAM_COUNTRIES,
    NA_WEST_SUBDIVISIONS,
    ORG_DOMAIN,
    account_region,
)

SELLING_TEAMS = (
    "na_sdr",
    "na_ae",
    "emea_sdr",
    "emea_ae",
    "apac_sdr",
    "apac_ae",
    "strategic_ae",
    "csm",
)
REGION_TEAMS = {
    "NA": ("na_ae", "strategic_ae"),
    "EMEA": ("emea_ae", "strategic_ae"),
    "APAC": ("apac_ae",),
    "LATAM": ("na_ae", "strategic_ae"),
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return sample_org_doc()


@pytest.fixture(scope="module")
def org(doc: dict[str, Any]) -> Org:
    return org_from_doc(doc)


def test_deterministic() -> None:
    assert sample_org_doc(7) == sample_org_doc(7)
    assert sample_org_doc(11) == sample_org_doc(11)
    other = sample_org_doc(11)
    assert other["accounts"] != sample_org_doc(7)["accounts"]
    assert other["reps"] == sample_org_doc(7)["reps"]  # the roster is fixed: templates name it


def test_loads_through_org_from_doc(org: Org) -> None:
    assert 38 <= len(org.reps) <= 42
    assert 580 <= len(org.accounts) <= 650
    assert set(SELLING_TEAMS) <= set(org.teams)
    assert {"bay_area", "na_west", "na_east", "emea", "apac", "latam"} <= set(org.territories)
    assert list(org.segments) == ["A", "B", "C", "D"]


def test_segments_cut_at_20_100_500(org: Org) -> None:
    cases = {1: "A", 19: "A", 20: "B", 99: "B", 100: "C", 499: "C", 500: "D", 100_000: "D"}
    for employees, segment in cases.items():
        assert org.segment_of({"employees": employees}) == segment
    assert org.segment_of({}) is None


def test_roster_realism(org: Org) -> None:
    reps = list(org.reps.values())
    roles = Counter(r.role for r in reps)
    assert roles[Role.MANAGER] >= 5 and roles[Role.SDR] >= 12 and roles[Role.AE] >= 15
    assert roles[Role.CSM] >= 3
    assert [r.id for r in reps if r.status is RepStatus.PAUSED] == ["lena.fischer"]
    assert [r.id for r in reps if r.status is RepStatus.INACTIVE] == ["greg.holloway"]
    assert sum(1 for r in reps if r.out_of_office) >= 3
    assert sum(1 for r in reps if r.caps.items()) >= 3
    weighted = [r.weight for r in reps if r.weight != 1.0]
    assert len(weighted) >= 5 and all(0.5 <= w <= 1.5 for w in weighted)
    zones = {r.timezone for r in reps}
    assert {
        "America/New_York",
        "America/Los_Angeles",
        "America/Chicago",
        "Europe/London",
        "Europe/Berlin",
        "Europe/Paris",
        "Asia/Singapore",
        "Australia/Sydney",
        "Asia/Tokyo",
    } <= zones
    for rep in reps:
        assert rep.email == f"{rep.id}@{ORG_DOMAIN}"
        assert rep.working_hours is not None
        if rep.role is not Role.MANAGER:
            assert rep.booking_link and rep.booking_link.startswith("https://")
            assert rep.manager_id is not None and rep.manager_id in org.reps
            assert org.reps[rep.manager_id].role is Role.MANAGER
        else:
            assert rep.teams == ()  # managers never land in a pool built from teams


def test_out_of_office_dates_are_whole_days(org: Org) -> None:
    jasmine = org.reps["jasmine.patel"]
    (absence,) = jasmine.out_of_office
    assert absence.start.date() == date(2026, 11, 23)
    assert absence.end.date() == date(2026, 11, 28)  # the end date is included
    assert absence.start.tzinfo is not None


def test_every_referenced_rep_exists(doc: dict[str, Any], org: Org) -> None:
    for team in doc["teams"]:
        assert team["members"], team["id"]
        assert set(team["members"]) <= set(org.reps), team["id"]
        assert org.reps[team["manager"]].role is Role.MANAGER
    for rep in org.reps.values():
        assert set(rep.teams) <= set(org.teams), rep.id
    for team_id, team in org.teams.items():
        assert set(team.members) == {r.id for r in org.reps.values() if team_id in r.teams}
    for account in org.accounts.values():
        if account.owner_id is not None:
            assert account.owner_id in org.reps, account.id
            assert org.reps[account.owner_id].role in (Role.AE, Role.CSM), account.id
        if account.parent_id is not None:
            assert account.parent_id in org.accounts, account.id


def test_accounts_realism(doc: dict[str, Any], org: Org) -> None:
    accounts = list(org.accounts.values())
    domains = [a.domain for a in accounts]
    assert all(domains) and len(set(domains)) == len(domains)
    names = [a.name for a in accounts]
    assert len(set(names)) == len(names)
    named = [a for a in accounts if a.named]
    assert 50 <= len(named) <= 70
    customers = [a for a in accounts if a.status is AccountStatus.CUSTOMER]
    assert 40 <= len(customers) <= 150
    assert 40 <= sum(1 for a in accounts if a.opportunity_stage) <= 120
    assert all(a.industry and a.employees for a in accounts)
    assert len({a.industry for a in accounts}) == 11
    regions = Counter(account_region(a) for a in doc["accounts"])
    assert regions["NA"] > regions["EMEA"] > regions["APAC"] > regions["LATAM"] > 0


def test_named_owners_are_aes_of_the_region(doc: dict[str, Any], org: Org) -> None:
    for raw in doc["accounts"]:
        account = org.accounts[raw["id"]]
        if not account.named or account.owner_id is None:
            continue
        owner = org.reps[account.owner_id]
        assert owner.role is Role.AE
        assert set(owner.teams) & set(REGION_TEAMS[account_region(raw)]), account.id


def test_parent_subsidiary_pairs(org: Org) -> None:
    subsidiaries = [a for a in org.accounts.values() if a.parent_id]
    assert len(subsidiaries) >= 10
    for sub in subsidiaries:
        parent = org.accounts[sub.parent_id or ""]
        assert sub.owner_id is None
        assert parent.owner_id is not None and parent.named
    assert any(s.named for s in subsidiaries)


def test_territories_partition_countries() -> None:
    groups = [set(EMEA_COUNTRIES), set(APAC_COUNTRIES), set(LATAM_COUNTRIES), {"US", "CA", "PR"}]
    for i, first in enumerate(groups):
        for second in groups[i + 1 :]:
            assert not first & second


def test_na_territories(org: Org) -> None:
    west, east = org.territories["na_west"], org.territories["na_east"]
    bay = org.territories["bay_area"]
    assert west.contains("US", "CA", "94105") and west.contains("CA", "BC", None)
    assert not west.contains("US", "NY", "10001")
    # na_east takes every US/CA lead by country, so flows test na_west first
    for state in ("NY", "CA", "TX", "WA", None):
        assert east.contains("US", state, None)
    assert east.contains("CA", "ON", None)
    assert bay.contains("US", None, "94105") and bay.contains("US", None, "95112")
    assert not bay.contains("US", None, "90210") and not bay.contains("DE", None, "94105")
    assert all(code.startswith(("US-", "CA-")) for code in NA_WEST_SUBDIVISIONS)


def test_yaml_round_trip(tmp_path: Path, org: Org) -> None:
    files = write_sample(tmp_path, leads=50)
    assert files.org == tmp_path / "org.yaml" and files.leads.exists()
    loaded = load_org(files.org)
    assert loaded.reps == org.reps
    assert loaded.teams == org.teams
    assert loaded.territories == org.territories
    assert loaded.segments == org.segments
    assert loaded.accounts == org.accounts
