"""Salesforce Outbound Messages: read the SOAP `notifications` of Lead changes, answer the Ack.

An Outbound Message is a SOAP 1.1 envelope whose Body holds one `notifications` element
(namespace http://soap.sforce.com/2005/09/outbound) with the org's OrganizationId, the ActionId,
a SessionId (when the message is set to send one), the Enterprise and Partner API URLs, and
1 to 100 `Notification` elements, each an `Id` and an `sObject` (xsi:type "sf:Lead") whose
children are the Lead fields the workflow or flow selected. Salesforce resends a message until
it gets `Ack` true, for up to 24 hours, with the same Notification Ids: they are the keys that
make a resend harmless.

XML is parsed with defusedxml: a DOCTYPE, an entity declaration or an external reference is
refused before anything is expanded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from leadroute.adapters.inbound.types import (
    InboundError,
    InboundLead,
    map_fields,
    parse_instant,
    same_salesforce_id,
)
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
ACK_CONTENT_TYPE = "text/xml; charset=utf-8"

_XSI_TYPE = f"{{{XSI_NS}}}type"
_XSI_NIL = f"{{{XSI_NS}}}nil"
_TRUE = "true"


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One Outbound Message: who sent it and a lead per Notification, in order.

    Each lead's event_id is its Notification Id; its crm_id the Lead Id.
    """

    organization_id: str
    action_id: str | None
    enterprise_url: str | None
    partner_url: str | None
    leads: tuple[InboundLead, ...]
    session_id: str | None = field(default=None, repr=False)


def ack(success: bool = True) -> bytes:
    """The SOAP answer Salesforce waits for; with success False it resends the message later."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
        "<soapenv:Body>"
        f'<notificationsResponse xmlns="{OUTBOUND_NS}">'
        f"<Ack>{'true' if success else 'false'}</Ack>"
        "</notificationsResponse>"
        "</soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def fault(message: str) -> bytes:
    """A SOAP 1.1 Client fault carrying `message`: Salesforce shows the faultstring as the
    delivery failure reason in its Outbound Messages queue, then retries."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
        "<soapenv:Body><soapenv:Fault>"
        "<faultcode>soapenv:Client</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def parse_outbound_message(
    body: bytes,
    *,
    organization_id: str | None = None,
    vocabulary: Vocabulary | None = None,
) -> OutboundMessage:
    """Read an Outbound Message of Leads.

    Raises InboundError: 400 for XML that is malformed, has a DOCTYPE or entities, is not an
    Outbound Message, or holds anything but Leads (the message names the notification);
    403 when `organization_id` is given and the message comes from another org (15- and
    18-character ids of the same org match).
    """
    root = _parse_xml(body)
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise InboundError(400, f"expected a SOAP 1.1 Envelope, got <{_name(root.tag)}>")
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None:
        raise InboundError(400, "the SOAP Envelope has no Body")
    notifications = soap_body.find(_out("notifications"))
    if notifications is None:
        raise InboundError(
            400,
            f"the SOAP Body has no notifications element in namespace {OUTBOUND_NS}: "
            "not a Salesforce Outbound Message",
        )
    org = _text(notifications, "OrganizationId")
    if org is None:
        raise InboundError(400, "notifications has no OrganizationId")
    if organization_id and not same_salesforce_id(organization_id.strip(), org):
        raise InboundError(
            403,
            f"OrganizationId {org} is not the configured org {organization_id.strip()} "
            "(LEADROUTE_SALESFORCE_ORG_ID)",
        )
    elements = notifications.findall(_out("Notification"))
    if not elements:
        raise InboundError(400, "notifications has no Notification")
    if len(elements) > MAX_NOTIFICATIONS:
        raise InboundError(
            400,
            f"{len(elements)} notifications; an Outbound Message carries at most "
            f"{MAX_NOTIFICATIONS}",
        )
    vocabulary = vocabulary or Vocabulary()
    leads = tuple(
        _lead(number, element, vocabulary) for number, element in enumerate(elements, start=1)
    )
    return OutboundMessage(
        organization_id=org,
        action_id=_text(notifications, "ActionId"),
        enterprise_url=_text(notifications, "EnterpriseUrl"),
        partner_url=_text(notifications, "PartnerUrl"),
        leads=leads,
        session_id=_text(notifications, "SessionId"),
    )


def _parse_xml(body: bytes) -> ET.Element:
    if not body.strip():
        raise InboundError(400, "empty body: expected a SOAP envelope")
    try:
        return fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InboundError(
            400, f"XML with a DOCTYPE, entities or external references is refused ({exc})"
        ) from None
    except ET.ParseError as exc:
        raise InboundError(400, f"malformed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding expat cannot read
        raise InboundError(400, f"unreadable XML: {exc}") from None


def _lead(number: int, element: ET.Element, vocabulary: Vocabulary) -> InboundLead:
    notification_id = _text(element, "Id")
    if notification_id is None:
        raise InboundError(400, f"notification {number}: missing Id")
    where = f"notification {number} ({notification_id})"
    sobject = element.find(_out("sObject"))
    if sobject is None:
        raise InboundError(400, f"{where}: missing sObject")
    declared = sobject.get(_XSI_TYPE)
    if declared is None:
        raise InboundError(400, f"{where}: sObject has no xsi:type; expected sf:Lead")
    if declared.rpartition(":")[2] != "Lead":
        raise InboundError(
            400, f"{where}: sObject is {declared}; leadroute takes Outbound Messages on Leads only"
        )
    raw: dict[str, str] = {}
    for child in sobject:
        if len(child) or child.get(_XSI_NIL) == _TRUE:
            continue  # compound values and nulls carry nothing to route on
        raw.setdefault(_name(child.tag), child.text or "")
    lead_id = raw.get("Id", "").strip()
    if not lead_id:
        raise InboundError(400, f"{where}: the Lead has no Id")
    # StateCode and CountryCode are ISO codes: let them win over the State and Country names.
    ordered = sorted(raw.items(), key=lambda item: not item[0].endswith("Code"))
    mapped, problems = map_fields(ordered, vocabulary=vocabulary)
    created = raw.get("CreatedDate", "").strip()
    received_at = parse_instant(created) if created else None
    if created and received_at is None:
        problems = (*problems, f"CreatedDate: not an ISO date/time: {created!r}")
    lead = Lead(
        id=f"sf-{lead_id}",
        fields={"crm": "salesforce", "crm_id": lead_id, **mapped},
        source="salesforce",
        channel="webhook",
        received_at=received_at,
    )
    return InboundLead(
        lead=lead,
        event_id=notification_id,
        crm="salesforce",
        crm_id=lead_id,
        problems=problems,
        raw=raw,
    )


def _text(parent: ET.Element, name: str) -> str | None:
    element = parent.find(_out(name))
    if element is None or element.get(_XSI_NIL) == _TRUE:
        return None
    text = (element.text or "").strip()
    return text or None


def _out(name: str) -> str:
    return f"{{{OUTBOUND_NS}}}{name}"


def _name(tag: str) -> str:
    return tag.rpartition("}")[2]
