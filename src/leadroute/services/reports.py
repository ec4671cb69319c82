"""Reports over stored leads and decisions: completeness of the data; speed to lead and
conversion by group; fairness of the hand-out over time; which criteria convert best."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadroute.adapters.store.sql import StoredDecision, StoredLead
from leadroute.domain.backtest import Fairness
from leadroute.domain.backtest import fairness as spread_of
from leadroute.domain.config import Pool, compile_config
from leadroute.domain.distribution import weight_of
from leadroute.domain.fields import LEAD_FIELDS
from leadroute.domain.org import Org, RepStatus
from leadroute.domain.titles import classify_title
from leadroute.ports import ConfigReads, DecisionReads, ReportReads

DEFAULT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "country",
    "state",
    "industry",
    "employees",
    "annual_revenue",
    "domain",
    "lead_source",
)


@dataclass
class Completeness:
    """For each attribute, how many leads lack it, and how many leads each gap kept from sales."""

    leads: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    held_incomplete: int = 0
    fields: tuple[str, ...] = ()

    def share_missing(self, name: str) -> float:
        return self.missing[name] / self.leads if self.leads else 0.0

    def rows(self) -> list[tuple[str, int, float, int]]:
        """(field, leads missing it, share, leads it blocked), most blocking first."""
        rows = [(f, self.missing[f], self.share_missing(f), self.blocked[f]) for f in self.fields]
        return sorted(rows, key=lambda r: (-r[3], -r[1], r[0]))

    def as_record(self) -> dict[str, object]:
        return {
            "leads": self.leads,
            "held_incomplete": self.held_incomplete,
            "fields": [
                {"field": f, "missing": n, "share_missing": round(share, 4), "blocked": b}
                for f, n, share, b in self.rows()
            ],
        }


def completeness(
    store: ReportReads,
    *,
    since: datetime | None = None,
    batch_id: str | None = None,
    fields: Iterable[str] = (),
) -> Completeness:
    """Share of leads missing each attribute, and the leads each gap blocked (held as
    incomplete by the minimal viable lead), for a batch or a period. Rejected rows are left out:
    they never became leads."""
    report = Completeness()
    wanted = dict.fromkeys(fields or DEFAULT_FIELDS)
    held_ids: list[str] = []
    for stored in store.iter_leads(since=since, batch_id=batch_id):
        if stored.status == "rejected":
            continue
        report.leads += 1
        data = stored.lead.fields
        for name in wanted:
            value = data.get(name)
            if value is None or value == "" or value == []:
                report.missing[name] += 1
        if stored.status == "held":
            held_ids.append(stored.lead.id)
    for decision in store.current_decisions(held_ids):
        gaps = decision.record.get("missing") or []
        if gaps:
            report.held_incomplete += 1
            for name in gaps:
                report.blocked[name] += 1
                wanted.setdefault(name)
    report.fields = tuple(wanted)
    return report


# -- performance: speed to lead and conversion, by route, rep, config, source or segment -------

GROUPINGS = ("route", "rep", "config", "source", "segment")
TOUCHES = ("accepted", "contacted", "converted", "disqualified")


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Performance:
    """One group's leads: what became of them, how fast, how many converted."""

    key: str
    leads: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    to_assign: list[float] = field(default_factory=list)  # seconds, capture -> decision
    to_touch: list[float] = field(default_factory=list)  # seconds, capture -> first touch
    converted: int = 0
    disqualified: int = 0

    @property
    def conversion(self) -> float | None:
        """Converted among the leads worked to an end (converted or disqualified)."""
        closed = self.converted + self.disqualified
        return self.converted / closed if closed else None

    def as_record(self) -> dict[str, Any]:
        def seconds(value: float | None) -> float | None:
            return round(value, 1) if value is not None else None

        return {
            "key": self.key,
            "leads": self.leads,
            "outcomes": dict(self.outcomes),
            "speed_to_assign_p50_s": seconds(_quantile(self.to_assign, 0.5)),
            "speed_to_assign_p90_s": seconds(_quantile(self.to_assign, 0.9)),
            "touched": len(self.to_touch),
            "speed_to_touch_p50_s": seconds(_quantile(self.to_touch, 0.5)),
            "speed_to_touch_p90_s": seconds(_quantile(self.to_touch, 0.9)),
            "converted": self.converted,
            "disqualified": self.disqualified,
            "conversion": round(self.conversion, 4) if self.conversion is not None else None,
        }


