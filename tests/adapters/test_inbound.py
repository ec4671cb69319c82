"""Inbound webhooks: HubSpot signature v3 and events, Salesforce Outbound Messages, web-to-lead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.adapters.inbound import (
    ACK_CONTENT_TYPE,
    InboundError,
    ack,
    fault,
    parse_contact_events,
    parse_outbound_message,
    parse_web_to_lead,
    sign_v3,
    verify_v3,
)

# --- HubSpot -------------------------------------------------------------------------------

SECRET = "3f1c9a2e-7b4d-4e8a-9c11-5d2e8f0a6b73"
URI = "https://leads.example.com/v1/webhooks/hubspot"
NOW = datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC)
NOW_MS = 1772442900000  # NOW in milliseconds
PORTAL = 4470912

HUBSPOT_EVENTS: list[dict[str, Any]] = [
    {
        "eventId": 1839021,
        "subscriptionId": 2101,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 4000,
        "subscriptionType": "contact.creation",
        "attemptNumber": 0,
        "objectId": 65059681032,
        "changeFlag": "NEW",
        "changeSource": "CRM_UI",
        "sourceId": "userId:45678",
    },
    {
        "eventId": 1839022,
        "subscriptionId": 2102,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 3500,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 65059681032,
        "propertyName": "email",
        "propertyValue": "zoe.angstrom@nordlicht.example",
        "changeSource": "FORM",
        "sourceId": "form:9f2c",
    },
    {
        "eventId": 1839023,
        "subscriptionId": 2103,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 3400,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 65059681032,
        "propertyName": "numemployees",
        "propertyValue": "25-50",
        "changeSource": "FORM",
    },
    {
        "eventId": 1839024,
        "subscriptionId": 2104,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 3000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 70112233445,
        "propertyName": "hs_lead_status",
        "propertyValue": "IN_PROGRESS",
        "changeSource": "CRM_UI",
    },
    {
        "eventId": 1839025,
        "subscriptionId": 2105,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 2000,
        "subscriptionType": "contact.deletion",
        "attemptNumber": 0,
        "objectId": 61000000001,
        "changeFlag": "DELETED",
        "changeSource": "CRM_UI",
    },
    {
        "eventId": 1839026,
        "subscriptionId": 2106,
        "portalId": PORTAL,
        "appId": 81234,
        "occurredAt": NOW_MS - 1000,
        "subscriptionType": "company.creation",
        "attemptNumber": 0,
        "objectId": 19876543210,
        "changeFlag": "NEW",
        "changeSource": "CRM_UI",
    },
]
HUBSPOT_BODY = json.dumps(HUBSPOT_EVENTS, separators=(",", ":")).encode()


def signed(
    body: bytes = HUBSPOT_BODY,
    *,
    secret: str = SECRET,
    uri: str = URI,
    stamp: int = NOW_MS - 1500,
) -> tuple[str, str]:
    """(signature, timestamp) computed from the spec by hand, independently of sign_v3."""
    text = str(stamp)
    message = b"POST" + uri.encode() + body + text.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode(), text


def verify(
    body: bytes = HUBSPOT_BODY,
    *,
    signature: str | None,
    timestamp: str | None,
    uri: str = URI,
    secret: str = SECRET,
    now: datetime = NOW,
) -> None:
    verify_v3(
        secret=secret,
        method="POST",
        uri=uri,
        body=body,
        signature=signature,
        timestamp=timestamp,
        now=now,
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> InboundError:
    with pytest.raises(InboundError) as caught:
        call(*args, **kwargs)
    return caught.value


BAD_SIGNATURE = (
    "X-HubSpot-Signature-v3 does not match: the request was not signed with this app's "
    "client secret for this URL and body"
)


def test_a_request_signed_as_hubspot_specifies_passes() -> None:
    signature, stamp = signed()
    assert sign_v3(secret=SECRET, method="post", uri=URI, body=HUBSPOT_BODY, timestamp=stamp) == (
        signature
    )
    verify(signature=signature, timestamp=stamp)  # raises if refused
    verify(signature=f" {signature} ", timestamp=f"{stamp}\n")  # header whitespace is fine


def test_the_uri_is_signed_with_hubspots_escapes_decoded_and_others_kept() -> None:
    sent = "https://leads.example.com/v1/webhooks/hubspot?tenant=acme%3Aeu&next=%2Fa%2Cb&q=a%20b"
    decoded = "https://leads.example.com/v1/webhooks/hubspot?tenant=acme:eu&next=/a,b&q=a%20b"
    signature, stamp = signed(uri=decoded)
    verify(signature=signature, timestamp=stamp, uri=sent)
    wrong, _ = signed(uri=sent)
    assert refusal(verify, signature=wrong, timestamp=stamp, uri=sent).message == BAD_SIGNATURE


@pytest.mark.parametrize(
    "change",
    ["tampered body", "wrong secret", "other url", "other timestamp"],
)
def test_a_request_that_was_not_signed_so_is_refused(change: str) -> None:
    signature, stamp = signed()
    kwargs: dict[str, Any] = {"signature": signature, "timestamp": stamp}
    if change == "tampered body":
        kwargs["body"] = HUBSPOT_BODY.replace(b"65059681032", b"65059681033")
    elif change == "wrong secret":
        kwargs["secret"] = "another-app-secret"
    elif change == "other url":
        kwargs["uri"] = "https://leads.example.com/v1/webhooks/hubspot?x=1"
    else:
        kwargs["timestamp"] = str(int(stamp) + 1)
    error = refusal(verify, **kwargs)
    assert (error.status, error.message) == (401, BAD_SIGNATURE)


def test_timestamps_outside_five_minutes_are_refused_even_when_signed() -> None:
    old_signature, old = signed(stamp=NOW_MS - 360_000)
    error = refusal(verify, signature=old_signature, timestamp=old)
    assert (error.status, error.message) == (
        401,
        "X-HubSpot-Request-Timestamp is 360 s old; requests more than 300 s old are refused",
    )
    ahead_signature, ahead = signed(stamp=NOW_MS + 301_000)
    error = refusal(verify, signature=ahead_signature, timestamp=ahead)
    assert (error.status, error.message) == (
        401,
        "X-HubSpot-Request-Timestamp is 301 s in the future; more than 300 s ahead is refused "
        "(check the server clock)",
    )
    edge_signature, edge = signed(stamp=NOW_MS - 300_000)
    verify(signature=edge_signature, timestamp=edge)  # exactly 5 minutes old still passes


@pytest.mark.parametrize(
    ("signature", "timestamp", "message"),
    [
        (None, "1772442900000", "missing X-HubSpot-Signature-v3 header"),
        ("  ", "1772442900000", "missing X-HubSpot-Signature-v3 header"),
        ("c2ln", None, "missing X-HubSpot-Request-Timestamp header"),
        (
            "c2ln",
            "2026-03-02T09:15:00Z",
            "X-HubSpot-Request-Timestamp must be milliseconds since the epoch, "
            "got '2026-03-02T09:15:00Z'",
        ),
        (
            "c2ln",
            "1772442900",
            "X-HubSpot-Request-Timestamp is 1770670457 s old; requests more than 300 s old "
            "are refused",
        ),
    ],
)
def test_missing_or_malformed_headers_are_refused(
    signature: str | None, timestamp: str | None, message: str
) -> None:
    error = refusal(verify, signature=signature, timestamp=timestamp)
    assert (error.status, error.message) == (401, message)


def test_no_configured_secret_is_a_server_problem_and_now_must_be_aware() -> None:
    signature, stamp = signed()
    error = refusal(verify, signature=signature, timestamp=stamp, secret="")
    assert (error.status, error.message) == (
        503,
        "no HubSpot client secret is configured (LEADROUTE_HUBSPOT_SECRET)",
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(signature=signature, timestamp=stamp, now=NOW.replace(tzinfo=None))


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(min_size=1, max_size=300),
    data=st.data(),
)
def test_any_tampered_byte_fails_verification(body: bytes, data: st.DataObject) -> None:
    signature, stamp = signed(body)
    verify(body, signature=signature, timestamp=stamp)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(body)
    tampered[index] ^= flip
    error = refusal(verify, bytes(tampered), signature=signature, timestamp=stamp)
    assert (error.status, error.message) == (401, BAD_SIGNATURE)


def test_contact_events_become_partial_leads_keyed_for_resends() -> None:
    events = parse_contact_events(HUBSPOT_BODY)
    assert [(e.object_type, e.change) for e in events] == [
        ("contact", "creation"),
        ("contact", "propertyChange"),
        ("contact", "propertyChange"),
        ("contact", "propertyChange"),
        ("contact", "deletion"),
        ("company", "creation"),
    ]
    created, email, size, status, deleted, company = events
    assert created.event_id == "1839021"
    assert created.key == f"hubspot:{PORTAL}:2101:1839021:65059681032:{NOW_MS - 4000}"
    assert created.occurred_at == NOW - timedelta(seconds=4)
    assert created.change_source == "CRM_UI" and created.attempt_number == 0
    assert created.properties == {}
    assert created.lead is not None
    assert created.lead.event_id == created.key
    assert (created.lead.crm, created.lead.crm_id) == ("hubspot", "65059681032")
    lead = created.lead.lead
    assert lead.id == "hs-65059681032"
    assert dict(lead.fields) == {"crm": "hubspot", "crm_id": "65059681032"}
    assert (lead.source, lead.channel, lead.received_at) == (
        "hubspot",
        "webhook",
        created.occurred_at,
    )

    assert email.lead is not None and email.lead.lead.fields["email"] == (
        "zoe.angstrom@nordlicht.example"
    )
    assert email.lead.lead.received_at is None  # a change does not say when the lead arrived
    assert size.lead is not None and size.lead.lead.fields["employees"] == 38  # "25-50"
    assert size.lead.raw == {"numemployees": "25-50"}
    assert status.lead is not None and status.lead.lead.fields["lead_status"] == "IN_PROGRESS"
    assert status.lead.lead.id == "hs-70112233445"
    assert deleted.lead is None and company.lead is None
    assert company.raw["subscriptionType"] == "company.creation"


def test_a_retry_has_the_same_key_and_a_new_event_another() -> None:
    retry = dict(HUBSPOT_EVENTS[1], attemptNumber=3)
    again = dict(HUBSPOT_EVENTS[1], occurredAt=NOW_MS, propertyValue="zoe@nordlicht.example")
    first, retried, later = parse_contact_events(
        json.dumps([HUBSPOT_EVENTS[1], retry, again]).encode()
    )
    assert retried.attempt_number == 3
    assert first.key == retried.key != later.key


def test_generic_object_events_unicode_and_values_of_the_wrong_type() -> None:
    body = json.dumps(
        [
            {
                "eventId": 7,
                "subscriptionId": 31,
                "portalId": PORTAL,
                "occurredAt": NOW_MS,
                "subscriptionType": "object.propertyChange",
                "objectTypeId": "0-1",
                "objectId": "901",
                "propertyName": "company",
                "propertyValue": "Nordlicht Ångström GmbH 東京",
            },
            {
                "eventId": 8,
                "subscriptionType": "contact.propertyChange",
                "objectId": 902,
                "propertyName": "annualrevenue",
                "propertyValue": "lots",
            },
            {
                "eventId": 9,
                "subscriptionType": "contact.propertyChange",
                "objectId": 903,
                "propertyName": "favourite_colour",
                "propertyValue": " teal ",
            },
        ],
        ensure_ascii=False,
    ).encode("utf-8")
    generic, bad_value, custom = parse_contact_events(body)
    assert generic.lead is not None and generic.object_type == "contact"
    assert generic.lead.lead.fields["company"] == "Nordlicht Ångström GmbH 東京"
    assert bad_value.lead is not None
    assert "annual_revenue" not in bad_value.lead.lead.fields
    assert bad_value.lead.problems == (
        "annualrevenue: annual_revenue must be a number, got 'lots'",
    )
    assert bad_value.lead.raw == {"annualrevenue": "lots"}  # kept as received
    assert custom.lead is not None and custom.lead.lead.fields["favourite_colour"] == "teal"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is not valid JSON: Expecting value"),
        (
            b'[{"eventId": 1,',
            "body is not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (b"\xff\xfe\xfa", "body is not valid JSON: not UTF-8 text"),
        (b'{"eventId": 1}', "body must be a JSON array of events, got an object"),
        (b"[1]", "event 1: expected a JSON object, got a number"),
        (b'[{"eventId": 1, "objectId": 2}]', "event 1: missing subscriptionType"),
        (
            b'[{"eventId": 1, "objectId": 2, "subscriptionType": "creation"}]',
            "event 1: subscriptionType must be text like 'contact.creation', got \"creation\"",
        ),
        (
            b'[{"eventId": 1, "objectId": 2, "subscriptionType": "contact.creation"},'
            b' {"eventId": 2, "subscriptionType": "contact.creation"}]',
            "event 2: missing objectId",
        ),
        (
            b'[{"eventId": 1, "objectId": "abc", "subscriptionType": "contact.creation"}]',
            'event 1: objectId must be a whole number, got "abc"',
        ),
        (
            b'[{"objectId": 2, "subscriptionType": "contact.creation"}]',
            "event 1: missing eventId",
        ),
        (
            b'[{"eventId": 1, "objectId": 2, "subscriptionType": "object.creation"}]',
            "event 1: an object.* event needs objectTypeId",
        ),
        (
            b'[{"eventId": 1, "objectId": 2, "subscriptionType": "contact.propertyChange",'
            b' "propertyName": "email", "propertyValue": ["a"]}]',
            "event 1: propertyValue of email must be text, got an array",
        ),
        (
            b'[{"eventId": 1, "objectId": 2, "subscriptionType": "contact.creation",'
            b' "occurredAt": 99999999999999999}]',
            "event 1: occurredAt is not a time in milliseconds",
        ),
    ],
)
def test_bad_hubspot_payloads_name_the_problem(body: bytes, message: str) -> None:
    error = refusal(parse_contact_events, body)
    assert (error.status, error.message) == (400, message)


def test_an_empty_event_array_is_accepted() -> None:
    assert parse_contact_events(b"[]") == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_event_like = st.fixed_dictionaries(
    {},
    optional={
        "eventId": _json | st.integers(0, 10**12),
        "objectId": _json | st.integers(0, 10**12),
        "subscriptionType": st.sampled_from(
            ["contact.creation", "contact.propertyChange", "object.creation", "x"]
        )
        | _json,
        "objectTypeId": st.sampled_from(["0-1", "0-2"]) | _json,
        "propertyName": st.sampled_from(["email", "numemployees", "annualrevenue"]) | _json,
        "propertyValue": _json,
        "occurredAt": st.integers(-5, 10**18) | _json,
        "portalId": _json,
        "attemptNumber": _json,
    },
)


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=200)
    | st.lists(_event_like, max_size=3).map(lambda v: json.dumps(v).encode())
)
def test_the_hubspot_parser_raises_nothing_but_inbound_errors(body: bytes) -> None:
    try:
        events = parse_contact_events(body)
    except InboundError as error:
        assert error.status == 400 and error.message
    else:
        assert all(event.key.startswith("hubspot:") for event in events)


# --- Salesforce Outbound Messages ----------------------------------------------------------

ORG_18 = "00D5e000001Nv3kEAC"
ORG_15 = "00D5e000001Nv3k"


def outbound(*sobjects: str, org: str = ORG_18) -> bytes:
    notifications = "".join(
        f"""
   <Notification>
    <Id>04l5e00000Qz{number:03d}AAA</Id>
    {sobject}
   </Notification>"""
        for number, sobject in enumerate(sobjects, start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5e000000TkLmAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://nordlicht.my.salesforce.com/services/Soap/c/61.0/{org[:15]}</EnterpriseUrl>
   <PartnerUrl>https://nordlicht.my.salesforce.com/services/Soap/u/61.0/{org[:15]}</PartnerUrl>{notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
""".encode()


