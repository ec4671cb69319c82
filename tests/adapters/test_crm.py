"""CRM write-back against fakes of the Salesforce and HubSpot APIs on 127.0.0.1 that check
method, path, bearer token and body, and fail on demand."""

from __future__ import annotations

from typing import Any

import pytest

from leadroute.adapters.crm import HubspotSender, SalesforceSender, build_senders
from leadroute.domain.notify import (
    CrmModel,
    DeliveryError,
    HubspotModel,
    OutboxMessage,
    SalesforceModel,
)
from tests.receivers import FakeHubspot, FakeSalesforce, Reply, http_receiver

LEAD_ID = "00Q000000000001AAA"
USER = "005000000000001AAA"
ENV = {"SF_TOKEN": "sf-token", "HUBSPOT_TOKEN": "hs-token"}


def sf_update(lead_id: str = LEAD_ID, **fields: str) -> OutboxMessage:
    return OutboxMessage(
        "salesforce",
        "salesforce",
        "lead.assigned",
        "L1",
        {
            "object": "Lead",
            "id": lead_id,
            "fields": fields or {"OwnerId": USER, "Status": "Working"},
        },
        f"assigned:salesforce:salesforce:{lead_id}",
    )


def hs_update(contact: str = "901", **properties: str) -> OutboxMessage:
    properties = properties or {"hubspot_owner_id": "123", "hs_lead_status": "IN_PROGRESS"}
    return OutboxMessage(
        "hubspot",
        "hubspot",
        "lead.assigned",
        "L1",
        {"object": "contacts", "id": contact, "properties": properties},
        f"assigned:hubspot:hubspot:{contact}",
    )


def send_failing(sender: Any, message: OutboxMessage, env: dict[str, str] = ENV) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sender.send(message, env=env)
    return caught.value


# -- Salesforce ------------------------------------------------------------------------------------


def test_salesforce_lead_gets_owner_and_status_by_patch() -> None:
    fake = FakeSalesforce("sf-token", {LEAD_ID: {"OwnerId": "005000000000009AAA", "Status": "New"}})
    with http_receiver(fake) as server:
        sender = SalesforceSender(
            SalesforceModel(instance_url=server.url(), token_env="SF_TOKEN", api_version="v60.0")
        )
        sender.send(sf_update(), env=ENV)
        sender.close()
    (request,) = server.requests
    assert request.method == "PATCH"
    assert request.path == f"/services/data/v60.0/sobjects/Lead/{LEAD_ID}"
    assert request.headers["authorization"] == "Bearer sf-token"
    assert request.json() == {"OwnerId": USER, "Status": "Working"}
    assert fake.leads[LEAD_ID] == {"OwnerId": USER, "Status": "Working"}