def performance(
    store: ReportReads,
    *,
    by: str = "route",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Performance]:
    """Speed to lead (capture to decision, capture to first touch) and conversion of the
    leads captured in a period, grouped by their current route, rep, config version, source or
    size segment. Rejected rows are left out."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    org = store.load_org() if by == "segment" else None
    leads = {
        s.lead.id: s
        for s in store.iter_leads(since=since)
        if s.status != "rejected"
        and (until is None or (s.lead.received_at is not None and s.lead.received_at < until))
    }
    touched = store.first_events(list(leads), TOUCHES)
    groups: dict[str, Performance] = {}
    for decision in store.current_decisions(list(leads)):
        stored = leads[decision.lead_id]
        record = decision.record
        if by == "route":
            key = decision.node or "(none)"
        elif by == "rep":
            key = decision.rep_id or (f"queue:{decision.queue}" if decision.queue else "(none)")
        elif by == "config":
            config = record.get("config") or {}
            key = f"#{config.get('seq')} {config.get('name', '')}".strip()
        elif by == "source":
            key = stored.lead.source or stored.lead.channel or "(unknown)"
        else:
            assert org is not None
            key = org.segment_of(stored.lead.fields) or "(unknown)"
        group = groups.setdefault(key, Performance(key))
        group.leads += 1
        group.outcomes[stored.status] += 1
        received = stored.lead.received_at
        first = _first_decided(store, decision) if decision.supersedes else decision.decided_at
        if received is not None:
            group.to_assign.append(max(0.0, (first - received).total_seconds()))
            touch = touched.get(decision.lead_id)
            if touch is not None:
                group.to_touch.append(max(0.0, (touch - received).total_seconds()))
        group.converted += stored.status == "converted"
        group.disqualified += stored.status == "disqualified"
    return sorted(groups.values(), key=lambda g: (-g.leads, g.key))


def _first_decided(store: DecisionReads, decision: Any) -> datetime:
    """When the lead was first decided (a re-routed lead's speed counts from its first)."""
    history = store.decisions(decision.lead_id)
    return history[0].decided_at if history else decision.decided_at


# -- fairness over time: leads given per rep, per day or week, per pool or team ------------

PERIODS = ("day", "week")
SCOPES = ("pool", "team")
NO_TEAM = "(no team)"


def bucket(moment: datetime, period: str) -> tuple[str, date]:
    """The UTC day (`2026-11-24`) or ISO week (`2026-W48`) of a moment, with its first day."""
    day_ = moment.astimezone(UTC).date()
    if period == "day":
        return day_.isoformat(), day_
    year, week, _ = day_.isocalendar()
    return f"{year}-W{week:02d}", day_ - timedelta(days=day_.weekday())


@dataclass(frozen=True, slots=True)
class RepShare:
    """One rep's leads in a period; in a weighted pool, also the leads its weight expects."""

    rep_id: str
    leads: int
    weight: float = 1.0
    expected: float | None = None
    member: bool = True  # False: got leads here but is not an active member at report time

    @property
    def ratio(self) -> float | None:
        """Leads given over leads expected: 1.0 is exactly the rep's weighted share."""
        if self.expected is None or self.expected <= 0:
            return None
        return self.leads / self.expected

    def as_record(self) -> dict[str, Any]:
        return {
            "rep": self.rep_id,
            "leads": self.leads,
            "weight": self.weight,
            "expected": round(self.expected, 3) if self.expected is not None else None,
            "ratio": round(self.ratio, 4) if self.ratio is not None else None,
            "member": self.member,
        }


@dataclass(frozen=True, slots=True)
class FairnessRow:
    """How evenly one pool (or team) handed out leads in one period."""

    period: str  # 2026-11-24, 2026-W48, or "all" for the whole report
    start: date
    scope: str  # the pool or team id
    reps: tuple[RepShare, ...]
    spread: Fairness
    weighted: bool = False

    def ratios(self) -> list[float]:
        return [r.ratio for r in self.reps if r.ratio is not None]

    def as_record(self) -> dict[str, Any]:
        ratios = self.ratios()
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "scope": self.scope,
            **self.spread.as_record(),
            "weighted": self.weighted,
            "ratio_min": round(min(ratios), 4) if ratios else None,
            "ratio_max": round(max(ratios), 4) if ratios else None,
            "per_rep": [r.as_record() for r in self.reps],
        }


