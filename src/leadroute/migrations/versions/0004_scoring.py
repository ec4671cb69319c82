"""Scoring: engagement activities and versioned predictive models.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), unique=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("lead_id", sa.String(120)),
        sa.Column("account_id", sa.String(120)),
        sa.Column("domain", sa.String(255)),
        sa.Column("url", sa.Text),
        sa.Column("product", sa.String(120)),
        sa.Column("source", sa.String(120)),
        sa.Column("properties", sa.JSON),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_activities_email_at", "activities", ["email", "occurred_at"])
    op.create_index("ix_activities_lead_at", "activities", ["lead_id", "occurred_at"])
    op.create_index("ix_activities_account_at", "activities", ["account_id", "occurred_at"])
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("model", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ux_models_name_version", "models", ["name", "version"], unique=True)


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("activities")
