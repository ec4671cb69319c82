"""The console in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
log in from the keyboard, open every page, follow a lead to its trace, pause a rep, change a
rep's cap and out of office, deactivate a rep after the preview, draw the flow graph, store a
draft and backtest it, open the analytics pages; a screenshot of each page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from leadroute.adapters.store.sql import Store
from leadroute.domain.org import RepStatus
from tests.console.helpers import CONFIG, PASSWORD, Console, console

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
DRAFT = (
    CONFIG.replace("name: console-test", "name: all-to-bo")
    .replace("then: {distribute: sales}", "then: {assign: r2}")
    .lstrip()
)  # a textarea drops a leading newline

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def browser_page(sqlite_store: Store) -> Iterator[tuple[Page, Console]]:
    with console(sqlite_store) as site, playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            yield page, site
        finally:
            browser.close()


def test_log_in_browse_follow_a_lead_and_pause_a_rep(
    browser_page: tuple[Page, Console], sqlite_store: Store, tmp_path: Path
) -> None:
    page, site = browser_page
    expect = playwright_sync.expect
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    p = page
    p.goto(f"{site.base_url}/console/")
    expect(p).to_have_url(f"{site.base_url}/console/login?next=/console/")
    shot("login")
    username = p.get_by_label("Username")
    expect(username).to_be_focused()  # autofocus: typing starts at once
    p.keyboard.type("admin")
    p.keyboard.press("Tab")
    expect(p.get_by_label("Password")).to_be_focused()
    p.keyboard.type(PASSWORD)
    p.keyboard.press("Enter")
    expect(p).to_have_url(f"{site.base_url}/console/")
    expect(p.get_by_role("heading", name="Overview")).to_be_visible()
    shot("overview")

    p.get_by_role("link", name="Leads", exact=True).click()
    expect(p.get_by_role("heading", name="Leads")).to_be_visible()
    search = p.get_by_label("Search (id, email, company)")
    search.fill("p1@c1.com")
    search.press("Enter")  # the filter form submits from the keyboard
    expect(p.get_by_text("1 leads")).to_be_visible()
    shot("leads")
    p.get_by_role("link", name="L1", exact=True).click()
    expect(p).to_have_url(f"{site.base_url}/console/leads/L1")
    trace = p.get_by_role("heading", name="Decision record")
    expect(trace).to_be_visible()
    expect(p.get_by_role("table", name="Pool candidates")).to_be_visible()
    expect(p.locator("ol.nodes > li.matched")).to_have_count(1)  # first match wins
    shot("lead")

    p.get_by_role("link", name="Reps", exact=True).click()
    expect(p.get_by_role("heading", name="Reps")).to_be_visible()
    pause = p.get_by_role("button", name="Pause Bo")
    pause.focus()
    p.keyboard.press("Enter")
    expect(p.get_by_role("button", name="Resume Bo")).to_be_visible()
    assert sqlite_store.load_org().reps["r2"].status is RepStatus.PAUSED
    shot("reps")

    p.get_by_role("link", name="Ada", exact=True).click()
    expect(p.get_by_role("heading", name="Load and caps")).to_be_visible()
    per_day = p.get_by_label("Per day")
    per_day.fill("5")
    per_day.press("Enter")  # saves caps, weight and hours from the keyboard
    expect(p.get_by_role("table", name="Load against caps")).to_contain_text("5")
    assert sqlite_store.load_org().reps["r1"].caps.day == 5
    p.get_by_label("First day").fill("2030-01-07")
    p.get_by_label("Last day").fill("2030-01-09")
    p.get_by_label("Reason").fill("vacation")
    p.get_by_role("button", name="Add out of office").click()
    expect(p.get_by_role("table", name="Out-of-office periods")).to_contain_text("vacation")
    shot("rep")
    p.goto(f"{site.base_url}/console/reps/calendar?from=2030-01-06")
    expect(p.get_by_role("heading", name="Out-of-office calendar")).to_be_visible()
    expect(p.get_by_text("vacation").first).to_be_attached()
    shot("calendar")
    p.goto(f"{site.base_url}/console/reps/r1")
    p.get_by_role("link", name="Deactivate…").click()
    preview = p.get_by_role("table", name="Who would take over each open lead")
    expect(preview).to_be_visible()
    shot("deactivate")
    owned = sum(1 for owner in site.leads.values() if owner == "r1")
    assert owned > 0
    p.get_by_role("button", name=f"Deactivate Ada and hand on {owned} lead").click()
    expect(p.get_by_role("heading", name="Ada (r1) is deactivated")).to_be_visible()
    assert sqlite_store.load_org().reps["r1"].status is RepStatus.INACTIVE

    p.get_by_role("link", name="Analytics", exact=True).click()
    expect(p.get_by_role("heading", name="Speed to lead and conversion")).to_be_visible()
    p.get_by_label("Group by").select_option("rep")
    p.get_by_role("button", name="Show").click()
    expect(p.get_by_role("columnheader", name="rep", exact=True)).to_be_visible()
    shot("analytics")
    p.get_by_role("link", name="Fairness over time").click()
    expect(p.get_by_role("heading", name="Fairness over time")).to_be_visible()
    p.get_by_label("Assigned from").fill("2000-01-01")
    p.get_by_role("button", name="Show").click()
    expect(p.get_by_role("img").first).to_be_visible()  # the chart
    shot("fairness")
    p.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    p.get_by_role("link", name="Which criteria convert best").click()
    expect(p.get_by_role("heading", name="Which criteria convert best")).to_be_visible()
    shot("criteria")

    p.get_by_role("link", name="Routing", exact=True).click()
    expect(p.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    p.get_by_label("Decisions from").fill("2000-01-01")
    p.get_by_role("button", name="Show counts").click()
    graph = p.get_by_role("img", name="Flow of config #1 console-test with counts")
    expect(graph).to_be_visible()
    expect(graph.locator("g.box.node, g.box.fallback")).to_have_count(2)
    # six leads took the pool, and Ada's leads took it again when she left
    handed_on = sum(1 for owner in site.leads.values() if owner == "r1")
    expect(graph.get_by_text(f"yes {6 + handed_on}", exact=True)).to_be_visible()
    shot("routing")
    draft = p.get_by_label("Draft config (YAML)")
    draft.fill(DRAFT)
    p.get_by_role("button", name="Check and store as draft").click()
    expect(p.get_by_text("Stored as draft #2")).to_be_visible()
    p.get_by_role("link", name="Backtest #2").click()
    expect(p.get_by_label("Draft config (YAML)")).to_have_value(DRAFT)
    since = p.get_by_label("Leads captured since")
    since.fill("2000-01-01")
    since.press("Enter")  # the form submits from the keyboard
    expect(p.get_by_role("table", name="Owner changes")).to_be_visible()
    expect(p.get_by_text("would go somewhere else")).to_be_visible()
    shot("backtest")

    p.get_by_role("button", name="Log out").click()
    expect(p.get_by_role("heading", name="Log in")).to_be_visible()
    names = sorted(f.name for f in shots.iterdir() if f.stat().st_size > 1000)
    assert names == [
        "analytics.png",
        "backtest.png",
        "calendar.png",
        "criteria.png",
        "deactivate.png",
        "fairness.png",
        "lead.png",
        "leads.png",
        "login.png",
        "overview.png",
        "rep.png",
        "reps.png",
        "routing.png",
    ]


def test_users_page_account_page_and_a_password_change_from_the_keyboard(
    browser_page: tuple[Page, Console], tmp_path: Path
) -> None:
    page, site = browser_page
    expect = playwright_sync.expect
    shots = tmp_path / "screenshots"
    shots.mkdir()
    p = page

    def log_in(password: str) -> None:
        p.goto(f"{site.base_url}/console/login")
        p.get_by_label("Username").fill("admin")
        p.get_by_label("Password").fill(password)
        p.keyboard.press("Enter")

    log_in(PASSWORD)
    p.get_by_role("link", name="Users", exact=True).click()
    expect(p.get_by_role("heading", name="Console users")).to_be_visible()
    expect(p.get_by_role("button", name="Sign ada out everywhere")).to_be_visible()
    p.screenshot(path=str(shots / "users.png"), full_page=True)
    p.get_by_role("link", name="Audit", exact=True).click()
    expect(p.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(p.get_by_role("cell", name="login", exact=True).first).to_be_visible()
    p.screenshot(path=str(shots / "audit.png"), full_page=True)

    p.get_by_role("link", name="admin", exact=True).click()
    expect(p.get_by_role("heading", name="Your account")).to_be_visible()
    expect(p.get_by_text("(this browser)")).to_be_visible()
    p.screenshot(path=str(shots / "account.png"), full_page=True)
    p.get_by_label("Current password").fill(PASSWORD)
    p.get_by_label("New password (at least 12 characters)").fill("a brand new one")
    again = p.get_by_label("New password again")
    again.fill("a brand new one")
    again.press("Enter")
    expect(p.get_by_role("heading", name="Log in")).to_be_visible()  # every session ended
    log_in(PASSWORD)
    expect(p.get_by_role("alert")).to_contain_text("Wrong username or password")
    log_in("a brand new one")
    expect(p.get_by_role("heading", name="Overview")).to_be_visible()