@dataclass
class FairnessReport:
    since: datetime
    until: datetime | None
    period: str
    by: str
    rows: list[FairnessRow] = field(default_factory=list)  # per period and scope, oldest first
    overall: list[FairnessRow] = field(default_factory=list)  # per scope, the whole report

    def scopes(self) -> list[str]:
        return sorted({row.scope for row in self.rows})

    def csv_rows(self) -> list[dict[str, Any]]:
        """A row per period and scope, then the whole report's per scope (period `all`)."""
        return [
            {
                **{k: v for k, v in row.as_record().items() if k != "per_rep"},
                "per_rep": ";".join(f"{r.rep_id}={r.leads}" for r in row.reps),
            }
            for row in [*self.rows, *self.overall]
        ]

    def as_record(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "period": self.period,
            "by": self.by,
            "membership": "active members of each pool or team at report time",
            "rows": [r.as_record() for r in self.rows],
            "overall": [r.as_record() for r in self.overall],
        }


def fairness(
    store: ReportReads,
    *,
    since: datetime,
    until: datetime | None = None,
    period: str = "day",
    by: str = "pool",
) -> FairnessReport:
    """Leads given to each rep in each UTC day or ISO week of [since, until), per pool (the
    pool named by the decision that gave them) or per team (the rep's teams), with the fewest,
    the most, the spread, the Gini coefficient, and for a weighted pool each rep's leads over
    its weighted share. Every assignment counts, also one later reassigned; the reps of a pool
    or team are its active members at report time (plus anyone who got its leads), so a member
    who got nothing in a period counts as 0."""
    if period not in PERIODS:
        raise ValueError(f"period: one of {', '.join(PERIODS)}, not '{period}'")
    if by not in SCOPES:
        raise ValueError(f"by: one of {', '.join(SCOPES)}, not '{by}'")
    since, end = _utc(since), _utc(until) if until is not None else None
    org = store.load_org()
    teams = _teams_of(org)
    counts: dict[tuple[str, str], Counter[str]] = {}
    starts: dict[str, date] = {}
    seqs: set[int] = set()
    for decision in store.decisions_since(since, current_only=False):
        rep_id = decision.rep_id
        if rep_id is None or (end is not None and decision.decided_at >= end):
            continue
        if by == "pool":
            pool_id = decision.record.get("pool")
            scopes = [str(pool_id)] if pool_id else []
        else:
            scopes = teams.get(rep_id) or [NO_TEAM]
        if not scopes:
            continue
        key, start = bucket(decision.decided_at, period)
        starts[key] = start
        seq = (decision.record.get("config") or {}).get("seq")
        if isinstance(seq, int):
            seqs.add(seq)
        for scope in scopes:
            counts.setdefault((key, scope), Counter())[rep_id] += 1
    pools = _pools(store, org, seqs) if by == "pool" else {}
    members: dict[str, list[str]] = {}
    for _, scope in counts:
        if scope not in members:
            if by == "pool":
                pool = pools.get(scope)
                listed: Sequence[str] = pool.members if pool else ()
            else:
                listed = () if scope == NO_TEAM else org.team_members(scope)
            members[scope] = [m for m in listed if _active(org, m)]
    report = FairnessReport(since=since, until=end, period=period, by=by)
    totals: dict[str, Counter[str]] = {}
    for (key, scope), loads in sorted(counts.items(), key=lambda i: (starts[i[0][0]], i[0][1])):
        report.rows.append(
            _fairness_row(key, starts[key], scope, loads, members[scope], pools.get(scope), org)
        )
        totals.setdefault(scope, Counter()).update(loads)
    for scope, loads in sorted(totals.items()):
        report.overall.append(
            _fairness_row("all", since.date(), scope, loads, members[scope], pools.get(scope), org)
        )
    return report


