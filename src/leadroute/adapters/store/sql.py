"""The SQL store: org, configs, leads, decisions and fairness state.

One class, one SQLAlchemy engine. Routing runs inside a `RoutingSession`
(`adapters/store/routing_session.py`): a transaction that locks the state rows of the pools
its leads can reach (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE), serves the
router's `RoutingState` reads from memory and writes every decision with its state changes in
the same commit, so several processes never assign one lead twice or break fairness.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    case,
    create_engine,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import NullPool

from leadroute.adapters import orgfile
from leadroute.adapters.store import tables as t
from leadroute.adapters.store.service_tables import lead_events
from leadroute.domain.decision import Outcome
from leadroute.domain.lead import Lead
from leadroute.domain.org import Org, RepStatus, build_org

SCHEMA_HEAD = "0007"  # the newest migration (a test checks it is Alembic's head)

if TYPE_CHECKING:
    from leadroute.adapters.store.routing_session import RoutingSession

OPEN = "open"


@dataclass(frozen=True, slots=True)
class StoredLead:
    lead: Lead
    status: str
    owner_id: str | None
    queue: str | None
    reason: str | None
    batch_id: str | None
    row_number: int | None
    raw: dict[str, Any] | None = None
    account_id: str | None = None
    duplicate_of: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredDecision:
    id: int
    lead_id: str
    outcome: str
    rep_id: str | None
    queue: str | None
    node: str | None
    reason: str
    decided_at: datetime
    record: dict[str, Any]
    current: bool
    supersedes: int | None


@dataclass(frozen=True, slots=True)
class StoredConfig:
    seq: int
    hash: str
    name: str
    document: dict[str, Any]
    source: str
    active: bool
    created_at: datetime


def aware(moment: datetime) -> datetime:
    """A timestamp read back from the store, in UTC (SQLite keeps no time zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """All persistence of leadroute, on SQLite or PostgreSQL."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 20, max_overflow: int = 30
    ) -> None:
        """`pool_size` and `max_overflow` size a PostgreSQL connection pool (the composition
        root passes LEADROUTE_DB_POOL_SIZE and LEADROUTE_DB_MAX_OVERFLOW)."""
        self.url = url
        self.engine: Engine = _make_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=max_overflow
        )
        self.dialect = self.engine.dialect.name

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (a quick read when it is there
        already: Alembic itself is loaded only when there is something to do)."""
        if self.schema_revision() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option(
            "script_location", str(resources.files("leadroute").joinpath("migrations"))
        )
        with self.write() as conn:
            if self.dialect == "postgresql":
                # Processes starting together on an empty database migrate one at a time.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7412019)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None for a new database)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            return None if found is None else str(found)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- org -------------------------------------------------------------------------------

    def save_org(self, org: Org, *, replace: bool = False) -> None:
        """Upsert every rep, team, territory, segment and account of `org`."""
        now = _now()
        with self.write() as conn:
            if replace:
                for table in (t.reps, t.teams, t.territories, t.segments, t.accounts):
                    conn.execute(table.delete())
            self.upsert(
                conn,
                t.reps,
                [
                    {
                        "id": r.id,
                        "status": r.status.value,
                        "doc": orgfile.rep_to_doc(r),
                        "updated_at": now,
                    }
                    for r in org.reps.values()
                ],
                ["id"],
            )
            for table, docs in (
                (t.teams, [orgfile.team_to_doc(x) for x in org.teams.values()]),
                (t.territories, [orgfile.territory_to_doc(x) for x in org.territories.values()]),
                (t.segments, [orgfile.segment_to_doc(x) for x in org.segments.values()]),
            ):
                self.upsert(conn, table, [{"id": d["id"], "doc": d} for d in docs], ["id"])
            self.upsert(
                conn,
                t.accounts,
                [
                    {
                        "id": a.id,
                        "domain": a.domain,
                        "name": a.name,
                        "owner_id": a.owner_id,
                        "doc": orgfile.account_to_doc(a),
                    }
                    for a in org.accounts.values()
                ],
                ["id"],
            )

    def load_org(self) -> Org:
        with self.engine.connect() as conn:

            def docs(table: Any) -> Iterator[dict[str, Any]]:
                return iter(conn.scalars(select(table.c.doc).order_by(table.c.id)))

            return build_org(
                reps=map(orgfile.rep_from_doc, docs(t.reps)),
                teams=map(orgfile.team_from_doc, docs(t.teams)),
                territories=map(orgfile.territory_from_doc, docs(t.territories)),
                segments=map(orgfile.segment_from_doc, docs(t.segments)),
                accounts=map(orgfile.account_from_doc, docs(t.accounts)),
            )

    def set_rep_status(self, rep_id: str, status: RepStatus) -> bool:
        with self.write() as conn:
            doc = conn.scalar(select(t.reps.c.doc).where(t.reps.c.id == rep_id))
            if doc is None:
                return False
            doc = {**doc, "status": status.value}
            conn.execute(
                update(t.reps)
                .where(t.reps.c.id == rep_id)
                .values(status=status.value, doc=doc, updated_at=_now())
            )
            return True

    # -- configs ---------------------------------------------------------------------------

    def save_config(
        self,
        *,
        content_hash: str,
        name: str,
        document: Mapping[str, Any],
        source: str,
        activate: bool = False,
    ) -> int:
        """Store a config version once per content hash; return its sequence number."""
        with self.write() as conn:
            seq = conn.scalar(select(t.configs.c.seq).where(t.configs.c.hash == content_hash))
            if seq is None:
                inserted = conn.execute(
                    t.configs.insert().values(
                        hash=content_hash,
                        name=name,
                        document=dict(document),
                        source=source,
                        created_at=_now(),
                        active=False,
                    )
                ).inserted_primary_key
                assert inserted is not None
                seq = inserted[0]
            if activate:
                conn.execute(update(t.configs).where(t.configs.c.active).values(active=False))
                conn.execute(
                    update(t.configs)
                    .where(t.configs.c.seq == seq)
                    .values(active=True, activated_at=_now())
                )
            return int(seq)

    def config(self, seq: int | None = None) -> StoredConfig | None:
        """A config by sequence number, or the active one (None when there is no such one)."""
        if seq is not None and not 0 < seq < 2**31:  # versions are numbered in a 32-bit column
            return None
        query = select(t.configs)
        query = (
            query.where(t.configs.c.seq == seq)
            if seq is not None
            else query.where(t.configs.c.active)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return StoredConfig(
            row["seq"],
            row["hash"],
            row["name"],
            row["document"],
            row["source"],
            bool(row["active"]),
            aware(row["created_at"]),
        )

    def first_events(self, lead_ids: Sequence[str], kinds: Sequence[str]) -> dict[str, datetime]:
        """lead id -> when the first lifecycle event of these kinds happened to it."""
        found: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(lead_ids), 500):
                query = (
                    select(lead_events.c.lead_id, func.min(lead_events.c.at))
                    .where(
                        lead_events.c.lead_id.in_(list(lead_ids[start : start + 500])),
                        lead_events.c.kind.in_(list(kinds)),
                    )
                    .group_by(lead_events.c.lead_id)
                )
                found.update({lead: aware(at) for lead, at in conn.execute(query)})
        return found

    def routing_version(self) -> tuple[object, ...]:
        """What routing depends on, as a value that changes when it does: the active config's
        sequence number, the reps' last change, and how many accounts, teams, territories and
        segments there are (long-running processes rebuild their router when it changes)."""
        with self.engine.connect() as conn:
            seq = conn.scalar(select(t.configs.c.seq).where(t.configs.c.active))
            reps = conn.scalar(select(func.max(t.reps.c.updated_at)))
            counts = tuple(
                conn.scalar(select(func.count()).select_from(table))
                for table in (t.accounts, t.teams, t.territories, t.segments)
            )
        return (seq, reps, counts)

    def active_config_seq(self) -> int | None:
        """The active config's sequence number (None: none is active)."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(t.configs.c.seq).where(t.configs.c.active))
        return int(found) if found is not None else None

    def previous_config(self, seq: int) -> int | None:
        """The version that was last active before `seq` (for a rollback)."""
        query = (
            select(t.configs.c.seq)
            .where(t.configs.c.seq != seq, t.configs.c.activated_at.is_not(None))
            .order_by(t.configs.c.activated_at.desc(), t.configs.c.seq.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            found = conn.scalar(query)
        return int(found) if found is not None else None

    def configs(self) -> list[StoredConfig]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.configs).order_by(t.configs.c.seq)).mappings().all()
        return [
            StoredConfig(
                r["seq"],
                r["hash"],
                r["name"],
                r["document"],
                r["source"],
                bool(r["active"]),
                aware(r["created_at"]),
            )
            for r in rows
        ]

    # -- leads -----------------------------------------------------------------------------

    def add_leads(
        self,
        leads: Sequence[Lead],
        *,
        batch_id: str | None = None,
        rows: Sequence[int | None] | None = None,
    ) -> set[str]:
        """Insert new leads (status new); return the ids that were already stored."""
        if not leads:
            return set()
        with self.write() as conn:
            return self.insert_leads(conn, leads, batch_id=batch_id, rows=rows)

    def insert_leads(
        self,
        conn: Connection,
        leads: Sequence[Lead],
        *,
        batch_id: str | None = None,
        rows: Sequence[int | None] | None = None,
    ) -> set[str]:
        """`add_leads` inside the caller's transaction."""
        ids = [lead.id for lead in leads]
        existing = set(conn.scalars(select(t.leads.c.id).where(t.leads.c.id.in_(ids))))
        now = _now()
        fresh = [
            {
                "id": lead.id,
                "data": dict(lead.fields),
                "source": lead.source,
                "channel": lead.channel,
                "received_at": lead.received_at or now,
                "status": "new",
                "batch_id": batch_id,
                "row_number": rows[i] if rows else None,
                "updated_at": now,
            }
            for i, lead in enumerate(leads)
            if lead.id not in existing
        ]
        if fresh:
            conn.execute(self.insert(t.leads).on_conflict_do_nothing(), fresh)
        return existing

    def add_rejections(
        self,
        items: Sequence[tuple[str, int | None, str, Mapping[str, Any]]],
        *,
        batch_id: str | None = None,
    ) -> None:
        """Keep rejected input rows: (lead id, row number, reason, raw data)."""
        if not items:
            return
        now = _now()
        with self.write() as conn:
            conn.execute(
                self.insert(t.leads).on_conflict_do_nothing(),
                [
                    {
                        "id": lead_id,
                        "data": dict(raw),
                        "source": None,
                        "channel": None,
                        "received_at": now,
                        "status": Outcome.REJECTED.value,
                        "reason": reason,
                        "batch_id": batch_id,
                        "row_number": row,
                        "updated_at": now,
                    }
                    for lead_id, row, reason, raw in items
                ],
            )

    def lead(self, lead_id: str) -> StoredLead | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.leads).where(t.leads.c.id == lead_id)).mappings().first()
        return _stored_lead(row) if row is not None else None

    def leads(
        self,
        *,
        status: str | None = None,
        owner_id: str | None = None,
        batch_id: str | None = None,
        limit: int | None = None,
    ) -> list[StoredLead]:
        query = select(t.leads).order_by(t.leads.c.received_at, t.leads.c.id)
        if status is not None:
            query = query.where(t.leads.c.status == status)
        if owner_id is not None:
            query = query.where(t.leads.c.owner_id == owner_id)
        if batch_id is not None:
            query = query.where(t.leads.c.batch_id == batch_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_stored_lead(r) for r in conn.execute(query).mappings()]

    def account_activity(self) -> tuple[dict[str, int], dict[str, datetime]]:
        """Per account: how many leads (contacts) it has, and when the latest arrived."""
        query = (
            select(t.leads.c.account_id, func.count(), func.max(t.leads.c.received_at))
            .where(t.leads.c.account_id.is_not(None))
            .group_by(t.leads.c.account_id)
        )
        contacts: dict[str, int] = {}
        latest: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for account_id, count, newest in conn.execute(query):
                contacts[account_id] = int(count)
                if newest is not None:
                    latest[account_id] = aware(newest)
        return contacts, latest

    def known_lead_fields(self, names: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, chosen fields) of every lead that went through routing, for the dedupe index."""
        query = select(t.leads.c.id, t.leads.c.data).where(
            t.leads.c.status.not_in(["new", "rejected"])
        )
        with self.engine.connect() as conn:
            for lead_id, data in conn.execute(query.execution_options(yield_per=5000)):
                yield lead_id, {k: data.get(k) for k in names if data.get(k) is not None}

    def last_decision_id(self) -> int:
        """The id of the newest decision (0 when there is none)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(t.decisions.c.id))) or 0)

    def iter_leads(
        self, *, since: datetime | None = None, batch_id: str | None = None
    ) -> Iterator[StoredLead]:
        """Every stored lead (oldest first), streamed."""
        query = select(t.leads).order_by(t.leads.c.received_at, t.leads.c.id)
        if since is not None:
            query = query.where(t.leads.c.received_at >= since)
        if batch_id is not None:
            query = query.where(t.leads.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            for row in conn.execute(query.execution_options(yield_per=2000)).mappings():
                yield _stored_lead(row)

    def statuses(self, lead_ids: Sequence[str]) -> Counter[str]:
        """How many of these leads are in each status."""
        counts: Counter[str] = Counter()
        with self.engine.connect() as conn:
            for start in range(0, len(lead_ids), 500):
                part = list(lead_ids[start : start + 500])
                query = (
                    select(t.leads.c.status, func.count())
                    .where(t.leads.c.id.in_(part))
                    .group_by(t.leads.c.status)
                )
                for status, n in conn.execute(query):
                    counts[status] += int(n)
        return counts

    def lead_counts(self, *, batch_id: str | None = None) -> dict[str, int]:
        query = select(t.leads.c.status, func.count()).group_by(t.leads.c.status)
        if batch_id is not None:
            query = query.where(t.leads.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def close_lead(self, lead_id: str, status: str) -> bool:
        """Move a routed lead to a worked status and take it off its owner's open count."""
        with self.write() as conn:
            query = select(t.leads.c.owner_id).where(
                t.leads.c.id == lead_id, t.leads.c.status == Outcome.ROUTED.value
            )
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            if row is None:
                return False
            conn.execute(
                update(t.leads)
                .where(t.leads.c.id == lead_id)
                .values(status=status, updated_at=_now())
            )
            if row.owner_id is not None:
                conn.execute(
                    update(t.rep_counters)
                    .where(
                        t.rep_counters.c.rep_id == row.owner_id,
                        t.rep_counters.c.period == OPEN,
                        t.rep_counters.c.count > 0,
                    )
                    .values(count=t.rep_counters.c.count - 1)
                )
            return True

    # -- decisions -------------------------------------------------------------------------

    def decisions(self, lead_id: str) -> list[StoredDecision]:
        """Every decision for a lead, oldest first (re-routes keep the earlier records)."""
        query = (
            select(t.decisions).where(t.decisions.c.lead_id == lead_id).order_by(t.decisions.c.id)
        )
        with self.engine.connect() as conn:
            return [_stored_decision(r) for r in conn.execute(query).mappings()]

    def current_decision_ids(self, lead_ids: Sequence[str]) -> dict[str, int]:
        """lead id -> its current decision's id."""
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(lead_ids), 500):
                query = select(t.decisions.c.lead_id, t.decisions.c.id).where(
                    t.decisions.c.lead_id.in_(list(lead_ids[start : start + 500])),
                    t.decisions.c.is_current,
                )
                found.update({lead: int(i) for lead, i in conn.execute(query)})
        return found

    def current_decision_counts(
        self, lead_ids: Sequence[str]
    ) -> Counter[tuple[str, str | None, str | None, str | None, str | None]]:
        """The current decisions of these leads, counted by (outcome, node, rep, queue, reason);
        the reason is kept for held and unrouted decisions only (None for the others)."""
        d = t.decisions.c
        kept = (Outcome.HELD.value, Outcome.UNROUTED.value)
        reason = case((d.outcome.in_(kept), d.reason), else_=None)
        counts: Counter[tuple[str, str | None, str | None, str | None, str | None]] = Counter()
        with self.engine.connect() as conn:
            for start in range(0, len(lead_ids), 500):
                query = (
                    select(d.outcome, d.node, d.rep_id, d.queue, reason, func.count())
                    .where(d.lead_id.in_(list(lead_ids[start : start + 500])), d.is_current)
                    .group_by(d.outcome, d.node, d.rep_id, d.queue, reason)
                )
                for outcome, node, rep, queue, why, n in conn.execute(query):
                    counts[(outcome, node, rep, queue, why)] += int(n)
        return counts

    def current_decisions(self, lead_ids: Sequence[str]) -> list[StoredDecision]:
        """The current decision of each of these leads (those that have one)."""
        found: list[StoredDecision] = []
        with self.engine.connect() as conn:
            for start in range(0, len(lead_ids), 500):
                query = select(t.decisions).where(
                    t.decisions.c.lead_id.in_(list(lead_ids[start : start + 500])),
                    t.decisions.c.is_current,
                )
                found += [_stored_decision(r) for r in conn.execute(query).mappings()]
        return found

    def decisions_since(
        self, since: datetime | None = None, *, current_only: bool = True
    ) -> Iterator[StoredDecision]:
        query = select(t.decisions).order_by(t.decisions.c.id)
        if since is not None:
            query = query.where(t.decisions.c.decided_at >= since)
        if current_only:
            query = query.where(t.decisions.c.is_current)
        with (
            self.engine.connect() as conn,
            conn.execute(query.execution_options(yield_per=2000)) as rows,  # closed if left early
        ):
            for row in rows.mappings():
                yield _stored_decision(row)

    # -- routing ---------------------------------------------------------------------------

    @contextmanager
    def routing_transaction(self, org: Org, config_seq: int | None) -> Iterator[RoutingSession]:
        """A routing transaction with no pool locked yet: claim leads, prepare them, then
        `lock` the pools they can reach (see `RoutingSession`). Commits what was recorded at
        exit, rolls everything back on an error."""
        from leadroute.adapters.store.routing_session import RoutingSession

        with self.engine.connect() as conn:
            session = RoutingSession(
                self, conn.execution_options(leadroute_write=True), org, config_seq
            )
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def routing_session(
        self, org: Org, pool_ids: Iterable[str], config_seq: int | None
    ) -> Iterator[RoutingSession]:
        """A transaction holding the pools' locks; commits every recorded decision at exit."""
        with self.routing_transaction(org, config_seq) as session:
            session.lock(pool_ids)
            yield session

    # -- helpers ---------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it takes the write lock at once: BEGIN IMMEDIATE)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(leadroute_write=True)
            with conn.begin():
                yield conn

    def insert(self, table: Any) -> Any:
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    def upsert(
        self, conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]
    ) -> None:
        if not rows:
            return
        stmt = self.insert(table)
        columns = {c: getattr(stmt.excluded, c) for c in rows[0] if c not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=columns), rows)


