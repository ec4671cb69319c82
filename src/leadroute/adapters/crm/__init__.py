"""CRM write-back: one module per CRM, built from the `crm:` section in one place.

Senders are keyed by (CRM, CRM), as the outbox rows of CRM updates are.
"""

from __future__ import annotations

import httpx

from leadroute.adapters.crm.hubspot import HubspotSender
from leadroute.adapters.crm.salesforce import SalesforceSender
from leadroute.domain.notify import CrmModel, Sender

__all__ = ["HubspotSender", "SalesforceSender", "build_senders"]


def build_senders(
    crm: CrmModel | None, *, transport: httpx.BaseTransport | None = None
) -> dict[tuple[str, str], Sender]:
    """A sender per configured CRM."""
    senders: dict[tuple[str, str], Sender] = {}
    if crm is not None and crm.salesforce is not None:
        senders[("salesforce", "salesforce")] = SalesforceSender(
            crm.salesforce, transport=transport
        )
    if crm is not None and crm.hubspot is not None:
        senders[("hubspot", "hubspot")] = HubspotSender(crm.hubspot, transport=transport)
    return senders
