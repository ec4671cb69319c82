"""Typed settings, read from the environment (LEADROUTE_*) when asked for.

Only this module and the composition root (`leadroute.bootstrap`) read the process environment;
every other module gets its settings, and the mapping `${VAR}` references are filled from, as
arguments (tests/test_architecture.py keeps it so).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadroute.domain.lead import LEAD_LIMITS, LeadLimits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADROUTE_")

    db: str = "sqlite:///leadroute.db"
    chunk_size: int = 500
    rate_per_minute: int = 6000  # API requests per key and process
    max_body_bytes: int = 2_000_000
    db_pool_size: int = 20  # PostgreSQL connections a process keeps open
    db_max_overflow: int = 30  # and may open on top of them under load
    # How long a client may take to send a request, in seconds (see leadroute.api.deadline):
    # the request line and headers, the whole body, and the wait between two requests.
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    keep_alive_timeout: int = Field(5, ge=1)
    # What one lead may hold, whichever way it comes in (see leadroute.domain.lead.LeadLimits).
    lead_max_fields: int = Field(LEAD_LIMITS.max_fields, ge=1)
    lead_max_depth: int = Field(LEAD_LIMITS.max_depth, ge=0)
    public_url: str | None = None  # where users reach the server, e.g. https://routing.acme.com
    # The web console: the key that signs the login form's CSRF cookie (unset: one per process),
    # how long a session may be idle and how long it may last at most.
    console_secret: SecretStr | None = None
    console_idle_minutes: float = 30
    console_session_hours: float = 12
    # Webhooks: the HubSpot app's client secret (signatures are checked with it; unset, HubSpot
    # posts are refused with 503) and the Salesforce org whose posts are taken (unset: any).
    hubspot_secret: SecretStr | None = None
    salesforce_org_id: str | None = None

    @field_validator(
        "public_url", "console_secret", "hubspot_secret", "salesforce_org_id", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """A variable set to nothing (`LEADROUTE_HUBSPOT_SECRET=`) is as good as unset."""
        return None if value == "" else value

    def lead_limits(self) -> LeadLimits:
        """The caps on one lead: LEADROUTE_LEAD_MAX_FIELDS and LEADROUTE_LEAD_MAX_DEPTH."""
        return LeadLimits(max_fields=self.lead_max_fields, max_depth=self.lead_max_depth)


def get_settings() -> Settings:
    """The settings as the environment holds them now (read at each call)."""
    return Settings()


def environment() -> Mapping[str, str]:
    """The process environment, live: where `${VAR}` in enrichment providers and the names of
    notifier and CRM secrets are looked up, at each use (a rotated secret is used at once).
    The composition root hands it to what it builds; adapters built without one fall back to
    it."""
    return os.environ
