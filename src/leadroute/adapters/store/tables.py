"""Table definitions. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

ID = String(120)

reps = Table(
    "reps",
    metadata,
    Column("id", ID, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("doc", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

teams = Table(
    "teams",
    metadata,
    Column("id", ID, primary_key=True),
    Column("doc", JSON, nullable=False),
)

territories = Table(
    "territories",
    metadata,
    Column("id", ID, primary_key=True),
    Column("doc", JSON, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("doc", JSON, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("domain", String(255), index=True),
    Column("name", String(255), nullable=False),
    Column("owner_id", ID, index=True),
    Column("doc", JSON, nullable=False),
)

configs = Table(
    "configs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("hash", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("document", JSON, nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False, default=False),
)

leads = Table(
    "leads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("data", JSON, nullable=False),
    Column("source", String(120)),
    Column("channel", String(40)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner_id", ID),
    Column("queue", String(120)),
    Column("reason", Text),
    Column("batch_id", String(64)),
    Column("row_number", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("raw", JSON),
    Column("account_id", ID),
    Column("duplicate_of", ID),
    Column("sources", JSON),
    Index("ix_leads_status_received", "status", "received_at"),
    Index("ix_leads_owner_status", "owner_id", "status"),
    Index("ix_leads_batch", "batch_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", ID, nullable=False, index=True),
    Column("config_seq", Integer),
    Column("outcome", String(16), nullable=False),
    Column("node", String(120)),
    Column("rep_id", ID, index=True),
    Column("queue", String(120)),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False, index=True),
    Column("record", JSON, nullable=False),
    Column("supersedes", Integer),
    Column("is_current", Boolean, nullable=False),
    Index(
        "ux_decisions_current_lead",
        "lead_id",
        unique=True,
        sqlite_where=text("is_current"),
        postgresql_where=text("is_current"),
    ),
)

pool_state = Table(
    "pool_state",
    metadata,
    Column("pool_id", ID, primary_key=True),
    Column("fairness_window", String(32), nullable=False),
    Column("credits", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("present", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rep_counters = Table(
    "rep_counters",
    metadata,
    Column("rep_id", ID, primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
)

sticky = Table(
    "sticky",
    metadata,
    Column("pool_id", ID, primary_key=True),
    Column("account_key", String(255), primary_key=True),
    Column("rep_id", ID, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", JSON, nullable=False),
)