def _stored_lead(row: Mapping[Any, Any]) -> StoredLead:
    lead = Lead(
        id=row["id"],
        fields=row["data"],
        source=row["source"],
        channel=row["channel"],
        received_at=aware(row["received_at"]),
    )
    return StoredLead(
        lead,
        row["status"],
        row["owner_id"],
        row["queue"],
        row["reason"],
        row["batch_id"],
        row["row_number"],
        row.get("raw"),
        row.get("account_id"),
        row.get("duplicate_of"),
        tuple(row.get("sources") or ()),
    )


def _stored_decision(row: Mapping[Any, Any]) -> StoredDecision:
    return StoredDecision(
        row["id"],
        row["lead_id"],
        row["outcome"],
        row["rep_id"],
        row["queue"],
        row["node"],
        row["reason"],
        aware(row["decided_at"]),
        row["record"],
        bool(row["is_current"]),
        row["supersedes"],
    )


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _make_engine(url: str, *, echo: bool, pool_size: int, max_overflow: int) -> Engine:
    json_options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, poolclass=NullPool if ":memory:" not in url else None, **json_options
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("leadroute_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    # The API serves requests from a thread pool (40 threads) next to the routing thread: a
    # pool as large keeps requests from queueing for a connection. pool_pre_ping replaces a
    # connection the server closed (a restart) before it is used; connect_timeout makes an
    # unreachable server an error in seconds, not a hang.
    # LEADROUTE_DB_POOL_SIZE and LEADROUTE_DB_MAX_OVERFLOW size it for a deployment whose
    # processes together would pass PostgreSQL's max_connections.
    connect_args = {} if "connect_timeout" in url else {"connect_timeout": 10}
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=connect_args,
        **json_options,
    )
