"""The routing config: an ordered flow of nodes (condition -> action), pools and queues.

`compile_config` validates a parsed document against the vocabulary and the org and compiles
every condition once, returning a `RoutingConfig` or the list of issues found, each with its path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadroute.domain.conditions import Condition, ConditionCompiler, Issue
from leadroute.domain.enrichment import EnrichmentConfig
from leadroute.domain.fields import FieldSpec, FieldType, Vocabulary
from leadroute.domain.intent import IntentScorer
from leadroute.domain.notify import CrmModel, NotificationsModel, notify_problems
from leadroute.domain.org import Org, RepStatus, zone
from leadroute.domain.scoring import (
    FitScorer,
    Matrix,
    PredictiveModel,
    ScoringModel,
    build_matrix,
    fit_scorer,
    matrix_problems,
)
from leadroute.domain.sla import SlaModel, sla_problems

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", min_length=1, max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zone(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{value}' (use an IANA name such as America/New_York)"
        ) from None
    return value


class FieldDecl(_Strict):
    """A custom lead field that conditions may use."""

    name: Identifier
    type: FieldType = FieldType.STRING
    description: str = ""


class PoolModel(_Strict):
    """A pool of reps that shares leads."""

    members: list[str] = Field(
        description="rep ids, or 'team:<id>' for every member of a team, in tie-break order"
    )
    method: Literal["round_robin", "weighted", "load_balanced"] = "round_robin"
    fairness_window: Literal["day", "week", "month", "all"] = Field(
        "week", description="period over which shares are balanced; state resets at its start"
    )
    absence: Literal["no_catch_up", "catch_up"] = Field(
        "no_catch_up",
        description="no_catch_up: an absent rep earns no credit, so returns without a burst",
    )
    working_hours: Literal["respect", "ignore"] = "respect"
    caps: Literal["enforce", "ignore"] = "enforce"
    sticky: bool = Field(
        False, description="give a lead to the rep who last took a lead of the same account"
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="per-rep weights overriding the rep's own weight"
    )
    max_open: int | None = Field(
        None, ge=1, description="overload guard: skip reps with this many open leads or more"
    )
    timezone: str | None = Field(None, description="time zone of the fairness window")

    _zone = field_validator("timezone")(_known_zone)

    @field_validator("weights")
    @classmethod
    def _positive(cls, weights: dict[str, float]) -> dict[str, float]:
        for rep, weight in weights.items():
            if weight <= 0:
                raise ValueError(f"weight of {rep} must be above 0, got {weight}")
        return weights


class QueueModel(_Strict):
    redirect_url: str | None = None
    message: str | None = None
    description: str = ""


Unavailable = Literal["fall_through", "assign_anyway", "hold"]


class AssignOwnerModel(_Strict):
    if_unavailable: Unavailable = "fall_through"
    follow_parent: bool = Field(False, description="use the parent account's owner if needed")


class DistributeModel(_Strict):
    pool: Identifier
    if_empty: Literal["fall_through", "hold"] = "fall_through"


class AssignModel(_Strict):
    rep: Identifier
    if_unavailable: Unavailable = "fall_through"


class QueueActionModel(_Strict):
    name: Identifier
    redirect_url: str | None = None
    message: str | None = None


class HoldModel(_Strict):
    reason: str = "held"


def _shorthand(key: str) -> Any:
    def expand(value: Any) -> Any:
        if value is True or value is None:
            return {}
        return {key: value} if isinstance(value, str) else value

    return expand


class ActionModel(_Strict):
    """Exactly one action per node."""

    assign_owner: AssignOwnerModel | None = None
    distribute: DistributeModel | None = None
    assign: AssignModel | None = None
    queue: QueueActionModel | None = None
    hold: HoldModel | None = None

    _expand_distribute = field_validator("distribute", mode="before")(_shorthand("pool"))
    _expand_assign = field_validator("assign", mode="before")(_shorthand("rep"))
    _expand_queue = field_validator("queue", mode="before")(_shorthand("name"))
    _expand_hold = field_validator("hold", mode="before")(_shorthand("reason"))
    _expand_owner = field_validator("assign_owner", mode="before")(_shorthand("if_unavailable"))

    @model_validator(mode="after")
    def _exactly_one(self) -> ActionModel:
        chosen = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "a node needs exactly one action: assign_owner, distribute, "
                f"assign, queue or hold (found {len(chosen)})"
            )
        return self


class NodeModel(_Strict):
    id: Identifier
    name: str | None = None
    description: str = ""
    when: Any = Field(None, description="condition; omitted means always")
    then: ActionModel
    fallback: bool = False
    requires: list[str] = Field(
        default_factory=list,
        description="minimal viable lead for this route: fields that must have a value, "
        "else the lead is held with 'missing: ...'",
    )
    enrichment: Literal["wait", "route_now"] | None = Field(
        None, description="enrichment policy of this route (default: the enrichment section's)"
    )


class CleaningModel(_Strict):
    """Which steps of the data pipeline run before routing (account matching always does)."""

    normalize: bool = Field(
        True, description="normalise and validate email, phone, country, state, company, domain"
    )
    dedupe: bool = Field(True, description="look for a duplicate among known leads")
    check_deliverability: bool = Field(
        False, description="also check that the email's domain accepts mail (DNS lookups)"
    )
    match_names: bool = Field(
        True,
        description="match accounts by company name when no domain matches (else domains only)",
    )


class ConfigModel(_Strict):
    version: Literal[1] = 1
    required: list[str] = Field(
        default_factory=list,
        description="minimal viable lead for every route: fields that must have a value before "
        "a lead may go to sales; an incomplete lead is held with 'missing: ...'",
    )
    name: str = "routing"
    description: str = ""
    timezone: str = "UTC"
    fields: list[FieldDecl] = Field(default_factory=list)
    pools: dict[Identifier, PoolModel] = Field(default_factory=dict)
    queues: dict[Identifier, QueueModel] = Field(default_factory=dict)
    flow: list[NodeModel] = Field(min_length=1)
    enrichment: EnrichmentConfig | None = None
    cleaning: CleaningModel = Field(default_factory=CleaningModel)
    scoring: ScoringModel = Field(default_factory=ScoringModel)
    sla: SlaModel | None = None
    notifications: NotificationsModel | None = None
    crm: CrmModel | None = None

    _zone = field_validator("timezone")(_known_zone)


class ActionKind(StrEnum):
    ASSIGN_OWNER = "assign_owner"
    DISTRIBUTE = "distribute"
    ASSIGN = "assign"
    QUEUE = "queue"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    pool: str | None = None
    rep: str | None = None
    queue: str | None = None
    redirect_url: str | None = None
    message: str | None = None
    reason: str | None = None
    if_unavailable: str = "fall_through"
    follow_parent: bool = False

    def describe(self) -> str:
        match self.kind:
            case ActionKind.ASSIGN_OWNER:
                return "assign to the account owner"
            case ActionKind.DISTRIBUTE:
                return f"distribute in pool {self.pool}"
            case ActionKind.ASSIGN:
                return f"assign to {self.rep}"
            case ActionKind.QUEUE:
                return f"send to queue {self.queue}"
            case _:
                return f"hold ({self.reason})"


@dataclass(frozen=True, slots=True)
class Pool:
    id: str
    members: tuple[str, ...]
    method: str = "round_robin"
    fairness_window: str = "week"
    absence: str = "no_catch_up"
    respect_hours: bool = True
    enforce_caps: bool = True
    sticky: bool = False
    weights: Mapping[str, float] = field(default_factory=dict)
    max_open: int | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class Node:
    id: str
    index: int
    name: str
    condition: Condition
    action: Action
    fallback: bool = False
    requires: tuple[str, ...] = ()
    enrichment: str | None = None


@dataclass(frozen=True)
class RoutingConfig:
    name: str
    nodes: tuple[Node, ...]
    pools: Mapping[str, Pool]
    queues: Mapping[str, QueueModel]
    vocabulary: Vocabulary
    content_hash: str
    document: Mapping[str, Any]
    timezone: str = "UTC"
    required: tuple[str, ...] = ()
    enrichment: EnrichmentConfig | None = None
    cleaning: CleaningModel = field(default_factory=CleaningModel)
    fit: FitScorer | None = None
    intent: IntentScorer | None = None
    matrix: Matrix | None = None
    predictive: PredictiveModel | None = None
    sla: SlaModel | None = None
    notifications: NotificationsModel | None = None
    crm: CrmModel | None = None

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


class ConfigInvalid(ValueError):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message for i in issues if i.severity == "error"))
        self.issues = issues


def content_hash(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _pydantic_issues(error: ValidationError) -> list[Issue]:
    issues = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
        elif item["type"] == "missing":
            message = f"'{loc[-1]}' is required"
        issues.append(Issue(loc, message))
    return issues


def compile_config(document: Any, org: Org) -> tuple[RoutingConfig | None, list[Issue]]:
    """Validate and compile a parsed config; errors stop compilation, warnings do not."""
    if not isinstance(document, Mapping):
        return None, [Issue((), "a routing config must be a YAML mapping with a 'flow' list")]
    try:
        model = ConfigModel.model_validate(document)
    except ValidationError as exc:
        return None, _pydantic_issues(exc)
    issues: list[Issue] = []
    vocabulary = Vocabulary(FieldSpec(f.name, f.type, f.description) for f in model.fields)
    pools = {pid: _pool(pid, p, org, model.timezone, issues) for pid, p in model.pools.items()}
    compiler = ConditionCompiler(vocabulary, org, issues)
    nodes: list[Node] = []
    seen: set[str] = set()
    for index, raw in enumerate(model.flow):
        path: tuple[str | int, ...] = ("flow", index)
        if raw.id in seen:
            issues.append(Issue((*path, "id"), f"duplicate node id '{raw.id}'"))
        seen.add(raw.id)
        condition = compiler.compile(raw.when, (*path, "when"))
        action = _action(raw.then, (*path, "then"), pools, model.queues, org, issues)
        requires = _known_fields(raw.requires, (*path, "requires"), vocabulary, issues)
        nodes.append(
            Node(
                raw.id,
                index,
                raw.name or raw.id,
                condition,
                action,
                raw.fallback,
                requires,
                raw.enrichment,
            )
        )
    _check_fallback(nodes, issues)
    required = _known_fields(model.required, ("required",), vocabulary, issues)
    fit = None
    if model.scoring.fit is not None:
        conditions = [
            compiler.compile(rule.when, ("scoring", "fit", "rules", i, "when"))
            for i, rule in enumerate(model.scoring.fit.rules)
        ]
        fit = fit_scorer(model.scoring.fit, conditions)
    intent = IntentScorer(model.scoring.intent) if model.scoring.intent is not None else None
    matrix = _matrix(model.scoring, fit, intent, issues)
    if intent is not None:
        for i, queue in enumerate(intent.model.reroute.queues):
            if queue not in model.queues:
                where = ("scoring", "intent", "reroute", "queues", i)
                issues.append(Issue(where, f"re-route names undeclared queue '{queue}'"))
    if model.sla is not None:
        routes = {node.id: node for node in nodes}
        for place, message in sla_problems(model.sla, routes, model.queues):
            issues.append(Issue(("sla", *place), message))
    for spot, message, severity in notify_problems(model.notifications, model.crm, org):
        issues.append(Issue(spot, message, severity))
    if any(i.severity == "error" for i in issues):
        return None, issues
    config = RoutingConfig(
        name=model.name,
        nodes=tuple(nodes),
        pools=pools,
        queues=model.queues,
        vocabulary=vocabulary,
        content_hash=content_hash(document),
        document=document,
        timezone=model.timezone,
        required=required,
        enrichment=model.enrichment,
        cleaning=model.cleaning,
        fit=fit,
        intent=intent,
        matrix=matrix,
        predictive=model.scoring.predictive,
        sla=model.sla,
        notifications=model.notifications,
        crm=model.crm,
    )
    return config, issues


def _matrix(
    scoring: ScoringModel,
    fit: FitScorer | None,
    intent: IntentScorer | None,
    issues: list[Issue],
) -> Matrix | None:
    if scoring.matrix is None:
        return None
    where: tuple[str | int, ...] = ("scoring", "matrix")
    if fit is None or intent is None:
        issues.append(Issue(where, "the fit x intent matrix needs scoring.fit and scoring.intent"))
        return None
    for path, message in matrix_problems(scoring.matrix, fit.tier_names, intent.tier_names):
        issues.append(Issue((*where, *path), message))
    return build_matrix(scoring.matrix)


def _known_fields(
    names: list[str], path: tuple[str | int, ...], vocabulary: Vocabulary, issues: list[Issue]
) -> tuple[str, ...]:
    for i, name in enumerate(names):
        if vocabulary.get(name) is None:
            issues.append(Issue((*path, i), f"unknown field '{name}' in the minimal viable lead"))
    return tuple(dict.fromkeys(names))


def _pool(pool_id: str, model: PoolModel, org: Org, tz: str, issues: list[Issue]) -> Pool:
    path: tuple[str | int, ...] = ("pools", pool_id, "members")
    members: list[str] = []
    for i, ref in enumerate(model.members):
        if ref.startswith("team:"):
            team = ref.removeprefix("team:")
            if team not in org.teams and not org.team_members(team):
                issues.append(Issue((*path, i), f"pool '{pool_id}' names unknown team '{team}'"))
            for rep_id in org.team_members(team):
                if rep_id not in org.reps:
                    issues.append(
                        Issue(
                            (*path, i),
                            f"team '{team}' lists unknown rep "
                            f"'{rep_id}', left out of pool '{pool_id}'",
                            "warning",
                        )
                    )
                elif rep_id not in members:
                    members.append(rep_id)
        elif ref not in org.reps:
            issues.append(Issue((*path, i), f"pool '{pool_id}' names unknown rep '{ref}'"))
        elif ref not in members:
            members.append(ref)
    for rep in model.weights:
        if rep not in members:
            issues.append(
                Issue(
                    ("pools", pool_id, "weights", rep),
                    f"weight given for '{rep}', who is not in pool '{pool_id}'",
                )
            )
    active = [m for m in members if org.reps[m].status is not RepStatus.INACTIVE]
    if not active:
        issues.append(
            Issue(
                path,
                f"pool '{pool_id}' has no active reps: leads sent to it will fall through",
                "warning",
            )
        )
    return Pool(
        pool_id,
        tuple(members),
        model.method,
        model.fairness_window,
        model.absence,
        model.working_hours == "respect",
        model.caps == "enforce",
        model.sticky,
        dict(model.weights),
        model.max_open,
        model.timezone or tz,
    )


def _action(
    model: ActionModel,
    path: tuple[str | int, ...],
    pools: Mapping[str, Pool],
    queues: Mapping[str, QueueModel],
    org: Org,
    issues: list[Issue],
) -> Action:
    if model.assign_owner is not None:
        o = model.assign_owner
        return Action(
            ActionKind.ASSIGN_OWNER, if_unavailable=o.if_unavailable, follow_parent=o.follow_parent
        )
    if model.distribute is not None:
        if model.distribute.pool not in pools:
            known = ", ".join(sorted(pools)) or "none defined"
            issues.append(
                Issue(
                    (*path, "distribute"),
                    f"unknown pool '{model.distribute.pool}'; known pools: {known}",
                )
            )
        return Action(
            ActionKind.DISTRIBUTE,
            pool=model.distribute.pool,
            if_unavailable=model.distribute.if_empty,
        )
    if model.assign is not None:
        if model.assign.rep not in org.reps:
            issues.append(Issue((*path, "assign"), f"unknown rep '{model.assign.rep}'"))
        return Action(
            ActionKind.ASSIGN, rep=model.assign.rep, if_unavailable=model.assign.if_unavailable
        )
    if model.queue is not None:
        q = model.queue
        declared = queues.get(q.name)
        return Action(
            ActionKind.QUEUE,
            queue=q.name,
            redirect_url=q.redirect_url or (declared.redirect_url if declared else None),
            message=q.message or (declared.message if declared else None),
        )
    assert model.hold is not None
    return Action(ActionKind.HOLD, reason=model.hold.reason)


def _check_fallback(nodes: list[Node], issues: list[Issue]) -> None:
    last = len(nodes) - 1
    fallbacks = [n for n in nodes if n.fallback]
    if not fallbacks:
        issues.append(
            Issue(
                ("flow",),
                "the flow needs a fallback: end it with a node marked "
                "'fallback: true' and no condition",
            )
        )
    for node in fallbacks:
        if node.index != last:
            issues.append(
                Issue(
                    ("flow", node.index, "fallback"),
                    f"fallback node '{node.id}' must be the last node",
                )
            )
        if not node.condition.always:
            issues.append(
                Issue(
                    ("flow", node.index, "when"),
                    f"fallback node '{node.id}' must not have a condition",
                )
            )