LEAD_ONE = """<sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q5e00000AbCdEEAZ</sf:Id>
     <sf:Company>Nordlicht Ångström GmbH</sf:Company>
     <sf:Country>Germany</sf:Country>
     <sf:CountryCode>DE</sf:CountryCode>
     <sf:CreatedDate>2026-03-02T09:14:58.000Z</sf:CreatedDate>
     <sf:Email>zoe.angstrom@nordlicht.example</sf:Email>
     <sf:FirstName>Zoë</sf:FirstName>
     <sf:LastName>Ångström</sf:LastName>
     <sf:LeadSource>Web</sf:LeadSource>
     <sf:MobilePhone xsi:nil="true"/>
     <sf:NumberOfEmployees>240</sf:NumberOfEmployees>
     <sf:OwnerId>0055e000003XyZaAAC</sf:OwnerId>
     <sf:Status>Open - Not Contacted</sf:Status>
     <sf:Title>Head of Revenue Operations</sf:Title>
    </sObject>"""
LEAD_TWO = """<sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q5e00000AbCdFEAZ</sf:Id>
     <sf:AnnualRevenue>12500000.0</sf:AnnualRevenue>
     <sf:City>東京</sf:City>
     <sf:Company>Sakura Robotics K.K.</sf:Company>
     <sf:Industry>Manufacturing</sf:Industry>
     <sf:LastName>Tanaka</sf:LastName>
     <sf:NumberOfEmployees>many</sf:NumberOfEmployees>
     <sf:Product_Interest__c>Routing</sf:Product_Interest__c>
    </sObject>"""


