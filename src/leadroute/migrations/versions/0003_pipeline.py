"""Data pipeline: raw fields, matched account, duplicate link and sources on each lead.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("raw", sa.JSON))
        batch.add_column(sa.Column("account_id", sa.String(120)))
        batch.add_column(sa.Column("duplicate_of", sa.String(120)))
        batch.add_column(sa.Column("sources", sa.JSON))
    op.create_index("ix_leads_account", "leads", ["account_id"])
    op.create_index("ix_leads_duplicate_of", "leads", ["duplicate_of"])


def downgrade() -> None:
    op.drop_index("ix_leads_duplicate_of", "leads")
    op.drop_index("ix_leads_account", "leads")
    with op.batch_alter_table("leads") as batch:
        for name in ("sources", "duplicate_of", "account_id", "raw"):
            batch.drop_column(name)
