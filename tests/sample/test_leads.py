"""The sample lead generator: deterministic, the documented mix, and files that load."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.leadfile import build_lead, read_leads
from leadroute.adapters.orgfile import org_from_doc
from leadroute.domain.fields import Vocabulary
from leadroute.domain.org import Org
from leadroute.sample import (
    MALFORMED_EVERY,
    generate_leads,
    is_free_mail,
    malformed_reason,
    sample_org_doc,
    write_sample,
)
from leadroute.sample.leads import (
    COUNTRY_REGION,
    FIELD_ORDER,
    WINDOW_END,
    WINDOW_START,
    leads_header,
)
from leadroute.sample.org import account_region

Row = dict[str, object]
N = 10_000
SOURCES = {
    "Web",
    "Webinar",
    "Trade Show",
    "Content Download",
    "Partner Referral",
    "Outbound List",
    "Purchased List",
    "Free Trial",
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return sample_org_doc()


@pytest.fixture(scope="module")
def org(doc: dict[str, Any]) -> Org:
    return org_from_doc(doc)


@pytest.fixture(scope="module")
def rows(doc: dict[str, Any]) -> list[Row]:
    return generate_leads(doc, N)


def share(rows: list[Row], test: Any) -> float:
    return sum(1 for r in rows if test(r)) / len(rows)


def test_deterministic(doc: dict[str, Any], rows: list[Row]) -> None:
    assert generate_leads(doc, N) == rows
    assert generate_leads(sample_org_doc(7), 300, seed=3) == generate_leads(doc, 300, seed=3)
    assert generate_leads(doc, 300, seed=3) != generate_leads(doc, 300, seed=4)


def test_ids_fields_and_order(rows: list[Row]) -> None:
    assert len(rows) == N
    assert [r["id"] for r in rows] == [f"lead-{i:05d}" for i in range(1, N + 1)]
    for row in rows:
        assert list(row) == [k for k in FIELD_ORDER if k in row]
    times = [str(r["received_at"]) for r in rows]
    assert times == sorted(times)
    first = datetime.fromisoformat(times[0].replace("Z", "+00:00"))
    last = datetime.fromisoformat(times[-1].replace("Z", "+00:00"))
    assert first >= WINDOW_START and last < WINDOW_END
    assert last.date().isoformat() == "2026-11-20"


def test_business_hours_heavy(rows: list[Row]) -> None:
    moments = [datetime.fromisoformat(str(r["received_at"]).replace("Z", "+00:00")) for r in rows]
    assert share(rows, lambda r: True) == 1.0
    weekday = sum(1 for m in moments if m.weekday() < 5) / len(moments)
    assert weekday > 0.85


def test_regional_mix(rows: list[Row]) -> None:
    regions = Counter(COUNTRY_REGION.get(str(r.get("country")), "none") for r in rows)
    expected = {"NA": 0.55, "EMEA": 0.30, "APAC": 0.12, "LATAM": 0.03}
    for region, target in expected.items():
        assert abs(regions[region] / N - target) < 0.03, (region, regions)
    assert 0.01 <= regions["none"] / N <= 0.04


def test_account_and_free_mail_mix(rows: list[Row], org: Org) -> None:
    def at_account(row: Row) -> bool:
        email = row.get("email")
        return isinstance(email, str) and email.rsplit("@", 1)[1] in org.accounts_by_domain

    assert 0.30 <= share(rows, at_account) <= 0.40
    assert 0.05 <= share(rows, lambda r: is_free_mail(r.get("email"))) <= 0.11
    assert 0.002 <= share(rows, lambda r: not r.get("email")) <= 0.02


def test_account_leads_match_their_account(rows: list[Row], doc: dict[str, Any]) -> None:
    by_domain = {a["domain"]: a for a in doc["accounts"]}
    checked = 0
    for row in rows:
        email = row.get("email")
        if not isinstance(email, str) or row.get("country") is None:
            continue
        account = by_domain.get(email.rsplit("@", 1)[1])
        if account is None:
            continue
        checked += 1
        assert COUNTRY_REGION[str(row["country"])] == account_region(account)
        if "employees" in row and malformed_reason(row) is None:
            assert row["employees"] == account["employees"]
    assert checked > 2500


def test_missing_data(rows: list[Row]) -> None:
    assert 0.02 <= share(rows, lambda r: "industry" not in r) <= 0.07
    assert 0.03 <= share(rows, lambda r: "employees" not in r) <= 0.08
    assert share(rows, lambda r: "phone" not in r) < 0.3


def test_vocabulary(rows: list[Row]) -> None:
    assert {r["lead_source"] for r in rows} == SOURCES
    channels = Counter(str(r["channel"]) for r in rows)
    assert set(channels) == {"web_form", "list_import", "outbound", "manual", "api"}
    assert 0.40 <= channels["web_form"] / N <= 0.55
    assert 0.18 <= channels["list_import"] / N <= 0.30
    assert 0.10 <= channels["outbound"] / N <= 0.20
    assert {r.get("request_type") for r in rows} == {None, "demo", "contact", "trial", "content"}
    assert {r.get("product_interest") for r in rows} == {None, "Analytics", "Payments", "Platform"}
    assert {r["lead_type"] for r in rows} == {"inbound", "outbound"}
    for row in rows:
        if row["lead_type"] == "outbound":
            assert row["channel"] in ("outbound", "list_import")
        if "score" in row:
            assert isinstance(row["score"], int) and 0 <= row["score"] <= 100
        country = row.get("country")
        if country is not None:
            assert isinstance(country, str) and len(country) == 2 and country.isupper()
        state = row.get("state")
        if state is not None:
            assert isinstance(state, str) and "-" not in state


def test_every_country_is_in_exactly_one_region_territory(rows: list[Row], org: Org) -> None:
    regions = [org.territories[t] for t in ("na_east", "emea", "apac", "latam")]
    west = org.territories["na_west"]
    for row in rows:
        country, state, postal = (row.get(k) for k in ("country", "state", "postal_code"))
        if country is None:
            continue
        args = (str(country), str(state) if state else None, str(postal) if postal else None)
        assert sum(t.contains(*args) for t in regions) == 1, row
        if west.contains(*args):
            assert country in ("US", "CA")


def test_malformed_rows(rows: list[Row]) -> None:
    broken = [r for r in rows if malformed_reason(r) is not None]
    assert len(broken) == N // MALFORMED_EVERY == 20
    assert [r["id"] for r in broken] == [f"lead-{i:05d}" for i in range(500, N + 1, 500)]
    reasons = Counter(str(malformed_reason(r)).split(" ")[0] for r in broken)
    assert set(reasons) == {"employees", "annual_revenue", "no"}


def test_intake_rejects_exactly_the_malformed_rows(rows: list[Row]) -> None:
    vocabulary = Vocabulary()
    for row in rows:
        try:
            build_lead(row, default_id="x", vocabulary=vocabulary)
        except ValueError:
            assert malformed_reason(row) is not None, row
        else:
            assert malformed_reason(row) is None, row


def test_write_sample(tmp_path: Path) -> None:
    files = write_sample(tmp_path / "demo", leads=1_000, seed=5)
    assert files.org.name == "org.yaml" and files.leads.name == "leads.csv"
    rows = generate_leads(sample_org_doc(5), 1_000, seed=5)
    with files.leads.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == leads_header(rows)
        assert [r["id"] for r in reader] == [r["id"] for r in rows]
    parsed = list(read_leads(files.leads))
    rejected = [p for p in parsed if p.lead is None]
    assert len(parsed) == 1_000 and len(rejected) == 2
    leads = [p.lead for p in parsed if p.lead is not None]
    assert leads[0].id == "lead-00001" and leads[0].received_at is not None
    again = write_sample(tmp_path / "again", leads=1_000, seed=5)
    assert again.leads.read_bytes() == files.leads.read_bytes()
    assert again.org.read_bytes() == files.org.read_bytes()
