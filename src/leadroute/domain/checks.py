"""Static checks of a compiled config: shadowed (unreachable) nodes, empty pools, dead ends."""

from __future__ import annotations

from leadroute.domain.conditions import Issue, implies
from leadroute.domain.config import ActionKind, Node, RoutingConfig
from leadroute.domain.org import Org, RepStatus


def can_fall_through(node: Node) -> bool:
    """Whether a matched node may pass the lead on to the next node.

    Queues and holds never do. A lead with no matched account or no owner always falls through
    `assign_owner`, whatever `if_unavailable` says (that setting is about an owner who is away);
    `assign` and `distribute` fall through unless told to hold.
    """
    action = node.action
    if action.kind in (ActionKind.QUEUE, ActionKind.HOLD):
        return False
    if action.kind is ActionKind.ASSIGN_OWNER:
        return True
    return action.if_unavailable != "hold"


def lint(config: RoutingConfig, org: Org) -> list[Issue]:
    issues: list[Issue] = []
    nodes = config.nodes
    for later in nodes:
        for earlier in nodes[: later.index]:
            if not implies(later.condition, earlier.condition):
                continue
            path: tuple[str | int, ...] = ("flow", later.index, "when")
            if can_fall_through(earlier):
                if later.fallback:
                    break  # the fallback catching what falls through is the point of it
                issues.append(
                    Issue(
                        path,
                        f"node '{later.id}' is reached only when node "
                        f"'{earlier.id}' falls through: every lead it "
                        f"matches also matches '{earlier.id}'",
                        "warning",
                    )
                )
            else:
                issues.append(
                    Issue(
                        path,
                        f"node '{later.id}' is unreachable: every lead it "
                        f"matches is taken by the earlier, broader node "
                        f"'{earlier.id}'",
                        "warning",
                    )
                )
            break
    for pool in config.pools.values():
        if not pool.members:
            issues.append(
                Issue(("pools", pool.id, "members"), f"pool '{pool.id}' is empty", "warning")
            )
    used = {n.action.pool for n in nodes if n.action.kind is ActionKind.DISTRIBUTE}
    for pool_id in config.pools:
        if pool_id not in used:
            issues.append(
                Issue(("pools", pool_id), f"pool '{pool_id}' is not used by any node", "warning")
            )
    for node in nodes:
        action = node.action
        if action.kind is ActionKind.QUEUE and action.queue not in config.queues:
            issues.append(
                Issue(
                    ("flow", node.index, "then", "queue"),
                    f"queue '{action.queue}' is not declared under 'queues:'",
                    "warning",
                )
            )
        rep = org.reps.get(action.rep or "")
        if action.kind is ActionKind.ASSIGN and rep and rep.status is RepStatus.INACTIVE:
            issues.append(
                Issue(
                    ("flow", node.index, "then", "assign"),
                    f"rep '{action.rep}' is inactive",
                    "warning",
                )
            )
    fallback = nodes[-1]
    if fallback.fallback and can_fall_through(fallback):
        issues.append(
            Issue(
                ("flow", fallback.index, "then"),
                "the fallback can fail (its action may fall through); leads would "
                "end unrouted: prefer a queue, a hold, or 'if_empty: hold'",
                "warning",
            )
        )
    return issues