def test_an_outbound_message_of_two_leads() -> None:
    message = parse_outbound_message(outbound(LEAD_ONE, LEAD_TWO))
    assert message.organization_id == ORG_18
    assert message.action_id == "04k5e000000TkLmAAK"
    assert message.session_id is None
    assert message.enterprise_url == (
        "https://nordlicht.my.salesforce.com/services/Soap/c/61.0/00D5e000001Nv3k"
    )
    assert message.partner_url is not None and "/Soap/u/61.0/" in message.partner_url
    first, second = message.leads
    assert (first.event_id, second.event_id) == ("04l5e00000Qz001AAA", "04l5e00000Qz002AAA")
    assert (first.crm, first.crm_id) == ("salesforce", "00Q5e00000AbCdEEAZ")
    lead = first.lead
    assert lead.id == "sf-00Q5e00000AbCdEEAZ"
    assert (lead.source, lead.channel) == ("salesforce", "webhook")
    assert lead.received_at == datetime(2026, 3, 2, 9, 14, 58, tzinfo=UTC)
    assert dict(lead.fields) == {
        "crm": "salesforce",
        "crm_id": "00Q5e00000AbCdEEAZ",
        "country": "DE",  # CountryCode wins over the country name
        "company": "Nordlicht Ångström GmbH",
        "email": "zoe.angstrom@nordlicht.example",
        "first_name": "Zoë",
        "last_name": "Ångström",
        "lead_source": "Web",
        "employees": 240,
        "crm_owner_id": "0055e000003XyZaAAC",
        "lead_status": "Open - Not Contacted",
        "title": "Head of Revenue Operations",
    }
    assert first.problems == ()
    assert first.raw["Country"] == "Germany" and "MobilePhone" not in first.raw
    fields = second.lead.fields
    assert fields["annual_revenue"] == 12500000
    assert fields["city"] == "東京"
    assert fields["product_interest_c"] == "Routing"
    assert "employees" not in fields
    assert second.problems == ("NumberOfEmployees: employees must be a number, got 'many'",)
    assert second.lead.received_at is None


