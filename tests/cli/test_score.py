"""`leadroute score` end to end, in-process, on a temporary SQLite store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.sql import Store
from leadroute.cli import app
from leadroute.cli.score import score_app
from leadroute.services.routing import RoutingService

ORG = """
reps:
  - {id: ann, name: Ann Lee, teams: [na], timezone: America/New_York}
  - {id: bob, name: Bob Ray, teams: [na], timezone: America/Chicago}
territories:
  - {id: na, countries: [US, CA]}
segments:
  - {id: A, max: 20}
  - {id: B, min: 20}
"""

CONFIG = """
name: score-test
pools:
  na: {members: [team:na], fairness_window: all}
queues:
  nurture: {}
flow:
  - id: na
    when: {territory: na}
    then: {distribute: na}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""

LEADS = """Id,Email,Company,Title,Country,Industry,NumberOfEmployees,RequestType
L1,ada@bigsoft.com,Big Soft,VP Sales,US,Software,5000,demo
L2,bo@gmail.com,Tiny Shop,Accountant,US,Retail,8,content
"""

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADROUTE_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    return tmp_path


def _synth(workdir: Path, rows: int = 1500, seed: int = 3) -> Path:
    out = workdir / "history.csv"
    result = runner.invoke(
        score_app, ["synth", "--rows", str(rows), "--seed", str(seed), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def _route(workdir: Path) -> None:
    result = runner.invoke(
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
    assert result.exit_code == 0, result.output


def test_synth_writes_the_history_it_reports(workdir: Path) -> None:
    path = _synth(workdir, rows=400)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    converted = sum(1 for r in rows if r["converted"] == "yes")
    result = runner.invoke(score_app, ["synth", "--rows", "400", "--seed", "3", "--out", str(path)])
    assert f"400 closed leads ({converted} converted) written to" in result.output
    assert len(rows) == 400


def test_train_from_a_file_reports_metrics_and_stores_versions(workdir: Path) -> None:
    history = _synth(workdir)
    result = runner.invoke(score_app, ["train", "--file", str(history), "--folds", "4"])
    assert result.exit_code == 0, result.output
    stored = ModelStore(Store(f"sqlite:///{workdir / 'cli.db'}")).get("conversion")
    assert stored is not None and stored.version == 1 and stored.rows == 1500
    metrics = stored.metrics
    assert "1,500 closed leads from" in result.output
    assert f"cross-validated AUC {metrics['auc_mean']:.3f} ± {metrics['auc_std']:.3f}" in (
        result.output
    )
    assert "over 4 folds" in result.output and f"Brier score {metrics['brier']:.3f}" in (
        result.output
    )
    assert f"base rate {metrics['base_rate']:.1%}" in result.output
    assert "Calibration on held-out leads" in result.output
    assert result.output.count("│") == 10 * 6  # ten decile rows of five columns
    assert "stored model conversion version 1" in result.output

    again = runner.invoke(score_app, ["train", "--file", str(history), "--name", "conversion"])
    assert "version 2" in again.output
    listed = runner.invoke(score_app, ["models"])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if "conversion" in line]
    assert len(lines) == 2 and "active" not in lines[0] and "active" in lines[1]
    assert f"{metrics['auc_mean']:.3f}" in lines[0]

    switched = runner.invoke(score_app, ["activate", "conversion", "1"])
    assert switched.exit_code == 0, switched.output
    output = runner.invoke(score_app, ["models"]).output
    lines = [line for line in output.splitlines() if "conversion" in line]
    assert "active" in lines[0] and "active" not in lines[1]

    missing = runner.invoke(score_app, ["activate", "conversion", "7"])
    assert missing.exit_code == 1 and "no version 7 of model 'conversion'" in missing.output


def test_explain_a_routed_lead(workdir: Path) -> None:
    _route(workdir)
    history = _synth(workdir)
    trained = runner.invoke(score_app, ["train", "--file", str(history)])
    assert trained.exit_code == 0, trained.output

    store = Store(f"sqlite:///{workdir / 'cli.db'}")
    model = ModelStore(store).active("conversion")
    assert model is not None
    contexts = {lead: RoutingService(store).lead_context(lead) for lead in ("L1", "L2")}
    p1, p2 = (model.predict(contexts[lead]) for lead in ("L1", "L2"))
    assert p1 > p2  # a VP at a large software company asking for a demo, vs not

    shown = runner.invoke(score_app, ["explain", "L1", "--top", "20"])
    assert shown.exit_code == 0, shown.output
    assert f"lead L1: probability {p1:.1%} (model conversion v1" in shown.output
    assert f"{model.base_rate:.1%} of its training leads converted" in shown.output
    assert f"against a lead with average features (probability {model.baseline:.1%}):" in (
        shown.output
    )
    for label in ("seniority is vp", "industry is software", "employees 5,000"):
        assert label in shown.output
    effects = {c.label: c.effect for c in model.explain(contexts["L1"], top=20)}
    assert f"{effects['request_type is demo']:+.2f}" in shown.output
    assert effects["request_type is demo"] > 0

    low = runner.invoke(score_app, ["explain", "L2", "--top", "3"])
    assert f"probability {p2:.1%}" in low.output and "free-mail address" in low.output


def test_failures_are_plain_messages(workdir: Path) -> None:
    _route(workdir)
    from_store = runner.invoke(score_app, ["train"])  # nothing converted or disqualified yet
    assert from_store.exit_code == 1
    assert "only 0 closed leads with an outcome: training needs at least 50" in from_store.output

    no_file = runner.invoke(score_app, ["train", "--file", str(workdir / "nope.csv")])
    assert no_file.exit_code == 1 and "no such file" in no_file.output

    no_model = runner.invoke(score_app, ["explain", "L1"])
    assert no_model.exit_code == 1 and "no active model 'conversion'" in no_model.output

    runner.invoke(score_app, ["train", "--file", str(_synth(workdir, rows=300))])
    unknown = runner.invoke(score_app, ["explain", "L9"])
    assert unknown.exit_code == 1 and "no lead 'L9' in the store" in unknown.output


def test_the_score_commands_are_part_of_leadroute() -> None:
    shown = runner.invoke(app, ["score", "--help"])
    assert shown.exit_code == 0, shown.output
    for command in ("train", "models", "activate", "explain", "synth"):
        assert command in shown.output


def test_a_config_using_the_model_activates_once_one_is_trained(workdir: Path) -> None:
    predictive = CONFIG.replace(
        "flow:\n",
        "scoring:\n  predictive: {model: conversion}\nflow:\n"
        "  - id: likely\n    when: {conversion_probability: {gte: 0.5}}\n"
        "    then: {distribute: na}\n",
    )
    (workdir / "predictive.yaml").write_text(predictive, encoding="utf-8")
    assert runner.invoke(app, ["org", "load", str(workdir / "org.yaml")]).exit_code == 0
    refused = runner.invoke(app, ["config", "activate", str(workdir / "predictive.yaml")])
    assert refused.exit_code == 1
    assert "model 'conversion', which is not in the store" in refused.output
    assert "leadroute score train" in refused.output
    trained = runner.invoke(score_app, ["train", "--file", str(_synth(workdir))])
    assert trained.exit_code == 0, trained.output
    routed = runner.invoke(
        app, ["route", str(workdir / "leads.csv"), "--config", str(workdir / "predictive.yaml")]
    )
    assert routed.exit_code == 0, routed.output
    shown = runner.invoke(app, ["explain", "L1"])
    assert "Conversion likelihood" in shown.output, shown.output
    assert "likely: ann from pool na" in shown.output
