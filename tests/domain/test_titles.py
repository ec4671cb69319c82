"""Seniority and department from job titles as people really write them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.domain.titles import DEPARTMENTS, SENIORITIES, classify_title

TITLES = [
    # the forms named in the brief
    ("CEO", "c_level", "executive"),
    ("Chief Revenue Officer", "c_level", "sales"),
    ("Co-Founder & CTO", "c_level", "engineering"),
    ("SVP, Sales", "vp", "sales"),
    ("Head of Marketing", "director", "marketing"),
    ("Sr. Director of Engineering", "director", "engineering"),
    ("VP Eng", "vp", "engineering"),
    ("Marketing Manager", "manager", "marketing"),
    ("Account Executive", "individual_contributor", "sales"),
    ("Software Engineer II", "individual_contributor", "engineering"),
    ("Directeur Commercial", "director", "sales"),
    ("Geschäftsführer", "c_level", "executive"),
    ("Owner", "c_level", "executive"),
    ("Founder", "c_level", "executive"),
    ("Intern", "individual_contributor", "other"),
    ("Student", "individual_contributor", "other"),
    ("RevOps Lead", "manager", "operations"),
    # case, punctuation and abbreviations
    ("ceo", "c_level", "executive"),
    ("C.E.O", "c_level", "executive"),
    ("Founder & CEO", "c_level", "executive"),
    ("President & CEO", "c_level", "executive"),
    ("CFO", "c_level", "finance"),
    ("Chief Operating Officer", "c_level", "operations"),
    ("Chief Information Security Officer", "c_level", "it"),
    ("Chief People Officer", "c_level", "hr"),
    ("Chief Product Officer", "c_level", "product"),
    ("Chief Customer Officer", "c_level", "customer_success"),
    ("Vice President of Sales", "vp", "sales"),
    ("Vice-President, Marketing", "vp", "marketing"),
    ("EVP & General Counsel", "vp", "legal"),
    ("VP of Customer Success", "vp", "customer_success"),
    ("Mgr, Mktg", "manager", "marketing"),
    ("Dir. of Ops", "director", "operations"),
    ("Head of IT", "director", "it"),
    ("Head of R&D", "director", "engineering"),
    ("Director of Sales Development", "director", "sales"),
    ("General Manager", "director", "executive"),
    ("Managing Director", "c_level", "executive"),
    ("Chairman of the Board", "c_level", "executive"),
    ("Partner", "c_level", "executive"),
    # roles whose names contain a rank word
    ("Account Manager", "individual_contributor", "sales"),
    ("Key Account Manager", "individual_contributor", "sales"),
    ("Customer Success Manager", "individual_contributor", "customer_success"),
    ("Lead Generation Specialist", "individual_contributor", "marketing"),
    ("Product Owner", "individual_contributor", "product"),
    ("Assistant to the CEO", "individual_contributor", "other"),
    ("HR Business Partner", "individual_contributor", "hr"),
    # which function wins when several are named
    ("Product Marketing Manager", "manager", "marketing"),
    ("Sales Operations Manager", "manager", "sales"),
    ("Marketing Operations Manager", "manager", "marketing"),
    ("Sales Engineer", "individual_contributor", "sales"),
    ("Network Engineer", "individual_contributor", "it"),
    # other languages
    ("Directeur Général", "c_level", "executive"),
    ("PDG", "c_level", "executive"),
    ("Geschaeftsfuehrer", "c_level", "executive"),
    ("Vertriebsleiter", "director", "sales"),
    ("Marketingleiterin", "director", "marketing"),
    ("Teamleiter Vertrieb", "manager", "sales"),
    ("Gerente de Ventas", "manager", "sales"),
    ("Responsable Marketing", "manager", "marketing"),
    ("Ingénieur logiciel", "individual_contributor", "engineering"),
    # individual contributors across functions
    ("SDR", "individual_contributor", "sales"),
    ("Business Development Representative", "individual_contributor", "sales"),
    ("Recruiter", "individual_contributor", "hr"),
    ("Paralegal", "individual_contributor", "legal"),
    ("FP&A Analyst", "individual_contributor", "finance"),
    ("UX Designer", "individual_contributor", "product"),
    ("Procurement Specialist", "individual_contributor", "operations"),
    ("Consultant", "individual_contributor", "other"),
    ("Team Lead", "manager", "other"),
    ("Tech Lead", "manager", "engineering"),
]


@pytest.mark.parametrize(("title", "seniority", "department"), TITLES)
def test_classify_title(title: str, seniority: str, department: str) -> None:
    assert classify_title(title) == (seniority, department)


@pytest.mark.parametrize("title", [None, "", "   ", "-", "n/a", "N/A", "none", "Unknown", "???"])
def test_empty_or_placeholder_titles_say_nothing(title: str | None) -> None:
    assert classify_title(title) == (None, None)


def test_the_table_uses_only_declared_values() -> None:
    for _, seniority, department in TITLES:
        assert seniority in SENIORITIES
        assert department in DEPARTMENTS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_declared_values_or_nothing(title: str) -> None:
    seniority, department = classify_title(title)
    assert (seniority is None) == (department is None)
    assert seniority is None or seniority in SENIORITIES
    assert department is None or department in DEPARTMENTS
