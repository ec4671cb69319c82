"""Hostile text in every field the console shows back, over HTTP on 127.0.0.1.

Leads sent through the API carry markup, template syntax, `javascript:` URLs, SQL and Unicode
bidi controls in their id, email, names, company, title, city, source, website, free text and
custom fields; so do a rep's name and booking link, a node's name, a hold's reason and a queue's
message in the config. Every console page that shows them answers 200 as admin, never carries a
payload as markup (it is escaped), never evaluates template syntax (`{{7*7}}` stays as written,
not 49), links no `javascript:` URL, and the CSV export defuses spreadsheet formulas. Text that
cannot be stored (a NUL) is refused by the API before it reaches any page.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from markupsafe import escape

from leadroute.adapters.store.console_store import ConsoleUserStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Rep, Team, Territory, build_org
from tests.api.server import serve
from tests.console.helpers import PASSWORD, login
from tests.services.fixtures import activate

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "Z{{7*7}}Z"  # rendered by a template engine it would read Z49Z
RAW = "R{% raw %}R{% endraw %}"
JS = "javascript:alert(document.cookie)"
SQL = "' OR 1=1 --"
BIDI = "\u202e<b>fdp.exe</b>\u2066\u2069"
CELL = '=HYPERLINK("http://evil.example","x")'
MARKUP = [SCRIPT, IMG, BIDI, "</td></tr></table><h1>x</h1>", "<svg/onload=alert(1)>"]

NODE = f"Sales {IMG}"
HOLD = f"check {SCRIPT}"
MESSAGE = f"Thanks {SCRIPT} {TEMPLATE}"
CONFIG = f"""
name: injection
pools:
  sales: {{members: [r1, r2, r3], fairness_window: all}}
queues:
  nurture: {{message: {json.dumps(MESSAGE)}}}
flow:
  - id: held
    name: {json.dumps(f"Held {TEMPLATE}")}
    when: {{country: DE}}
    then: {{hold: {json.dumps(HOLD)}}}
  - id: sales
    name: {json.dumps(NODE)}
    when: {{territory: na}}
    then: {{distribute: sales}}
  - id: fallback
    fallback: true
    then: {{queue: nurture}}
