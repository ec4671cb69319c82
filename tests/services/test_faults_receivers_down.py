"""Slack, a webhook receiver and Salesforce all down (connection refused, 503) for several worker
passes: once they are back every message is delivered exactly once, and none is dead if they
came back within the retry budget. Down for longer than the budget, the messages are dead with
the reason, and `leadroute outbox retry-dead` re-drives them, again exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.outbox_store import OutboxStore
from leadroute.adapters.store.sql import Store
from leadroute.cli import app
from leadroute.domain.lead import Lead
from leadroute.services.routing import RoutingService
from leadroute.services.worker import Worker
from tests.receivers import FakeSalesforce, HttpReceiver, Reply, Request, free_port, http_receiver
from tests.services.fixtures import activate, org
from tests.services.test_worker import Clock

LEADS = 12
CHANNELS = ("slack", "webhook", "salesforce")
SF_USERS = {f"r{i}": f"00500000000000{i}AAA" for i in range(1, 5)}
BUDGET = (0, 10, 20, 40, 60)  # seconds before each of the 5 tries (base 10 s, doubling, cap 60)
NOTHING = {"sent": 0, "retried": 0, "dead": 0}  # a worker pass that found nothing due

CONFIG = """
name: receivers-down
pools:
  sales: {{members: [team:sales], fairness_window: all}}
notifications:
  channels:
    sales_slack: {{slack: {{webhook_url_env: FAULTS_SLACK_URL}}}}
    ops_hook: {{webhook: {{url: "{hook}", secret_env: FAULTS_HOOK_SECRET}}}}
  send:
    assigned: [sales_slack, ops_hook]
  retry: {{max_attempts: 5, base_seconds: 10, max_seconds: 60}}
crm:
  salesforce:
    instance_url: "{salesforce}"
    token_env: FAULTS_SF_TOKEN
    owners: {owners}
    status_values: {{assigned: Working}}
flow:
  - id: sales
    when: {{country: US}}
    then: {{distribute: sales}}
  - id: fallback
    fallback: true
    then: {{queue: nurture}}