def test_the_ack_is_the_exact_soap_answer() -> None:
    assert ack() == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body>"
        b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
        b"<Ack>true</Ack>"
        b"</notificationsResponse>"
        b"</soapenv:Body>"
        b"</soapenv:Envelope>"
    )
    assert b"<Ack>false</Ack>" in ack(success=False)
    assert ACK_CONTENT_TYPE == "text/xml; charset=utf-8"
    assert b"<faultstring>a &lt;b&gt; &amp; c</faultstring>" in fault("a <b> & c")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId>&lol4;</OrganizationId>
 </notifications></soapenv:Body>
</soapenv:Envelope>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<x>&secret;</x>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_doctypes_and_entities_are_refused_before_expansion(body: bytes) -> None:
    error = refusal(parse_outbound_message, body)
    assert error.status == 400
    assert error.message.startswith(
        "XML with a DOCTYPE, entities or external references is refused"
    )


def test_only_leads_are_taken() -> None:
    contact = LEAD_ONE.replace("sf:Lead", "sf:Contact")
    error = refusal(parse_outbound_message, outbound(LEAD_TWO, contact))
    assert (error.status, error.message) == (
        400,
        "notification 2 (04l5e00000Qz002AAA): sObject is sf:Contact; "
        "leadroute takes Outbound Messages on Leads only",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"  ", "empty body: expected a SOAP envelope"),
        (b"<soapenv:Envelope", "malformed XML: unclosed token: line 1, column 0"),
        (b"<notifications/>", "expected a SOAP 1.1 Envelope, got <notifications>"),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
            "the SOAP Envelope has no Body",
        ),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            b"<notifications/></e:Body></e:Envelope>",
            "the SOAP Body has no notifications element in namespace "
            "http://soap.sforce.com/2005/09/outbound: not a Salesforce Outbound Message",
        ),
        (outbound(), "notifications has no Notification"),
        (outbound(LEAD_ONE, org=""), "notifications has no OrganizationId"),
        (
            outbound("<sObject/>"),
            "notification 1 (04l5e00000Qz001AAA): sObject has no xsi:type; expected sf:Lead",
        ),
        (
            outbound(LEAD_ONE.replace("<sf:Id>00Q5e00000AbCdEEAZ</sf:Id>", "")),
            "notification 1 (04l5e00000Qz001AAA): the Lead has no Id",
        ),
        (outbound(*[LEAD_TWO] * 101), "101 notifications; an Outbound Message carries at most 100"),
    ],
)
def test_bad_outbound_messages_name_the_problem(body: bytes, message: str) -> None:
    error = refusal(parse_outbound_message, body)
    assert (error.status, error.message) == (400, message)


