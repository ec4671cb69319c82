"""Reading lead files: header mapping, encodings, delimiters, bad rows with row numbers."""

from __future__ import annotations

from pathlib import Path

from leadroute.adapters.leadfile import batch_id_for, canonical_header, read_leads
from leadroute.domain.fields import Vocabulary


def test_salesforce_and_hubspot_headers_map_to_fields() -> None:
    vocabulary = Vocabulary()
    assert canonical_header("FirstName", vocabulary) == "first_name"
    assert canonical_header("NumberOfEmployees", vocabulary) == "employees"
    assert canonical_header("LeadSource", vocabulary) == "lead_source"
    assert canonical_header("PostalCode", vocabulary) == "postal_code"
    assert canonical_header("numemployees", vocabulary) == "employees"
    assert canonical_header("Job Title", vocabulary) == "title"
    assert canonical_header("\ufeffRecord ID", vocabulary) == "id"


def test_latin1_semicolons_and_rejections_with_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        "Email;Company;Country;NumberOfEmployees\n"
        "ana@café.example;Café Müller;DE;12\n"
        "bo@x.example;X;US;lots\n"
        ";;;\n"
        "cy@y.example;Y;US;3;extra\n".encode("latin-1")
    )
    rows = list(read_leads(path))
    assert [r.row for r in rows] == [2, 3, 5]
    assert rows[0].lead is not None and rows[0].lead.fields["company"] == "Café Müller"
    assert rows[0].lead.fields["employees"] == 12
    assert rows[1].lead is None and rows[1].reason == (
        "row 3: employees must be a number, got 'lots'"
    )
    assert rows[2].reason == "row 5: 5 values for 4 columns"
    assert rows[0].lead.id == f"{batch_id_for(path)}-2"


def test_an_empty_column_never_hides_a_filled_one(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Email,Phone,MobilePhone\nann@a.example,+1 415 555 0100,\n", encoding="utf-8")
    (row,) = read_leads(path)
    assert row.lead is not None and row.lead.fields["phone"] == "+1 415 555 0100"


def test_embedded_newlines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        '\ufeffId,Email,Title\n7,ann@a.example,"VP\nSales"\n8,bo@b.example,CEO\n', encoding="utf-8"
    )
    rows = list(read_leads(path))
    assert [r.lead.id for r in rows if r.lead] == ["7", "8"]
    assert rows[0].lead is not None and rows[0].lead.fields["title"] == "VP\nSales"


def test_jsonl_bad_lines_are_rejected_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text(
        '{"email": "a@a.example"}\nnot json\n[1]\n{"Email": "b@b.example"}\n', encoding="utf-8"
    )
    rows = list(read_leads(path))
    assert [r.lead is not None for r in rows] == [True, False, False, True]
    assert rows[1].reason is not None and rows[1].reason.startswith("line 2: not valid JSON")


def test_row_numbers_are_the_line_a_record_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        'Email,Title,NumberOfEmployees\na@a.example,"VP\nSales",1\nb@b.example,CEO,many\n',
        encoding="utf-8",
    )
    rows = list(read_leads(path))
    assert [r.row for r in rows] == [2, 4]
    assert rows[1].reason is not None and rows[1].reason.startswith("row 4:")


def test_hubspot_export_labels_and_internal_names(tmp_path: Path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Record ID,First Name,Last Name,Email,Company Name,Job Title,Number of Employees,"
        "Contact owner,Country/Region,State/Region,Lifecycle Stage\n"
        "901,Ann,Lee,ann@acme.example,Acme,VP Sales,25-50,Sam Rep,United States,CA,lead\n",
        encoding="utf-8",
    )
    (row,) = read_leads(path)
    assert row.lead is not None and row.lead.id == "901"
    fields = row.lead.fields
    assert fields["title"] == "VP Sales" and fields["employees"] == 38
    assert fields["crm_owner_id"] == "Sam Rep" and fields["lifecycle_stage"] == "lead"
    assert fields["country"] == "United States" and fields["state"] == "CA"


def test_salesforce_api_names(tmp_path: Path) -> None:
    path = tmp_path / "sf.csv"
    path.write_text(
        "Id,FirstName,LastName,Company,Email,MobilePhone,PostalCode,OwnerId,Status,"
        "AnnualRevenue,LeadSource,CreatedDate\n"
        "00Q1,Bo,Ma,Beta,bo@beta.example,+44 20 7946 0000,94107,005A,Open,$5M,Web,"
        "2026-11-20T10:00:00Z\n",
        encoding="utf-8",
    )
    (row,) = read_leads(path)
    assert row.lead is not None and row.lead.id == "00Q1"
    fields = row.lead.fields
    assert fields["mobile_phone"] == "+44 20 7946 0000" and fields["postal_code"] == "94107"
    assert fields["crm_owner_id"] == "005A" and fields["lead_status"] == "Open"
    assert fields["annual_revenue"] == 5_000_000 and row.lead.source == "Web"
    assert row.lead.received_at is not None and row.lead.received_at.hour == 10


def test_mapping_file_renames_drops_and_sets_channel_and_source(tmp_path: Path) -> None:
    from leadroute.adapters.leadfile import load_mapping

    (tmp_path / "map.yaml").write_text(
        "columns:\n  Lead Score (custom): score\n  Notes: null\n  Org: company\n"
        "channel: list_import\nsource: Trade show 2026\n",
        encoding="utf-8",
    )
    path = tmp_path / "leads.csv"
    path.write_text(
        "Email,Org,Lead Score (custom),Notes\na@a.example,A Co,72,secret\n", encoding="utf-8"
    )
    (row,) = read_leads(path, mapping=load_mapping(tmp_path / "map.yaml"))
    assert row.lead is not None
    assert row.lead.fields == {"email": "a@a.example", "company": "A Co", "score": 72}
    assert row.lead.channel == "list_import" and row.lead.source == "Trade show 2026"


def test_bad_mapping_files_say_what_is_wrong(tmp_path: Path) -> None:
    import pytest

    from leadroute.adapters.leadfile import load_mapping

    (tmp_path / "bad.yaml").write_text("colums: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown key"):
        load_mapping(tmp_path / "bad.yaml")
