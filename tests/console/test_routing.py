"""The routing page: the flow graph with per-node counts, storing and activating a draft,
activating a stored version after seeing what changes, rolling back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from leadroute.adapters.store.sql import Store
from tests.console.helpers import CONFIG, SCRIPT, Console, console, csrf, login


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    with console(store) as running:
        yield running


def _cells(html: str, node: str) -> list[str]:
    row = re.search(
        rf"<tr><td class=\"num\">\d+</td><td>[^<]*<span class=\"muted\">\({node}\)"
        rf"</span>.*?</tr>",
        html,
        re.S,
    )
    assert row, f"no row for node {node}"
    return re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', row.group(0))


def test_the_flow_graph_shows_counts_per_node(site: Console) -> None:
    with login(site.base_url, "mia") as manager:
        page = manager.get("/console/routing", params={"since": "2000-01-01"})
        assert page.status_code == 200
        html = page.text
        assert '<svg class="flow"' in html and 'role="img"' in html
        # six leads went to the sales pool, the French one to the queue (fallback)
        assert "7 decisions by #1 console-test" in html
        assert _cells(html, "sales") == ["1", "7", "6", "6", "0"]
        assert _cells(html, "fallback") == ["2", "1", "1", "1", "0"]
        assert "yes 6" in html and "no 1" in html and "queue:self_serve 1" in html
        # a period without decisions shows zeros, not an error
        empty = manager.get("/console/routing", params={"since": "2100-01-01"}).text
        assert "0 decisions by #1" in empty
        assert manager.get("/console/routing", params={"seq": 9}).status_code == 404
        bad = manager.get("/console/routing", params={"since": "yesterday"})
        assert bad.status_code == 400 and "not a date" in bad.text
        # a manager sees the versions but no buttons that change them
        assert "activate…" not in html and "store as draft" not in html
        token = csrf(html)
        refused = manager.post(
            "/console/routing/validate", data={"csrf": token, "source": CONFIG, "save": "draft"}
        )
        assert refused.status_code == 403


def test_an_admin_stores_a_draft_activates_it_and_rolls_back(site: Console, store: Store) -> None:
    draft = CONFIG.replace("name: console-test", "name: draft-two").replace(
        "then: {distribute: sales}", "then: {assign: r2}"
    )
    with login(site.base_url, "admin") as admin:
        token = csrf(admin.get("/console/routing").text)
        stored = admin.post(
            "/console/routing/validate", data={"csrf": token, "source": draft, "save": "draft"}
        )
        assert stored.status_code == 303
        page = admin.get(stored.headers["location"]).text
        assert "Stored as draft #2" in page
        assert store.config().seq == 1 and store.config(2).name == "draft-two"  # type: ignore[union-attr]
        # an invalid draft is refused with its problems, and nothing is stored
        broken = draft.replace("{assign: r2}", "{distribute: nowhere}") + f"# {SCRIPT}\n"
        refused = admin.post(
            "/console/routing/validate",
            data={"csrf": token, "source": broken, "save": "activate"},
        )
        assert refused.status_code == 422 and "nowhere" in refused.text
        assert SCRIPT not in refused.text and len(store.configs()) == 2
        # activating a stored version: first what changes, then the button
        preview = admin.get("/console/routing/2/activate")
        assert preview.status_code == 200
        assert "+name: draft-two" in preview.text and "Backtest #2 first" in preview.text
        done = admin.post("/console/routing/2/activate", data={"csrf": csrf(preview.text)})
        assert done.status_code == 303 and store.config().seq == 2  # type: ignore[union-attr]
        # the API routes by the new version at once
        answer = site.client.post(
            "/v1/leads", json={"id": "N1", "email": "n@new.com", "country": "US"}
        ).json()
        assert answer["rep"]["id"] == "r2" and answer["route"] == "sales"
        flow = admin.get("/console/routing", params={"since": "2000-01-01"}).text
        assert "1 decisions by #2 draft-two" in flow and "7 more in this period" in flow
        assert admin.post("/console/routing/2/activate", data={}).status_code == 403
        assert admin.get("/console/routing/9/activate").status_code == 404
        back = admin.post("/console/routing/rollback", data={"csrf": token})
        assert back.status_code == 303 and store.config().seq == 1  # type: ignore[union-attr]
        assert "Config #1 is now active" in admin.get(back.headers["location"]).text
    with login(site.base_url, "mia") as manager:
        assert manager.get("/console/routing/2/activate").status_code == 403
        token = csrf(manager.get("/console/routing").text)
        assert manager.post("/console/routing/rollback", data={"csrf": token}).status_code == 403


def test_a_stored_version_opens_in_the_backtest_form(site: Console) -> None:
    with login(site.base_url, "admin") as admin:
        form = admin.get("/console/backtest", params={"seq": 1})
        assert form.status_code == 200 and "name: console-test" in form.text
        assert admin.get("/console/backtest", params={"seq": 5}).status_code == 404


def test_numbers_out_of_range_are_not_found(site: Console) -> None:
    huge = 2**63
    with login(site.base_url, "admin") as admin:
        assert admin.get("/console/routing", params={"seq": huge}).status_code == 404
        assert admin.get("/console/routing", params={"a": 1, "b": huge}).status_code == 404
        assert admin.get(f"/console/routing/{huge}/activate").status_code == 404
        assert admin.get("/console/backtest", params={"seq": huge}).status_code == 404
        assert admin.get("/console/leads", params={"page": huge}).status_code == 422
        assert admin.get("/console/leads", params={"page": 10**6}).status_code == 200
