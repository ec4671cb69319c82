"""The CLI end to end, in-process, on a temporary SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.reference import config_reference

ORG = """
reps:
  - {id: ann, name: Ann Lee, teams: [na], timezone: America/New_York}
  - {id: bob, name: Bob Ray, teams: [na], timezone: America/Chicago}
  - {id: cy, name: Cy Ng, teams: [na], timezone: America/Denver, status: paused}
territories:
  - {id: na, countries: [US, CA]}
segments:
  - {id: A, max: 20}
  - {id: B, min: 20}
accounts:
  - {id: acme, name: Acme, domain: acme.com, owner: bob, named: true}
"""

CONFIG = """
name: cli-test
pools:
  na: {members: [team:na], fairness_window: all}
queues:
  nurture: {message: "Thanks, we'll be in touch"}
flow:
  - id: named
    when: {account.named: true}
    then: {assign_owner: {}}
  - id: na
    when: {territory: na}
    then: {distribute: na}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""

LEADS = """Id,FirstName,LastName,Email,Company,Country,NumberOfEmployees
1,Al,One,al@acme.com,Acme,US,300
2,Bea,Two,bea@b.com,B Co,US,40
3,Cal,Three,cal@c.com,C Co,CA,12
4,Dee,Four,dee@d.com,D Co,DE,50
5,Eve,Five,eve@e.com,E Co,US,plenty
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADROUTE_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    return tmp_path


runner = CliRunner()


def test_check_reports_errors_at_file_and_line(workdir: Path) -> None:
    bad = CONFIG.replace("then: {distribute: na}", "then: {distribute: emea}").replace(
        "when: {territory: na}", "when: {territory: na, employes: {gt: 5}}"
    )
    (workdir / "bad.yaml").write_text(bad, encoding="utf-8")
    result = runner.invoke(
        app, ["check", str(workdir / "bad.yaml"), "--org", str(workdir / "org.yaml")]
    )
    assert result.exit_code == 1
    lines = bad.splitlines()
    pool_line = next(i for i, text in enumerate(lines, 1) if "emea" in text)
    field_line = next(i for i, text in enumerate(lines, 1) if "employes" in text)
    assert (
        f"bad.yaml:{pool_line}: error: flow.1.then.distribute: unknown pool 'emea'" in result.output
    )
    assert (
        f"bad.yaml:{field_line}: error" in result.output
        and "unknown field 'employes'" in result.output
    )


def test_check_flags_unreachable_nodes_and_dry_runs_leads(workdir: Path) -> None:
    shadowed = CONFIG.replace(
        """  - id: fallback""",
        """  - id: us_only
    when: {country: US}
    then: {queue: nurture}
  - id: fallback""",
    ).replace("then: {distribute: na}", "then: {queue: nurture}")
    (workdir / "shadow.yaml").write_text(shadowed, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "check",
            str(workdir / "shadow.yaml"),
            "--org",
            str(workdir / "org.yaml"),
            "--leads",
            str(workdir / "leads.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "node 'us_only' is unreachable" in result.output
    assert "1 leads fell to the fallback" in result.output
    assert "1 rejected rows" in result.output


def test_route_then_explain(workdir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "route",
            str(workdir / "leads.csv"),
            "--config",
            str(workdir / "routing.yaml"),
            "--org",
            str(workdir / "org.yaml"),
            "--output",
            str(workdir / "out.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 leads: 4 routed, 0 held, 0 unrouted, 1 rejected (counts add up)" in result.output
    assert "row 6: employees must be a number" in result.output
    records = [json.loads(x) for x in (workdir / "out.jsonl").read_text().splitlines()]
    assert {r["lead_id"]: r["rep"] or r["queue"] for r in records} == {
        "1": "bob",
        "2": "ann",
        "3": "bob",
        "4": "nurture",
    }

    shown = runner.invoke(app, ["explain", "2"])
    assert shown.exit_code == 0, shown.output
    assert "Lead 2: routed to ann" in shown.output
    assert "paused" in shown.output and "country='US'" in shown.output

    as_json = runner.invoke(app, ["explain", "3", "--json"])
    record = json.loads(as_json.output)
    assert record["rep"] == "bob" and record["config"]["seq"] == 1
    assert [n["node"] for n in record["nodes"]] == ["named", "na"]
    reasons = {c["rep"]: c["reason"] for c in record["nodes"][1]["candidates"]}
    assert reasons == {"ann": "ahead of its share", "bob": None, "cy": "paused"}

    rejected = runner.invoke(
        app, ["explain", next(r for r in _lead_ids(workdir) if r.endswith("-6"))]
    )
    assert "rejected" in rejected.output and "employees must be a number" in rejected.output


def _lead_ids(workdir: Path) -> list[str]:
    from leadroute.adapters.store.sql import Store

    store = Store(f"sqlite:///{workdir / 'cli.db'}")
    return [s.lead.id for s in store.leads()]


def test_deactivate_hands_leads_on(workdir: Path) -> None:
    runner.invoke(
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
    result = runner.invoke(app, ["rep", "deactivate", "ann"])
    assert result.exit_code == 0, result.output
    assert "1 open leads re-routed" in result.output and "2 → bob" in result.output
    history = json.loads(runner.invoke(app, ["explain", "2", "--json", "--history"]).output)
    assert [h["rep"] for h in history] == ["ann", "bob"]


def test_unknown_lead_and_missing_file_fail_cleanly(workdir: Path) -> None:
    assert runner.invoke(app, ["explain", "nope"]).exit_code == 1
    missing = runner.invoke(app, ["route", str(workdir / "none.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_schema_is_json_schema_with_conditions() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert "Condition" in schema["$defs"]
    assert "employees" in json.dumps(schema["$defs"]["Condition"])


def test_reference_doc_is_in_sync() -> None:
    doc = Path(__file__).parents[2] / "docs" / "config-reference.md"
    assert doc.read_text(encoding="utf-8") == config_reference(), (
        "docs/config-reference.md is stale: run `leadroute reference > docs/config-reference.md`"
    )


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--leads", "400"])
    assert result.exit_code == 0, result.output
    assert "counts add up" in result.output
    assert "What to try next" in result.output
    assert (tmp_path / "demo" / "decisions.jsonl").exists()


def test_import_then_route_pending_then_close(workdir: Path) -> None:
    runner.invoke(app, ["org", "load", str(workdir / "org.yaml")])
    assert runner.invoke(app, ["config", "activate", str(workdir / "routing.yaml")]).exit_code == 0
    imported = runner.invoke(app, ["import", str(workdir / "leads.csv")])
    assert imported.exit_code == 0, imported.output
    assert "5 records read: 4 new, 1 rejected (counts add up)" in imported.output
    pending = runner.invoke(app, ["route-pending"])
    assert "routed 4 pending leads: 4 routed" in pending.output
    assert "routed 0 pending leads\n" in runner.invoke(app, ["route-pending"]).output
    closed = runner.invoke(app, ["lead", "close", "2", "--status", "converted"])
    assert closed.exit_code == 0, closed.output
    again = runner.invoke(app, ["lead", "close", "2"])
    assert again.exit_code == 1 and "not an open, routed lead" in again.output


def test_demo_with_an_unknown_template_fails_before_writing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--template", "nope"])
    assert result.exit_code == 1 and "no template 'nope'" in result.output
    assert not (tmp_path / "d").exists()


def test_check_without_an_org_says_so(workdir: Path) -> None:
    result = runner.invoke(app, ["check", str(workdir / "routing.yaml")])
    assert result.exit_code == 1 and "no org to check against" in result.output


def test_marking_a_rep_inactive_in_the_org_file_hands_its_leads_on(workdir: Path) -> None:
    runner.invoke(
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
    edited = ORG.replace(
        "timezone: America/New_York}", "timezone: America/New_York, status: inactive}"
    )
    (workdir / "org2.yaml").write_text(edited, encoding="utf-8")
    result = runner.invoke(app, ["org", "load", str(workdir / "org2.yaml")])
    assert result.exit_code == 0, result.output
    assert "ann is now inactive: 1 open leads re-routed" in result.output
    history = json.loads(runner.invoke(app, ["explain", "2", "--json", "--history"]).output)
    assert [h["rep"] for h in history] == ["ann", "bob"]


def test_report_completeness_counts_gaps_and_what_they_blocked(workdir: Path) -> None:
    config = CONFIG.replace("name: cli-test", "name: cli-test\nrequired: [email]").replace(
        "    when: {territory: na}\n",
        "    when: {territory: na}\n    requires: [employees]\n",
    )
    (workdir / "mvl.yaml").write_text(config, encoding="utf-8")
    leads = (
        "Id,Email,Company,Country,NumberOfEmployees\n"
        "1,a@a.example,A,US,40\n2,,B,US,40\n3,c@c.example,C,US,\n4,d@d.example,D,DE,\n"
    )
    (workdir / "gaps.csv").write_text(leads, encoding="utf-8")
    routed = runner.invoke(
        app,
        [
            "route",
            str(workdir / "gaps.csv"),
            "--config",
            str(workdir / "mvl.yaml"),
            "--org",
            str(workdir / "org.yaml"),
        ],
    )
    assert "4 leads: 2 routed, 2 held" in routed.output, routed.output
    report = runner.invoke(app, ["report", "completeness", "--json"])
    rows = {r["field"]: r for r in json.loads(report.output)["fields"]}
    assert rows["email"]["missing"] == 1 and rows["email"]["blocked"] == 1
    assert rows["employees"]["missing"] == 2 and rows["employees"]["blocked"] == 1
    assert rows["employees"]["share_missing"] == 0.5
    table = runner.invoke(app, ["report", "completeness"])
    assert "2 leads held as incomplete" in table.output


def test_explain_prints_the_fit_score_and_its_reasons(workdir: Path) -> None:
    scored = CONFIG.replace(
        "name: cli-test",
        "name: cli-test\nscoring:\n  fit:\n    rules:\n"
        "      - {when: {segment: B}, points: 30, reason: big enough}\n"
        "      - {when: {free_email: true}, points: -15, reason: free mail}\n",
    )
    (workdir / "scored.yaml").write_text(scored, encoding="utf-8")
    runner.invoke(
        app,
        [
            "route",
            str(workdir / "leads.csv"),
            "--config",
            str(workdir / "scored.yaml"),
            "--org",
            str(workdir / "org.yaml"),
        ],
    )
    shown = runner.invoke(app, ["explain", "2"])
    assert "Fit C (30): big enough (+30)" in shown.output, shown.output
