"""Typed settings, read from the environment (LEADROUTE_*) when asked for."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADROUTE_")

    db: str = "sqlite:///leadroute.db"
    chunk_size: int = 500
    rate_per_minute: int = 6000  # API requests per key and process
    max_body_bytes: int = 2_000_000
    db_pool_size: int = 20  # PostgreSQL connections a process keeps open
    db_max_overflow: int = 30  # and may open on top of them under load
    public_url: str | None = None  # where users reach the server, e.g. https://routing.acme.com
    # The web console: the key that signs the login form's CSRF cookie (unset: one per process),
    # how long a session may be idle and how long it may last at most.
    console_secret: SecretStr | None = None
    console_idle_minutes: float = 30
    console_session_hours: float = 12


def get_settings() -> Settings:
    return Settings()