"""


def _sf_id(i: int) -> str:
    return f"00Q{i:015d}"


@dataclass
class Receivers:
    """The three receivers, each down until `up()`; what each took in successfully."""

    slack_port: int
    hook: HttpReceiver
    salesforce: HttpReceiver
    fake: FakeSalesforce
    down: bool = True
    hook_ok: Counter[str] = field(default_factory=Counter)  # delivery id -> 2xx answers
    sf_ok: Counter[str] = field(default_factory=Counter)  # Lead id -> successful updates
    slack_up: HttpReceiver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_hook(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, "upstream unavailable")
        with self.lock:
            self.hook_ok[request.headers["x-leadroute-delivery"]] += 1
        return Reply(204)

    def answer_salesforce(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, [{"message": "try later", "errorCode": "SERVER_UNAVAILABLE"}])
        reply = self.fake(request)
        if reply.status == 204:
            with self.lock:
                self.sf_ok[request.path.rsplit("/", 1)[-1]] += 1
        return reply

    def up(self) -> None:
        self.down = False
        self.slack_up = HttpReceiver(port=self.slack_port)  # nothing listened there before

    def slack_bodies(self) -> list[bytes]:
        return [r.body for r in self.slack_up.requests] if self.slack_up else []


@pytest.fixture
def receivers(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receivers]:
    fake = FakeSalesforce("sf-token", {_sf_id(i): {"Status": "New"} for i in range(LEADS)})
    slack_port = free_port()
    with http_receiver() as hook, http_receiver() as salesforce:
        found = Receivers(slack_port, hook, salesforce, fake)
        hook.respond, salesforce.respond = found.answer_hook, found.answer_salesforce
        monkeypatch.setenv("FAULTS_SLACK_URL", f"http://127.0.0.1:{slack_port}/services/T/B/x")
        monkeypatch.setenv("FAULTS_HOOK_SECRET", "s3cret")
        monkeypatch.setenv("FAULTS_SF_TOKEN", "sf-token")
        owners = "{" + ", ".join(f"{r}: {u}" for r, u in SF_USERS.items()) + "}"
        text = CONFIG.format(
            hook=hook.url("/leadroute"), salesforce=salesforce.url(), owners=owners
        )
        activate(store, org(), text)
        try:
            yield found
        finally:
            if found.slack_up is not None:
                found.slack_up.stop()


def _route(store: Store, clock: Clock) -> None:
    leads = [
        Lead(f"L{i:03d}", {"email": f"p{i}@co{i}.com", "company": f"Co {i}", "country": "US",
                           "crm_id": _sf_id(i)}, "salesforce", "api", clock.now)
        for i in range(LEADS)
    ]  # fmt: skip
    RoutingService(store, clock=clock).route_batch(
        [ParsedRow(i, lead, None, {}) for i, lead in enumerate(leads, 1)], batch_id="b1"
    )
    queued = Counter(m.channel for m in OutboxStore(store).list())
    assert queued == dict.fromkeys(CHANNELS, LEADS)


def _passes(worker: Worker, clock: Clock, waits: tuple[int, ...]) -> list[dict[str, int]]:
    """A worker pass after each wait (seconds on the worker's clock)."""
    reports = []
    for seconds in waits:
        clock.now += timedelta(seconds=seconds)
        reports.append(worker.run_once().outbox)
    return reports


def _check_each_delivered_once(store: Store, found: Receivers) -> None:
    queue = OutboxStore(store)
    assert queue.counts() == {"pending": 0, "sending": 0, "sent": 3 * LEADS, "dead": 0}
    hooks = {m.key for m in queue.list() if m.channel == "webhook"}
    assert set(found.hook_ok) == hooks and set(found.hook_ok.values()) == {1}
    assert found.sf_ok == dict.fromkeys((_sf_id(i) for i in range(LEADS)), 1)
    assert all(record["Status"] == "Working" for record in found.fake.leads.values())
    slack = found.slack_bodies()
    assert len(slack) == LEADS and len(set(slack)) == LEADS  # one post per lead


def test_receivers_back_within_the_budget_get_everything_once(
    store: Store, receivers: Receivers
) -> None:
    clock = Clock(datetime.now(UTC))
    _route(store, clock)
    worker = Worker(store, clock=clock)
    down = _passes(worker, clock, BUDGET[:3])  # three passes, every try fails
    assert down == [{"sent": 0, "retried": 3 * LEADS, "dead": 0}] * 3
    assert receivers.hook.requests and receivers.salesforce.requests  # they were tried
    assert OutboxStore(store).counts()["dead"] == 0
    receivers.up()
    back = _passes(worker, clock, (BUDGET[3], BUDGET[4]))
    assert back == [{"sent": 3 * LEADS, "retried": 0, "dead": 0}, NOTHING]
    _check_each_delivered_once(store, receivers)


def test_receivers_down_past_the_budget_leave_dead_messages_that_can_be_redriven(
    store: Store, receivers: Receivers, db_url: str
) -> None:
    clock = Clock(datetime.now(UTC))
    _route(store, clock)
    worker = Worker(store, clock=clock)
    reports = _passes(worker, clock, BUDGET)
    assert reports[-1] == {"sent": 0, "retried": 0, "dead": 3 * LEADS}
    queue = OutboxStore(store)
    dead = queue.list(status="dead")
    assert len(dead) == 3 * LEADS and {m.attempts for m in dead} == {5}
    reasons = {m.channel: m.last_error or "" for m in dead}
    assert reasons["slack"].startswith("connection failed")
    assert reasons["webhook"].startswith("HTTP 503")
    assert reasons["salesforce"].startswith("HTTP 503")
    assert "SERVER_UNAVAILABLE" in reasons["salesforce"]

    receivers.up()
    assert _passes(worker, clock, (600,)) == [NOTHING]
    assert queue.counts()["dead"] == 3 * LEADS
    assert not receivers.hook_ok and not receivers.sf_ok  # dead stays dead until re-driven

    runner = CliRunner()
    listed = runner.invoke(app, ["outbox", "list", "--db", db_url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert f"0 pending, 0 sending, 0 sent, {3 * LEADS} dead" in listed.output
    assert "HTTP 503" in listed.output and "connection failed" in listed.output
    missing = runner.invoke(app, ["outbox", "retry-dead", "999999", "--db", db_url])
    assert missing.exit_code == 1 and "#999999 does not exist" in missing.output
    one = runner.invoke(app, ["outbox", "retry-dead", "--channel", "slack", "--db", db_url])
    assert one.exit_code == 0 and f"{LEADS} dead messages queued again" in one.output
    rest = runner.invoke(app, ["outbox", "retry-dead", "--db", db_url])
    assert rest.exit_code == 0 and f"{2 * LEADS} dead messages queued again" in rest.output
    assert queue.counts() == {"pending": 3 * LEADS, "sending": 0, "sent": 0, "dead": 0}

    clock.now = max(clock.now, datetime.now(UTC)) + timedelta(seconds=1)
    assert _passes(worker, clock, (0,)) == [{"sent": 3 * LEADS, "retried": 0, "dead": 0}]
    _check_each_delivered_once(store, receivers)
