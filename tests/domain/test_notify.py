"""The notification planner, its config, keys, escaping, recipients and the backoff."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from leadroute.domain.brief import build_brief
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.intent import Activity
from leadroute.domain.notify import (
    EVENTS,
    ChannelModel,
    CrmModel,
    EmailChannel,
    Event,
    HubspotModel,
    NotificationsModel,
    OutboxMessage,
    RetryModel,
    SalesforceModel,
    SlackChannel,
    WebhookChannel,
    crm_of,
    next_attempt,
    notify_event,
    notify_problems,
    plan,
    retry_for,
    signature,
    verify_signature,
)
from leadroute.domain.org import Team
from tests.factories import NOW, make_org, make_rep

SF_USER = "005000000000001AAA"
SF_QUEUE = "00G000000000001AAA"

NOTIFICATIONS: dict[str, Any] = {
    "channels": {
        "sales_slack": {"slack": {"webhook_url_env": "SLACK_WEBHOOK_URL"}},
        "rep_email": {
            "email": {
                "host": "smtp.example.com",
                "from": "routing@example.com",
                "to": ["rep", "manager", "ops@example.com"],
                "username_env": "SMTP_USER",
                "password_env": "SMTP_PASSWORD",
            }
        },
        "ops_hook": {"webhook": {"url": "https://ops.example.com/hook", "secret_env": "HOOK"}},
    },
    "send": {
        "assigned": ["sales_slack", "rep_email", "ops_hook"],
        "reminder": ["rep_email"],
        "unrouted": ["sales_slack", "rep_email"],
        "reassigned": ["sales_slack"],
    },
    "retry": {"max_attempts": 5, "base_seconds": 10, "max_seconds": 600},
}
CRM: dict[str, Any] = {
    "salesforce": {
        "instance_url": "https://acme.my.salesforce.com",
        "token_env": "SF_TOKEN",
        "owners": {"r1": SF_USER},
        "queues": {"nurture": SF_QUEUE},
        "status_values": {"assigned": "Working - Contacted", "queued": "Nurture"},
    },
    "hubspot": {
        "token_env": "HUBSPOT_TOKEN",
        "owners": {"r1": 123},
        "status_values": {"assigned": "IN_PROGRESS"},
    },
}

SCORES = {
    "fit": {"tier": "A", "score": 82, "reasons": [{"reason": "VP title", "points": 30}]},
    "intent": {"tier": "high", "score": 40, "reasons": ["3 pricing page views: 30 pts"]},
    "predictive": {"probability": 0.34, "reasons": [{"feature": "title", "effect": 0.4}]},
}
ACCOUNT = {
    "id": "a1",
    "name": "Acme",
    "owner": "r2",
    "status": "customer",
    "opportunity_stage": "Negotiation",
    "named": True,
}
FIELDS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "title": "VP Engineering",
    "company": "Acme",
    "email": "ada@acme.com",
    "country": "GB",
    "lead_source": "Webinar",
    "utm_campaign": "q4-launch",
    "crm": "salesforce",
    "crm_id": "00Q000000000001AAA",
}


def org() -> Any:
    reps = [
        make_rep("r1", name="Rita One", manager_id="m1", teams=("sales",)),
        make_rep("r2", name="Rob Two", teams=("sales",)),
        make_rep("r3", name="No Mail", email="", teams=("sales",)),
        make_rep("m1", name="Mona Manager"),
        make_rep("m2", name="Team Lead"),
    ]
    return make_org(reps, teams=[Team("sales", "Sales", ("r1", "r2", "r3"), manager_id="m2")])


def record(**overrides: Any) -> dict[str, Any]:
    decision = Decision(
        lead_id="L1",
        outcome=Outcome.ROUTED,
        reason="round robin in pool sales",
        decided_at=NOW,
        config_name="main",
        node="na",
        rep_id="r1",
        booking_link="https://cal.example.com/r1",
        account=dict(ACCOUNT),
        scores=SCORES,
    )
    return {**decision.as_record(), **overrides}


def planned(
    event: str = "assigned",
    *,
    rec: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    notifications: dict[str, Any] | None = NOTIFICATIONS,
    crm: dict[str, Any] | None = CRM,
    **kwargs: Any,
) -> list[OutboxMessage]:
    rec = rec if rec is not None else record()
    fields = fields if fields is not None else FIELDS
    activity = [Activity("pricing_page", NOW - timedelta(hours=1), url="https://x.io/pricing")]
    brief = build_brief(rec["lead_id"], fields, rec, activity)
    return plan(
        event,
        rec,
        brief,
        org(),
        NotificationsModel.model_validate(notifications) if notifications else None,
        CrmModel.model_validate(crm) if crm else None,
        lead_fields=fields,
        **kwargs,
    )


def by_target(messages: list[OutboxMessage]) -> dict[str, OutboxMessage]:
    return {m.target: m for m in messages}


# -- config ----------------------------------------------------------------------------------------


def test_a_full_config_validates_with_every_kind() -> None:
    model = NotificationsModel.model_validate(NOTIFICATIONS)
    kinds = {name: channel.kind for name, channel in model.channels.items()}
    assert kinds == {"sales_slack": "slack", "rep_email": "email", "ops_hook": "webhook"}
    email = model.channels["rep_email"].email
    assert email is not None and email.sender == "routing@example.com" and email.starttls
    crm = CrmModel.model_validate(CRM)
    assert crm.hubspot is not None and crm.hubspot.owners == {"r1": "123"}
    assert retry_for("salesforce", model, crm).max_attempts == 5  # CRM falls back to notify
    assert retry_for("hubspot", None, crm) == RetryModel()


def errors(model: type[Any], document: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(document)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_unknown_and_repeated_channels_are_reported_where_they_are() -> None:
    document = {**NOTIFICATIONS, "send": {"assigned": ["sales_slack", "nope", "sales_slack"]}}
    found = errors(NotificationsModel, document)
    assert found == [
        (
            ("send", "assigned", 1),
            "unknown channel nope (channels: ops_hook, rep_email, sales_slack)",
        ),
        (("send", "assigned", 2), "sales_slack is listed twice"),
    ]


def test_an_unknown_event_lists_the_known_ones() -> None:
    found = errors(NotificationsModel, {**NOTIFICATIONS, "send": {"assignd": ["sales_slack"]}})
    assert found[0][0][:2] == ("send", "assignd")
    assert all(f"'{event}'" in found[0][1] for event in EVENTS)


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({}, "exactly one of slack, email or webhook"),
        (
            {"slack": {"webhook_url_env": "A"}, "webhook": {"url": "https://x", "secret_env": "B"}},
            "exactly one of slack, email or webhook",
        ),
        ({"slack": {"webhook_url_env": "https://hooks.slack.com/services/T/B/x"}}, "pattern"),
        ({"webhook": {"url": "ftp://x", "secret_env": "B"}}, "must start with https://"),
        (
            {"email": {"host": "h", "from": "a@b.co", "to": ["rep", "boss"]}},
            "'boss' is neither rep, manager nor an email address",
        ),
        ({"email": {"host": "h", "from": "nobody", "to": ["rep"]}}, "not an email address"),
        (
            {"email": {"host": "h", "from": "a@b.co", "to": ["rep"], "ssl": True}},
            "choose ssl",
        ),
        (
            {"email": {"host": "h", "from": "a@b.co", "to": ["rep"], "username_env": "U"}},
            "go together",
        ),
        ({"slack": {"webhook_url_env": "A", "url": "https://x"}}, "Extra inputs"),
    ],
)
def test_bad_channels_are_rejected(channel: dict[str, Any], message: str) -> None:
    found = errors(NotificationsModel, {"channels": {"c": channel}})
    assert any(message in text for _, text in found), found


@pytest.mark.parametrize(
    ("crm", "message"),
    [
        ({"salesforce": {**CRM["salesforce"], "owners": {"r1": "00Q000000000001"}}}, "user id"),
        ({"salesforce": {**CRM["salesforce"], "queues": {"q": SF_USER}}}, "queue id"),
        ({"salesforce": {**CRM["salesforce"], "api_version": "60"}}, "pattern"),
        ({"salesforce": {**CRM["salesforce"], "status_values": {"won": "x"}}}, "'assigned'"),
        ({"hubspot": {**CRM["hubspot"], "owners": {"r1": "abc"}}}, "HubSpot owner id"),
    ],
)
def test_bad_crm_settings_are_rejected(crm: dict[str, Any], message: str) -> None:
    assert any(message in text for _, text in errors(CrmModel, crm))


def test_retry_needs_max_at_least_base() -> None:
    assert (
        "at least base_seconds" in errors(RetryModel, {"base_seconds": 60, "max_seconds": 5})[0][1]
    )


def test_problems_name_reps_the_org_cannot_serve() -> None:
    crm = CrmModel.model_validate({"hubspot": {**CRM["hubspot"], "owners": {"r1": 1, "zz": 2}}})
    found = notify_problems(NotificationsModel.model_validate(NOTIFICATIONS), crm, org())
    assert (("crm", "hubspot", "owners", "zz"), "unknown rep zz", "error") in found
    where = ("notifications", "channels", "rep_email", "email", "to")
    assert (where, "reps without an email: r3", "warning") in found
    assert (where, "reps without a manager with an email: m1, m2", "warning") in found


# -- the planner -----------------------------------------------------------------------------------


def test_assigned_goes_to_every_listed_channel_and_the_crm() -> None:
    messages = planned()
    assert [(m.channel, m.target) for m in messages] == [
        ("slack", "sales_slack"),
        ("email", "rep_email"),
        ("webhook", "ops_hook"),
        ("salesforce", "salesforce"),
    ]
    assert {m.event for m in messages} == {"lead.assigned"}
    assert {m.lead_id for m in messages} == {"L1"}
    for m in messages:
        json.dumps(m.payload)  # JSON all the way down


def test_events_without_channels_plan_nothing_and_unknown_events_fail() -> None:
    assert planned("escalated", crm=None) == []
    with pytest.raises(ValueError, match="unknown event 'won'"):
        planned("won")


def test_slack_message_is_block_kit_with_the_context() -> None:
    payload = by_target(planned())["sales_slack"].payload
    blocks = payload["blocks"]
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "section",
        "context",
    ]
    assert (
        payload["text"] == blocks[0]["text"]["text"] == "New lead for Rita One: Ada Lovelace (Acme)"
    )
    assert blocks[0]["text"]["type"] == "plain_text"
    main = blocks[1]["text"]["text"]
    assert "*Who:* Ada Lovelace, VP Engineering at Acme, GB" in main
    assert (
        "*Account:* Acme (customer, named account, open opportunity: Negotiation, owner Rob Two)"
        in main
    )
    assert "*Why:* route na: round robin in pool sales" in main
    assert "*Source:* lead_source Webinar, utm_campaign q4-launch" in main
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields == [
        "*Rep*\nRita One",
        "*Fit*\nA (82)",
        "*Intent*\nhigh (40)",
        "*Conversion*\n34%",
    ]
    assert "VP title (+30)" in blocks[3]["text"]["text"]
    assert "pricing page view https://x.io/pricing" in blocks[4]["text"]["text"]
    context = [e["text"] for e in blocks[5]["elements"]]
    assert context[0] == "<https://cal.example.com/r1|Book a meeting>"
    assert context[1].startswith("lead L1 \u00b7 decided 2026-11-24 15:00 UTC")


def test_lead_values_are_escaped_and_unsafe_links_dropped() -> None:
    fields = {**FIELDS, "first_name": "<script>x</script>", "company": "R&D <b>"}
    rec = record(booking_link="javascript:alert(1)", reason="<@U123> & <!channel>")
    messages = by_target(planned(rec=rec, fields=fields))
    slack = json.dumps(messages["sales_slack"].payload["blocks"][1:])
    assert "&lt;script&gt;" in slack and "R&amp;D &lt;b&gt;" in slack
    assert "<script>" not in slack and "<!channel>" not in slack and "<@U123>" not in slack
    assert "javascript" not in json.dumps(messages["sales_slack"].payload)
    email = messages["rep_email"].payload
    assert "&lt;script&gt;x&lt;/script&gt;" in email["html"] and "<script>" not in email["html"]
    assert "R&amp;D &lt;b&gt;" in email["html"] and "javascript" not in email["html"]
    assert "<script>x</script>" in email["text"]  # plain text stays as it is


def test_header_and_fields_respect_block_kit_limits() -> None:
    fields = {**FIELDS, "first_name": "A" * 400, "title": "T" * 5000}
    payload = by_target(planned(fields=fields))["sales_slack"].payload
    assert len(payload["blocks"][0]["text"]["text"]) == 150
    assert len(payload["blocks"][1]["text"]["text"]) <= 3000


def test_email_has_subject_text_html_and_resolved_recipients() -> None:
    email = by_target(planned())["rep_email"].payload
    assert email["to"] == ["r1@example.com", "m1@example.com", "ops@example.com"]
    assert email["subject"] == "New lead for Rita One: Ada Lovelace (Acme)"
    assert "New lead L1: Ada Lovelace" in email["text"]  # the brief
    assert "Fit A (82): VP title (+30)" in email["text"]
    assert "Source: lead_source Webinar" in email["text"]
    assert '<a href="https://cal.example.com/r1">Book a meeting</a>' in email["html"]


def test_manager_falls_back_to_the_team_manager_and_missing_people_are_dropped() -> None:
    email = by_target(planned(rec=record(rep="r2")))["rep_email"].payload
    assert email["to"] == ["r2@example.com", "m2@example.com", "ops@example.com"]
    email = by_target(planned(rec=record(rep="r3")))["rep_email"].payload
    assert email["to"] == ["m2@example.com", "ops@example.com"]  # r3 has no email


def test_an_email_with_nobody_to_send_to_is_not_planned() -> None:
    only_rep = {**NOTIFICATIONS["channels"]["rep_email"]["email"], "to": ["rep"]}
    notifications = {
        **NOTIFICATIONS,
        "channels": {**NOTIFICATIONS["channels"], "rep_email": {"email": only_rep}},
    }
    rec = record(rep=None, outcome="unrouted", reason="no route matched")
    messages = planned("unrouted", rec=rec, notifications=notifications, crm=None)
    assert [m.target for m in messages] == ["sales_slack"]
    assert messages[0].payload["text"] == "Unrouted lead: Ada Lovelace (Acme)"


def test_webhook_body_carries_lead_decision_and_brief() -> None:
    fields = {**FIELDS, "received_at": NOW}
    message = by_target(planned(fields=fields, source="web"))["ops_hook"]
    body = message.payload
    assert body["id"] == message.key and body["event"] == "lead.assigned"
    assert body["lead"] == {
        "id": "L1",
        "source": "web",
        "fields": {**FIELDS, "received_at": NOW.isoformat()},
    }
    assert body["decision"] == json.loads(json.dumps(record()))
    assert body["brief"]["account"]["opportunity_stage"] == "Negotiation"
    assert body["brief"]["recent_activity"][0]["type"] == "pricing_page"


def test_reassigned_says_who_had_it() -> None:
    slack = planned("reassigned", rec=record(rep="r2"), previous_rep="r1", crm=None)[0]
    assert slack.payload["text"] == "Lead reassigned to Rob Two: Ada Lovelace (Acme)"
    assert "(was Rita One)" in slack.payload["blocks"][1]["text"]["text"]


# -- keys ------------------------------------------------------------------------------------------


def test_keys_are_stable_unique_and_short() -> None:
    first = [m.key for m in planned()]
    assert first == [m.key for m in planned()]  # planned again: the same keys, deduplicated
    assert len(set(first)) == len(first)
    later = [m.key for m in planned(rec=record(decided_at="2026-11-25T09:00:00+00:00"))]
    assert not set(first) & set(later)  # a new decision notifies again
    again = [m.key for m in planned("reminder", crm=None)]
    second = [m.key for m in planned("reminder", crm=None, occurrence="2")]
    assert not set(again) & set(second) and not set(again) & set(first)
    long = {
        **NOTIFICATIONS,
        "channels": {"c" * 80: NOTIFICATIONS["channels"]["sales_slack"]},
        "send": {"reassigned": ["c" * 80]},
    }
    keys = [m.key for m in planned("reassigned", rec=record(lead_id="L" * 120), notifications=long)]
    assert keys and all(len(k) <= 200 for k in keys)


# -- CRM write-back --------------------------------------------------------------------------------


def test_salesforce_gets_owner_and_status() -> None:
    update = by_target(planned())["salesforce"]
    assert update.payload == {
        "object": "Lead",
        "id": "00Q000000000001AAA",
        "fields": {"OwnerId": SF_USER, "Status": "Working - Contacted"},
    }


def test_hubspot_gets_owner_and_lead_status_for_a_lead_from_hubspot() -> None:
    fields = {**FIELDS, "crm": None, "crm_id": "901"}
    update = by_target(planned(fields=fields, source="HubSpot"))["hubspot"]
    assert update.payload == {
        "object": "contacts",
        "id": "901",
        "properties": {"hubspot_owner_id": "123", "hs_lead_status": "IN_PROGRESS"},
    }


def test_no_crm_update_without_a_crm_record_or_anything_to_change() -> None:
    assert crm_of({"crm": "Salesforce "}, None) == "salesforce"
    assert crm_of({}, "web") is None
    no_id = {**FIELDS, "crm_id": ""}
    assert [m.channel for m in planned(fields=no_id)] == ["slack", "email", "webhook"]
    assert not [
        m for m in planned(fields={**FIELDS, "crm": "pipedrive"}) if m.channel == "salesforce"
    ]
    assert planned("reminder", notifications=None) == []  # no owner change, no status value
    only_hubspot = {"hubspot": CRM["hubspot"]}
    assert planned(notifications=None, crm=only_hubspot) == []  # the lead is from Salesforce


def test_an_unmapped_owner_is_skipped_and_named_but_the_status_goes() -> None:
    update = planned(rec=record(rep="r2"), notifications=None)[0]
    assert update.payload["fields"] == {"Status": "Working - Contacted"}
    assert update.payload["skipped"] == ["OwnerId: rep r2 has no user id in crm.salesforce.owners"]


def test_a_queued_lead_is_owned_by_the_salesforce_queue() -> None:
    rec = record(rep=None, queue="nurture", outcome="routed")
    update = planned("queued", rec=rec, notifications=None)[0]
    assert update.payload["fields"] == {"OwnerId": SF_QUEUE, "Status": "Nurture"}


# -- backoff and signatures ------------------------------------------------------------------------


@given(
    base=st.floats(0.5, 600),
    ratio=st.floats(1, 1000),
    attempts=st.integers(1, 200),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens(
    base: float, ratio: float, attempts: int, jitter: float, seed: int
) -> None:
    retry = RetryModel(base_seconds=base, max_seconds=base * ratio, jitter=jitter)
    exact = RetryModel(base_seconds=base, max_seconds=base * ratio)
    wait = next_attempt(attempts, exact).total_seconds()
    assert next_attempt(1, exact).total_seconds() == pytest.approx(base)
    assert wait <= exact.max_seconds + 1e-6
    assert next_attempt(attempts + 1, exact).total_seconds() >= wait
    if wait < exact.max_seconds - 1e-5:  # timedelta keeps microseconds
        assert wait == pytest.approx(base * 2 ** (attempts - 1))
    assert next_attempt(attempts, retry) == next_attempt(attempts, exact)  # no rng: exact
    jittered = next_attempt(attempts, retry, rng=random.Random(seed)).total_seconds()
    assert (1 - jitter) * wait - 1e-6 <= jittered <= wait + 1e-6


def test_signatures_verify_only_the_exact_body_recently_signed() -> None:
    body = b'{"event":"lead.assigned"}'
    header = signature("s3cret", "1700000000", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature("s3cret", "1700000000", body, header, now=1700000100)
    assert not verify_signature("s3cret", "1700000000", body + b" ", header, now=1700000100)
    assert not verify_signature("other", "1700000000", body, header, now=1700000100)
    assert not verify_signature("s3cret", "1700000000", body, header, now=1700000400)
    assert not verify_signature("s3cret", "soon", body, header, now=1700000100)


def test_every_config_field_is_described() -> None:
    models: list[type[BaseModel]] = [
        NotificationsModel,
        ChannelModel,
        SlackChannel,
        EmailChannel,
        WebhookChannel,
        RetryModel,
        CrmModel,
        SalesforceModel,
        HubspotModel,
    ]
    undescribed = [
        f"{model.__name__}.{name}"
        for model in models
        for name, info in model.model_fields.items()
        if not info.description
    ]
    assert undescribed == []
    schema = NotificationsModel.model_json_schema(by_alias=True)
    assert "from" in schema["$defs"]["EmailChannel"]["properties"]


def test_lifecycle_kinds_map_onto_notification_events() -> None:
    assert notify_event("reminded") == "reminder"
    assert notify_event("assigned") == "assigned"
    assert notify_event("rejected") is None and notify_event("sla_missed") is None
    assert {notify_event(kind) for kind in EVENTS} == set(EVENTS)
    assert set(get_args(Event)) == set(EVENTS)  # every event is described
