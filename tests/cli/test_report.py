"""`leadroute report performance` and lifecycle commands, end to end on SQLite."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from leadroute.cli import app
from tests.cli.test_main import workdir  # noqa: F401  (fixture)

runner = CliRunner()


def test_performance_by_route_with_csv(workdir: Path) -> None:  # noqa: F811
    routed = runner.invoke(
        app,
        [
            "route",
            str(workdir / "leads.csv"),
            "--config",
            str(workdir / "routing.yaml"),
            "--org",
            str(workdir / "org.yaml"),
        ],
    )
    assert routed.exit_code == 0, routed.output
    accepted = runner.invoke(app, ["lead", "act", "2", "accept"])
    assert accepted.exit_code == 0, accepted.output
    assert runner.invoke(app, ["lead", "act", "2", "convert"]).exit_code == 0
    history = runner.invoke(app, ["lead", "history", "2"])
    assert [w for w in ("assigned", "accepted", "converted") if w in history.output] == [
        "assigned",
        "accepted",
        "converted",
    ]
    bad = runner.invoke(app, ["lead", "act", "2", "accept"])
    assert bad.exit_code == 1 and "is converted" in bad.output
    out = workdir / "perf.csv"
    shown = runner.invoke(app, ["report", "performance", "--by", "route", "--csv", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "Speed to lead and conversion by route" in shown.output
    with out.open(encoding="utf-8") as handle:
        rows = {r["key"]: r for r in csv.DictReader(handle)}
    assert rows["na"]["converted"] == "1" and rows["na"]["conversion"] == "1.0"
    data = json.loads(runner.invoke(app, ["report", "performance", "--by", "rep", "--json"]).output)
    assert sum(r["leads"] for r in data) == 4  # the fifth row was rejected
    wrong = runner.invoke(app, ["report", "performance", "--by", "moon"])
    assert wrong.exit_code == 1 and "group by one of" in wrong.output
