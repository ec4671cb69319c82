"""Charts drawn as SVG markup on the server: well-formed, accessible, escaped, to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from leadroute.console.svg import Bar, Series, bar_chart, line_chart, nice_ceiling, ticks

NS = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert('x')</script>"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # raises on markup that is not well-formed XML


def test_nice_ceilings_and_ticks() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 0.97, 3, 6, 13, 2500)] == [
        1.0,
        0.5,
        1.0,
        5.0,
        10.0,
        20.0,
        2500.0,
    ]
    assert ticks(0.5) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert ticks(2.0) == [0, 0.5, 1.0, 1.5, 2.0]
    assert ticks(10.0) == [0, 2, 4, 6, 8, 10]


def test_a_line_chart_has_a_name_axis_labels_and_a_tooltip_per_point() -> None:
    lines = [
        Series("sales", [("2026-11-24", 3), ("2026-11-25", 1)]),
        Series(SCRIPT, [("2026-11-25", 2)]),
    ]
    markup = line_chart(lines, title=f"Spread {SCRIPT}", x_label="day (UTC)", y_label="leads")
    assert SCRIPT not in markup and "&lt;script&gt;" in markup
    svg = _parse(markup)
    assert svg.get("role") == "img" and svg.get("aria-label") == f"Spread {SCRIPT}"
    assert svg.find(f"{NS}title").text == f"Spread {SCRIPT}"  # type: ignore[union-attr]
    tips = [t.text for c in svg.iter(f"{NS}circle") for t in c.iter(f"{NS}title")]
    assert tips == ["sales, 2026-11-24: 3", "sales, 2026-11-25: 1", f"{SCRIPT}, 2026-11-25: 2"]
    texts = [t.text for t in svg.iter(f"{NS}text")]
    assert "day (UTC)" in texts and "leads" in texts and "2026-11-24" in texts
    [line] = svg.iter(f"{NS}polyline")  # a one-point series draws no line
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in line.get("points", "").split())
    assert x1 < x2 and y1 < y2  # 3 is drawn higher (smaller y) than 1


def test_whole_number_ticks_for_counts() -> None:
    markup = line_chart(
        [Series("p", [("a", 0), ("b", 1)])], title="t", x_label="x", y_label="y", whole=True
    )
    labels = [t.text for t in _parse(markup).iter(f"{NS}text")]
    assert "0" in labels and "1" in labels and "0.2" not in labels
    empty = _parse(line_chart([], title="t", x_label="x", y_label="y"))
    assert "No data" in [t.text for t in empty.iter(f"{NS}text")]


def test_a_bar_chart_draws_values_intervals_and_a_reference_to_scale() -> None:
    bars = [Bar("Webinar", 0.9, low=0.7, high=0.97, note="20 closed"), Bar(SCRIPT, 0.1)]
    markup = bar_chart(
        bars,
        title="Conversion",
        x_label="conversion",
        reference=0.5,
        reference_label="all leads",
        x_format=lambda v: f"{v:.0%}",
    )
    assert SCRIPT not in markup
    svg = _parse(markup)
    assert svg.get("role") == "img" and svg.get("aria-label") == "Conversion"
    rects = list(svg.iter(f"{NS}rect"))
    widths = [float(r.get("width", "0")) for r in rects]
    assert widths[0] == pytest.approx(9 * widths[1], rel=1e-2)  # 0.9 against 0.1 on one scale
    tips = [t.text for r in rects for t in r.iter(f"{NS}title")]
    assert tips == ["Webinar: 90% (70% to 97%); 20 closed", f"{SCRIPT}: 10%"]
    assert len(list(svg.iter(f"{NS}path"))) == 1  # one whisker: the second bar has no interval
    [reference] = [ln for ln in svg.iter(f"{NS}line") if ln.get("stroke-dasharray")]
    assert [t.text for t in reference.iter(f"{NS}title")] == ["all leads: 50%"]
    assert any(t.text == SCRIPT for t in svg.iter(f"{NS}title"))  # the full label, escaped
