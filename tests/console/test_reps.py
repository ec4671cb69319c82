"""The reps pages over HTTP on a real server on 127.0.0.1 (SQLite and PostgreSQL): a rep's page,
admins' changes, the out-of-office calendar, deactivation with its preview; roles, CSRF and
escaping."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from markupsafe import escape

from leadroute.adapters.store.sql import Store
from leadroute.domain.org import Caps, RepStatus
from tests.console.helpers import SCRIPT, Console, console, csrf, login
from tests.services.test_reps import ACCESS_TABLES, snapshot


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    with console(store) as running:
        yield running


def own(site: Console, rep_id: str) -> list[str]:
    return sorted(lead for lead, rep in site.leads.items() if rep == rep_id)


def settings(token: str, **values: str) -> dict[str, str]:
    """The settings form as r1 has it in the fixture, with `values` changed."""
    form = {"cap_day": "", "cap_week": "", "cap_month": "", "weight": "1", "timezone": "UTC"}
    return {"csrf": token, **form, "working_hours": "", **values}


def route(site: Console, n: int, start: int = 10) -> dict[str, str | None]:
    """Route `n` new leads in the sales territory: lead id -> rep."""
    owners = {}
    for i in range(start, start + n):
        lead = {"id": f"N{i}", "email": f"n{i}@n{i}.com", "company": f"N {i}", "country": "US"}
        body = site.client.post("/v1/leads", json=lead).json()
        owners[body["lead_id"]] = (body.get("rep") or {}).get("id")
    return owners


def candidates(site: Console, lead_id: str) -> dict[str, dict[str, object]]:
    """The pool candidates of the lead's current decision, by rep."""
    records = site.client.get(f"/v1/leads/{lead_id}/decisions").json()
    nodes = next(r for r in records if r["current"])["nodes"]
    return {c["rep"]: c for c in nodes[-1]["candidates"]}


def cells(page: str, rep_name: str) -> dict[str, str]:
    """The calendar row of a rep: day -> the cell's class."""
    row = re.search(rf">{re.escape(rep_name)}</a>.*?</tr>", page, re.S)
    assert row, f"no calendar row for {rep_name}"
    return dict(re.findall(r'<td data-day="([\d-]+)" class="([^"]*)"', row.group(0)))


def hand_offs(page: str) -> dict[str, str]:
    """A preview's or result's table: lead id -> where it goes, in words."""
    rows = re.findall(r'<tr data-lead="([^"]+)"><td>.*?</td><td>(.*?)</td>', page, re.S)
    return {lead: re.sub(r"<[^>]+>", "", where).strip() for lead, where in rows}


