"""The API's operations, a module per resource, each with an `APIRouter` per scope its
operations need (`ingest`, `read`, `admin`; `public` for none): `create_app` includes each
with the key check of its scope (leadroute.api.deps.scoped).

Every module has the same shape: its request and response models, what its description adds
(links, examples, refusals), then its operations, each a thin function that parses the input,
calls a service and returns a model.
"""

from __future__ import annotations

from fastapi import APIRouter

from leadroute.api.routers import (
    accounts,
    activities,
    configs,
    health,
    keys,
    leads,
    privacy,
    reps,
    webhooks,
)

# In the order the description lists them (a path's more specific routes come first).
ROUTERS: tuple[tuple[APIRouter, str | None], ...] = (
    (leads.ingest, "ingest"),
    (leads.read, "read"),
    (activities.ingest, "ingest"),
    (accounts.read, "read"),
    (accounts.admin, "admin"),
    (reps.read, "read"),
    (reps.admin, "admin"),
    (configs.read, "read"),
    (configs.admin, "admin"),
    (webhooks.ingest, "ingest"),
    (health.public, None),
    (keys.admin, "admin"),
    (privacy.admin, "admin"),
    (health.read, "read"),
)

__all__ = ["ROUTERS"]
