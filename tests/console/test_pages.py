"""The console over HTTP on a real server on 127.0.0.1: login, roles, CSRF, escaping."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from leadroute.adapters.store.service_tables import lead_events
from leadroute.adapters.store.sql import Store
from leadroute.console import queries
from leadroute.domain.org import RepStatus
from tests.console.helpers import CONFIG, SCRIPT, Console, console, csrf, login


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    with console(store) as running:
        yield running


def test_pages_need_a_login(site: Console) -> None:
    for path in ("/console/", "/console/leads", "/console/leads/L1", "/console/reps"):
        answer = site.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/console/login?next=")
    wrong = site.client.post("/console/login", data={"username": "admin", "password": "x"})
    assert wrong.status_code == 403  # no session, no CSRF token


def test_a_wrong_password_is_refused(site: Console) -> None:
    token = csrf(site.client.get("/console/login").text)
    answer = site.client.post(
        "/console/login", data={"csrf": token, "username": "admin", "password": "nope-nope"}
    )
    assert answer.status_code == 401 and "Wrong username or password" in answer.text
    cookie = site.client.cookies.get("leadroute_console")
    assert cookie is not None
    assert site.client.get("/console/").status_code == 303


def test_admin_sees_every_page_and_the_decision_record(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        overview = admin.get("/console/")
        assert overview.status_code == 200
        assert "Speed to lead" in overview.text and "SLA breaches" in overview.text
        assert overview.headers["content-security-policy"].startswith("default-src 'self'")
        leads = admin.get("/console/leads")
        assert leads.status_code == 200 and "7 leads" in leads.text
        assert (
            admin.get("/console/leads", params={"q": "p3@c3"}).text.count('href="/console/leads/')
            == 1
        )
        routed = admin.get("/console/leads", params={"route": "fallback"}).text
        assert "Q1" in routed and "L1" not in routed
        lead = admin.get("/console/leads/L1")
        assert lead.status_code == 200
        assert "Decision record" in lead.text and "Pool candidates" in lead.text
        assert "territory" in lead.text and "assigned" in lead.text
        reps = admin.get("/console/reps")
        assert reps.status_code == 200 and "Pause" in reps.text
        assert (
            admin.get("/console/static/console.css").headers["content-type"].startswith("text/css")
        )
        assert admin.get("/console/leads/nope").status_code == 404


def test_the_overview_shows_data_completeness_to_admins(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        html = admin.get("/console/").text
        assert "7 leads captured this week" in html
        # six leads name their company, the French one does not
        row = re.search(r"<tr><td>company</td>(.*?)</tr>", html, re.S)
        assert row and re.findall(r'"num">([^<]+)<', row.group(1)) == ["1", "14.3%", "0"]
        assert "<tr><td>email</td>" not in html  # nothing missing: no row
    with login(site.base_url, "mia") as manager:
        assert "Data completeness" not in manager.get("/console/").text


def test_admin_pauses_and_resumes_a_rep(site: Console, store: Store) -> None:
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/reps").text)
        paused = admin.post("/console/reps/r2/status", data={"csrf": token, "status": "paused"})
        assert paused.status_code == 303
        assert store.load_org().reps["r2"].status is RepStatus.PAUSED
        assert "Resume Bo" in admin.get("/console/reps").text
        resumed = admin.post("/console/reps/r2/status", data={"csrf": token, "status": "active"})
        assert resumed.status_code == 303
        assert store.load_org().reps["r2"].status is RepStatus.ACTIVE
        bad = admin.post("/console/reps/r2/status", data={"csrf": token, "status": "inactive"})
        assert bad.status_code == 422


def test_posts_without_the_csrf_token_are_refused(site: Console, store: Store) -> None:
    with login(site.base_url, "admin") as admin:
        assert admin.post("/console/reps/r1/status", data={"status": "paused"}).status_code == 403
        forged = admin.post("/console/reps/r1/status", data={"csrf": "x" * 64, "status": "paused"})
        assert forged.status_code == 403
        assert store.load_org().reps["r1"].status is RepStatus.ACTIVE
        assert admin.post("/console/logout", data={}).status_code == 403
        assert admin.get("/console/").status_code == 200  # still logged in


def test_a_rep_sees_only_their_own_leads(site: Console) -> None:
    own = sorted(lead for lead, rep in site.leads.items() if rep == "r1")
    other = sorted(lead for lead, rep in site.leads.items() if rep != "r1")
    assert own and other, site.leads
    with login(site.base_url, "ada") as ada:
        listed = ada.get("/console/leads").text
        assert f"{len(own)} leads" in listed
        assert all(f">{lead}</a>" in listed for lead in own)
        assert not any(f">{lead}</a>" in listed for lead in other)
        assert ada.get(f"/console/leads/{own[0]}").status_code == 200
        assert ada.get(f"/console/leads/{other[0]}").status_code == 404
        assert ada.get("/console/leads/Q1").status_code == 404
        reps = ada.get("/console/reps").text
        assert "Ada" in reps and "Bo" not in reps and "Pause" not in reps


def test_a_manager_sees_the_team_but_cannot_pause(site: Console, store: Store) -> None:
    team = sorted(lead for lead, rep in site.leads.items() if rep in {"r1", "r2"})
    outside = sorted(lead for lead, rep in site.leads.items() if rep == "r3")
    with login(site.base_url, "mia") as mia:
        listed = mia.get("/console/leads").text
        assert f"{len(team)} leads" in listed
        if outside:
            assert mia.get(f"/console/leads/{outside[0]}").status_code == 404
        reps = mia.get("/console/reps").text
        # (by link: a bare "Cy" can turn up inside a random CSRF token)
        assert "/console/reps/r1" in reps and "/console/reps/r2" in reps
        assert "/console/reps/r3" not in reps
        token = csrf(reps)
        answer = mia.post("/console/reps/r1/status", data={"csrf": token, "status": "paused"})
        assert answer.status_code == 403
        assert store.load_org().reps["r1"].status is RepStatus.ACTIVE


def test_user_data_is_escaped(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        for path in ("/console/leads", "/console/leads/L0", "/console/reps"):
            html = admin.get(path).text
            assert "&lt;script&gt;" in html, path
            assert SCRIPT not in html, path
        search = admin.get("/console/leads", params={"q": SCRIPT}).text
        assert SCRIPT not in search


def test_logout_ends_the_session(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/").text)
        assert admin.post("/console/logout", data={"csrf": token}).status_code == 303
        assert admin.get("/console/").status_code == 303


def test_the_overview_counts_sla_breaches_in_scope(site: Console, store: Store) -> None:
    lead_id = next(lead for lead, rep in site.leads.items() if rep == "r1")
    with store.write() as conn:
        conn.execute(
            insert(lead_events).values(
                lead_id=lead_id, at=datetime.now(UTC), kind="escalated", rep_id="r1", actor="sla"
            )
        )
    with login(site.base_url, "admin") as admin:
        html = admin.get("/console/").text
        assert re.search(r"SLA breaches</h2><p class=\"big\">1<", html), html
        assert f'href="/console/leads/{lead_id}"' in html
    with login(site.base_url, "cy") as cy:  # r3 is not r1
        assert re.search(r"SLA breaches</h2><p class=\"big\">0<", cy.get("/console/").text)


def test_leads_are_filtered_and_paginated(site: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "PAGE", 2)
    with login(site.base_url, "admin") as admin:
        first = admin.get("/console/leads").text
        assert "7 leads; page 1 of 4" in first and "Next page" in first
        assert "Previous page" not in first
        last = admin.get("/console/leads", params={"page": 4}).text
        assert last.count('href="/console/leads/') == 1 and "Previous page" in last
        r3 = sorted(lead for lead, rep in site.leads.items() if rep == "r3")
        by_rep = admin.get("/console/leads", params={"rep": "r3", "status": "routed"}).text
        assert f"{len(r3)} leads" in by_rep
        assert admin.get("/console/leads", params={"status": "held"}).text.count("0 leads") == 1


def test_analytics_by_route_and_rep_with_csv(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        page = admin.get("/console/analytics")
        assert page.status_code == 200 and "Speed to lead and conversion" in page.text
        assert '<label for="by">Group by</label>' in page.text
        by_rep = admin.get("/console/analytics", params={"by": "rep"})
        for rep in set(site.leads.values()):
            assert f"<td>{rep}</td>" in by_rep.text
        exported = admin.get("/console/analytics.csv", params={"by": "rep"})
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert sum(int(r["leads"]) for r in rows) == 7  # six reps' leads and one queued
        assert admin.get("/console/analytics", params={"by": "moon"}).status_code == 400
        assert admin.get("/console/analytics", params={"since": "soon"}).status_code == 400
    with login(site.base_url, "ada") as rep:
        assert rep.get("/console/analytics").status_code == 403
        assert "Analytics" not in rep.get("/console/").text


def test_routing_versions_diff_and_draft_check(site: Console, store: Store) -> None:
    second = CONFIG.replace("name: ", "name: v2-", 1)
    store.save_config(content_hash="second", name="v2", document={}, source=second, activate=False)
    with login(site.base_url, "mia") as manager:
        page = manager.get("/console/routing")
        assert page.status_code == 200 and "Config versions" in page.text
        assert "<strong>active</strong>" in page.text
        diff = manager.get("/console/routing", params={"a": 1, "b": 2}).text
        assert "+name: v2-" in diff
        assert manager.get("/console/routing", params={"a": 1, "b": 9}).status_code == 404
        token = csrf(page.text)
        bad = CONFIG.replace("distribute:", "distribute: {pool: nowhere} #", 1)
        checked = manager.post(
            "/console/routing/validate", data={"csrf": token, "source": bad + SCRIPT}
        )
        assert checked.status_code == 200
        assert "Not valid." in checked.text and "nowhere" in checked.text
        assert SCRIPT not in checked.text  # the draft is shown back escaped
        good = manager.post("/console/routing/validate", data={"csrf": token, "source": CONFIG})
        assert "Valid against the current org." in good.text
        refused = manager.post("/console/routing/validate", data={"source": CONFIG})
        assert refused.status_code == 403
    with login(site.base_url, "ada") as rep:
        assert rep.get("/console/routing").status_code == 403


def test_backtest_a_draft_from_the_console(site: Console) -> None:
    everyone_to_bo = CONFIG.replace("then: {distribute: sales}", "then: {assign: r2}")
    assert everyone_to_bo != CONFIG
    with login(site.base_url, "admin") as admin:
        form = admin.get("/console/backtest")
        assert form.status_code == 200 and '<label for="since">' in form.text
        token = csrf(form.text)
        ran = admin.post(
            "/console/backtest",
            data={"csrf": token, "since": "2000-01-01", "source": everyone_to_bo},
        )
        assert ran.status_code == 200, ran.text
        moved = sum(1 for owner in site.leads.values() if owner != "r2")
        assert "would go somewhere else" in ran.text
        assert f"leads replayed; {moved} would go" in ran.text
        assert 'aria-label="Owner changes"' in ran.text and "Fairness" in ran.text
        broken = admin.post(
            "/console/backtest",
            data={"csrf": token, "since": "2000-01-01", "source": "flow: 3"},
        )
        assert "Result" not in broken.text and "error" in broken.text
        no_date = admin.post("/console/backtest", data={"csrf": token, "source": CONFIG})
        assert "give a start date" in no_date.text
    with login(site.base_url, "ada") as rep:
        assert rep.get("/console/backtest").status_code == 403


def test_a_lead_whose_id_holds_a_slash_has_its_page(site: Console) -> None:
    answer = site.client.post(
        "/v1/leads", json={"id": "web/2026/7", "email": "s@slash.com", "country": "US"}
    )
    assert answer.status_code == 201, answer.text
    with login(site.base_url, "admin") as admin:
        listed = admin.get("/console/leads", params={"q": "slash.com"}).text
        assert 'href="/console/leads/web/2026/7"' in listed
        page = admin.get("/console/leads/web/2026/7")
        assert page.status_code == 200 and "s@slash.com" in page.text
