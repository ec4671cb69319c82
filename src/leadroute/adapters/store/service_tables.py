"""Tables of the routing service (migration 0005): the outbox of notifications and CRM
updates, durable SLA timers, idempotency records, API keys and each lead's lifecycle events."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from leadroute.adapters.store.tables import ID, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), unique=True),  # the same message is never queued twice
    Column("channel", String(40), nullable=False),  # slack, email, webhook, salesforce, hubspot
    Column("target", String(120), nullable=False),  # the configured destination's name
    Column("event", String(60), nullable=False),  # lead.assigned, lead.reminder, crm.update...
    Column("lead_id", ID),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending, sent, dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_lead", "lead_id"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", ID, nullable=False),
    Column("kind", String(20), nullable=False),  # reminder, breach
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # pending, fired, cancelled
    Column("decision_id", Integer),
    Column("rep_id", ID),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True)),
    Column("detail", JSON),
    Index("ix_timers_due", "status", "due_at"),
    Index("ix_timers_lead", "lead_id"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("key", String(255), primary_key=True),  # scope:key (api key or provider:event id)
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("lead_id", ID),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False, index=True),
    Column("hash", String(128), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

lead_events = Table(
    "lead_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", ID, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("rep_id", ID),
    Column("actor", String(120)),
    Column("detail", JSON),
    Index("ix_lead_events_lead_at", "lead_id", "at"),
    Index("ix_lead_events_kind_at", "kind", "at"),
)
