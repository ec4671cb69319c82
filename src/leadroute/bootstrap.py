"""The composition root: the one place that reads the settings and picks the adapters.

`Root` is built from typed `Settings` (pydantic-settings, `leadroute.settings`) and the process
environment, and builds what the entry points run: the store (its connection pool sized), the
routing service (its chunk size), the API's per-process state (the caps on one lead), the API
key check, the console's sessions and logins, the webhook settings, the worker (with the
environment the notifiers' and CRMs' secrets are read from), the API application and
the uvicorn configuration `leadroute serve` runs. The API (`leadroute.api.create_app`), the
console it mounts, every CLI command (`cli.common.root`) and the worker get their settings
from here, passed as arguments; no other module reads the environment
(tests/test_architecture.py keeps it so).

Settings are read when asked for, never at import: a `Root()` reads the environment each time
`settings` is asked for (a test or an operator changing a variable sees it at the next use), a
`Root(settings)` keeps the ones it was given. Importing this module imports no web framework,
database engine or service: each is imported by the method that builds it, so the CLI starts
fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from leadroute.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from starlette.types import ASGIApp

    from leadroute.adapters.store.sql import Store
    from leadroute.api.security import Authenticator
    from leadroute.api.state import ApiState
    from leadroute.domain.lead import LeadLimits
    from leadroute.services.console_auth import ConsoleAuth
    from leadroute.services.routing import RoutingService
    from leadroute.services.worker import Worker


@dataclass(frozen=True)
class Webhooks:
    """What the webhook endpoints check posts against."""

    hubspot_secret: SecretStr | None  # LEADROUTE_HUBSPOT_SECRET: unset, HubSpot posts get 503
    salesforce_org_id: str | None  # LEADROUTE_SALESFORCE_ORG_ID: unset, any org's posts
    public_url: str | None  # LEADROUTE_PUBLIC_URL: the URL HubSpot signed, behind a proxy


class Root:
    """Builds leadroute's parts from the settings; see the module's docstring."""

    def __init__(
        self, settings: Settings | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self._settings = settings
        # Where `${VAR}` in enrichment providers and the secrets notifiers and CRMs name are
        # looked up, at each use: the live process environment unless given.
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    @property
    def settings(self) -> Settings:
        """The settings given, or the environment's as it is now (LEADROUTE_*)."""
        return self._settings if self._settings is not None else Settings()

    def fixed(self) -> Root:
        """A root whose settings are read now, once (a server keeps them while it runs)."""
        return Root(self.settings, environ=self.environ)

    # -- data ------------------------------------------------------------------------------------

    def store(self, db: str | None = None, *, migrate: bool = True) -> Store:
        """The store at `db` (default LEADROUTE_DB), its pool sized by LEADROUTE_DB_POOL_SIZE and
        LEADROUTE_DB_MAX_OVERFLOW, migrated to the newest schema unless `migrate` is false."""
        from leadroute.adapters.store.sql import Store

        settings = self.settings
        store = Store(
            db or settings.db,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        if migrate:
            store.migrate()
        return store

    def lead_limits(self) -> LeadLimits:
        """The caps on one lead (LEADROUTE_LEAD_MAX_FIELDS, LEADROUTE_LEAD_MAX_DEPTH)."""
        return self.settings.lead_limits()

    # -- services ----------------------------------------------------------------------------------

    def routing(self, store: Store, *, base_dir: Path = Path(".")) -> RoutingService:
        """A routing service over `store` routing in chunks of LEADROUTE_CHUNK_SIZE leads;
        enrichment table files resolve against `base_dir`."""
        from leadroute.services.routing import RoutingService

        return RoutingService(store, chunk_size=self.settings.chunk_size, base_dir=base_dir)

    def api_state(self, store: Store) -> ApiState:
        """What the API and the console keep between requests; its intake reads the caps on a
        lead when it is (re)built."""
        from leadroute.api.state import ApiState

        return ApiState(store, limits=self.lead_limits)

    def worker(self, store: Store, *, lease: timedelta) -> Worker:
        """The SLA timers and the outbox worker; secrets read from this root's environment."""
        from leadroute.services.worker import Worker

        return Worker(store, lease=lease, env=self.environ)

    # -- access ------------------------------------------------------------------------------------

    def authenticator(self, store: Store, *, rate_per_minute: int | None = None) -> Authenticator:
        """The API key check, each key held to `rate_per_minute` (default
        LEADROUTE_RATE_PER_MINUTE)."""
        from leadroute.api.security import Authenticator

        rate = rate_per_minute or self.settings.rate_per_minute
        return Authenticator(store, rate_per_minute=rate)

    def console_auth(self, store: Store) -> ConsoleAuth:
        """Console logins and sessions, idle for at most LEADROUTE_CONSOLE_IDLE_MINUTES and
        lasting at most LEADROUTE_CONSOLE_SESSION_HOURS."""
        from leadroute.services.console_auth import ConsoleAuth

        settings = self.settings
        return ConsoleAuth(
            store,
            idle=timedelta(minutes=settings.console_idle_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
        )

    def console_secret(self) -> str | None:
        """The key signing the login form's CSRF cookie (LEADROUTE_CONSOLE_SECRET), or None
        for one per process."""
        secret = self.settings.console_secret
        return None if secret is None else secret.get_secret_value()

    def webhooks(self) -> Webhooks:
        settings = self.settings
        return Webhooks(settings.hubspot_secret, settings.salesforce_org_id, settings.public_url)

    # -- the HTTP server ---------------------------------------------------------------------------

    def api(
        self,
        store: Store | None = None,
        *,
        rate_per_minute: int | None = None,
        body_timeout: float | None = None,
    ) -> FastAPI:
        """The API (with the console) as `leadroute serve` runs it: keys held to the configured
        rate, the configured body size limit and body deadline."""
        from leadroute.api.app import create_app

        store = store or self.store()
        settings = self.settings
        return create_app(
            store,
            auth=self.authenticator(store, rate_per_minute=rate_per_minute),
            max_body_bytes=settings.max_body_bytes,
            body_timeout=body_timeout or settings.body_timeout,
            root=self,
        )

    def server(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        header_timeout: float | None = None,
        keep_alive_timeout: int | None = None,
    ) -> uvicorn.Config:
        """uvicorn's configuration for `app`: the head deadline (default
        LEADROUTE_HEADER_TIMEOUT) and the keep-alive timeout (LEADROUTE_KEEP_ALIVE_TIMEOUT)."""
        from leadroute.api.deadline import server_config

        settings = self.settings
        return server_config(
            app,
            host=host,
            port=port,
            header_timeout=header_timeout or settings.header_timeout,
            keep_alive_timeout=keep_alive_timeout or settings.keep_alive_timeout,
        )
