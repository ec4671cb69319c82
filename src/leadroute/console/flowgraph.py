"""The flow drawn as a graph (SVG, laid out here, rendered by a template): a column of nodes
in the order they are tried, each with a "yes" edge to its action and a "no" edge to the next
node, every box and edge carrying its count for the period."""

from __future__ import annotations

from dataclasses import dataclass

from leadroute.services.flow import FlowCounts, NodeCount

WIDTH = 900
NODE_X, NODE_W = 20, 420
ACTION_X, ACTION_W = 540, 340
BOX_H = 66
TOP = 86  # the first node's top (the start box is above it)
STEP = 118  # from one node's top to the next one's


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    lines: tuple[str, ...]
    title: str  # the full text, shown on hover
    kind: str  # start, node, fallback, action, end
    bar: int = 0  # width of the share-of-decisions bar, in px


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str
    lx: int
    ly: int
    kind: str  # yes, no, start


@dataclass(frozen=True)
class Graph:
    width: int
    height: int
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    description: str


def _outcomes(node: NodeCount) -> str:
    parts = [f"{kind} {n}" for kind, n in sorted(node.outcomes.items())]
    return " · ".join(parts) if parts else "none taken"


def _targets(node: NodeCount, limit: int = 3) -> str:
    top = node.targets.most_common(limit)
    if not top:
        return ""
    more = len(node.targets) - len(top)
    text = ", ".join(f"{who} {n}" for who, n in top)
    return text + (f", +{more} more" if more > 0 else "")


def layout(flow: FlowCounts) -> Graph:
    total = flow.decisions
    boxes: list[Box] = []
    edges: list[Edge] = []
    held_first = sum(flow.before_flow.values())
    start_lines = [f"{total} decisions by #{flow.seq} {clip(flow.name, 40)}"]
    if held_first:
        start_lines.append(f"{held_first} held before the flow (missing required fields)")
    boxes.append(Box(NODE_X, 10, NODE_W, 48, tuple(start_lines), " ".join(start_lines), "start"))
    entering = total - held_first
    edges.append(
        Edge(
            NODE_X + NODE_W // 2,
            58,
            NODE_X + NODE_W // 2,
            TOP,
            str(entering),
            NODE_X + NODE_W // 2 + 8,
            76,
            "start",
        )
    )
    y = TOP
    for i, node in enumerate(flow.nodes):
        share = node.reached / total if total else 0.0
        header = f"{i + 1}. {node.name}" + (" (fallback)" if node.fallback else "")
        boxes.append(
            Box(
                NODE_X,
                y,
                NODE_W,
                BOX_H,
                (
                    clip(header, 56),
                    clip(f"if {node.condition}", 62),
                    f"reached {node.reached} · matched {node.matched}",
                ),
                f"{header} [{node.id}]: if {node.condition}",
                "fallback" if node.fallback else "node",
                round((NODE_W - 2) * share),
            )
        )
        middle = y + BOX_H // 2
        targets = _targets(node)
        every = ", ".join(f"{who} {n}" for who, n in node.targets.most_common())
        action_lines = [clip(node.action, 50), clip(f"took {node.taken}: {_outcomes(node)}", 50)]
        if targets:
            action_lines.append(clip(targets, 50))
        boxes.append(
            Box(
                ACTION_X,
                y,
                ACTION_W,
                BOX_H,
                tuple(action_lines),
                f"{node.action}; took {node.taken}: {_outcomes(node)}"
                + (f"; to {every}" if every else ""),
                "action",
            )
        )
        edges.append(
            Edge(
                NODE_X + NODE_W,
                middle,
                ACTION_X,
                middle,
                f"yes {node.taken}",
                NODE_X + NODE_W + 14,
                middle - 6,
                "yes",
            )
        )
        last = i == len(flow.nodes) - 1
        if not last or node.passed:
            label = f"no {node.passed}"
            if node.fell_through:
                label += f" (incl. {node.fell_through} fell through)"
            edges.append(
                Edge(
                    NODE_X + NODE_W // 2,
                    y + BOX_H,
                    NODE_X + NODE_W // 2,
                    y + STEP,
                    label,
                    NODE_X + NODE_W // 2 + 8,
                    y + BOX_H + 30,
                    "no",
                )
            )
        y += STEP
    if flow.nodes and flow.nodes[-1].passed:
        text = f"unrouted: {flow.unplaced} (no node placed the lead)"
        boxes.append(Box(NODE_X, y, NODE_W, 40, (text,), text, "end"))
        y += 40 + 20
    description = f"Flow of config #{flow.seq} {flow.name}: {total} decisions. " + " ".join(
        f"{n.name}: reached {n.reached}, matched {n.matched}, took {n.taken}." for n in flow.nodes
    )
    return Graph(WIDTH, max(y, TOP) + 10, tuple(boxes), tuple(edges), description)