"""

# Lead ids are shown and linked: ids with a '/' are listed but have no page of their own.
LEADS = [
    {
        "id": IMG,
        "email": "x'{{7*7}}@acme.com",
        "first_name": SCRIPT,
        "last_name": RAW,
        "company": TEMPLATE,
        "title": SQL,
        "city": BIDI,
        "lead_source": CELL,
        "website": JS,
        "description": "</textarea><svg/onload=alert(1)>",
        "favourite_colour": f"custom {IMG}",
        "country": "US",
    },
    {"id": TEMPLATE, "email": "t@tpl.io", "company": SCRIPT, "country": "DE"},
    {"id": SQL, "email": "q@sql.io", "company": IMG, "lead_source": SQL, "country": "FR"},
    {"id": BIDI, "email": "b@bidi.io", "company": RAW, "title": JS, "country": "US"},
    {"id": SCRIPT, "email": "s@script.io", "company": "Slash Inc", "country": "US"},
]


@dataclass
class Site:
    base_url: str
    api: httpx.Client
    answers: list[dict[str, object]]


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    reps = [
        Rep(id="r1", name=f"Ada {SCRIPT}", email="r1@vendor.com", teams=("sales",)),
        Rep(id="r2", name=IMG, email="r2@vendor.com", teams=("sales",), booking_link=JS),
        Rep(id="r3", name=f"Cy {TEMPLATE} {SQL}", email="r3@vendor.com", teams=("sales",)),
    ]
    org = build_org(
        reps=reps,
        teams=[Team("sales", f"Sales {BIDI}", ("r1", "r2", "r3"))],
        territories=[Territory("na", "NA", frozenset({"US"}))],
    )
    activate(store, org, CONFIG)
    ConsoleUserStore(store).add("admin", PASSWORD, role="admin", rep_id=None)
    with serve(create_app(store, auth=False)) as api:
        answers = []
        for lead in LEADS:
            answer = api.post("/v1/leads", json=lead)
            assert answer.status_code == 201, answer.text
            answers.append(answer.json())
        bulk = api.post(
            "/v1/leads/bulk", json={"leads": [{"id": f"bad {SCRIPT}", "employees": IMG}]}
        )
        assert bulk.json()["results"][0]["outcome"] == "rejected"  # its reason quotes the value
        yield Site(str(api.base_url), api, answers)


def assert_safe(html: str, where: str) -> None:
    """No payload as markup, no template evaluated, no javascript: link."""
    for payload in MARKUP:
        assert payload not in html, (where, payload)
    assert "Z49Z" not in html, where
    assert 'href="javascript:' not in html.lower() and "href='javascript:" not in html.lower()
    assert "<script" not in html.lower(), where  # the console has no scripts at all


def pages(site: Site) -> list[str]:
    lead_pages = [
        f"/console/leads/{urllib.parse.quote(str(a['lead_id']), safe='')}"
        for a in site.answers
        if "/" not in str(a["lead_id"])
    ]
    return [
        "/console/",
        "/console/leads",
        *lead_pages,
        "/console/reps",
        "/console/reps/r1",
        "/console/reps/r2",
        "/console/reps/r3",
        "/console/reps/calendar",
        "/console/routing",
        "/console/analytics?by=rep",
        "/console/analytics?by=route",
        "/console/analytics?by=source",
        "/console/analytics/fairness",
        "/console/analytics/criteria",
        "/console/backtest",
    ]


def test_every_page_shows_hostile_text_escaped(site: Site) -> None:
    shown: dict[str, str] = {}
    with login(site.base_url, "admin") as admin:
        for path in pages(site):
            answer = admin.get(path)
            assert answer.status_code == 200, (path, answer.text[:500])
            assert answer.headers["content-security-policy"].startswith("default-src 'self'")
            assert_safe(answer.text, path)
            shown[path] = answer.text
    everything = "\n".join(shown.values())
    # The payloads were shown (escaped), so the checks above looked at real output.
    for payload in (SCRIPT, IMG, BIDI, NODE, HOLD):
        assert str(escape(payload)) in everything, payload
    assert TEMPLATE in everything and "R{% raw %}R{% endraw %}" in everything
    assert str(escape(SQL)) in everything
    lead = shown[f"/console/leads/{urllib.parse.quote(IMG, safe='')}"]
    assert str(escape(f"custom {IMG}")) in lead and str(escape(JS)) in lead
    assert str(escape("x'{{7*7}}@acme.com")) in lead
    assert str(escape(NODE)) in lead  # the node's name in the decision record
    held = shown[f"/console/leads/{urllib.parse.quote(TEMPLATE, safe='')}"]
    assert str(escape(HOLD)) in held and "held" in held
    assert str(escape(f"Ada {SCRIPT}")) in shown["/console/reps"]
    rep = shown["/console/reps/r2"]
    assert str(escape(IMG)) in rep and str(escape(JS)) in rep  # shown, not linked


def test_a_lead_id_with_a_slash_is_listed_escaped(site: Site) -> None:
    with login(site.base_url, "admin") as admin:
        listed = admin.get("/console/leads", params={"q": "s@script.io"})
        assert listed.status_code == 200 and "<p>1 leads</p>" in listed.text
        assert_safe(listed.text, "slash id")
        assert f">{escape(SCRIPT)}</a>" in listed.text
        link = listed.text.split('href="/console/leads/', 1)[1].split('"', 1)[0]
        assert "%3Cscript%3E" in link  # the id in the URL is percent-encoded, not markup
        followed = admin.get(f"/console/leads/{link}")
        assert followed.status_code < 500
        assert_safe(followed.text, "slash id page")


def test_searches_and_query_text_are_shown_back_escaped(site: Site) -> None:
    with login(site.base_url, "admin") as admin:
        for query in (SCRIPT, IMG, TEMPLATE, RAW, BIDI):
            answer = admin.get("/console/leads", params={"q": query})
            assert answer.status_code == 200, (query, answer.text[:300])
            assert_safe(answer.text, f"search {query!r}")
            assert f'value="{escape(query)}"' in answer.text
        # SQL in a search is a string to look for, not SQL: it finds the two leads holding
        # it (one by id, one by title), not every lead.
        injected = admin.get("/console/leads", params={"q": SQL})
        assert "<p>2 leads</p>" in injected.text, injected.text
        assert f"<p>{len(LEADS) + 1} leads</p>" in admin.get("/console/leads").text
        notice = admin.get("/console/routing", params={"notice": SCRIPT})
        assert notice.status_code == 200
        assert_safe(notice.text, "routing notice")
        assert admin.get("/console/leads", params={"q": "a\x00b"}).status_code == 400


def test_config_versions_and_their_diff_show_the_source_escaped(site: Site) -> None:
    second = CONFIG.replace("name: injection", f"name: {json.dumps('v2 ' + IMG)}", 1)
    saved = site.api.post("/v1/configs", json={"source": second})
    assert saved.status_code == 201, saved.text
    with login(site.base_url, "admin") as admin:
        diff = admin.get("/console/routing", params={"a": 1, "b": saved.json()["seq"]})
        assert diff.status_code == 200
        assert_safe(diff.text, "routing diff")
        assert str(escape(json.dumps("v2 " + IMG))) in diff.text


def test_the_csv_export_defuses_formulas(site: Site) -> None:
    with login(site.base_url, "admin") as admin:
        exported = admin.get("/console/analytics.csv", params={"by": "source"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.headers["x-content-type-options"] == "nosniff"
        assert exported.headers["content-disposition"].startswith("attachment")
        cells = [cell for row in csv.reader(io.StringIO(exported.text)) for cell in row]
        assert "'" + CELL in cells  # a spreadsheet shows it as text, never runs it
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells if cell)
        assert SQL in cells  # a quote, not a formula: kept as written


def test_text_that_cannot_be_stored_never_reaches_a_page(site: Site, store: Store) -> None:
    before = sum(store.lead_counts().values())
    for lead in (
        {"email": "n@nul.io", "company": "Ac\x00me"},
        {"id": "L\x00", "email": "n@nul.io"},
        {"email": "n@nul.io", "favourite_colour": "x" * 40_000},
    ):
        refused = site.api.post("/v1/leads", json=lead)
        assert refused.status_code == 422, refused.text
    assert sum(store.lead_counts().values()) == before
    with login(site.base_url, "admin") as admin:
        assert admin.get("/console/leads").status_code == 200