def test_a_reps_page_shows_details_load_and_open_leads(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        listed = admin.get("/console/reps").text
        assert 'href="/console/reps/r1">Ada</a>' in listed
        assert 'href="/console/reps/calendar"' in listed
        page = admin.get("/console/reps/r1")
        assert page.status_code == 200
        text = page.text
        assert "<h1>Ada" in text and "Sales" in text and "UTC" in text
        for lead in own(site, "r1"):
            assert f'href="/console/leads/{lead}">{lead}</a>' in text
        assert not any(f">{lead}</a>" in text for lead in own(site, "r2"))
        load = re.search(r'<th scope="row">open now</th><td class="num">(\d+)</td>', text)
        assert load and int(load.group(1)) == len(own(site, "r1"))
        today = re.search(r'<th scope="row">today</th><td class="num">(\d+)</td>', text)
        assert today and int(today.group(1)) == len(own(site, "r1"))
        assert "no cap" in text and "In pools sales" in text
        for name in ("cap_day", "cap_week", "cap_month", "weight", "timezone", "working_hours"):
            assert f'<label for="{name}">' in text and f'id="{name}"' in text
        assert 'href="/console/reps/r1/deactivate">Deactivate…</a>' in text
        assert admin.get("/console/reps/ghost").status_code == 404


def test_caps_changed_in_the_console_are_obeyed_by_routing(site: Console, store: Store) -> None:
    assigned = len(own(site, "r1"))
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/reps/r1").text)
        saved = admin.post(
            "/console/reps/r1/settings",
            data=settings(token, cap_day=str(assigned), cap_month="50", weight="2"),
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/console/reps/r1?saved=settings"
        page = admin.get(saved.headers["location"]).text
        assert "Caps, weight and hours saved" in page
        assert re.search(rf'<td class="num">{assigned}</td><td class="num">0</td>', page)
    rep = Store(store.url)  # read back by another connection: the change is stored
    try:
        stored = rep.load_org().reps["r1"]
    finally:
        rep.dispose()
    assert stored.caps == Caps(day=assigned, month=50) and stored.weight == 2
    owners = route(site, 4)
    assert "r1" not in owners.values() and set(owners.values()) <= {"r2", "r3"}
    skipped = candidates(site, "N10")["r1"]
    assert skipped["reason"] == "cap reached"
    assert skipped["detail"] == f"{assigned}/{assigned} this day"


def test_bad_settings_are_refused_with_the_field_named(site: Console, store: Store) -> None:
    before = store.load_org().reps["r1"]
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/reps/r1").text)
        refused = admin.post(
            "/console/reps/r1/settings",
            data=settings(
                token,
                cap_day="3",  # valid, but the change is all or nothing
                cap_week="-1",
                cap_month="many",
                weight="0",
                timezone="Mars/Base",
                working_hours="mon-fri 9-5",
            ),
        )
        assert refused.status_code == 422
        page = refused.text
        assert "Nothing was saved." in page
        for name, label in (
            ("cap_week", "Cap per week"),
            ("cap_month", "Cap per month"),
            ("weight", "Weight"),
            ("timezone", "Time zone"),
            ("working_hours", "Working hours"),
        ):
            assert f'<a href="#{name}">{label}</a>' in page, name
        assert "greater than or equal to 0" in page and "unknown time zone" in page
        assert "should look like 09:00-17:30" in page
        assert page.count('aria-invalid="true"') == 5
        assert 'value="many"' in page  # the form keeps what was typed
        bad_day = admin.post(
            "/console/reps/r1/out-of-office",
            data={"csrf": token, "ooo_start": "2026-12-10", "ooo_end": "2026-12-01"},
        )
        assert bad_day.status_code == 422
        assert '<a href="#ooo_end">Out of office: last day</a>' in bad_day.text
        assert "the end is before the start" in bad_day.text
    assert store.load_org().reps["r1"] == before


def test_out_of_office_skips_the_rep_and_marks_the_calendar(site: Console, store: Store) -> None:
    today = datetime.now(UTC).date()
    last = today + timedelta(days=2)
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/reps/r1").text)
        added = admin.post(
            "/console/reps/r1/out-of-office",
            data={
                "csrf": token,
                "ooo_start": today.isoformat(),
                "ooo_end": last.isoformat(),
                "ooo_reason": "Vacation",
            },
        )
        assert added.status_code == 303
        page = admin.get(added.headers["location"]).text
        assert f"{today} to {last}" in page and "Vacation" in page
        assert "out of office (Vacation) until" in page
        owners = route(site, 3)
        assert "r1" not in owners.values()
        away = candidates(site, "N10")["r1"]
        assert away["reason"] == "out of office" and "Vacation until" in str(away["detail"])

        hours = admin.post(
            "/console/reps/r2/settings",
            data=settings(token, working_hours="mon-fri 08:00-18:00"),
        )
        assert hours.status_code == 303
        assert "mon-fri 08:00-18:00" in admin.get("/console/reps/r2").text

        start = today - timedelta(days=1)
        calendar = admin.get("/console/reps/calendar", params={"from": start.isoformat()})
        assert calendar.status_code == 200
        ada = cells(calendar.text, "Ada")
        assert len(ada) == 28 and min(ada) == start.isoformat()
        marked = sorted(day for day, cls in ada.items() if "ooo" in cls)
        assert marked == [(today + timedelta(days=i)).isoformat() for i in range(3)]
        assert 'title="Vacation"' in calendar.text
        assert "out of office: Vacation</span>" in calendar.text
        assert not any("off" in cls for cls in ada.values())  # no working hours: every day
        bo = cells(calendar.text, "Bo")
        weekend = {d for d in bo if date.fromisoformat(d).weekday() >= 5}
        assert weekend and {d for d, cls in bo.items() if "off" in cls} == weekend
        assert not any("ooo" in cls for cls in bo.values())

        later = admin.get("/console/reps/calendar", params={"from": "2030-01-07"}).text
        assert "2030-01-07 to 2030-02-03" in later
        assert 'href="/console/reps/calendar?from=2030-02-04"' in later
        assert admin.get("/console/reps/calendar", params={"from": "soon"}).status_code == 400

        page = admin.get("/console/reps/r1").text
        bounds = re.search(
            r'name="start" value="([^"]+)">\s*<input type="hidden" name="end" value="([^"]+)"',
            page,
        )
        assert bounds
        removed = admin.post(
            "/console/reps/r1/out-of-office/remove",
            data={"csrf": token, "start": bounds.group(1), "end": bounds.group(2)},
        )
        assert removed.status_code == 303
        assert store.load_org().reps["r1"].out_of_office == ()
        again = admin.post(
            "/console/reps/r1/out-of-office/remove",
            data={"csrf": token, "start": bounds.group(1), "end": bounds.group(2)},
        )
        assert again.status_code == 404


def test_the_calendar_shows_the_reps_the_user_may_see(site: Console) -> None:
    with login(site.base_url, "ada") as rep:
        page = rep.get("/console/reps/calendar").text
        assert ">Ada</a>" in page and ">Bo</a>" not in page
        assert rep.get("/console/reps/r1").status_code == 200
        assert rep.get("/console/reps/r2").status_code == 404
        assert "Save caps" not in rep.get("/console/reps/r1").text
    with login(site.base_url, "mia") as manager:
        page = manager.get("/console/reps/calendar").text
        assert ">Ada</a>" in page and ">Bo</a>" in page and ">Cy" not in page
        assert manager.get("/console/reps/r3").status_code == 404
        mine = manager.get("/console/reps/r2").text
        assert "Deactivate…" not in mine and "Save caps" not in mine


def test_the_preview_writes_nothing_and_matches_the_hand_off(site: Console, store: Store) -> None:
    leaving = own(site, "r1")
    assert leaving
    with login(site.base_url, "admin") as admin:
        before = snapshot(store, skip=ACCESS_TABLES)
        preview = admin.get("/console/reps/r1/deactivate")
        assert snapshot(store, skip=ACCESS_TABLES) == before
        assert preview.status_code == 200
        assert "The actual result can differ" in preview.text
        expected = hand_offs(preview.text)
        assert sorted(expected) == leaving
        assert all(where.startswith(("rep r2", "rep r3")) for where in expected.values())
        assert store.load_org().reps["r1"].status is RepStatus.ACTIVE

        encoded = re.search(r'name="preview" value="([^"]*)"', preview.text)
        assert encoded
        done = admin.post(
            "/console/reps/r1/deactivate",
            data={"csrf": csrf(preview.text), "preview": html.unescape(encoded.group(1))},
        )
        assert done.status_code == 200
        assert "Every lead went where the preview said." in done.text
        assert hand_offs(done.text) == expected
        assert store.load_org().reps["r1"].status is RepStatus.INACTIVE
        owners = {s.lead.id: s.owner_id for s in store.leads(status="routed")}
        assert {lead: f"rep {owners[lead]}" for lead in leaving} == {
            lead: where.split(" by route")[0] for lead, where in expected.items()
        }
        twice = admin.post(
            "/console/reps/r1/deactivate", data={"csrf": csrf(preview.text), "preview": "[]"}
        )
        assert twice.status_code == 409
        assert "inactive already" in admin.get("/console/reps/r1/deactivate").text


def test_the_confirmation_shows_what_changed_since_the_preview(site: Console) -> None:
    *rest, worked = own(site, "r2")  # the newest: the leads before it are decided as before
    with login(site.base_url, "admin") as admin:
        preview = admin.get("/console/reps/r2/deactivate").text
        assert worked in hand_offs(preview)
        assert site.client.post(f"/v1/leads/{worked}/actions/convert").status_code == 200
        encoded = re.search(r'name="preview" value="([^"]*)"', preview)
        assert encoded
        done = admin.post(
            "/console/reps/r2/deactivate",
            data={"csrf": csrf(preview), "preview": html.unescape(encoded.group(1))},
        ).text
        assert "1 lead went elsewhere than previewed" in done
        assert f'<tr data-lead="{worked}">' in done
        assert "not handed on (worked or moved in the meantime)" in done
        assert set(hand_offs(done)) >= set(rest)
        garbled = admin.post(
            "/console/reps/r3/deactivate", data={"csrf": csrf(preview), "preview": "{oops"}
        )
        assert garbled.status_code == 200 and "nothing to compare" in garbled.text


def change_requests(token: str) -> list[tuple[str, dict[str, str]]]:
    """Every change the reps pages make, as (path, form) for r1."""
    return [
        ("/console/reps/r1/status", {"csrf": token, "status": "paused"}),
        ("/console/reps/r1/settings", settings(token, cap_day="0")),
        (
            "/console/reps/r1/out-of-office",
            {"csrf": token, "ooo_start": "2030-01-01", "ooo_end": "2030-01-02"},
        ),
        (
            "/console/reps/r1/out-of-office/remove",
            {
                "csrf": token,
                "start": "2030-01-01T00:00:00+00:00",
                "end": "2030-01-03T00:00:00+00:00",
            },
        ),
        ("/console/reps/r1/deactivate", {"csrf": token, "preview": "[]"}),
    ]


def test_managers_and_reps_may_not_change_reps(site: Console, store: Store) -> None:
    before = snapshot(store, skip=ACCESS_TABLES)
    for username in ("mia", "ada"):
        with login(site.base_url, username) as user:
            token = csrf(user.get("/console/reps/r1").text)
            for path, data in change_requests(token):
                answer = user.post(path, data=data)
                assert answer.status_code == 403, (username, path)
                assert "is for admins" in answer.text
            assert user.get("/console/reps/r1/deactivate").status_code == 403
    assert snapshot(store, skip=ACCESS_TABLES) == before


def test_changes_without_the_csrf_token_are_refused(site: Console, store: Store) -> None:
    before = snapshot(store, skip=ACCESS_TABLES)
    with login(site.base_url, "admin") as admin:
        admin.get("/console/reps/r1")
        for path, data in change_requests("x" * 64):
            assert admin.post(path, data=data).status_code == 403, path
            del data["csrf"]
            assert admin.post(path, data=data).status_code == 403, path
    with httpx.Client(base_url=site.base_url) as stranger:  # no session at all
        for path, data in change_requests(""):
            assert stranger.post(path, data=data).status_code in (303, 403), path
    assert snapshot(store, skip=ACCESS_TABLES) == before


def test_rep_names_and_reasons_are_escaped_on_every_page(site: Console) -> None:
    escaped = str(escape(SCRIPT))
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/reps/r3").text)
        added = admin.post(
            "/console/reps/r3/out-of-office",
            data={
                "csrf": token,
                "ooo_start": "2030-01-01",
                "ooo_end": "2030-01-01",
                "ooo_reason": SCRIPT,
            },
        )
        assert added.status_code == 303
        pages = {
            "rep": admin.get("/console/reps/r3").text,
            "calendar": admin.get("/console/reps/calendar", params={"from": "2029-12-31"}).text,
            "refused": admin.post(
                "/console/reps/r3/settings", data=settings(token, timezone=SCRIPT)
            ).text,
            "preview": admin.get("/console/reps/r3/deactivate").text,
        }
        pages["result"] = admin.post(
            "/console/reps/r3/deactivate", data={"csrf": token, "preview": "[]"}
        ).text
        for name, page in pages.items():
            assert "&lt;script&gt;" in page, name
            assert SCRIPT not in page and "<script>" not in page, name
        assert escaped in pages["calendar"]  # the reason, in the cell's hidden text
