"""The routing transaction: leads claimed, the reachable pools locked, decisions written.

A `RoutingSession` is one transaction (see `Store.routing_transaction`) that goes through
these steps:

1. `claim` the leads to route. On PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`
   in the transaction, so processes never claim one lead together. On SQLite the transaction
   has not begun yet (it would hold the database's only write lock): the leads are read, and
   `lock` checks that they are still waiting.
2. Prepare the leads (cleaning, scoring, enrichment: the caller's business) with no pool
   locked.
3. `lock` the pools the leads can reach, in pool id order, so two transactions never wait for
   each other in a cycle (PostgreSQL: `SELECT ... FOR UPDATE` on their `pool_state` rows;
   SQLite: `BEGIN IMMEDIATE`). From here on the session implements the `RoutingState` port:
   pool state, rep loads and sticky owners are read once and served from memory.
4. `record` decisions; `flush` writes them with their state changes, one small function per
   table; the transaction commits at the end of `Store.routing_transaction`.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, bindparam, or_, select, update

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.service_tables import timers
from leadroute.adapters.store.sql import StoredLead, _stored_lead
from leadroute.domain.decision import Decision
from leadroute.domain.distribution import PoolState, RepLoad
from leadroute.domain.lead import Lead
from leadroute.domain.org import Org, periods_at, periods_of_minute

if TYPE_CHECKING:
    from sqlalchemy import RootTransaction

    from leadroute.adapters.store.sql import Store

OPEN = "open"
# A PostgreSQL advisory lock that routing transactions take just before they commit (see
# `RoutingSession.serialize_commits`); 7412019 is the migration lock.
COMMIT_LOCK = 7412020
# The pools whose state row each store holds, seen committed (see RoutingSession._lock_pools).
_stored_pools: WeakKeyDictionary[Store, set[str]] = WeakKeyDictionary()


class RoutingSession:
    """Implements the RoutingState port within one transaction that holds the locks of the
    pools it routes with."""

    def __init__(self, store: Store, conn: Connection, org: Org, config_seq: int | None) -> None:
        self.store, self.conn, self.org, self.config_seq = store, conn, org, config_seq
        # PostgreSQL: routing transactions of other processes run at the same time as this one
        self.concurrent = store.dialect != "sqlite"
        self.locked: tuple[str, ...] | None = None  # the pools locked, once `lock` ran
        self.lost: set[str] = set()  # leads read before the lock that someone else took since
        self._transaction: RootTransaction | None = None
        self._locked_rows: list[str] = []
        self._read_early: list[tuple[list[str], tuple[str, ...]]] = []
        self._pools: dict[str, PoolState] = {}
        self._dirty_pools: set[str] = set()
        self._counters: dict[tuple[str, str], int] = {}
        self._load_cache: dict[str, tuple[datetime, RepLoad]] = {}
        self._preloaded: set[datetime] = set()
        self._counter_delta: dict[tuple[str, str], int] = {}
        self._sticky: dict[tuple[str, str], str | None] = {}
        self._sticky_new: dict[tuple[str, str], str] = {}
        self._decision_rows: list[dict[str, Any]] = []
        self._lead_updates: list[dict[str, Any]] = []
        self._superseded: list[str] = []
        self._owners: dict[str, tuple[str, str | None]] = {}
        self._staged: list[tuple[Any, list[dict[str, Any]]]] = []
        self.want_ids = False  # set: flush reads back the ids of the decisions it writes
        self.decision_ids: dict[str, int] = {}  # lead id -> id of the decision just written
        self._cancel_timers: set[str] = set()

    # the transaction ------------------------------------------------------------------------

    def begin(self) -> None:
        """Begin the transaction (on SQLite: take the write lock). `lock` does it if needed."""
        if self._transaction is None:
            self._transaction = self.conn.begin()

    @property
    def begun(self) -> bool:
        return self._transaction is not None

    def commit(self) -> None:
        """Write what is recorded and commit (nothing to do if the transaction never began)."""
        if self._transaction is None and not self._pending:
            return
        self.flush()
        assert self._transaction is not None
        self._transaction.commit()
        if self._locked_rows:  # their state rows are committed: no need to create them again
            _stored_pools.setdefault(self.store, set()).update(self._locked_rows)

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()

    def lock(self, pool_ids: Iterable[str]) -> None:
        """Lock these pools' state rows (created if missing), in pool id order, and read them;
        then find which of the leads claimed before the lock someone else took since (`lost`)."""
        assert self.locked is None, "a routing session locks its pools once"
        self.begin()
        ids = sorted(set(pool_ids))
        self.locked = tuple(ids)
        if ids:
            self._lock_pools(ids)
        for lead_ids, statuses in self._read_early:
            still = set(
                self.conn.scalars(
                    select(t.leads.c.id).where(
                        t.leads.c.id.in_(lead_ids), t.leads.c.status.in_(statuses)
                    )
                )
            )
            self.lost.update(i for i in lead_ids if i not in still)
        self._read_early = []

    def _lock_pools(self, ids: list[str]) -> None:
        """Lock the pools' state rows in pool id order and read them. A row this process
        has not seen committed yet is created first (`INSERT ... ON CONFLICT DO NOTHING`,
        which waits for another transaction creating it); rows are never deleted."""
        known = _stored_pools.get(self.store, set())
        new = [p for p in ids if p not in known]
        if new:
            self._insert_pools(new)
        self._read_pools(ids)
        missing = [p for p in ids if p not in self._pools]
        if missing:  # not there after all (a database replaced under this process)
            self._insert_pools(missing)
            self._read_pools(missing)
        self._locked_rows = ids

    def _read_pools(self, ids: list[str]) -> None:
        query = (
            select(t.pool_state)
            .where(t.pool_state.c.pool_id.in_(ids))
            .order_by(t.pool_state.c.pool_id)
        )
        if self.concurrent:
            query = query.with_for_update()
        for row in self.conn.execute(query).mappings():
            self._pools[row["pool_id"]] = PoolState(
                row["fairness_window"],
                row["credits"],
                row["counts"],
                frozenset(row["present"] or ()),
            )

    def _insert_pools(self, ids: list[str]) -> None:
        self.conn.execute(
            self.store.insert(t.pool_state).on_conflict_do_nothing(),
            [
                {
                    "pool_id": p,
                    "fairness_window": "",
                    "credits": {},
                    "counts": {},
                    "present": [],
                    "updated_at": _now(),
                }
                for p in ids
            ],
        )

    def serialize_commits(self) -> None:
        """Wait until no other routing transaction is between this step and its commit, and
        keep them waiting until this one commits (PostgreSQL; SQLite's one writer is serial
        anyway). Whatever a routing transaction reads after this call includes everything
        any other one committed, whichever pools it locked."""
        if self.concurrent:
            self.conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({COMMIT_LOCK})")

    def active_config_seq(self) -> int | None:
        """The sequence number of the config active now, read in this transaction."""
        found = self.conn.scalar(select(t.configs.c.seq).where(t.configs.c.active))
        return int(found) if found is not None else None

    def decided_since(
        self,
        after: int,
        also: Sequence[int],
        names: Sequence[str],
        known: Container[str] = (),
    ) -> tuple[list[tuple[str, dict[str, Any]]], set[int]]:
        """The leads decided by decisions with an id above `after` or in `also`: (id, chosen
        fields) of those that are not in `known`, and every decision id read. Lead data is
        read only for unknown leads."""
        d = t.decisions.c
        where = d.id > after if not also else or_(d.id > after, d.id.in_(list(also)))
        decided = self.conn.execute(select(d.id, d.lead_id).where(where)).all()
        read = {int(row[0]) for row in decided}
        wanted = list(dict.fromkeys(lead for _, lead in decided if lead not in known))
        found: list[tuple[str, dict[str, Any]]] = []
        for start in range(0, len(wanted), 500):
            query = select(t.leads.c.id, t.leads.c.data).where(
                t.leads.c.id.in_(wanted[start : start + 500]),
                t.leads.c.status.not_in(["new", "rejected"]),
            )
            for lead_id, data in self.conn.execute(query):
                found.append((lead_id, {k: data.get(k) for k in names if data.get(k) is not None}))
        return found, read

    # RoutingState -------------------------------------------------------------------------

    def pool_state(self, pool_id: str) -> PoolState:
        return self._pools.get(pool_id) or PoolState()

    def loads(self, rep_ids: Sequence[str], now: datetime) -> Mapping[str, RepLoad]:
        minute = now.replace(second=0, microsecond=0)
        cache = self._load_cache
        result: dict[str, RepLoad] = {}
        for rep_id in rep_ids:
            hit = cache.get(rep_id)
            if hit is not None and hit[0] == minute:
                result[rep_id] = hit[1]
                continue
            rep = self.org.reps.get(rep_id)
            if rep is None:
                continue
            if minute not in self._preloaded:
                self._preload(minute)
            keys = periods_of_minute(rep.timezone, minute)
            self._load_counters(
                [
                    (rep_id, keys["day"]),
                    (rep_id, keys["week"]),
                    (rep_id, keys["month"]),
                    (rep_id, OPEN),
                ]
            )
            counters = self._counters
            load = RepLoad(
                day=counters[(rep_id, keys["day"])],
                week=counters[(rep_id, keys["week"])],
                month=counters[(rep_id, keys["month"])],
                open=counters[(rep_id, OPEN)],
            )
            cache[rep_id] = (minute, load)
            result[rep_id] = load
        return result

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None:
        key = (pool_id, account_key)
        if key not in self._sticky:
            self._sticky[key] = self.conn.scalar(
                select(t.sticky.c.rep_id).where(
                    t.sticky.c.pool_id == pool_id, t.sticky.c.account_key == account_key
                )
            )
        return self._sticky[key]

    # recording ----------------------------------------------------------------------------

    def claim(
        self,
        limit: int,
        *,
        batch_id: str | None = None,
        lead_ids: Sequence[str] | None = None,
        statuses: Sequence[str] = ("new",),
    ) -> list[Lead]:
        """Take up to `limit` leads waiting to be routed, skipping ones others hold. Before
        `lock` on SQLite they are only read (outside the transaction, which has not begun);
        `lock` then puts the ones someone else took since in `lost`."""
        query = (
            select(t.leads)
            .where(t.leads.c.status.in_(list(statuses)))
            .order_by(t.leads.c.received_at, t.leads.c.id)
            .limit(limit)
        )
        if batch_id is not None:
            query = query.where(t.leads.c.batch_id == batch_id)
        if lead_ids is not None:
            query = query.where(t.leads.c.id.in_(list(lead_ids)))
        if self.concurrent:
            query = query.with_for_update(skip_locked=True)
        if self.concurrent or self.begun:
            self.begin()
            return [_stored_lead(r).lead for r in self.conn.execute(query).mappings()]
        with self.store.engine.connect() as reader:
            leads = [_stored_lead(r).lead for r in reader.execute(query).mappings()]
        if leads:
            self._read_early.append(([lead.id for lead in leads], tuple(statuses)))
        return leads

    def current_decisions(self, lead_ids: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        """Each lead's current decision: id and node."""
        query = select(t.decisions.c.lead_id, t.decisions.c.id, t.decisions.c.node).where(
            t.decisions.c.lead_id.in_(list(lead_ids)), t.decisions.c.is_current
        )
        return {lead_id: (ident, node) for lead_id, ident, node in self.conn.execute(query)}

    def record(
        self,
        decision: Decision,
        *,
        account_key: str | None = None,
        previous_owner: str | None = None,
        cleaned: Lead | None = None,
        raw: Mapping[str, Any] | None = None,
        account_id: str | None = None,
    ) -> None:
        """Queue a decision and its state changes for this session's commit.

        `cleaned` replaces the stored lead's fields (the original ones are kept as `raw`).
        A lead given to the owner of the lead it duplicates takes no share, cap or load.
        """
        decision.config_seq = self.config_seq
        self._owners[decision.lead_id] = (decision.outcome.value, decision.rep_id)
        if decision.pool is not None and decision.pool_state is not None:
            self._pools[decision.pool] = decision.pool_state
            self._dirty_pools.add(decision.pool)
            if account_key and decision.rep_id:
                self._sticky[(decision.pool, account_key)] = decision.rep_id
                self._sticky_new[(decision.pool, account_key)] = decision.rep_id
        if decision.rep_id is not None and decision.duplicate_of is None:
            rep = self.org.reps.get(decision.rep_id)
            keys = list(periods_at(rep.timezone, decision.decided_at).values()) if rep else []
            for key in (*keys, OPEN):
                self._bump(decision.rep_id, key, 1)
        if previous_owner is not None:
            self._bump(previous_owner, OPEN, -1)
        if decision.supersedes is not None:
            self._superseded.append(decision.lead_id)
        self._decision_rows.append(
            {
                "lead_id": decision.lead_id,
                "config_seq": decision.config_seq,
                "outcome": decision.outcome.value,
                "node": decision.node,
                "rep_id": decision.rep_id,
                "queue": decision.queue,
                "reason": decision.reason,
                "decided_at": decision.decided_at,
                "record": decision.as_record(),
                "supersedes": decision.supersedes,
                "is_current": True,
            }
        )
        self._lead_updates.append(
            {
                "b_id": decision.lead_id,
                "status": decision.outcome.value,
                "owner_id": decision.rep_id,
                "queue": decision.queue,
                "reason": decision.reason,
                "updated_at": decision.decided_at,
                "data": dict(cleaned.fields) if cleaned is not None else None,
                "raw": dict(raw) if raw is not None else None,
                "account_id": account_id,
                "duplicate_of": decision.duplicate_of,
            }
        )

    def stage(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Rows of another table to write with this session's decisions, in its transaction
        (lifecycle events, SLA timers, outbox messages): a decision and what it sets off are
        stored together or not at all. A row whose unique key exists is skipped."""
        if rows:
            self._staged.append((table, rows))

    def staged(self, table: Any) -> bool:
        """Whether rows of `table` wait to be written."""
        return any(staged is table for staged, _ in self._staged)

    def cancel_timers(self, lead_id: str) -> None:
        """Cancel the lead's pending SLA timers (written before the staged rows)."""
        self._cancel_timers.add(lead_id)

    def lead_row(self, lead_id: str) -> StoredLead | None:
        row = self.conn.execute(select(t.leads).where(t.leads.c.id == lead_id)).mappings().first()
        return _stored_lead(row) if row is not None else None

    def merge_into(self, lead_id: str, fields: Mapping[str, Any], sources: Sequence[str]) -> None:
        """Write a merged survivor's fields and sources (a duplicate was folded into it)."""
        self.conn.execute(
            update(t.leads)
            .where(t.leads.c.id == lead_id)
            .values(data=dict(fields), sources=list(sources), updated_at=_now())
        )

    def owner_of(self, lead_id: str) -> tuple[str, str | None] | None:
        """(status, owner) of a lead, counting decisions made in this session."""
        if lead_id in self._owners:
            return self._owners[lead_id]
        row = self.conn.execute(
            select(t.leads.c.status, t.leads.c.owner_id).where(t.leads.c.id == lead_id)
        ).first()
        return (row.status, row.owner_id) if row is not None else None

    def _bump(self, rep_id: str, key: str, delta: int) -> None:
        self._load_cache.pop(rep_id, None)
        if (rep_id, key) not in self._counters:
            self._load_counters([(rep_id, key)])
        self._counters[(rep_id, key)] += delta
        self._counter_delta[(rep_id, key)] = self._counter_delta.get((rep_id, key), 0) + delta

    def _preload(self, minute: datetime) -> None:
        """Read every rep's counters for the periods current at `minute` in one query."""
        self._preloaded.add(minute)
        keys = [
            (rep.id, key)
            for rep in self.org.reps.values()
            for key in (*periods_of_minute(rep.timezone, minute).values(), OPEN)
        ]
        self._load_counters(keys)

    def _load_counters(self, keys: Sequence[tuple[str, str]]) -> None:
        counters = self._counters
        missing = {k for k in keys if k not in counters}
        if not missing:
            return
        for key in missing:
            counters[key] = 0
        reps = {r for r, _ in missing}
        periods = {p for _, p in missing}
        query = select(t.rep_counters).where(
            t.rep_counters.c.rep_id.in_(reps), t.rep_counters.c.period.in_(periods)
        )
        for row in self.conn.execute(query).mappings():
            key = (row["rep_id"], row["period"])
            if key in missing:
                counters[key] = int(row["count"])

    # writing ------------------------------------------------------------------------------

    @property
    def _pending(self) -> bool:
        return bool(
            self._superseded
            or self._decision_rows
            or self._lead_updates
            or self._dirty_pools
            or self._counter_delta
            or self._sticky_new
            or self._cancel_timers
            or self._staged
        )

    def flush(self) -> None:
        """Write everything recorded so far (inside the session's transaction): each table's
        rows with one statement (two for leads), in this order."""
        if not self._pending:
            return
        self.begin()
        now = _now()
        self._write_superseded()
        self._write_decisions()
        self._write_lead_updates()
        self._write_pool_state(now)
        self._write_rep_counters()
        self._write_sticky(now)
        self._write_timer_cancels(now)
        self._write_staged()

    def _write_superseded(self) -> None:
        """decisions: the current decision of every re-decided lead is current no more."""
        if self._superseded:
            self.conn.execute(
                update(t.decisions)
                .where(t.decisions.c.lead_id.in_(self._superseded), t.decisions.c.is_current)
                .values(is_current=False)
            )
            self._superseded = []

    def _write_decisions(self) -> None:
        """decisions: the new ones, their ids read back when `want_ids`."""
        if not self._decision_rows:
            return
        if self.want_ids:
            inserted = self.conn.execute(
                t.decisions.insert().returning(t.decisions.c.lead_id, t.decisions.c.id),
                self._decision_rows,
            )
            self.decision_ids.update({lead: int(i) for lead, i in inserted})
        else:  # a plain executemany is much cheaper for large batches
            self.conn.execute(t.decisions.insert(), self._decision_rows)
        self._decision_rows = []

    def _write_lead_updates(self) -> None:
        """leads: status, owner, queue and reason; the cleaned fields (with the raw ones)
        where the pipeline changed them."""
        if not self._lead_updates:
            return
        values: dict[str, Any] = {
            "status": bindparam("status"),
            "owner_id": bindparam("owner_id"),
            "queue": bindparam("queue"),
            "reason": bindparam("reason"),
            "updated_at": bindparam("updated_at"),
            "account_id": bindparam("account_id"),
            "duplicate_of": bindparam("duplicate_of"),
        }
        statement = update(t.leads).where(t.leads.c.id == bindparam("b_id"))
        cleaned = [row for row in self._lead_updates if row["data"] is not None]
        as_given = [row for row in self._lead_updates if row["data"] is None]
        if cleaned:  # the pipeline changed these leads' fields: store both versions
            self.conn.execute(
                statement.values(**values, data=bindparam("data"), raw=bindparam("raw")), cleaned
            )
        if as_given:
            for row in as_given:
                del row["data"], row["raw"]
            self.conn.execute(statement.values(**values), as_given)
        self._lead_updates = []

    def _write_pool_state(self, now: datetime) -> None:
        """pool_state: the fairness state of every pool that gave a lead."""
        if not self._dirty_pools:
            return
        rows = [
            {
                "pool_id": p,
                "fairness_window": self._pools[p].window,
                "credits": dict(self._pools[p].credits),
                "counts": dict(self._pools[p].counts),
                "present": sorted(self._pools[p].present),
                "updated_at": now,
            }
            for p in sorted(self._dirty_pools)
        ]
        self.store.upsert(self.conn, t.pool_state, rows, ["pool_id"])
        self._dirty_pools = set()

    def _write_rep_counters(self) -> None:
        """rep_counters: each change added to the stored count (in rep and period order, so
        two transactions never wait for each other's rows in a cycle)."""
        if not self._counter_delta:
            return
        stmt = self.store.insert(t.rep_counters)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["rep_id", "period"],
                set_={"count": t.rep_counters.c.count + stmt.excluded.count},
            ),
            [
                {"rep_id": r, "period": p, "count": d}
                for (r, p), d in sorted(self._counter_delta.items())
            ],
        )
        self._counter_delta = {}

    def _write_sticky(self, now: datetime) -> None:
        """sticky: the rep who took each account's latest lead, per sticky pool."""
        if not self._sticky_new:
            return
        self.store.upsert(
            self.conn,
            t.sticky,
            [
                {"pool_id": p, "account_key": k, "rep_id": r, "updated_at": now}
                for (p, k), r in sorted(self._sticky_new.items())
            ],
            ["pool_id", "account_key"],
        )
        self._sticky_new = {}

    def _write_timer_cancels(self, now: datetime) -> None:
        """timers: the pending SLA timers of re-decided leads are cancelled."""
        if not self._cancel_timers:
            return
        self.conn.execute(
            update(timers)
            .where(timers.c.lead_id.in_(sorted(self._cancel_timers)))
            .where(timers.c.status == "pending")
            .values(status="cancelled", fired_at=now)
        )
        self._cancel_timers = set()

    def _write_staged(self) -> None:
        """The staged rows (lifecycle events, timers, outbox): one statement per table."""
        by_table: dict[Any, list[dict[str, Any]]] = {}
        for table, rows in self._staged:
            by_table.setdefault(table, []).extend(rows)
        for table, rows in by_table.items():
            self.conn.execute(self.store.insert(table).on_conflict_do_nothing(), rows)
        self._staged = []


@contextmanager
def stored_state(store: Store, org: Org, pool_ids: Iterable[str]) -> Iterator[RoutingSession]:
    """The routing state as stored now, read without locks and never written: for a decision
    that only looks ahead (which route a lead is likely to take)."""
    with store.engine.connect() as conn:
        session = RoutingSession(store, conn, org, None)
        ids = sorted(set(pool_ids))
        if ids:
            query = select(t.pool_state).where(t.pool_state.c.pool_id.in_(ids))
            for row in conn.execute(query).mappings():
                session._pools[row["pool_id"]] = PoolState(
                    row["fairness_window"],
                    row["credits"],
                    row["counts"],
                    frozenset(row["present"] or ()),
                )
        yield session


def _now() -> datetime:
    return datetime.now(UTC)
