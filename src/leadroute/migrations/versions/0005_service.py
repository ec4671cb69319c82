"""Routing service: outbox, SLA timers, idempotency, API keys, lead lifecycle events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(120)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), unique=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("event", sa.String(60), nullable=False),
        sa.Column("lead_id", ID),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_lead", "outbox", ["lead_id"])
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision_id", sa.Integer),
        sa.Column("rep_id", ID),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("fired_at", WHEN),
        sa.Column("detail", sa.JSON),
    )
    op.create_index("ix_timers_due", "timers", ["status", "due_at"])
    op.create_index("ix_timers_lead", "timers", ["lead_id"])
    op.create_table(
        "idempotency",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("lead_id", ID),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN),
        sa.Column("last_used_at", WHEN),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "lead_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("rep_id", ID),
        sa.Column("actor", sa.String(120)),
        sa.Column("detail", sa.JSON),
    )
    op.create_index("ix_lead_events_lead_at", "lead_events", ["lead_id", "at"])
    op.create_index("ix_lead_events_kind_at", "lead_events", ["kind", "at"])


def downgrade() -> None:
    for table in ("lead_events", "api_keys", "idempotency", "timers", "outbox"):
        op.drop_table(table)
