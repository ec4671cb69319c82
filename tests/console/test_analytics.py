"""The analytics pages over HTTP on a real server on 127.0.0.1: fairness over time and which
criteria convert best, with their charts, tables and CSV exports; roles and escaping."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.services.lifecycle import act
from tests.console.helpers import SCRIPT, Console, console, login

ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
PAGES = (
    "/console/analytics/fairness",
    "/console/analytics/fairness.csv",
    "/console/analytics/criteria",
    "/console/analytics/criteria.csv",
)


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    """The console's org and leads (two to each of r1, r2 and r3; Q1 to a queue); L0, whose
    company is a script, converted and L1 disqualified."""
    with console(store) as running:
        now = datetime.now(UTC)
        act(store, "L0", "convert", now=now)
        act(store, "L1", "disqualify", now=now)
        yield running


def _svg(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_the_analytics_page_links_to_fairness_and_criteria(site: Console) -> None:
    with login(site.base_url, "mia") as manager:
        page = manager.get("/console/analytics").text
        assert 'href="/console/analytics/fairness"' in page
        assert 'href="/console/analytics/criteria"' in page


def test_fairness_page_chart_table_and_escaping(site: Console) -> None:
    today = datetime.now(UTC).date().isoformat()
    with login(site.base_url, "admin") as admin:
        page = admin.get("/console/analytics/fairness")
        assert page.status_code == 200 and "<h1>Fairness over time</h1>" in page.text
        for field in ("since", "until", "period", "by", "metric"):
            assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text
        [chart] = _svg(page.text)
        assert 'role="img"' in chart and 'aria-label="Spread (most minus fewest leads)' in chart
        assert f"<title>sales, {today}: 0</title>" in chart  # a point with its tooltip
        assert "day (UTC)" in chart and ">leads</text>" in chart  # axis labels
        # rep r3's name holds a script: shown escaped in the per-rep cell, never as markup
        assert SCRIPT not in page.text and f"Cy {ESCAPED} (r3) 2" in page.text
        assert "Ada (r1) 2" in page.text and "Bo (r2) 2" in page.text
        weekly = admin.get(
            "/console/analytics/fairness", params={"period": "week", "by": "team", "metric": "gini"}
        )
        assert weekly.status_code == 200 and "Gini coefficient per week and team" in weekly.text
        assert re.search(r"<td>\d{4}-W\d\d</td>\s*<td>sales</td>", weekly.text)
        for bad in ({"period": "month"}, {"by": "moon"}, {"metric": "x"}, {"since": "soon"}):
            assert admin.get("/console/analytics/fairness", params=bad).status_code == 400, bad
        long_ago = {"since": "2000-01-01", "until": "2000-02-01"}
        empty = admin.get("/console/analytics/fairness", params=long_ago)
        assert "No lead was assigned from 2000-01-01 to 2000-02-01" in empty.text


def test_fairness_csv(site: Console) -> None:
    with login(site.base_url, "mia") as manager:
        exported = manager.get("/console/analytics/fairness.csv")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.headers["content-disposition"].startswith(
            'attachment; filename="fairness-pool-day-since-'
        )
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [(r["scope"], r["per_rep"], r["spread"], r["gini"]) for r in rows] == [
            ("sales", "r1=2;r2=2;r3=2", "0", "0.0"),
            ("sales", "r1=2;r2=2;r3=2", "0", "0.0"),
        ]
        assert (
            rows[-1]["period"] == "all"
            and rows[0]["period"] == datetime.now(UTC).date().isoformat()
        )


def test_criteria_page_chart_table_and_escaping(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        page = admin.get("/console/analytics/criteria")
        assert page.status_code == 200 and "<h1>Which criteria convert best</h1>" in page.text
        assert '<label for="min_leads">' in page.text and '<label for="other">' in page.text
        assert page.text.count('type="checkbox"') == page.text.count('<label for="field-')
        assert 'value="fit_tier" checked' in page.text and 'value="rep">' in page.text
        assert "7 leads; 2 closed, 1 converted: overall conversion 50.0%" in page.text
        chosen = admin.get(
            "/console/analytics/criteria",
            params=[("field", "company"), ("field", "route, rep"), ("min_leads", "1")],
        )
        assert chosen.status_code == 200
        text = chosen.text
        assert SCRIPT not in text
        charts = _svg(text)
        assert len(charts) == 3 and all('role="img"' in c for c in charts)
        company = charts[0]
        assert 'aria-label="Conversion by company, with 95% intervals"' in company
        assert f"<title>{ESCAPED}</title>" in company  # the bar's label, escaped in the SVG
        assert "stroke-dasharray" in company  # the line of all leads' conversion
        assert f"<td>{ESCAPED}</td>" in text  # and in the table
        assert 'value="company, route, rep"' not in text  # route and rep are checkboxes
        assert (
            'value="rep" checked' in text
            and 'id="other" name="field" type="text" value="company"' in text
        )
        for bad in ({"min_leads": "many"}, {"min_leads": "0"}, {"field": "shoe_size"}):
            answer = admin.get("/console/analytics/criteria", params=bad)
            assert answer.status_code == 400, bad
        assert (
            "unknown criterion &#39;shoe_size&#39;"
            in admin.get("/console/analytics/criteria", params={"field": "shoe_size"}).text
        )


def test_criteria_csv(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        exported = admin.get(
            "/console/analytics/criteria.csv",
            params=[("field", "company"), ("field", "rep"), ("min_leads", "1")],
        )
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = {(r["criterion"], r["value"]): r for r in csv.DictReader(io.StringIO(exported.text))}
        script = rows[("company", SCRIPT)]  # CSV is not HTML: the value as it was sent
        assert (script["closed"], script["converted"], script["conversion"]) == ("1", "1", "1.0")
        assert script["lift"] == "2.0" and script["signal"] == "unclear"
        assert sum(int(r["leads"]) for (c, _), r in rows.items() if c == "rep") == 7


def test_reps_may_not_see_analytics(site: Console) -> None:
    with login(site.base_url, "ada") as rep:
        for path in PAGES:
            assert rep.get(path).status_code == 403, path
    for path in PAGES:
        answer = site.client.get(path)
        assert answer.status_code == 303 and "/console/login" in answer.headers["location"]
