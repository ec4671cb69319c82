"""Delivering the outbox on SQLite and PostgreSQL, against real receivers on 127.0.0.1:
exactly-once delivery, retries with backoff, dead letters, outages, leases, two workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadroute.adapters.registry import senders_for
from leadroute.adapters.store.outbox_store import OutboxStore, outbox_rows
from leadroute.adapters.store.service_tables import outbox
from leadroute.adapters.store.sql import Store
from leadroute.domain.brief import build_brief
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.notify import CrmModel, NotificationsModel, OutboxMessage, plan
from leadroute.services.outbox import OutboxService
from tests.factories import NOW, make_org, make_rep
from tests.receivers import (
    FakeSalesforce,
    HttpReceiver,
    Reply,
    Request,
    free_port,
    http_receiver,
    smtp_receiver,
)

SF_LEAD = "00Q000000000001AAA"
SF_USER = "005000000000001AAA"
ENV = {"SLACK_URL": "", "HOOK_SECRET": "s3cret", "SF_TOKEN": "sf-token"}


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def notifications(
    *, hook_url: str, smtp_port: int = 25, max_attempts: int = 3, base: float = 10
) -> NotificationsModel:
    return NotificationsModel.model_validate(
        {
            "channels": {
                "sales_slack": {"slack": {"webhook_url_env": "SLACK_URL"}},
                "rep_email": {
                    "email": {
                        "host": "127.0.0.1",
                        "port": smtp_port,
                        "from": "routing@example.com",
                        "to": ["rep"],
                        "starttls": False,
                    }
                },
                "ops_hook": {"webhook": {"url": hook_url, "secret_env": "HOOK_SECRET"}},
            },
            "send": {
                "assigned": ["sales_slack", "rep_email", "ops_hook"],
                "reminder": ["ops_hook"],
            },
            "retry": {"max_attempts": max_attempts, "base_seconds": base, "max_seconds": 3600},
        }
    )


def crm(instance_url: str) -> CrmModel:
    return CrmModel.model_validate(
        {
            "salesforce": {
                "instance_url": instance_url,
                "token_env": "SF_TOKEN",
                "owners": {"r1": SF_USER},
                "status_values": {"assigned": "Working"},
            }
        }
    )


def messages_for(
    lead_id: str,
    model: NotificationsModel | None,
    crm_model: CrmModel | None = None,
    event: str = "assigned",
) -> list[OutboxMessage]:
    org = make_org([make_rep("r1", name="Rita One")])
    record = Decision(
        lead_id=lead_id,
        outcome=Outcome.ROUTED,
        reason="round robin in pool sales",
        decided_at=NOW,
        node="na",
        rep_id="r1",
    ).as_record()
    fields = {"first_name": "Ada", "company": "Acme", "crm": "salesforce", "crm_id": SF_LEAD}
    brief = build_brief(lead_id, fields, record)
    return plan(event, record, brief, org, model, crm_model, lead_fields=fields)


def hook_messages(n: int, model: NotificationsModel) -> list[OutboxMessage]:
    return [m for i in range(n) for m in messages_for(f"L{i:03d}", model, event="reminder")]


def delivery(
    store: Store,
    notifications_model: NotificationsModel | None,
    crm_model: CrmModel | None,
    **options: Any,
) -> OutboxService:
    """The outbox service over the store's outbox, with the config's senders."""
    senders = senders_for(notifications_model, crm_model)
    return OutboxService(
        OutboxStore(store), notifications_model, crm_model, senders=senders, **options
    )


def deliveries(receiver: HttpReceiver) -> Counter[str]:
    return Counter(r.headers.get("x-leadroute-delivery", r.path) for r in receiver.requests)


# -- queueing and delivery -------------------------------------------------------------------------


def test_every_channel_and_the_crm_get_each_message_once(store: Store) -> None:
    fake = FakeSalesforce("sf-token", {SF_LEAD: {"Status": "New"}})
    with (
        http_receiver() as slack,
        http_receiver(lambda _: Reply(204)) as hook,
        http_receiver(fake) as salesforce,
        smtp_receiver() as (mailbox, smtp_port),
    ):
        model = notifications(hook_url=hook.url("/hook"), smtp_port=smtp_port)
        messages = messages_for("L1", model, crm(salesforce.url()))
        assert [m.channel for m in messages] == ["slack", "email", "webhook", "salesforce"]
        queue = OutboxStore(store)
        with store.write() as conn:
            assert queue.add(conn, messages, NOW) == 4
        assert queue.add_now(messages, NOW) == 0  # the same messages again: nothing new
        env = {**ENV, "SLACK_URL": slack.url("/services/T/B/x")}
        service = delivery(store, model, crm(salesforce.url()), env=env, clock=Clock())
        report = service.deliver_due()
        again = service.deliver_due()
        service.close()
    assert (report.sent, report.retried, report.dead, report.problems) == (4, 0, 0, ())
    assert again.tried == 0
    assert len(slack.requests) == len(hook.requests) == len(salesforce.requests) == 1
    assert slack.requests[0].json() == messages[0].payload
    assert mailbox.envelopes[0].rcpt_tos == ["r1@example.com"]
    assert fake.leads[SF_LEAD] == {"Status": "Working", "OwnerId": SF_USER}
    assert queue.counts() == {"pending": 0, "sending": 0, "sent": 4, "dead": 0}
    rows = queue.list(lead_id="L1")
    assert [r.status for r in rows] == ["sent"] * 4
    assert all(r.attempts == 1 and r.sent_at == NOW for r in rows)


def test_messages_of_a_rolled_back_transaction_are_never_sent(store: Store) -> None:
    model = notifications(hook_url="http://127.0.0.1:9/hook")
    queue = OutboxStore(store)
    with pytest.raises(RuntimeError), store.write() as conn:
        queue.add(conn, hook_messages(2, model), NOW)
        raise RuntimeError("the routing decision failed")
    assert queue.counts()["pending"] == 0
    rows = outbox_rows(hook_messages(2, model) * 2, NOW)  # for RoutingSession.stage
    assert len(rows) == 2 and {r["status"] for r in rows} == {"pending"}


# -- failures: backoff, dead letter, outages ------------------------------------------------------


def scripted(*replies: Reply) -> Any:
    script = list(replies)

    def respond(_: Request) -> Reply:
        return script.pop(0) if len(script) > 1 else script[0]

    return respond


def test_failed_tries_back_off_exponentially_then_succeed(store: Store) -> None:
    replies = scripted(Reply(503, "busy"), Reply(500, "oops"), Reply(204))
    clock = Clock()
    with http_receiver(replies) as hook:
        model = notifications(hook_url=hook.url("/hook"), max_attempts=5, base=10)
        queue = OutboxStore(store)
        queue.add_now(hook_messages(1, model), clock())
        service = delivery(store, model, None, env=ENV, clock=clock)
        first = service.deliver_due()
        (row,) = queue.list()
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 503: busy")
        assert row.next_attempt_at == NOW + timedelta(seconds=10)
        clock.advance(9)
        assert service.deliver_due().tried == 0  # not due yet
        clock.advance(1)
        second = service.deliver_due()
        assert queue.list()[0].next_attempt_at == clock() + timedelta(seconds=20)  # doubled
        clock.advance(20)
        third = service.deliver_due()
        service.close()
    assert (first.retried, second.retried, third.sent) == (1, 1, 1)
    assert "outbox #1 webhook/ops_hook lead L000 try 1: HTTP 503: busy -> pending" in first.problems
    (row,) = queue.list()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(set(deliveries(hook))) == 1 and len(hook.requests) == 3  # one message, 3 tries
    assert len({r.body for r in hook.requests}) == 1  # the same body every time


def test_retry_after_of_the_receiver_is_honoured(store: Store) -> None:
    clock = Clock()
    with http_receiver(lambda _: Reply(429, "slow down", {"Retry-After": "120"})) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        OutboxStore(store).add_now(hook_messages(1, model), clock())
        delivery(store, model, None, env=ENV, clock=clock).deliver_due()
    assert OutboxStore(store).list()[0].next_attempt_at == NOW + timedelta(seconds=120)


def test_a_message_is_dead_after_max_attempts_and_can_be_retried_by_hand(store: Store) -> None:
    clock = Clock()
    up = threading.Event()
    with http_receiver(lambda _: Reply(204) if up.is_set() else Reply(500, "down")) as hook:
        model = notifications(hook_url=hook.url("/hook"), max_attempts=3, base=10)
        queue = OutboxStore(store)
        queue.add_now(hook_messages(1, model), clock())
        service = delivery(store, model, None, env=ENV, clock=clock)
        reports = []
        for _ in range(3):
            reports.append(service.deliver_due())
            clock.advance(3600)
        assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
        (row,) = queue.list(status="dead")
        assert (row.attempts, row.last_error) == (3, "HTTP 500: down")
        assert service.deliver_due().tried == 0  # dead stays dead
        up.set()
        assert queue.retry_dead(row.id, now=clock()) and not queue.retry_dead(row.id, now=clock())
        assert service.deliver_due().sent == 1
        service.close()
    assert queue.counts()["sent"] == 1 and len(hook.requests) == 4


def test_a_permanent_crm_error_is_dead_at_once_with_the_crm_text(store: Store) -> None:
    fake = FakeSalesforce("sf-token", {})  # the Lead was deleted in Salesforce
    with http_receiver(fake) as salesforce:
        model = crm(salesforce.url())
        OutboxStore(store).add_now(messages_for("L1", None, model), NOW)
        report = delivery(store, None, model, env=ENV, clock=Clock()).deliver_due()
    (row,) = OutboxStore(store).list()
    assert (report.dead, row.status, row.attempts) == (1, "dead", 1)
    assert row.last_error == "HTTP 404: NOT_FOUND: Provided external ID field does not exist"


def test_a_receiver_down_then_up_gets_everything_exactly_once(store: Store) -> None:
    clock = Clock()
    port = free_port()  # nothing listens here yet: connections are refused
    fake = FakeSalesforce("sf-token", {SF_LEAD: {}})
    fake.failures.next(*[Reply(503, "Service Unavailable")] * 2)  # and Salesforce is out
    with http_receiver(fake) as salesforce:
        model = notifications(hook_url=f"http://127.0.0.1:{port}/hook", max_attempts=5)
        queue = OutboxStore(store)
        queue.add_now(hook_messages(10, model), clock())
        queue.add_now(messages_for("L1", None, crm(salesforce.url())), clock())
        service = delivery(store, model, crm(salesforce.url()), env=ENV, clock=clock)
        down = service.deliver_due()
        assert (down.sent, down.retried) == (0, 11)
        assert all("connection failed" in p or "HTTP 503" in p for p in down.problems)
        clock.advance(10)
        with http_receiver(lambda _: Reply(204), port=port) as hook:
            for _ in range(3):
                clock.advance(60)
                service.deliver_due()
        service.close()
    assert queue.counts() == {"pending": 0, "sending": 0, "sent": 11, "dead": 0}
    assert len(hook.requests) == 10 and set(deliveries(hook).values()) == {1}
    assert fake.leads[SF_LEAD] == {"OwnerId": SF_USER, "Status": "Working"}


def test_a_message_for_a_channel_no_longer_configured_is_dead(store: Store) -> None:
    model = notifications(hook_url="http://127.0.0.1:9/hook")
    OutboxStore(store).add_now(hook_messages(1, model), NOW)
    report = delivery(store, None, None, env=ENV, clock=Clock()).deliver_due()
    assert report.dead == 1
    assert OutboxStore(store).list()[0].last_error == (
        "no webhook channel named ops_hook in the active config"
    )


# -- leases and concurrent workers -----------------------------------------------------------------


def test_a_crashed_workers_messages_are_taken_again_after_the_lease(store: Store) -> None:
    model = notifications(hook_url="http://127.0.0.1:9/hook", max_attempts=2)
    queue = OutboxStore(store)
    queue.add_now(hook_messages(1, model), NOW)
    (lost,) = queue.claim_due(10, NOW, lease=timedelta(minutes=5))  # then the worker dies
    assert queue.claim_due(10, NOW + timedelta(minutes=4)) == []
    (again,) = queue.claim_due(10, NOW + timedelta(minutes=5), lease=timedelta(minutes=5))
    assert (lost.id, lost.attempts, again.attempts) == (again.id, 1, 2)
    assert not queue.mark_sent(lost, now=NOW)  # the stale claim cannot overwrite the new one
    assert queue.mark_sent(again, now=NOW)
    assert queue.get(again.id).status == "sent"  # type: ignore[union-attr]


def test_a_message_whose_workers_keep_dying_ends_dead(store: Store) -> None:
    model = notifications(hook_url="http://127.0.0.1:9/hook", max_attempts=2)
    queue = OutboxStore(store)
    queue.add_now(hook_messages(1, model), NOW)
    queue.claim_due(1, NOW, lease=timedelta(seconds=1))
    queue.claim_due(1, NOW + timedelta(seconds=1), lease=timedelta(seconds=1))
    clock = Clock(NOW + timedelta(seconds=2))
    report = delivery(store, model, None, env=ENV, clock=clock).deliver_due()
    (row,) = queue.list()
    assert (report.dead, row.status, row.attempts) == (1, "dead", 3)
    assert row.last_error is not None and row.last_error.startswith("out of tries")


def test_two_workers_draining_together_never_send_a_message_twice(store: Store) -> None:
    with http_receiver(lambda _: Reply(204, delay=0.01)) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        queue = OutboxStore(store)
        queue.add_now(hook_messages(40, model), NOW)
        workers = [
            delivery(store, model, None, env=ENV, clock=Clock()),
            delivery(store, model, None, env=ENV, clock=Clock()),
        ]
        sent = [0, 0]
        start = threading.Barrier(2)

        def drain(index: int) -> None:
            start.wait()
            while (report := workers[index].deliver_due(limit=3)).tried:
                sent[index] += report.sent

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        for worker in workers:
            worker.close()
    counts = deliveries(hook)
    assert len(counts) == 40 and set(counts.values()) == {1}  # each message exactly once
    assert sum(sent) == 40 and min(sent) > 0  # both workers took part
    assert queue.counts()["sent"] == 40


def test_list_filters_and_counts_every_status(store: Store) -> None:
    model = notifications(hook_url="http://127.0.0.1:9/hook")
    queue = OutboxStore(store)
    queue.add_now(hook_messages(3, model), NOW)
    (claimed,) = queue.claim_due(1, NOW)
    assert claimed.lead_id == "L000"
    assert [r.lead_id for r in queue.list(status="pending")] == ["L001", "L002"]
    assert [r.status for r in queue.list(lead_id="L000")] == ["sending"]
    assert len(queue.list(limit=2)) == 2
    assert queue.counts() == {"pending": 2, "sending": 1, "sent": 0, "dead": 0}
    assert queue.due_count(NOW) == 2 and queue.get(10_000) is None
    with store.engine.connect() as conn:  # datetimes are stored as UTC on both databases
        stored = conn.execute(outbox.select().where(outbox.c.id == claimed.id)).mappings().one()
    created = stored["created_at"]
    assert (created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)) == NOW


def test_a_message_whose_lead_was_erased_is_not_sent(store: Store) -> None:
    with http_receiver(lambda _: Reply(204)) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        queue = OutboxStore(store)
        queue.add_now(hook_messages(1, model), NOW)
        with store.write() as conn:  # what privacy erasure does to a queued message
            conn.execute(outbox.update().values(payload={"erased": True, "erased_at": "now"}))
        report = delivery(store, model, None, env=ENV, clock=Clock()).deliver_due()
    assert report.as_counts() == {"sent": 0, "retried": 0, "dead": 1}
    assert hook.requests == []
    assert queue.list()[0].last_error == "the lead's data was erased before delivery"


def test_deliver_all_drains_batch_after_batch_until_nothing_is_due(store: Store) -> None:
    with http_receiver(lambda r: Reply(204 if r.body.count(b"L003") == 0 else 500)) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        OutboxStore(store).add_now(hook_messages(5, model), NOW)
        report = delivery(store, model, None, env=ENV, clock=Clock()).deliver_all(limit=2)
    assert (report.sent, report.retried, report.dead) == (4, 1, 0)  # L003 waits for its retry
    assert len(hook.requests) == 5


# -- order and concurrency ------------------------------------------------------------------------


def test_one_leads_messages_to_one_receiver_go_out_in_order(store: Store) -> None:
    """The first message of L000 fails: its next one waits for it (a CRM must not get an older
    owner after a newer one), while another lead's message is not held back."""
    failing = {"first": True}

    def respond(request: Request) -> Reply:
        event = request.json()["event"]
        if event == "lead.assigned" and failing.pop("first", False):
            return Reply(503, "busy")
        return Reply(204)

    clock = Clock()
    with http_receiver(respond) as hook:
        model = notifications(hook_url=hook.url("/hook"), max_attempts=5, base=10)
        model = model.model_copy(
            update={"send": {"assigned": ["ops_hook"], "reminder": ["ops_hook"]}}
        )
        queue = OutboxStore(store)
        queue.add_now(messages_for("L000", model, event="assigned"), clock())
        queue.add_now(messages_for("L000", model, event="reminder"), clock())
        queue.add_now(messages_for("L001", model, event="reminder"), clock())
        service = delivery(store, model, None, env=ENV, clock=clock)
        first = service.deliver_due()
        assert (first.sent, first.retried) == (1, 1)  # L001's went, L000's reminder waited
        assert [r.status for r in queue.list(lead_id="L000")] == ["pending", "pending"]
        assert queue.list(lead_id="L000")[1].attempts == 0  # never tried: no try counted
        clock.advance(10)
        assert service.deliver_due().sent == 1  # the assignment, at its retry
        assert service.deliver_due().sent == 1  # then the reminder
        service.close()
    order = [(r.json()["lead"]["id"], r.json()["event"]) for r in hook.requests]
    # The first round sends both leads' first messages at once (in either order); each lead's
    # own messages arrive in the order they were written.
    assert set(order[:2]) == {("L000", "lead.assigned"), ("L001", "lead.reminder")}
    assert order[2:] == [("L000", "lead.assigned"), ("L000", "lead.reminder")]
    assert [e for lead, e in order if lead == "L000"] == [
        "lead.assigned",  # the failed try
        "lead.assigned",
        "lead.reminder",
    ]