def test_the_organization_id_is_checked_when_configured() -> None:
    body = outbound(LEAD_ONE)
    assert parse_outbound_message(body, organization_id=ORG_15).organization_id == ORG_18
    assert parse_outbound_message(body, organization_id=ORG_18).leads
    error = refusal(parse_outbound_message, body, organization_id="00D5e000001Zz9qEAA")
    assert (error.status, error.message) == (
        403,
        f"OrganizationId {ORG_18} is not the configured org 00D5e000001Zz9qEAA "
        "(LEADROUTE_SALESFORCE_ORG_ID)",
    )


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=300)
    | st.text(alphabet="<>/=\"' :!&;x[]?", max_size=80).map(str.encode)
    | st.sampled_from([LEAD_ONE, LEAD_TWO, "<sObject/>", ""]).flatmap(
        lambda sobject: st.integers(0, 400).map(
            lambda cut: outbound(sobject)[: cut * 5] if cut else outbound(sobject)
        )
    )
)
def test_the_salesforce_parser_raises_nothing_but_inbound_errors(body: bytes) -> None:
    try:
        message = parse_outbound_message(body)
    except InboundError as error:
        assert error.status == 400 and error.message
    else:
        assert all(lead.lead.id.startswith("sf-") for lead in message.leads)


# --- web-to-lead ---------------------------------------------------------------------------