def _fairness_row(
    key: str,
    start: date,
    scope: str,
    loads: Mapping[str, int],
    members: Sequence[str],
    pool: Pool | None,
    org: Org,
) -> FairnessRow:
    reps = list(dict.fromkeys([*members, *sorted(loads)]))
    weights = {r: weight_of(pool, org.reps.get(r)) for r in reps} if pool else {}
    weighted = len(set(weights.values())) > 1
    total, weight_sum = sum(loads.values()), sum(weights.values())
    shares = tuple(
        RepShare(
            rep_id,
            loads.get(rep_id, 0),
            weight=weights.get(rep_id, 1.0),
            expected=total * weights[rep_id] / weight_sum if weighted else None,
            member=rep_id in members,
        )
        for rep_id in reps
    )
    return FairnessRow(key, start, scope, shares, spread_of(loads, reps), weighted)


def _teams_of(org: Org) -> dict[str, list[str]]:
    """Rep id -> the teams it is a member of (listed on the team, or naming it)."""
    ids = dict.fromkeys([*org.teams, *(t for rep in org.reps.values() for t in rep.teams)])
    found: dict[str, list[str]] = {}
    for team_id in ids:
        for rep_id in org.team_members(team_id):
            found.setdefault(rep_id, []).append(team_id)
    return found


def _pools(store: ConfigReads, org: Org, seqs: Iterable[int]) -> dict[str, Pool]:
    """Pool id -> pool: from the active config, then from the versions that made the
    decisions (newest first), each compiled against the org as it is now."""
    active = store.config()
    versions = [active] + [
        store.config(seq)
        for seq in sorted(set(seqs), reverse=True)
        if active is None or seq != active.seq
    ]
    pools: dict[str, Pool] = {}
    for stored in versions:
        if stored is None:
            continue
        compiled, _ = compile_config(stored.document, org)
        for pool_id, pool in compiled.pools.items() if compiled else ():
            pools.setdefault(pool_id, pool)
    return pools


def _active(org: Org, rep_id: str) -> bool:
    rep = org.reps.get(rep_id)
    return rep is not None and rep.status is RepStatus.ACTIVE


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- which criteria produce the best results -----------------------------------------------