@pytest.mark.parametrize(
    ("scripted", "message", "retryable", "text"),
    [
        (None, sf_update("00Q000000000404AAA"), False, "HTTP 404: NOT_FOUND: Provided external"),
        (None, sf_update(Rating="Hot"), False, "HTTP 400: INVALID_FIELD: No such column 'Rating'"),
        (
            FakeSalesforce.error(
                400, "FIELD_INTEGRITY_EXCEPTION", "Owner ID: owner cannot be inactive user"
            ),
            sf_update(),
            False,
            "HTTP 400: FIELD_INTEGRITY_EXCEPTION: Owner ID: owner cannot be inactive user",
        ),
        (
            FakeSalesforce.error(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"),
            sf_update(),
            True,
            "HTTP 400: UNABLE_TO_LOCK_ROW",
        ),
        (
            FakeSalesforce.error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
            sf_update(),
            True,
            "HTTP 403: REQUEST_LIMIT_EXCEEDED",
        ),
        (Reply(503, "Service Unavailable"), sf_update(), True, "HTTP 503: Service Unavailable"),
        (Reply(429, "", {"Retry-After": "30"}), sf_update(), True, "HTTP 429"),
    ],
)
def test_salesforce_failures_keep_its_error_text_and_only_transient_ones_retry(
    scripted: Reply | None, message: OutboxMessage, retryable: bool, text: str
) -> None:
    fake = FakeSalesforce("sf-token", {LEAD_ID: {}})
    if scripted is not None:
        fake.failures.next(scripted)
    with http_receiver(fake) as server:
        sender = SalesforceSender(SalesforceModel(instance_url=server.url(), token_env="SF_TOKEN"))
        error = send_failing(sender, message)
        sender.close()
    assert error.retryable is retryable
    assert str(error).startswith(text)
    assert fake.leads[LEAD_ID] == {}


def test_a_rejected_salesforce_token_is_not_retried_and_not_shown() -> None:
    with http_receiver(FakeSalesforce("sf-token", {LEAD_ID: {}})) as server:
        sender = SalesforceSender(SalesforceModel(instance_url=server.url(), token_env="SF_TOKEN"))
        error = send_failing(sender, sf_update(), {"SF_TOKEN": "expired-token"})
        missing = send_failing(sender, sf_update(), {})
        sender.close()
    assert str(error) == "HTTP 401: INVALID_SESSION_ID: Session expired or invalid"
    assert not error.retryable and "expired-token" not in str(error)
    assert str(missing) == "environment variable SF_TOKEN is not set" and not missing.retryable


def test_record_ids_are_quoted_into_the_path() -> None:
    sender = SalesforceSender(
        SalesforceModel(instance_url="https://x.my.salesforce.com/", token_env="T")
    )
    assert sender.url("Lead", "00Q/../x") == (
        "https://x.my.salesforce.com/services/data/v60.0/sobjects/Lead/00Q%2F..%2Fx"
    )
    sender.close()


# -- HubSpot ---------------------------------------------------------------------------------------


def test_hubspot_contact_gets_owner_and_lead_status_by_patch() -> None:
    fake = FakeHubspot("hs-token", {"901": {"hs_lead_status": "NEW"}})
    with http_receiver(fake) as server:
        sender = HubspotSender(HubspotModel(base_url=server.url(), token_env="HUBSPOT_TOKEN"))
        sender.send(hs_update(), env=ENV)
        sender.close()
    (request,) = server.requests
    assert (request.method, request.path) == ("PATCH", "/crm/v3/objects/contacts/901")
    assert request.headers["authorization"] == "Bearer hs-token"
    assert request.json() == {
        "properties": {"hubspot_owner_id": "123", "hs_lead_status": "IN_PROGRESS"}
    }
    assert fake.contacts["901"] == {"hubspot_owner_id": "123", "hs_lead_status": "IN_PROGRESS"}


@pytest.mark.parametrize(
    ("scripted", "message", "retryable", "text"),
    [
        (None, hs_update("404"), False, "HTTP 404: OBJECT_NOT_FOUND: resource not found"),
        (
            None,
            hs_update(lifecyclestage="lead"),
            False,
            'HTTP 400: VALIDATION_ERROR: Property "lifecyclestage" does not exist',
        ),
        (
            FakeHubspot.error(429, "RATE_LIMITS", "You have reached your secondly limit."),
            hs_update(),
            True,
            "HTTP 429: RATE_LIMITS: You have reached your secondly limit.",
        ),
        (Reply(502, "<html>Bad Gateway</html>"), hs_update(), True, "HTTP 502: <html>Bad Gateway"),
    ],
)
def test_hubspot_failures_keep_its_error_text_and_only_transient_ones_retry(
    scripted: Reply | None, message: OutboxMessage, retryable: bool, text: str
) -> None:
    fake = FakeHubspot("hs-token", {"901": {}})
    if scripted is not None:
        fake.failures.next(scripted)
    with http_receiver(fake) as server:
        sender = HubspotSender(HubspotModel(base_url=server.url(), token_env="HUBSPOT_TOKEN"))
        error = send_failing(sender, message)
        sender.close()
    assert (error.retryable, str(error)[: len(text)]) == (retryable, text)
    assert fake.contacts["901"] == {}


def test_crm_senders_are_built_per_configured_crm() -> None:
    crm = CrmModel(
        salesforce=SalesforceModel(instance_url="https://x.my.salesforce.com", token_env="A"),
        hubspot=HubspotModel(token_env="B"),
    )
    senders = build_senders(crm)
    assert {k: type(v) for k, v in senders.items()} == {
        ("salesforce", "salesforce"): SalesforceSender,
        ("hubspot", "hubspot"): HubspotSender,
    }
    for sender in senders.values():
        sender.close()
    assert build_senders(CrmModel()) == {}
