"""From routing to the rep's inbox: a decision queues its notifications in its own
transaction; the worker delivers them to real receivers on 127.0.0.1 (Slack, SMTP), with the
lead's context; reminders and escalations follow the SLA timers; a receiver that is down only
delays delivery."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.outbox_store import OutboxStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Rep, build_org
from leadroute.services.routing import RoutingService
from leadroute.services.worker import Worker
from tests.receivers import Reply, http_receiver, smtp_receiver
from tests.services.fixtures import NOW, activate
from tests.services.test_worker import Clock

CONFIG = """
name: notify-flow
pools:
  sales: {{members: [team:sales], fairness_window: all}}
queues:
  nurture: {{}}
sla:
  default: {{accept_within: 30m, remind_at: 0.5, max_reassignments: 1, then: nurture}}
notifications:
  channels:
    slack: {{slack: {{webhook_url_env: TEST_SLACK_URL}}}}
    rep_mail:
      email: {{host: 127.0.0.1, port: {port}, from: routing@vendor.com, to: [rep],
               starttls: false}}
    boss_mail:
      email: {{host: 127.0.0.1, port: {port}, from: routing@vendor.com, to: [manager],
               starttls: false}}
  send:
    assigned: [slack, rep_mail]
    reminder: [rep_mail]
    escalated: [boss_mail]
  retry: {{max_attempts: 5, base_seconds: 30, max_seconds: 600}}
flow:
  - id: sales
    when: {{country: US}}
    then: {{distribute: sales}}
  - id: fallback
    fallback: true
    then: {{queue: nurture}}
"""


def _org() -> object:
    reps = [
        Rep(id="ann", name="Ann Lee", email="ann@vendor.com", teams=("sales",), manager_id="max"),
        Rep(id="max", name="Max Boss", email="max@vendor.com", teams=("managers",)),
    ]
    return build_org(reps=reps)


LEAD = Lead(
    "L1",
    {"email": "ada@acme.com", "first_name": "Ada", "company": "Acme", "country": "US",
     "title": "VP Sales"},
    "Web",
    "web_form",
    NOW,
)  # fmt: skip


def test_assignment_reminder_escalation_delivered_with_context(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(NOW)
    slack_down = {"on": True}

    def slack(_request: object) -> Reply:
        return Reply(status=503, body="down") if slack_down["on"] else Reply(body="ok")

    with http_receiver(slack) as hook, smtp_receiver() as (mailbox, port):
        monkeypatch.setenv("TEST_SLACK_URL", hook.url("/services/T0/B0/x"))
        activate(store, _org(), CONFIG.format(port=port))  # type: ignore[arg-type]
        routing = RoutingService(store, clock=clock)
        routing.route_batch([ParsedRow(1, LEAD, None, {})], batch_id="b1")
        queued = OutboxStore(store).list(lead_id="L1")
        assert sorted((m.channel, m.event) for m in queued) == [
            ("email", "lead.assigned"),
            ("slack", "lead.assigned"),
        ]
        worker = Worker(store, clock=clock)
        first = worker.run_once()
        assert first.outbox["sent"] == 1 and first.outbox["retried"] == 1  # Slack is down
        mail = mailbox.messages()[0]
        assert mail["To"] == "ann@vendor.com"
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "Ada" in text and "Acme" in text and "VP Sales" in text
        assert "sales: ann from pool sales" in text  # why this rep
        slack_down["on"] = False
        clock.now += timedelta(minutes=16)  # past the Slack retry and at the reminder
        second = worker.run_once()
        assert second.reminded == 1 and second.outbox["sent"] == 2
        blocks = json.loads(hook.requests[-1].body)["blocks"]
        assert "Ada" in json.dumps(blocks) and "ann" in json.dumps(blocks)
        reminder = mailbox.messages()[1]
        assert reminder["To"] == "ann@vendor.com" and "remind" in reminder["Subject"].lower()
        clock.now += timedelta(minutes=15)
        third = worker.run_once()
        assert third.breached == 1
        escalation = next(m for m in mailbox.messages() if m["To"] == "max@vendor.com")
        assert "escalat" in escalation["Subject"].lower() or "sla" in escalation["Subject"].lower()
        statuses = Counter(m.status for m in OutboxStore(store).list())
        assert set(statuses) == {"sent"}, statuses
        # every message was sent once: one Slack post for the assignment, three emails
        assert len([r for r in hook.requests if r.body]) == 2  # one failed try, one delivery
        assert len(mailbox.messages()) == 3
