"""Typed settings, read from the environment (LEADROUTE_*) when asked for."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADROUTE_")

    db: str = "sqlite:///leadroute.db"
    chunk_size: int = 500
    rate_per_minute: int = 6000  # API requests per key and process
    max_body_bytes: int = 2_000_000
    db_pool_size: int = 20  # PostgreSQL connections a process keeps open
    db_max_overflow: int = 30  # and may open on top of them under load


def get_settings() -> Settings:
    return Settings()
