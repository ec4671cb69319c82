"""`leadroute activity ...` and `leadroute lead brief`, end to end on a temporary SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app

ORG = """
reps:
  - {id: ann, name: Ann Lee, teams: [ae], booking_link: "https://cal.example.com/ann"}
  - {id: sid, name: Sid Roy, teams: [sdr]}
territories:
  - {id: na, countries: [US, CA]}
accounts:
  - {id: globex, name: Globex, domain: globex.com}
"""

CONFIG = """
name: cli-intent
pools:
  ae: {members: [team:ae]}
  sdr: {members: [team:sdr]}
queues:
  nurture: {}
scoring:
  fit:
    rules:
      - {when: {employees: {gte: 200}}, points: 50, reason: mid-market or larger}
    tiers: {A: 50}
  intent:
    tiers: {high: 30}
    reroute: {queues: [nurture]}
  matrix:
    A: {high: fast_track, low: spread}
    D: {high: qualify, low: nurture}
flow:
  - {id: fast_track, when: {path: fast_track}, then: {distribute: ae}}
  - {id: spread, when: {path: spread}, then: {distribute: ae}}
  - {id: qualify, when: {path: qualify}, then: {distribute: sdr}}
  - {id: nurture, fallback: true, then: {queue: nurture}}
"""

LEADS = """Id,FirstName,LastName,Email,Company,Country,NumberOfEmployees,Title
1,Al,One,al@globex.com,Globex,US,300,VP Sales
2,Bea,Two,bea@small.com,Small Co,US,12,Engineer
"""


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADROUTE_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    return tmp_path


runner = CliRunner()


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


def test_import_counts_rejects_and_reroutes_a_nurtured_lead(workdir: Path) -> None:
    _route(workdir)
    explain = runner.invoke(app, ["explain", "2", "--json"])
    assert json.loads(explain.output)["queue"] == "nurture"
    events = workdir / "events.csv"
    events.write_text(
        "Event ID,Type,Email,Occurred At,URL\n"
        f"e1,demo,bea@small.com,{_ago(0.1)},\n"
        f"e2,page_view,bea@small.com,{_ago(1)},https://x.com/pricing\n"
        f"e1,demo,bea@small.com,{_ago(0.1)},\n"
        f"e3,hologram,bea@small.com,{_ago(1)},\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["activity", "import", str(events)])
    assert result.exit_code == 0, result.output
    assert "4 events: 2 stored, 1 duplicates, 1 rejected (counts add up)" in result.output
    assert "row 5: unknown activity type 'hologram'" in result.output
    assert "stored by type: 1 demo_request, 1 pricing_page" in result.output
    assert "re-routed 2 -> sid: re-routed because intent moved from low (0) to high" in (
        result.output
    )
    history = json.loads(runner.invoke(app, ["explain", "2", "--json", "--history"]).output)
    assert [d["queue"] or d["rep"] for d in history] == ["nurture", "sid"]
    assert history[1]["supersedes"] == history[0]["decision_id"]
    assert history[1]["scores"]["path"]["path"] == "qualify"


def test_jsonl_import_rejects_bad_lines(workdir: Path) -> None:
    _route(workdir)
    events = workdir / "events.jsonl"
    good = {"type": "webinar", "email": "al@globex.com", "timestamp": _ago(2), "product": "crm"}
    events.write_text(json.dumps(good) + "\n{oops\n[1]\n", encoding="utf-8")
    result = runner.invoke(app, ["activity", "import", str(events)])
    assert result.exit_code == 0, result.output
    assert "3 events: 1 stored, 0 duplicates, 2 rejected (counts add up)" in result.output
    assert "line 2: not valid JSON" in result.output
    assert "line 3: expected a JSON object" in result.output


def test_add_one_event_and_list_hot_accounts(workdir: Path) -> None:
    _route(workdir)
    for _ in range(12):
        result = runner.invoke(app, ["activity", "add", "page_view", "--domain", "globex.com"])
        assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["activity", "add", "page_view"])
    assert bad.exit_code == 1
    assert "no one to tie it to" in bad.output
    hot = runner.invoke(app, ["activity", "hot"])
    assert hot.exit_code == 0, hot.output
    assert "globex" in hot.output and "Globex" in hot.output and "yes" in hot.output
    assert "1 surging of 1 accounts with visits" in hot.output


def test_brief_carries_scores_reasons_and_recent_activity(workdir: Path) -> None:
    events = workdir / "events.csv"
    events.write_text(
        f"type,email,occurred_at,product\nfree_trial,al@globex.com,{_ago(1)},analytics\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["activity", "import", str(events)]).exit_code == 0
    _route(workdir)
    result = runner.invoke(app, ["lead", "brief", "1"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "New lead 1: Al One" in text
    assert "VP Sales, Globex, US" in text
    assert "Assigned to ann: fast_track" in text
    assert "Fit A (50): mid-market or larger (+50)" in text
    assert "Intent high (" in text and "1 free-trial signup" in text
    assert "Path: fast_track (fit A x intent high)" in text
    assert "free-trial signup  analytics" in text
    assert "Booking link: https://cal.example.com/ann" in text
    record = json.loads(runner.invoke(app, ["lead", "brief", "1", "--json"]).output)
    assert record["scores"]["intent"]["product"] == "analytics"
    assert record["recent_activity"][0]["type"] == "free_trial"
    missing = runner.invoke(app, ["lead", "brief", "nope"])
    assert missing.exit_code == 1 and "no lead 'nope'" in missing.output