WEB_TO_LEAD_FORM: dict[str, str | list[str]] = {
    "oid": ORG_15,
    "retURL": "https://www.nordlicht.example/thanks?from=demo",
    "first_name": "Zoë",
    "last_name": "Ångström",
    "email": "zoe.angstrom@nordlicht.example",
    "company": "Nordlicht Ångström GmbH",
    "title": "Head of RevOps",
    "phone": "+49 30 1234567",
    "mobile": "+49 151 2345678",
    "URL": "https://nordlicht.example",
    "city": "Berlin",
    "state": "BE",
    "zip": "10115",
    "country": "DE",
    "description": "Wir möchten Leads fair verteilen.",
    "lead_source": "Web",
    "industry": "Software",
    "employees": "51-200",
    "revenue": "$12M",
    "rating": "Warm",
    "00N5e00000F1aBcEAJ": "Routing",
    "00N5e00000F1aBd": ["Salesforce", "HubSpot"],
    "utm_campaign": "spring-launch",
    "captcha_settings": '{"keyname":"w2l","fallback":"true"}',
    "submit": "Submit",
    "debug": "",
    "debugEmail": "",
}


def test_a_web_to_lead_post_maps_salesforce_names_and_keeps_custom_fields() -> None:
    post = parse_web_to_lead(WEB_TO_LEAD_FORM)
    assert post.return_url == "https://www.nordlicht.example/thanks?from=demo"
    assert post.organization_id == ORG_15
    assert (post.debug, post.debug_email) == (False, None)
    inbound = post.lead
    assert (inbound.event_id, inbound.crm, inbound.crm_id, inbound.problems) == (
        None,
        None,
        None,
        (),
    )
    lead = inbound.lead
    assert lead.id.startswith("w2l-") and len(lead.id) == 20
    assert (lead.source, lead.channel, lead.received_at) == ("Web", "web_form", None)
    assert dict(lead.fields) == {
        "first_name": "Zoë",
        "last_name": "Ångström",
        "email": "zoe.angstrom@nordlicht.example",
        "company": "Nordlicht Ångström GmbH",
        "title": "Head of RevOps",
        "phone": "+49 30 1234567",
        "mobile_phone": "+49 151 2345678",
        "website": "https://nordlicht.example",
        "city": "Berlin",
        "state": "BE",
        "postal_code": "10115",
        "country": "DE",
        "description": "Wir möchten Leads fair verteilen.",
        "lead_source": "Web",
        "industry": "Software",
        "employees": 126,  # midpoint of 51-200, rounded
        "annual_revenue": 12000000,
        "rating": "Warm",
        "00N5e00000F1aBcEAJ": "Routing",
        "00N5e00000F1aBd": "Salesforce;HubSpot",  # a multi-select picklist, as Salesforce joins it
        "utm_campaign": "spring-launch",
    }
    assert inbound.raw["00N5e00000F1aBd"] == ["Salesforce", "HubSpot"]
    assert parse_web_to_lead(dict(WEB_TO_LEAD_FORM)).lead.lead.id == lead.id  # a double click
    assert parse_web_to_lead(WEB_TO_LEAD_FORM, lead_id="L-1").lead.lead.id == "L-1"


