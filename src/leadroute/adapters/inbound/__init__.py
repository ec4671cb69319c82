"""Inbound webhooks: verify and read what HubSpot, Salesforce and web forms post to leadroute.

Pure functions over the raw request (bytes, headers, form fields, the current time as an
argument): no I/O. The API's webhook endpoints call them and answer `InboundError.status` with
its message when they raise.
"""

from leadroute.adapters.inbound.hubspot import (
    InboundEvent,
    parse_contact_events,
    sign_v3,
    verify_v3,
)
from leadroute.adapters.inbound.salesforce import (
    ACK_CONTENT_TYPE,
    OutboundMessage,
    ack,
    fault,
    parse_outbound_message,
)
from leadroute.adapters.inbound.types import InboundError, InboundLead
from leadroute.adapters.inbound.webform import WebToLead, parse_web_to_lead, read_form

__all__ = [
    "ACK_CONTENT_TYPE",
    "InboundError",
    "InboundEvent",
    "InboundLead",
    "OutboundMessage",
    "WebToLead",
    "ack",
    "fault",
    "parse_contact_events",
    "parse_outbound_message",
    "parse_web_to_lead",
    "read_form",
    "sign_v3",
    "verify_v3",
]
