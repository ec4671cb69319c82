"""The router: walks the flow for one lead, first match wins, and returns a Decision.

No I/O of its own: fairness state and workloads come through the `RoutingState` port, the time
comes in as an argument, and the caller persists what the Decision says.

`Router.reach` says, before any state is read, which pools a lead's decision may read or
change: the caller locks only those (see `Reach`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadroute.domain.conditions import getter
from leadroute.domain.config import Action, ActionKind, Node, RoutingConfig
from leadroute.domain.decision import Decision, NodeTrace, Outcome
from leadroute.domain.distribution import Pick, RepLoad, pick, unavailable
from leadroute.domain.intent import NO_INTENT
from leadroute.domain.lead import Lead
from leadroute.domain.matching import FREE_MAIL
from leadroute.domain.org import Account, Org
from leadroute.domain.scoring import Prediction, Signals
from leadroute.ports import Predictor, RoutingState

_NO_LOAD = RepLoad()


@dataclass(frozen=True, slots=True)
class Reach:
    """What a lead's decision may touch, known before the routing state is read.

    `pools`: the pools whose fairness state, sticky owners or members' counters the decision
    may read or change. A node the lead's conditions match adds its pool (distribute) or the
    pools of the rep it names (assign, assign_owner); the walk goes on past every node that
    can fall through (a pool with nobody available, an unavailable or excluded rep) and stops
    at the first that cannot (queue, hold, a missing required field, `if_unavailable: hold`).
    A pool brings along every pool that shares a rep with it, since giving that rep a lead
    changes the counters those pools check caps and loads against. The lock set of a
    transaction is the union over its leads; two transactions whose sets are disjoint cannot
    change anything the other reads.

    `tested`: each condition's result for the first `len(tested)` nodes, in flow order, so
    `Router.route` on the same data need not test them again.
    """

    pools: frozenset[str]
    tested: tuple[bool, ...] = ()


class Router:
    """A compiled config bound to an org snapshot."""

    def __init__(self, config: RoutingConfig, org: Org, predictor: Predictor | None = None) -> None:
        self.config = config
        self.org = org
        self.predictor = predictor
        self._value_getters: dict[str, tuple[tuple[str, Callable[[Any], Any]], ...]] = {
            node.id: tuple((name, getter(name)) for name in node.condition.fields)
            for node in config.nodes
        }
        pools_of_rep: dict[str, set[str]] = {}
        for pool in config.pools.values():
            for rep_id in pool.members:
                pools_of_rep.setdefault(rep_id, set()).add(pool.id)
        self._pools_of_rep = {rep: frozenset(pools) for rep, pools in pools_of_rep.items()}
        self._pools_with = {  # a pool and every pool that shares a rep with it
            pool.id: frozenset({pool.id}).union(*(self._pools_of_rep[rep] for rep in pool.members))
            for pool in config.pools.values()
        }
        self.every_pool = frozenset(config.pools)

    def context(
        self,
        lead: Lead,
        account: Account | None = None,
        signals: Signals | None = None,
        *,
        predict: bool = True,
    ) -> dict[str, Any]:
        """The data conditions see: lead fields plus derived fields, the matched account and
        the scores. `predict=False` leaves the predictive score to `predict()`, for a batch."""
        data = dict(lead.fields)
        data["id"] = lead.id
        if lead.channel and not data.get("channel"):
            data["channel"] = lead.channel
        if lead.source and not data.get("lead_source"):
            data["lead_source"] = lead.source
        if "email_domain" not in data:
            data["email_domain"] = lead.email_domain
        if "free_email" not in data:
            domain = data["email_domain"]
            data["free_email"] = domain in FREE_MAIL if isinstance(domain, str) else None
        if "segment" not in data:
            data["segment"] = self.org.segment_of(data)
        data["account"] = account.as_fields() if account is not None else None
        config = self.config
        if config.fit is not None:
            result = config.fit.score(data)
            data["fit_score"], data["fit_tier"] = result.score, result.tier
            data["_fit"] = result
        if config.intent is not None:
            intent = signals.intent if signals is not None and signals.intent else NO_INTENT
            data["intent_score"], data["intent_tier"] = intent.score, intent.tier
            if intent.product and not data.get("intent_product"):
                data["intent_product"] = intent.product
            data["_intent"] = intent
            account_intent = signals.account if signals is not None else None
            if account_intent is not None and data["account"] is not None:
                data["account"]["intent_score"] = account_intent.score
                data["account"]["surging"] = account_intent.surging
                data["_account_intent"] = account_intent
        if config.matrix is not None:
            data["path"] = config.matrix.path(data["fit_tier"], data["intent_tier"])
        if signals is not None and signals.prediction is not None:
            self._set_prediction(data, signals.prediction)
        elif predict and self.predictor is not None:
            self.predict([data])
        return data

    def predict(self, contexts: list[dict[str, Any]], *, reasons: int = 3) -> None:
        """Set the predictive score on many contexts with one call of the model."""
        predictor = self.predictor
        if predictor is None or not contexts:
            return
        probabilities = predictor.predict_many(contexts)
        for data, probability in zip(contexts, probabilities, strict=True):
            top = tuple((c.label, round(c.effect, 3)) for c in predictor.explain(data, reasons))
            prediction = Prediction(
                predictor.name, predictor.version, round(float(probability), 4), top
            )
            self._set_prediction(data, prediction)

    @staticmethod
    def _set_prediction(data: dict[str, Any], prediction: Prediction) -> None:
        data["conversion_probability"] = prediction.probability
        data["_prediction"] = prediction

    def reach(self, data: Mapping[str, Any], account: Account | None = None) -> Reach:
        """The pools a decision on `data` (a lead's context) may read or change: see `Reach`.
        Depends on the data and the org only, never on the routing state or the time."""
        config = self.config
        if config.required and missing_fields(data, config.required):
            return Reach(frozenset())  # held before any node
        pools: set[str] = set()
        tested: list[bool] = []
        for node in config.nodes:
            matched = node.condition.test(data)
            tested.append(matched)
            if not matched:
                continue
            if node.requires and missing_fields(data, node.requires):
                break  # held at this node
            action = node.action
            if action.kind is ActionKind.DISTRIBUTE:
                pools |= self._pools_with.get(action.pool or "", frozenset())
            elif action.kind in (ActionKind.ASSIGN, ActionKind.ASSIGN_OWNER):
                if action.kind is ActionKind.ASSIGN:
                    rep_id = action.rep
                else:
                    rep_id = self._owner_of(account, action.follow_parent)[0]
                    if rep_id is None:
                        continue  # no owner: falls through whatever `if_unavailable` says
                pools |= self._pools_of_rep.get(rep_id or "", frozenset())
            else:
                break  # queue or hold: the walk ends here
            if action.if_unavailable == "hold":
                break
        return Reach(frozenset(pools), tuple(tested))

    def pools_of(self, rep_ids: Sequence[str]) -> frozenset[str]:
        """Every pool these reps are members of."""
        return frozenset().union(*(self._pools_of_rep.get(r, frozenset()) for r in rep_ids))

    def route(
        self,
        lead: Lead,
        *,
        now: datetime,
        state: RoutingState,
        account: Account | None = None,
        exclude: frozenset[str] = frozenset(),
        data: Mapping[str, Any] | None = None,
        tested: Sequence[bool] = (),
    ) -> Decision:
        """Walk the flow for `lead`. `tested`: conditions already tested on this very `data`
        (`Reach.tested`), used instead of testing them again."""
        data = data if data is not None else self.context(lead, account)
        decision = Decision(
            scores=scores_record(data),
            lead_id=lead.id,
            outcome=Outcome.UNROUTED,
            reason="",
            decided_at=now,
            config_name=self.config.name,
            config_hash=self.config.content_hash,
            account=data.get("account"),
        )
        if self.config.required:
            missing = missing_fields(data, self.config.required)
            if missing:
                decision.outcome, decision.missing = Outcome.HELD, missing
                decision.reason = f"missing: {', '.join(missing)} (minimal viable lead)"
                decision.how = "hold"
                return decision
        getters = self._value_getters
        known = len(tested)
        for node in self.config.nodes:
            matched = tested[node.index] if node.index < known else node.condition.test(data)
            trace = NodeTrace(
                node.id, node.name, matched, data, getters[node.id], node.condition.text
            )
            decision.nodes.append(trace)
            if not matched:
                continue
            trace.action = node.action.describe()
            if node.requires:
                missing = missing_fields(data, node.requires)
                if missing:
                    decision.outcome, decision.missing = Outcome.HELD, missing
                    decision.reason = f"{node.name}: missing: {', '.join(missing)}"
                    decision.node, decision.how = node.id, "hold"
                    trace.result = f"held: missing {', '.join(missing)}"
                    return decision
            if self._act(node, data, account, now, state, exclude, decision, trace):
                decision.node = node.id
                return decision
        decision.outcome = Outcome.UNROUTED
        last = decision.nodes[-1].result if decision.nodes else None
        decision.reason = f"fallback could not place the lead: {last or 'no node matched'}"
        return decision

    def _act(
        self,
        node: Node,
        data: Mapping[str, Any],
        account: Account | None,
        now: datetime,
        state: RoutingState,
        exclude: frozenset[str],
        decision: Decision,
        trace: NodeTrace,
    ) -> bool:
        """Carry out a matched node's action on the decision; False means fall through."""
        action = node.action
        match action.kind:
            case ActionKind.QUEUE:
                decision.outcome, decision.queue = Outcome.ROUTED, action.queue
                decision.redirect_url, decision.message = action.redirect_url, action.message
                decision.reason = f"{node.name}: sent to queue {action.queue}"
                decision.how = "queue"
                trace.result = f"queued in {action.queue}"
                return True
            case ActionKind.HOLD:
                decision.outcome = Outcome.HELD
                decision.reason = f"{node.name}: held ({action.reason})"
                decision.how = "hold"
                trace.result = f"held: {action.reason}"
                return True
            case ActionKind.ASSIGN_OWNER | ActionKind.ASSIGN:
                return self._assign_direct(node, action, account, now, exclude, decision, trace)
            case ActionKind.DISTRIBUTE:
                return self._distribute(node, action, data, now, state, exclude, decision, trace)
        return False  # pragma: no cover - every kind handled above

    def _assign_direct(
        self,
        node: Node,
        action: Action,
        account: Account | None,
        now: datetime,
        exclude: frozenset[str],
        decision: Decision,
        trace: NodeTrace,
    ) -> bool:
        if action.kind is ActionKind.ASSIGN:
            rep_id, how = action.rep, "named rep"
        else:
            rep_id, how = self._owner_of(account, action.follow_parent)
            if rep_id is None:
                trace.result = "fell through: " + (how or "no account owner")
                return False
        rep = self.org.reps.get(rep_id or "")
        why = unavailable(rep, now, _NO_LOAD, hours=False, caps=False)
        if why is None and rep_id in exclude:
            why = ("previous owner", "owned this lead before")  # type: ignore[assignment]
        if why is not None:
            detail = f"{rep_id} is {why[0]} ({why[1]})"
            if action.if_unavailable == "hold":
                decision.outcome = Outcome.HELD
                decision.reason = f"{node.name}: held because {detail}"
                trace.result = f"held: {detail}"
                return True
            # assign_anyway overrides absence, not an unknown rep or a lead's previous owner.
            if action.if_unavailable == "fall_through" or rep is None or rep_id in exclude:
                trace.result = f"fell through: {detail}"
                return False
        assert rep_id is not None
        self._assign(decision, rep_id, how or "account owner", f"{node.name}: {how} {rep_id}")
        trace.result = f"assigned to {rep_id}"
        return True

    def _owner_of(self, account: Account | None, follow_parent: bool) -> tuple[str | None, str]:
        if account is None:
            return None, "no matched account"
        if account.owner_id:
            return account.owner_id, "account owner"
        if follow_parent and account.parent_id:
            parent = self.org.accounts.get(account.parent_id)
            if parent is not None and parent.owner_id:
                return parent.owner_id, "parent account owner"
        return None, f"account {account.id} has no owner"

    def _distribute(
        self,
        node: Node,
        action: Action,
        data: Mapping[str, Any],
        now: datetime,
        state: RoutingState,
        exclude: frozenset[str],
        decision: Decision,
        trace: NodeTrace,
    ) -> bool:
        pool = self.config.pools[action.pool or ""]
        trace.pool = pool.id
        account_key = sticky_key(data)
        sticky = state.sticky_rep(pool.id, account_key) if pool.sticky and account_key else None
        loads = state.loads(pool.members, now)
        result: Pick = pick(
            pool,
            self.org,
            state.pool_state(pool.id),
            loads,
            now,
            sticky_rep=sticky,
            exclude=exclude,
        )
        trace.candidates = result.candidates
        if result.chosen is None:
            if action.if_unavailable == "hold":
                decision.outcome = Outcome.HELD
                decision.reason = f"{node.name}: held, nobody available in pool {pool.id}"
                trace.result = "held: nobody available"
                return True
            trace.result = f"fell through: nobody available in pool {pool.id}"
            return False
        decision.pool, decision.pool_state = pool.id, result.state
        self._assign(
            decision,
            result.chosen,
            f"{pool.method.replace('_', ' ')}, {result.how}",
            f"{node.name}: {result.chosen} from pool {pool.id} ({result.how})",
        )
        trace.result = f"assigned to {result.chosen}"
        return True

    def _assign(self, decision: Decision, rep_id: str, how: str, reason: str) -> None:
        decision.outcome = Outcome.ROUTED
        decision.rep_id = rep_id
        decision.how = how
        decision.reason = reason
        rep = self.org.reps.get(rep_id)
        decision.booking_link = rep.booking_link if rep else None


def missing_fields(data: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    """The fields among `names` that have no value in the lead's data."""
    missing = []
    for name in names:
        value = getter(name)(data) if "." in name else data.get(name)
        if value is None or value == "" or value == []:
            missing.append(name)
    return missing


def sticky_key(data: Mapping[str, Any]) -> str | None:
    """What ties leads of one company together: the matched account, else the email domain."""
    account = data.get("account")
    if isinstance(account, Mapping) and account.get("id"):
        return f"account:{account['id']}"
    email_domain = data.get("email_domain")
    free = data.get("free_email") or email_domain in FREE_MAIL
    domain = data.get("domain") or (None if free else email_domain)
    return f"domain:{str(domain).lower()}" if domain else None


def scores_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """The scores part of the decision record: each score with its reasons."""
    scores: dict[str, Any] = {}
    if "_fit" in data:
        scores["fit"] = data["_fit"].as_record()
    if "_intent" in data:
        scores["intent"] = data["_intent"].as_record()
    if "_account_intent" in data:
        scores["account_intent"] = data["_account_intent"].as_record()
    if "path" in data and "fit_tier" in data and "intent_tier" in data:
        scores["path"] = {
            "fit_tier": data["fit_tier"],
            "intent_tier": data["intent_tier"],
            "path": data["path"],
        }
    if "_prediction" in data:
        scores["predictive"] = data["_prediction"].as_record()
    return scores
