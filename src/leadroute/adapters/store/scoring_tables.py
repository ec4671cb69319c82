"""Tables of scoring: engagement activities and versioned predictive models (migration 0004)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from leadroute.adapters.store.tables import ID, metadata

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), unique=True),  # the sender's event id: a resend is not counted twice
    Column("type", String(40), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("email", String(320)),
    Column("lead_id", ID),
    Column("account_id", ID),
    Column("domain", String(255)),
    Column("url", Text),
    Column("product", String(120)),
    Column("source", String(120)),
    Column("properties", JSON),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_activities_email_at", "email", "occurred_at"),
    Index("ix_activities_lead_at", "lead_id", "occurred_at"),
    Index("ix_activities_account_at", "account_id", "occurred_at"),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("model", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ux_models_name_version", "name", "version", unique=True),
)