def test_a_web_to_lead_post_needs_an_email_or_a_last_name_and_company() -> None:
    for form in (
        {"last_name": "Tanaka"},
        {"company": "Sakura"},
        {"email": "  ", "first_name": "A"},
    ):
        error = refusal(parse_web_to_lead, form)
        assert (error.status, error.message) == (
            422,
            "a web-to-lead post needs email, or last_name and company",
        )
    post = parse_web_to_lead({"last_name": "田中", "company": "さくらロボティクス株式会社"})
    assert post.lead.lead.fields["company"] == "さくらロボティクス株式会社"
    assert post.lead.lead.source == "web-to-lead"
    assert post.return_url is None and post.organization_id is None


def test_bad_values_and_unsafe_return_urls_are_reported_not_fatal() -> None:
    post = parse_web_to_lead(
        {
            "email": "ana@example.com",
            "employees": "a few",
            "retURL": "javascript:alert(1)",
            "debug": "1",
            "debugEmail": "admin@example.com",
        }
    )
    assert post.return_url is None
    assert (post.debug, post.debug_email) == (True, "admin@example.com")
    assert "employees" not in post.lead.lead.fields
    assert post.lead.problems == (
        "employees: employees must be a number, got 'a few'",
        "retURL: not an http(s) URL, ignored: 'javascript:alert(1)'",
    )
    assert post.lead.raw["employees"] == "a few"


def test_the_oid_is_checked_when_an_org_is_configured() -> None:
    assert parse_web_to_lead(WEB_TO_LEAD_FORM, organization_id=ORG_18).organization_id == ORG_15
    error = refusal(parse_web_to_lead, WEB_TO_LEAD_FORM, organization_id="00D5e000001Zz9q")
    assert (error.status, error.message) == (
        403,
        f"the post has oid {ORG_15}; this endpoint takes posts for org 00D5e000001Zz9q",
    )
    error = refusal(parse_web_to_lead, {"email": "a@b.example"}, organization_id=ORG_15)
    assert error.message == f"the post has no oid; this endpoint takes posts for org {ORG_15}"


_names = st.sampled_from(sorted(WEB_TO_LEAD_FORM)) | st.text(max_size=10)
_values = st.text(max_size=12) | st.lists(st.text(max_size=8), max_size=3)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_names, _values, max_size=8))
def test_the_web_to_lead_parser_raises_nothing_but_inbound_errors(
    form: dict[str, str | list[str]],
) -> None:
    try:
        post = parse_web_to_lead(form)
    except InboundError as error:
        assert (error.status, error.message) == (
            422,
            "a web-to-lead post needs email, or last_name and company",
        )
    else:
        fields = post.lead.lead.fields
        assert fields.get("email") or (fields.get("last_name") and fields.get("company"))
