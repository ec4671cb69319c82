"""The caps on one lead (fields, nesting) for files: `leadroute route` and `leadroute import` of
CSV and JSON-lines keep a record over a cap as rejected, with its row and a reason naming the
cap, route (or store) the others, and the counts add up."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadroute.adapters.store.sql import Store
from leadroute.cli import app
from tests.cli.test_main import CONFIG, ORG

runner = CliRunner()
FIELDS_CAP = "over the cap of 500 fields per lead"
DEPTH_CAP = "over the cap of 5 levels per field"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADROUTE_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("LEADROUTE_LEAD_MAX_FIELDS", "LEADROUTE_LEAD_MAX_DEPTH"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def nested(levels: int) -> Any:
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def statuses(workdir: Path) -> dict[str, tuple[str, str | None]]:
    """lead id -> (status, reason), for every lead in the store."""
    store = Store(f"sqlite:///{workdir / 'cli.db'}")
    try:
        return {s.lead.id: (s.status, s.reason) for s in store.leads(limit=1000)}
    finally:
        store.dispose()


def test_route_a_jsonl_file_rejects_records_over_a_cap_by_row(workdir: Path) -> None:
    wide = {"id": "J2", "email": "b@b.com", **{f"x{i}": "v" for i in range(600)}}
    records = [
        json.dumps({"id": "J1", "email": "a@a.com", "country": "US"}),
        json.dumps(wide),
        json.dumps({"id": "J3", "email": "c@c.com", "notes": nested(6)}),
        json.dumps({"id": "J4", "email": "d@d.com", "tags": ["t"] * 600}),
        '{"id": "J5", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps({"id": "J6", "email": "f@f.com", "country": "US", "notes": nested(5)}),
    ]
    leads = workdir / "leads.jsonl"
    leads.write_text("\n".join(records) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["route", str(leads), "--config", str(workdir / "routing.yaml"), "--org",
         str(workdir / "org.yaml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "6 leads: 2 routed, 0 held, 0 unrouted, 4 rejected (counts add up)" in output
    assert f"row 2: the lead has 602 fields: {FIELDS_CAP}" in output
    assert f"row 3: field 'notes' is nested more than 5 levels deep: {DEPTH_CAP}" in output
    assert "row 4: the lead has more than 500 fields, counting each entry" in output
    assert "line 5: nested too deeply to read: over the cap of 5 levels per field" in output
    stored = statuses(workdir)
    assert stored["J1"][0] == stored["J6"][0] == "routed"
    rejected = {k: v[1] for k, v in stored.items() if v[0] == "rejected"}
    assert len(rejected) == 4
    assert sum(FIELDS_CAP in (r or "") for r in rejected.values()) == 2
    assert sum(DEPTH_CAP in (r or "") for r in rejected.values()) == 2  # J3, and line 5


def test_import_a_csv_file_with_too_many_columns_rejects_each_row(workdir: Path) -> None:
    def write(path: Path, columns: int) -> None:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        header = ["Id", "Email", "Country", *[f"Custom {i}" for i in range(columns - 3)]]
        out.writerow(header)
        for n in range(1, 4):
            out.writerow([f"C{columns}-{n}", f"p{n}@acme.com", "US", *["v"] * (columns - 3)])
        path.write_text(buffer.getvalue(), encoding="utf-8")

    write(workdir / "wide.csv", 501)
    write(workdir / "fine.csv", 500)
    for name, outcome in (("wide.csv", "3 rejected"), ("fine.csv", "3 new")):
        result = runner.invoke(app, ["import", str(workdir / name)])
        assert result.exit_code == 0, result.output
        assert f"3 records read: {outcome} (counts add up)" in result.output, result.output
    stored = statuses(workdir)
    for n in range(1, 4):
        assert stored[f"C500-{n}"] == ("new", None)
    wide = [reason for status, reason in stored.values() if status == "rejected"]
    assert len(wide) == 3
    assert all(r and f"the lead has 501 fields: {FIELDS_CAP}" in r for r in wide), wide


def test_the_file_caps_are_settings(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADROUTE_LEAD_MAX_FIELDS", "3")
    monkeypatch.setenv("LEADROUTE_LEAD_MAX_DEPTH", "0")
    leads = workdir / "leads.jsonl"
    leads.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"id": "S1", "email": "a@a.com", "country": "US"},
                {"id": "S2", "email": "b@b.com", "country": "US", "company": "B"},
                {"id": "S3", "email": "c@c.com", "tags": ["t"]},
            )
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(leads)])
    assert result.exit_code == 0, result.output
    assert "3 records read: 1 new, 2 rejected (counts add up)" in result.output
    stored = statuses(workdir)
    assert stored["S1"] == ("new", None)
    reasons = sorted(r or "" for s, r in stored.values() if s == "rejected")
    deep = "field 'tags' is nested more than 0 levels deep: over the cap of 0 levels per field"
    assert reasons == [
        "row 2: the lead has 4 fields: over the cap of 3 fields per lead",
        f"row 3: {deep}",
    ]
