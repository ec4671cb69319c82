"""Per-node counts of a config version's flow over a period: how many decisions reached each
node, how many matched it, how many it took (and with what outcome, to whom), and how many fell
through after matching. The console draws these on the flow graph.

Every decision made in the period by that version counts, re-routes included (each pass through
the flow is a decision). The counts come from the decision records' node traces, so they are what
happened, not a re-run of today's rules.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadroute.ports import FlowReads
from leadroute.services.configs import load_config_text

BEFORE_FLOW = "(before the flow)"


@dataclass
class NodeCount:
    """One flow node and what went through it."""

    id: str
    name: str
    condition: str
    action: str
    fallback: bool = False
    reached: int = 0
    matched: int = 0
    taken: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # of the decisions it took
    targets: Counter[str] = field(default_factory=Counter)  # rep ids and queue:NAME

    @property
    def passed(self) -> int:
        """Decisions that went on to the next node (did not match, or matched and fell through)."""
        return self.reached - self.taken

    @property
    def fell_through(self) -> int:
        return self.matched - self.taken

    def as_record(self) -> dict[str, Any]:
        return {
            "node": self.id,
            "name": self.name,
            "condition": self.condition,
            "action": self.action,
            "fallback": self.fallback,
            "reached": self.reached,
            "matched": self.matched,
            "taken": self.taken,
            "fell_through": self.fell_through,
            "passed": self.passed,
            "outcomes": dict(self.outcomes),
            "targets": dict(self.targets.most_common()),
        }


@dataclass
class FlowCounts:
    """A version's flow with its per-node counts for a period."""

    seq: int
    name: str
    hash: str
    since: datetime | None
    until: datetime | None
    nodes: list[NodeCount]
    decisions: int = 0
    before_flow: Counter[str] = field(default_factory=Counter)  # held before any node, by reason
    other_versions: int = 0  # decisions of the period made by other versions
    unknown_nodes: Counter[str] = field(default_factory=Counter)
    unplaced: int = 0  # ran the whole flow and no node placed the lead (unrouted)

    def as_record(self) -> dict[str, Any]:
        return {
            "config": {"seq": self.seq, "name": self.name, "hash": self.hash},
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "decisions": self.decisions,
            "before_flow": dict(self.before_flow),
            "unplaced": self.unplaced,
            "other_versions": self.other_versions,
            "nodes": [n.as_record() for n in self.nodes],
        }


def _describe_nodes(store: FlowReads, source: str, document: Any) -> list[NodeCount]:
    """The nodes of a stored version: compiled against today's org for the condition text, or
    read from the document as written when the version no longer compiles."""
    loaded = load_config_text(source, store.load_org(), with_lint=False)
    if loaded.config is not None:
        return [
            NodeCount(n.id, n.name, n.condition.text, n.action.describe(), n.fallback)
            for n in loaded.config.nodes
        ]
    nodes = []
    for raw in (document or {}).get("flow", []) or []:
        then = raw.get("then") or {}
        kind = next(iter(then), "?") if isinstance(then, dict) else "?"
        detail = then.get(kind) if isinstance(then, dict) else None
        action = f"{kind} {json.dumps(detail, default=str)}" if detail else str(kind)
        when = raw.get("when")
        condition = "always" if when is None else json.dumps(when, default=str)
        nodes.append(
            NodeCount(
                str(raw.get("id", "?")),
                str(raw.get("name") or raw.get("id", "?")),
                condition,
                action,
                bool(raw.get("fallback", False)),
            )
        )
    return nodes


def flow_counts(
    store: FlowReads,
    *,
    seq: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FlowCounts:
    """The flow of version `seq` (the active one by default) with the counts of the decisions
    it made between `since` and `until`. LookupError for an unknown version."""
    stored = store.config(seq)
    if stored is None:
        raise LookupError(f"no config #{seq}" if seq is not None else "no active config")
    nodes = _describe_nodes(store, stored.source, stored.document)
    report = FlowCounts(stored.seq, stored.name, stored.hash, since, until, nodes)
    by_id = {n.id: n for n in nodes}
    report.other_versions = store.other_versions(stored.seq, since=since, until=until)
    for node_id, outcome, reason, record in store.trails(stored.seq, since=since, until=until):
        report.decisions += 1
        trail = record.get("nodes") or []
        if not trail:
            report.before_flow[reason or outcome] += 1
            continue
        for step in trail:
            counted = by_id.get(step.get("node"))
            if counted is None:
                report.unknown_nodes[str(step.get("node"))] += 1
                continue
            counted.reached += 1
            counted.matched += bool(step.get("matched"))
        taker = by_id.get(node_id) if node_id else None
        if taker is None:
            report.unplaced += outcome == "unrouted"
            continue
        taker.taken += 1
        taker.outcomes[outcome] += 1
        queue = record.get("queue")
        target = record.get("rep") or (f"queue:{queue}" if queue else None)
        if target:
            taker.targets[target] += 1
    return report
