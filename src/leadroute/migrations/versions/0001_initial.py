"""Initial schema: org, configs, leads, decisions, fairness state.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(120)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reps",
        sa.Column("id", ID, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("doc", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for name in ("teams", "territories", "segments"):
        op.create_table(
            name,
            sa.Column("id", ID, primary_key=True),
            sa.Column("doc", sa.JSON, nullable=False),
        )
    op.create_table(
        "accounts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("domain", sa.String(255)),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner_id", ID),
        sa.Column("doc", sa.JSON, nullable=False),
    )
    op.create_index("ix_accounts_domain", "accounts", ["domain"])
    op.create_index("ix_accounts_owner_id", "accounts", ["owner_id"])
    op.create_table(
        "configs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hash", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activated_at", TS),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "leads",
        sa.Column("id", ID, primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("source", sa.String(120)),
        sa.Column("channel", sa.String(40)),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_id", ID),
        sa.Column("queue", sa.String(120)),
        sa.Column("reason", sa.Text),
        sa.Column("batch_id", sa.String(64)),
        sa.Column("row_number", sa.Integer),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_leads_status_received", "leads", ["status", "received_at"])
    op.create_index("ix_leads_owner_status", "leads", ["owner_id", "status"])
    op.create_index("ix_leads_batch", "leads", ["batch_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("config_seq", sa.Integer),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("node", sa.String(120)),
        sa.Column("rep_id", ID),
        sa.Column("queue", sa.String(120)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("supersedes", sa.Integer),
        sa.Column("is_current", sa.Boolean, nullable=False),
    )
    op.create_index("ix_decisions_lead_id", "decisions", ["lead_id"])
    op.create_index("ix_decisions_rep_id", "decisions", ["rep_id"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    # At most one current decision per lead: a lead is never assigned twice.
    op.create_index(
        "ux_decisions_current_lead",
        "decisions",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "pool_state",
        sa.Column("pool_id", ID, primary_key=True),
        sa.Column("fairness_window", sa.String(32), nullable=False),
        sa.Column("credits", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("present", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "rep_counters",
        sa.Column("rep_id", ID, primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "sticky",
        sa.Column("pool_id", ID, primary_key=True),
        sa.Column("account_key", sa.String(255), primary_key=True),
        sa.Column("rep_id", ID, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("counts", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "batches",
        "sticky",
        "rep_counters",
        "pool_state",
        "decisions",
        "leads",
        "configs",
        "accounts",
        "segments",
        "territories",
        "teams",
        "reps",
    ):
        op.drop_table(name)
