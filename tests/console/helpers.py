"""A routed org with console users, served on 127.0.0.1, for the console tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from leadroute.adapters.store.console_store import ConsoleUserStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Rep, Team, Territory, build_org
from tests.api.server import serve
from tests.services.fixtures import activate

CONFIG = """
name: console-test
pools:
  sales: {members: [team:sales], fairness_window: all}
queues:
  self_serve: {message: "Start now"}
sla:
  default: {accept_within: 1h}
flow:
  - id: sales
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: self_serve}
"""
PASSWORD = "correct horse battery"
SCRIPT = "<script>alert('x')</script>"


@dataclass
class Console:
    client: httpx.Client
    base_url: str
    leads: dict[str, str]  # lead id -> owner (rep id)


def org() -> object:
    reps = [
        Rep(id="r1", name="Ada", email="r1@vendor.com", teams=("sales",), manager_id="m1"),
        Rep(id="r2", name="Bo", email="r2@vendor.com", teams=("sales",), manager_id="m1"),
        Rep(id="r3", name=f"Cy {SCRIPT}", email="r3@vendor.com", teams=("sales",)),
        Rep(id="m1", name="Mia", email="m1@vendor.com", teams=("leads",)),
    ]
    return build_org(
        reps=reps,
        teams=[Team("sales", "Sales", ("r1", "r2", "r3")), Team("leads", "Leads", ("m1",))],
        territories=[Territory("na", "NA", frozenset({"US", "CA"}))],
    )


@contextmanager
def console(store: Store) -> Iterator[Console]:
    """Three reps (r1 and r2 managed by m1), six leads routed to reps, one to a queue, and the users
    admin, mia (manager m1), ada (rep r1) and cy (rep r3)."""
    activate(store, org(), CONFIG)  # type: ignore[arg-type]
    users = ConsoleUserStore(store)
    users.add("admin", PASSWORD, role="admin", rep_id=None)
    users.add("mia", PASSWORD, role="manager", rep_id="m1")
    users.add("ada", PASSWORD, role="rep", rep_id="r1")
    users.add("cy", PASSWORD, role="rep", rep_id="r3")
    with serve(create_app(store, auth=False)) as api:
        owners: dict[str, str] = {}
        for i in range(6):
            company = SCRIPT if i == 0 else f"Company {i}"
            lead = {"id": f"L{i}", "email": f"p{i}@c{i}.com", "company": company, "country": "US"}
            body = api.post("/v1/leads", json=lead).json()
            owners[body["lead_id"]] = body["rep"]["id"]
        api.post("/v1/leads", json={"id": "Q1", "email": "q@q.com", "country": "FR"})
        yield Console(api, str(api.base_url), owners)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@contextmanager
def login(base_url: str, username: str) -> Iterator[httpx.Client]:
    """A new client (its own cookies) logged in as `username`."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        token = csrf(client.get("/console/login").text)
        answer = client.post(
            "/console/login", data={"csrf": token, "username": username, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        yield client
