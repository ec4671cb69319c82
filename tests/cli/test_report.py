"""`leadroute report` (performance, fairness, criteria) and lifecycle commands, end to end."""

from __future__ import annotations

import csv
import itertools
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


def _routed_and_worked(directory: Path) -> None:
    """Leads 2 and 3 go to the `na` pool (ann and bob; cy is paused), 1 to Acme's owner bob,
    4 to a queue; 2 is then converted and 3 disqualified."""
    args = ["route", str(directory / "leads.csv"), "--config", str(directory / "routing.yaml")]
    routed = runner.invoke(app, [*args, "--org", str(directory / "org.yaml")])
    assert routed.exit_code == 0, routed.output
    for lead, action in (("2", "convert"), ("3", "disqualify")):
        done = runner.invoke(app, ["lead", "act", lead, action])
        assert done.exit_code == 0, done.output


def test_fairness_as_table_csv_and_json(workdir: Path) -> None:  # noqa: F811
    _routed_and_worked(workdir)
    out = workdir / "fairness.csv"
    shown = runner.invoke(app, ["report", "fairness", "--csv", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "Fairness per day and pool" in shown.output and "ann 1, bob 1" in shown.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["period"] == "all", r["scope"], r["per_rep"], r["spread"]) for r in rows] == [
        (False, "na", "ann=1;bob=1", "0"),
        (True, "na", "ann=1;bob=1", "0"),
    ]
    data = json.loads(
        runner.invoke(
            app, ["report", "fairness", "--by", "team", "--period", "week", "--json"]
        ).output
    )
    assert data["by"] == "team" and data["period"] == "week"
    [row] = data["rows"]
    assert row["scope"] == "na" and {r["rep"]: r["leads"] for r in row["per_rep"]} == {
        "ann": 1,
        "bob": 2,  # Acme's lead too: every assignment to a team member counts
    }
    none = runner.invoke(
        app, ["report", "fairness", "--since", "2000-01-01", "--until", "2000-02-01"]
    )
    assert none.exit_code == 0 and "No lead was assigned" in none.output
    wrong = runner.invoke(app, ["report", "fairness", "--period", "month"])
    assert wrong.exit_code == 1 and "period: one of day, week" in wrong.output


def test_criteria_as_table_csv_and_json(workdir: Path) -> None:  # noqa: F811
    _routed_and_worked(workdir)
    out = workdir / "criteria.csv"
    fields = ["--field", "route", "--field", "rep", "--min-leads", "1"]
    shown = runner.invoke(app, ["report", "criteria", *fields, "--csv", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "overall conversion 50.0%" in shown.output and "By rep" in shown.output
    with out.open(encoding="utf-8") as handle:
        rows = {(r["criterion"], r["value"]): r for r in csv.DictReader(handle)}
    assert set(rows) == {
        ("route", "na"),
        ("route", "named"),
        ("route", "fallback"),
        ("rep", "ann"),
        ("rep", "bob"),
        ("rep", "queue:nurture"),
    }
    na = rows[("route", "na")]
    assert (na["leads"], na["closed"], na["conversion"], na["lift"]) == ("2", "2", "0.5", "1.0")
    data = json.loads(runner.invoke(app, ["report", "criteria", *fields, "--json"]).output)
    assert data["conversion"] == 0.5 and [c["criterion"] for c in data["criteria"]] == [
        "route",
        "rep",
    ]
    closed = {v["value"]: v["signal"] for v in data["criteria"][1]["values"]}
    assert closed == {"ann": "unclear", "bob": "unclear", "queue:nurture": "too few"}
    default = json.loads(runner.invoke(app, ["report", "criteria", "--json"]).output)
    assert [c["criterion"] for c in default["criteria"]][:3] == ["fit_tier", "intent_tier", "path"]
    wrong = runner.invoke(app, ["report", "criteria", "--field", "shoe_size"])
    assert wrong.exit_code == 1 and "unknown criterion 'shoe_size'" in wrong.output


def test_flow_counts_per_node(workdir: Path) -> None:  # noqa: F811
    _routed_and_worked(workdir)
    data = json.loads(runner.invoke(app, ["report", "flow", "--json"]).output)
    nodes = data["nodes"]
    assert data["config"]["seq"] == 1 and data["decisions"] == 4  # the fifth row was rejected
    assert nodes[0]["reached"] == 4  # every decision starts at the first node
    assert sum(n["taken"] for n in nodes) == 4
    for before, after in itertools.pairwise(nodes):
        assert after["reached"] == before["passed"]  # what one node passes, the next receives
    shown = runner.invoke(app, ["report", "flow", "--since", "2000-01-01"])
    assert shown.exit_code == 0 and "#1" in shown.output and "reached" in shown.output
    missing = runner.invoke(app, ["report", "flow", "--version", "7"])
    assert missing.exit_code == 1 and "no config #7" in missing.output
