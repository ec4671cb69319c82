"""Small charts as inline SVG markup, drawn on the server: no JavaScript, no third-party code.

    line_chart([Series("sales", [("2026-11-24", 3), ("2026-11-25", 1)])], title=..., ...)
    bar_chart([Bar("Webinar", 0.9, low=0.7, high=0.97)], title=..., reference=0.5, ...)

Each chart is an `<svg role="img">` with an `aria-label` and a `<title>` (its accessible name),
axis labels, and a `<title>` on every point or bar, which browsers show as a tooltip. Every
piece of text is escaped, so labels may come from users. Colours are presentation attributes,
which a `Content-Security-Policy` without `'unsafe-inline'` styles still allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#1f5fbf", "#c2571a", "#2e8b57", "#8e44ad", "#b8860b", "#c0392b", "#16a085", "#555")
BAR = "#7ea6e0"  # light enough for an interval whisker drawn over it
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Series:
    """A named line: (x label, y value) points."""

    name: str
    points: Sequence[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Bar:
    """A labelled value, optionally with an interval drawn as a whisker, and a tooltip note."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str = ""


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _x(value: float) -> str:
    return f"{value:.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for <= 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-12:
            return float(step * power)
    return float(10 * power)


def ticks(peak: float) -> list[float]:
    """Round tick values from 0 to `peak` (a `nice_ceiling`): 1 in fifths, 2 in halves,
    2.5 and 5 in fifths, each times its power of ten."""
    power = 10 ** math.floor(math.log10(peak)) if peak > 0 else 1.0
    leading = round(peak / power, 6)
    divisions = 4 if leading == 2 else 5
    return [peak * i / divisions for i in range(divisions + 1)]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(width: int, height: int, title: str, css: str) -> list[str]:
    label = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css)}" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{label}</title>",
    ]


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_order: Sequence[str] | None = None,
    width: int = 720,
    height: int = 300,
    y_format: Format = _number,
    whole: bool = False,
) -> Markup:
    """Lines over categorical x values (dates, periods), one per series, with a legend.
    A series without a value at some x skips it (the line joins its neighbours). `whole`:
    the values are counts, so the y axis has whole-number ticks only."""
    xs = list(x_order) if x_order is not None else []
    if x_order is None:
        for line in series:
            xs += [x for x, _ in line.points if x not in xs]
    left, right, top, bottom = 56, 16 + 140 * bool(series), 28, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((y for line in series for _, y in line.points), default=0.0)
    peak = nice_ceiling(highest)
    marks = ticks(peak)
    if whole and highest <= 5:
        peak = float(max(1, math.ceil(highest)))
        marks = [float(i) for i in range(int(peak) + 1)]
    step = plot_w / (len(xs) - 1) if len(xs) > 1 else 0.0
    where = {x: left + (i * step if len(xs) > 1 else plot_w / 2) for i, x in enumerate(xs)}

    def y_at(value: float) -> float:
        return top + plot_h - (value / peak) * plot_h

    out = _open(width, height, title, "line")
    out += _axes(left, top, plot_w, plot_h, marks, y_at, y_format, x_label, y_label, height)
    every = max(1, math.ceil(len(xs) / max(1, plot_w // 70)))
    for i, x in enumerate(xs):
        if (len(xs) - 1 - i) % every == 0:  # evenly spaced, the latest always labelled
            out.append(
                f'<text x="{_x(where[x])}" y="{top + plot_h + 16}" text-anchor="middle" {FONT}>'
                f"{escape(_short(x, 12))}</text>"
            )
    for n, line in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(where[x], y_at(y), x, y) for x, y in line.points if x in where]
        points.sort(key=lambda p: p[0])
        name = escape(line.name)
        out.append(f'<g class="series" aria-label="{name}">')
        if len(points) > 1:
            path = " ".join(f"{_x(px)},{_x(py)}" for px, py, _, _ in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for px, py, x, y in points:
            out.append(
                f'<circle cx="{_x(px)}" cy="{_x(py)}" r="3.5" fill="{colour}">'
                f"<title>{name}, {escape(x)}: {escape(y_format(y))}</title></circle>"
            )
        out.append("</g>")
        legend_y = top + 4 + n * 18
        out.append(
            f'<rect x="{width - right + 12}" y="{legend_y}" width="10" height="10" '
            f'fill="{colour}"/><text x="{width - right + 28}" y="{legend_y + 9}" {FONT}>'
            f"{escape(_short(line.name, 18))}<title>{name}</title></text>"
        )
    if not xs:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f"{FONT}>No data</text>"
        )
    out.append("</svg>")
    return Markup("\n".join(out))


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    x_label: str,
    reference: float | None = None,
    reference_label: str = "",
    width: int = 720,
    x_format: Format = _number,
    maximum: float | None = None,
) -> Markup:
    """Horizontal bars, one per label (top to bottom in the order given), each with an
    optional interval whisker; `reference` draws a dashed vertical line (e.g. an average)."""
    row, left, right, top, bottom = 22, 170, 24, 12, 44
    height = top + bottom + row * max(1, len(bars))
    plot_w = width - left - right
    highest = max(
        [b.high if b.high is not None else b.value for b in bars]
        + ([reference] if reference is not None else [])
        + [0.0]
    )
    peak = maximum if maximum is not None else nice_ceiling(highest)

    def x_at(value: float) -> float:
        return left + max(0.0, min(value, peak)) / peak * plot_w

    out = _open(width, height, title, "bar")
    base = top + row * max(1, len(bars))
    for tick in ticks(peak):
        out.append(
            f'<line x1="{_x(x_at(tick))}" y1="{top}" x2="{_x(x_at(tick))}" y2="{base}" '
            f'stroke="#d7dce2"/><text x="{_x(x_at(tick))}" y="{base + 14}" '
            f'text-anchor="middle" {FONT}>{escape(x_format(tick))}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" {FONT}>'
        f"{escape(x_label)}</text>"
    )
    for i, bar in enumerate(bars):
        y = top + i * row
        label = escape(bar.label)
        tip = f"{bar.label}: {x_format(bar.value)}"
        if bar.low is not None and bar.high is not None:
            tip += f" ({x_format(bar.low)} to {x_format(bar.high)})"
        if bar.note:
            tip += f"; {bar.note}"
        out.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(_short(bar.label, 24))}<title>{label}</title></text>"
        )
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{_x(x_at(bar.value) - left)}" '
            f'height="{row - 8}" fill="{BAR}"><title>{escape(tip)}</title></rect>'
        )
        if bar.low is not None and bar.high is not None:
            mid = y + row / 2
            out.append(
                f'<path d="M{_x(x_at(bar.low))},{mid:.1f} H{_x(x_at(bar.high))} '
                f'M{_x(x_at(bar.low))},{mid - 5:.1f} v10 M{_x(x_at(bar.high))},{mid - 5:.1f} v10" '
                f'stroke="#1b1f24" stroke-width="1.5" fill="none"><title>{escape(tip)}</title>'
                "</path>"
            )
    if reference is not None:
        note = escape(f"{reference_label or 'reference'}: {x_format(reference)}")
        out.append(
            f'<line x1="{_x(x_at(reference))}" y1="{top - 4}" x2="{_x(x_at(reference))}" '
            f'y2="{base}" stroke="#c2571a" stroke-width="2" stroke-dasharray="5 3">'
            f"<title>{note}</title></line>"
        )
    if not bars:
        out.append(f'<text x="{left}" y="{top + 15}" {FONT}>No data</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


def _axes(
    left: int,
    top: int,
    plot_w: int,
    plot_h: int,
    marks: Sequence[float],
    y_at: Callable[[float], float],
    y_format: Format,
    x_label: str,
    y_label: str,
    height: int,
) -> list[str]:
    out = []
    for tick in marks:
        y = _x(y_at(tick))
        out.append(
            f'<line x1="{left}" y1="{y}" x2="{left + plot_w}" y2="{y}" stroke="#d7dce2"/>'
            f'<text x="{left - 6}" y="{y}" dy="4" text-anchor="end" {FONT}>'
            f"{escape(y_format(tick))}</text>"
        )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#5b6470"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" {FONT}>'
        f"{escape(x_label)}</text>"
    )
    middle = top + plot_h / 2
    out.append(
        f'<text x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" '
        f'text-anchor="middle" {FONT}>{escape(y_label)}</text>'
    )
    return out