CRITERIA: Mapping[str, str] = {
    "fit_tier": "fit tier from the config's scoring rules (the decision record)",
    "intent_tier": "intent tier (high/low) from scoring.intent (the decision record)",
    "path": "path from the fit x intent matrix (the decision record)",
    "segment": "size segment, from the org's segments",
    "source": "the lead's source, else its capture channel",
    "route": "the route (flow node) that placed the lead",
    "rep": "the rep (or queue) the lead went to",
    "team": "the first team of the rep the lead went to",
    "config": "the config version that decided",
}
DEFAULT_CRITERIA = (
    "fit_tier",
    "intent_tier",
    "path",
    "segment",
    "source",
    "lead_source",
    "country",
    "industry",
    "seniority",
    "route",
    "team",
)
LEAD_FIELD_NAMES = frozenset(f.name for f in LEAD_FIELDS)
NONE = "(none)"
Z95 = 1.959963984540054  # the normal quantile of 97.5%: two-sided 95%


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (95% by default); None without trials. Unlike
    p ± z·√(p(1-p)/n) it stays within [0, 1] and is honest about small groups."""
    if trials <= 0:
        return None
    p, z2 = successes / trials, z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class CriterionValue:
    """The leads with one value of one criterion, and how they converted."""

    criterion: str
    value: str
    leads: int = 0
    converted: int = 0
    disqualified: int = 0
    to_touch: list[float] = field(default_factory=list)  # seconds, capture -> first touch
    baseline: float | None = None  # conversion of every lead in the report
    min_leads: int = 1

    @property
    def closed(self) -> int:
        return self.converted + self.disqualified

    @property
    def conversion(self) -> float | None:
        return self.converted / self.closed if self.closed else None

    @property
    def lift(self) -> float | None:
        """Conversion over the overall conversion: 1.5 converts half as well again."""
        if self.conversion is None or not self.baseline:
            return None
        return self.conversion / self.baseline

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.converted, self.closed)

    @property
    def too_few(self) -> bool:
        return self.closed < self.min_leads

    @property
    def signal(self) -> str:
        """`better` or `worse` when the 95% interval lies wholly above or below the overall
        conversion, `unclear` when it straddles it, `too few` under `min_leads` closed leads."""
        interval = self.interval
        if self.too_few or interval is None:
            return "too few"
        if self.baseline is not None and interval[0] > self.baseline:
            return "better"
        if self.baseline is not None and interval[1] < self.baseline:
            return "worse"
        return "unclear"

    def as_record(self) -> dict[str, Any]:
        interval = self.interval
        touch = _quantile(self.to_touch, 0.5)
        return {
            "criterion": self.criterion,
            "value": self.value,
            "leads": self.leads,
            "closed": self.closed,
            "converted": self.converted,
            "disqualified": self.disqualified,
            "conversion": _round(self.conversion),
            "lift": _round(self.lift, 3),
            "ci_low": _round(interval[0] if interval else None),
            "ci_high": _round(interval[1] if interval else None),
            "signal": self.signal,
            "touched": len(self.to_touch),
            "speed_to_touch_p50_s": round(touch, 1) if touch is not None else None,
        }


@dataclass
class Criterion:
    name: str
    values: list[CriterionValue] = field(default_factory=list)  # the best lift first

    @property
    def separation(self) -> float | None:
        """Best lift minus worst among the values with enough closed leads: how much this
        criterion tells converting leads apart. None with fewer than two such values."""
        lifts = [v.lift for v in self.values if not v.too_few and v.lift is not None]
        return max(lifts) - min(lifts) if len(lifts) > 1 else None

    def as_record(self) -> dict[str, Any]:
        return {
            "criterion": self.name,
            "separation": _round(self.separation, 3),
            "values": [v.as_record() for v in self.values],
        }


@dataclass
class CriteriaReport:
    since: datetime
    until: datetime | None
    min_leads: int
    leads: int = 0
    converted: int = 0
    disqualified: int = 0
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        closed = self.converted + self.disqualified
        return self.converted / closed if closed else None

    def ranked(self) -> list[CriterionValue]:
        """Every value with enough closed leads, the best lift first; a criterion with one value
        for every lead compares nothing and is left out."""
        found = [v for c in self.criteria if len(c.values) > 1 for v in c.values if not v.too_few]
        return sorted(found, key=_rank)

    def rows(self) -> list[CriterionValue]:
        return [v for c in self.criteria for v in c.values]

    def csv_rows(self) -> list[dict[str, Any]]:
        return [v.as_record() for v in self.rows()]

    def as_record(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "min_leads": self.min_leads,
            "leads": self.leads,
            "converted": self.converted,
            "disqualified": self.disqualified,
            "conversion": _round(self.conversion),
            "criteria": [c.as_record() for c in self.criteria],
        }


def criteria(
    store: ReportReads,
    *,
    since: datetime,
    until: datetime | None = None,
    fields: Iterable[str] = DEFAULT_CRITERIA,
    min_leads: int = 30,
) -> CriteriaReport:
    """For each criterion (a score tier, the route, the rep's team, a lead field...), the leads
    captured in [since, until) grouped by its value: converted and disqualified (from the leads'
    statuses), conversion among the closed ones with its 95% Wilson interval, lift over the
    conversion of all the leads, and speed to first touch. A value with fewer than `min_leads`
    closed leads is flagged as too few. Rejected rows and leads never decided are left out."""
    names = list(dict.fromkeys(fields or DEFAULT_CRITERIA))
    unknown = [n for n in names if n not in CRITERIA and n not in LEAD_FIELD_NAMES]
    if unknown:
        raise ValueError(
            f"unknown criterion {', '.join(repr(n) for n in unknown)}: use "
            f"{', '.join(CRITERIA)} or a lead field (`leadroute reference` lists them)"
        )
    if min_leads < 1:
        raise ValueError(f"min_leads must be 1 or more, not {min_leads}")
    since, end = _utc(since), _utc(until) if until is not None else None
    org = store.load_org()
    teams = _teams_of(org)
    leads = {
        s.lead.id: s
        for s in store.iter_leads(since=since)
        if s.status != "rejected"
        and (end is None or (s.lead.received_at is not None and s.lead.received_at < end))
    }
    touched = store.first_events(list(leads), TOUCHES)
    report = CriteriaReport(since=since, until=end, min_leads=min_leads)
    groups: dict[str, dict[str, CriterionValue]] = {n: {} for n in names}
    for decision in store.current_decisions(list(leads)):
        stored = leads[decision.lead_id]
        converted, disqualified = stored.status == "converted", stored.status == "disqualified"
        report.leads += 1
        report.converted += converted
        report.disqualified += disqualified
        touch = touched.get(decision.lead_id)
        received = stored.lead.received_at
        for name in names:
            label = _criterion_value(name, stored, decision, org, teams)
            group = groups[name].setdefault(label, CriterionValue(name, label))
            group.leads += 1
            group.converted += converted
            group.disqualified += disqualified
            if touch is not None and received is not None:
                group.to_touch.append(max(0.0, (touch - received).total_seconds()))
    for name in names:
        values = list(groups[name].values())
        for value in values:
            value.baseline, value.min_leads = report.conversion, min_leads
        report.criteria.append(Criterion(name, sorted(values, key=_rank)))
    return report


def _rank(value: CriterionValue) -> tuple[bool, bool, float, float, int, str]:
    interval = value.interval
    return (
        value.too_few,
        value.lift is None,
        -(value.lift or 0.0),
        -(interval[0] if interval else 0.0),
        -value.closed,
        value.value,
    )


def _criterion_value(
    name: str,
    stored: StoredLead,
    decision: StoredDecision,
    org: Org,
    teams: Mapping[str, list[str]],
) -> str:
    data = stored.lead.fields
    scores = decision.record.get("scores") or {}
    value: Any
    if name in ("fit_tier", "intent_tier"):
        value = (scores.get(name.split("_")[0]) or {}).get("tier") or data.get(name)
    elif name == "path":
        value = (scores.get("path") or {}).get("path") or data.get("path")
    elif name == "segment":
        value = org.segment_of(data) or data.get("segment")
    elif name == "source":
        value = stored.lead.source or stored.lead.channel
    elif name == "route":
        value = decision.node
    elif name == "rep":
        value = decision.rep_id or (f"queue:{decision.queue}" if decision.queue else None)
    elif name == "team":
        value = next(iter(teams.get(decision.rep_id or "", ())), None)
    elif name == "config":
        config = decision.record.get("config") or {}
        value = f"#{config.get('seq')} {config.get('name', '')}".strip()
    elif name in ("seniority", "department") and not data.get(name):
        seniority, department = classify_title(data.get("title"))
        value = seniority if name == "seniority" else department
    else:
        value = data.get(name)
    return _label(value)


def _label(value: Any) -> str:
    if value is None or value == "" or value == []:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(sorted(str(v) for v in value))
    return str(value).strip() or NONE


def _round(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


def performance_rows(groups: Iterable[Performance]) -> list[dict[str, Any]]:
    """Performance groups as flat rows for CSV: outcomes as "routed=3;converted=1"."""
    rows = []
    for group in groups:
        record = group.as_record()
        outcomes = record.pop("outcomes")
        record["outcomes"] = ";".join(f"{k}={v}" for k, v in sorted(outcomes.items()))
        rows.append(record)
    return rows


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()) -> str:
    """Rows as CSV text, the columns of the first row unless given. A text cell that a
    spreadsheet would run as a formula (starting with =, +, -, @) is prefixed with a quote."""
    out = io.StringIO()
    names = list(columns or (rows[0] if rows else []))
    writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
