"""Dry runs: route leads through a config in memory, storing nothing (check --leads, backtests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.account_match import AccountIndex
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.lead import Lead
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Org


@dataclass
class Simulation:
    leads: int = 0
    nodes: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    reps: Counter[str] = field(default_factory=Counter)
    fell_to_fallback: int = 0


def simulate(
    config: RoutingConfig,
    org: Org,
    leads: Iterable[Lead],
    *,
    now: Callable[[Lead], datetime],
    on_decision: Callable[[Decision], None] | None = None,
) -> Simulation:
    """Route `leads` in order against fresh in-memory state; `now` gives each lead's time."""
    router = Router(config, org)
    state = MemoryRoutingState(org)
    accounts = AccountIndex(org.accounts.values())
    normalizer = Normalizer() if config.cleaning.normalize else None
    result = Simulation()
    fallback = config.nodes[-1].id
    for lead in leads:
        if normalizer is not None:
            lead = Lead(
                lead.id,
                normalizer.normalize(lead.fields).fields,
                lead.source,
                lead.channel,
                lead.received_at,
            )
        account = accounts.match(lead.fields).account
        data = router.context(lead, account)
        decision = router.route(lead, now=now(lead), state=state, account=account, data=data)
        state.apply(decision, sticky_key(data))
        result.leads += 1
        result.outcomes[decision.outcome.value] += 1
        if decision.node:
            result.nodes[decision.node] += 1
            if decision.node == fallback:
                result.fell_to_fallback += 1
        if decision.rep_id:
            result.reps[decision.rep_id] += 1
        if on_decision is not None:
            on_decision(decision)
    return result
