"""Typed settings, read from the environment (LEADROUTE_*) when asked for."""

from __future__ import annotations

from pydantic import Field, SecretStr
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


def get_settings() -> Settings:
    return Settings()


def lead_limits(settings: Settings | None = None) -> LeadLimits:
    """The caps on one lead: LEADROUTE_LEAD_MAX_FIELDS and LEADROUTE_LEAD_MAX_DEPTH."""
    settings = settings or get_settings()
    return LeadLimits(max_fields=settings.lead_max_fields, max_depth=settings.lead_max_depth)
