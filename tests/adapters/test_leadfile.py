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
