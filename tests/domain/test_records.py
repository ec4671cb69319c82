"""Records made into leads, and the delimiter of a CSV text."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import LeadLimits
from leadroute.domain.records import build_lead, canonical_header, sniff_delimiter


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("email,company\na@b.com,Acme\n", ","),
        ("email;company\na@b.com;Acme, Inc.\n", ";"),  # commas inside values
        ('email,company\na@b.com,"Acme; Ltd"\n', ","),  # semicolons inside quotes
        ("email\tcompany\tcountry\na@b.com\tAcme, Inc.\tUS\n", "\t"),
        ("email|company\na@b.com|Acme\n", "|"),
        ("email\na@b.com\nc@d.com\n", ","),  # one column
        ("Email Address;Company Name;Country\n", ";"),  # a header alone
    ],
)
def test_the_delimiter_is_found(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


_cell = st.text(st.sampled_from("abc xyz@.,;-'"), min_size=1, max_size=8).filter(str.strip)


@given(
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    columns=st.integers(2, 6),
    rows=st.lists(st.lists(_cell, min_size=6, max_size=6), min_size=1, max_size=5),
)
def test_a_written_csv_reads_back_with_its_delimiter(
    delimiter: str, columns: int, rows: list[list[str]]
) -> None:
    """Whatever the cells hold (quoted by the writer when they hold a delimiter), the header
    and every row read back as written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    header = [f"column{i}" for i in range(columns)]
    writer.writerow(header)
    for row in rows:
        writer.writerow(row[:columns])
    text = buffer.getvalue()
    found = sniff_delimiter(text)
    read = list(csv.reader(io.StringIO(text), delimiter=found))
    assert read[0] == header and [r for r in read[1:]] == [r[:columns] for r in rows]


def test_a_record_becomes_a_lead_or_a_reason() -> None:
    vocabulary = Vocabulary()
    assert canonical_header("NumberOfEmployees", vocabulary) == "employees"
    lead = build_lead(
        {"email": "ada@acme.com", "employees": "250"},
        default_id="b-2",
        vocabulary=vocabulary,
        limits=LeadLimits(),
    )
    assert lead.id == "b-2" and lead.fields["employees"] == 250
    with pytest.raises(ValueError, match="nothing identifies the lead"):
        build_lead({"title": "CTO"}, default_id="x", vocabulary=vocabulary, limits=LeadLimits())
    with pytest.raises(ValueError, match="over the cap of 2 fields"):
        build_lead(
            {"email": "a@b.com", "company": "A", "title": "CTO"},
            default_id="x",
            vocabulary=vocabulary,
            limits=LeadLimits(max_fields=2),
        )