def test_a_dead_message_no_longer_holds_the_next_one_back(store: Store) -> None:
    with http_receiver(lambda _: Reply(204)) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        model = model.model_copy(
            update={"send": {"assigned": ["ops_hook"], "reminder": ["ops_hook"]}}
        )
        queue = OutboxStore(store)
        queue.add_now(messages_for("L000", model, event="assigned"), NOW)
        queue.add_now(messages_for("L000", model, event="reminder"), NOW)
        with store.write() as conn:
            conn.execute(outbox.update().where(outbox.c.id == 1).values(status="dead"))
        service = delivery(store, model, None, env=ENV, clock=Clock())
        assert service.deliver_due().sent == 1
        service.close()
    assert [r.json()["event"] for r in hook.requests] == ["lead.reminder"]


def test_messages_are_sent_several_at_a_time(store: Store) -> None:
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()
    release = threading.Event()

    def respond(_: Request) -> Reply:
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            if in_flight["most"] >= 4:
                release.set()
        release.wait(5)  # hold each request until four are in flight at once
        with lock:
            in_flight["now"] -= 1
        return Reply(204)

    with http_receiver(respond) as hook:
        model = notifications(hook_url=hook.url("/hook"))
        OutboxStore(store).add_now(hook_messages(12, model), NOW)
        service = delivery(store, model, None, env=ENV, clock=Clock(), concurrency=4)
        report = service.deliver_due()
        service.close()
    assert report.sent == 12 and in_flight["most"] == 4
    assert sorted(deliveries(hook).values()) == [1] * 12
