"""Tables of the web console: the people who may log in to it (migration 0006), their sessions,
the login throttle and the audit trail (migration 0007)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table

from leadroute.adapters.store.tables import ID, metadata

WHEN = DateTime(timezone=True)

console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(120), nullable=False, unique=True),
    Column(
        "password_hash", String(255), nullable=False
    ),  # Argon2id (PHC string); scrypt$n$r$p$salt$hash before
    Column("role", String(16), nullable=False),  # admin, manager, rep
    Column("rep_id", ID),  # the rep a manager or rep is
    Column("created_at", WHEN, nullable=False),
)

# A logged-in browser. The cookie holds a random token; the row is keyed by its SHA-256, so a
# copy of the database opens no session.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256(token), hex
    Column("username", String(120), nullable=False),
    Column("csrf", String(64), nullable=False),  # the forms' CSRF token
    Column("created_at", WHEN, nullable=False),
    Column("last_seen_at", WHEN, nullable=False),
    Column("expires_at", WHEN, nullable=False),  # the absolute end
    Column("address", String(64)),
    Column("user_agent", String(200)),
    Index("ix_console_sessions_user", "username"),
)

# Failed logins per account ("user:NAME") and per client address ("addr:IP").
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", WHEN, nullable=False),
    Column("next_attempt_at", WHEN),  # no attempt is checked before this
    Column("locked_until", WHEN),
)

# Who did what in the console: logins, failures, locks, logouts, password changes, sign-outs.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", WHEN, nullable=False),
    Column("actor", String(120)),  # the user who acted (or tried to)
    Column("action", String(40), nullable=False),
    Column("target", String(200)),  # whom or what it was done to
    Column("address", String(64)),
    Column("detail", JSON),
    Index("ix_audit_events_at", "at"),
)
