"""`leadroute backtest`, end to end on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leadroute.cli import app
from tests.cli.test_main import (
    CONFIG,
    workdir,  # noqa: F401  (fixture)
)

runner = CliRunner()

# North America to Ann alone (she has a cap of one lead a day), Acme no longer special, and
# the rest held for review.
DRAFT = (
    CONFIG.replace("name: cli-test", "name: ann-only")
    .replace("then: {distribute: na}", "then: {assign: ann}")
    .replace("when: {account.named: true}", "when: {account.named: true, employees: {lt: 5}}")
    .replace("then: {queue: nurture}", "then: {hold: needs review}")
)


def _route(workdir: Path) -> None:  # noqa: F811
    (workdir / "draft.yaml").write_text(DRAFT, encoding="utf-8")
    org = (workdir / "org.yaml").read_text(encoding="utf-8")
    org = org.replace("timezone: America/New_York}", "timezone: America/New_York, caps: {day: 1}}")
    (workdir / "org.yaml").write_text(org, encoding="utf-8")
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


def test_backtest_prints_the_tables(workdir: Path) -> None:  # noqa: F811
    _route(workdir)
    result = runner.invoke(app, ["backtest", str(workdir / "draft.yaml"), "--since", "2000-01-01"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Backtest of ann-only" in out and "on 4 leads" in out
    assert "left out (never routed or rejected at intake): 1 rejected" in out
    for title in (
        "Owner changes",
        "Load per rep",
        "Fairness",
        "Leads per route",
        "Cap violations in the replay: 1",
        "Held or unrouted in the replay: 1 lead(s)",
    ):
        assert title in out
    assert "rep:bob" in out and "rep:ann" in out  # Acme's lead moves from Bob to Ann
    assert "queue:nurture" in out and "fallback: held (needs review)" in out
    assert "replaying through draft.yaml" in result.stderr


def test_backtest_json_and_errors(workdir: Path) -> None:  # noqa: F811
    _route(workdir)
    draft = str(workdir / "draft.yaml")
    result = runner.invoke(app, ["backtest", draft, "--since", "2000-01-01", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["config"]["name"] == "ann-only" and report["leads"] == 4
    assert sum(row["leads"] for row in report["matrix"]) == 4
    assert {row["key"]: row["after"] for row in report["reps"]} == {"ann": 3, "bob": 0}
    [violation] = report["violations"]["after"]
    assert (violation["rep"], violation["period"], violation["cap"]) == ("ann", "day", 1)
    empty = runner.invoke(app, ["backtest", draft, "--since", "2999-01-01", "--json"])
    assert json.loads(empty.stdout)["leads"] == 0
    missing = runner.invoke(app, ["backtest", str(workdir / "nope.yaml"), "--since", "2000-01-01"])
    assert missing.exit_code == 1 and "no such file" in missing.output
    (workdir / "bad.yaml").write_text(DRAFT.replace("assign: ann", "assign: zed"), "utf-8")
    bad = runner.invoke(app, ["backtest", str(workdir / "bad.yaml"), "--since", "2000-01-01"])
    assert bad.exit_code == 1 and "invalid, nothing was replayed" in bad.output
