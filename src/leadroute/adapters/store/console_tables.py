"""Tables of the web console (migration 0006): the people who may log in to it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from leadroute.adapters.store.tables import ID, metadata

console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # scrypt$n$r$p$salt$hash
    Column("role", String(16), nullable=False),  # admin, manager, rep
    Column("rep_id", ID),  # the rep a manager or rep is
    Column("created_at", DateTime(timezone=True), nullable=False),
)
