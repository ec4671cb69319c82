"""A synthetic history of closed leads with a KNOWN signal, to show a model can recover it.

    rows = generate_history(3000, seed=7)      # lead rows with `converted` and `true_probability`
    write_history(Path("history.csv"), rows)   # train with: leadroute score train --file ...

Each row is a lead (name, email, company, title, country, industry, employees, request type,
lead source, channel) and its outcome. The outcome is drawn from a Bernoulli with probability
`sigmoid(log_odds)`, where the true log-odds are this stated linear function:

    log_odds = INTERCEPT                                    (-1.6)
             + SENIORITY[seniority]      c_level +1.4, vp +1.1, director +0.6, manager 0,
                                         individual_contributor -0.6
             + INDUSTRY[industry]        Software +1.0, Financial Services +0.6, Healthcare +0.3,
                                         Retail -0.3, Education -0.8, Government -0.8, others 0
                                         (4% of rows have no industry: 0)
             + EMPLOYEES_PER_DECADE * (log10(employees) - 2)      0.6 per tenfold size, so
                                         5,000 employees +1.02 and 10 employees -0.6;
                                         5% of rows have no employee count: UNKNOWN_SIZE (-0.4)
             + FREE_EMAIL if the email is at a free-mail provider (20% of rows)      -1.2
             + REQUEST[request_type]     demo +1.2, trial +0.6, contact 0, content -1.2
             + noise                     Normal(0, NOISE_SD = 0.5), per lead, unobserved

About 28% of leads convert. Country, lead source, channel and department (from the title) have
no effect: a model that gives them weight is fitting noise. The seniority is not written as a
column: it comes from the title (each title in TITLES classifies to its seniority with
`leadroute.domain.titles`), as it does for real leads. `converted` is "yes" or "no";
`true_probability` is the probability the outcome was drawn with (signal and noise), so the
oracle AUC of a history is `roc_auc_score(converted, true_probability)`: no model can do better
on average, and a model that sees only the lead's fields loses what the noise hides.

Deterministic: the same n and seed always give the same rows (a seeded `random.Random`).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leadroute.sample.org import INDUSTRIES

INTERCEPT = -1.6
SENIORITY: Mapping[str, float] = {
    "c_level": 1.4,
    "vp": 1.1,
    "director": 0.6,
    "manager": 0.0,
    "individual_contributor": -0.6,
}
INDUSTRY: Mapping[str, float] = {
    "Software": 1.0,
    "Financial Services": 0.6,
    "Healthcare": 0.3,
    "Retail": -0.3,
    "Education": -0.8,
    "Government": -0.8,
}
EMPLOYEES_PER_DECADE = 0.6
UNKNOWN_SIZE = -0.4
FREE_EMAIL = -1.2
REQUEST: Mapping[str, float] = {"demo": 1.2, "trial": 0.6, "contact": 0.0, "content": -1.2}
NOISE_SD = 0.5

TITLES: Mapping[str, tuple[str, ...]] = {
    "c_level": ("CEO", "Chief Revenue Officer", "CFO", "CTO", "Founder", "COO"),
    "vp": ("VP Sales", "VP of Marketing", "SVP Engineering", "VP Finance", "VP Operations"),
    "director": (
        "Director of Marketing",
        "Sales Director",
        "IT Director",
        "Head of Sales",
        "Finance Director",
    ),
    "manager": (
        "Sales Manager",
        "Marketing Manager",
        "Engineering Manager",
        "Operations Manager",
        "Product Manager",
    ),
    "individual_contributor": (
        "Account Executive",
        "Software Engineer",
        "Marketing Specialist",
        "Accountant",
        "Data Analyst",
    ),
}
SENIORITY_SHARE: Mapping[str, int] = {
    "c_level": 8,
    "vp": 12,
    "director": 20,
    "manager": 25,
    "individual_contributor": 35,
}
REQUEST_SHARE: Mapping[str, int] = {"demo": 25, "trial": 20, "contact": 30, "content": 25}
FREE_EMAIL_SHARE = 0.20
NO_INDUSTRY_SHARE = 0.04
NO_EMPLOYEES_SHARE = 0.05
COUNTRIES = (("US", 45), ("GB", 12), ("DE", 10), ("CA", 8), ("FR", 8), ("AU", 7), ("IN", 10))
SOURCES = ("Web", "Webinar", "Trade Show", "Partner Referral", "Content Download")
CHANNELS = ("web_form", "list_import", "outbound", "api")
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea")
LAST = ("Ng", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Uribe", "Vogel", "Wong")

FIELDS: tuple[str, ...] = (
    "id",
    "first_name",
    "last_name",
    "email",
    "company",
    "title",
    "country",
    "industry",
    "employees",
    "request_type",
    "lead_source",
    "channel",
    "converted",
    "true_probability",
)


def true_log_odds(
    *,
    seniority: str,
    industry: str | None,
    employees: int | None,
    free_email: bool,
    request_type: str,
) -> float:
    """The known signal of a lead, without the noise."""
    size = (
        UNKNOWN_SIZE
        if employees is None
        else EMPLOYEES_PER_DECADE * (math.log10(max(employees, 1)) - 2)
    )
    return (
        INTERCEPT
        + SENIORITY[seniority]
        + INDUSTRY.get(industry or "", 0.0)
        + size
        + (FREE_EMAIL if free_email else 0.0)
        + REQUEST[request_type]
    )


def _pick(rng: random.Random, shares: Mapping[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def generate_history(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` closed leads with outcomes drawn from the known signal (see the module docstring)."""
    rng = random.Random(seed)
    countries = [c for c, _ in COUNTRIES]
    country_weights = [w for _, w in COUNTRIES]
    rows: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        seniority = _pick(rng, SENIORITY_SHARE)
        industry = None if rng.random() < NO_INDUSTRY_SHARE else rng.choice(INDUSTRIES)
        # log-uniform from 5 to 20,000 employees
        employees = None if rng.random() < NO_EMPLOYEES_SHARE else round(5 * 4000 ** rng.random())
        free = rng.random() < FREE_EMAIL_SHARE
        request = _pick(rng, REQUEST_SHARE)
        company = f"{last} {rng.choice(('Labs', 'Systems', 'Group', 'Works'))} {i}"
        domain = f"{last.lower()}{i}.com"
        local = f"{first}.{last}".lower()
        email = f"{local}{i}@{rng.choice(FREE_MAIL)}" if free else f"{local}@{domain}"
        log_odds = true_log_odds(
            seniority=seniority,
            industry=industry,
            employees=employees,
            free_email=free,
            request_type=request,
        ) + rng.gauss(0.0, NOISE_SD)
        probability = 1.0 / (1.0 + math.exp(-log_odds))
        rows.append(
            {
                "id": f"h-{i:05d}",
                "first_name": first,
                "last_name": last,
                "email": email,
                "company": company,
                "title": rng.choice(TITLES[seniority]),
                "country": rng.choices(countries, weights=country_weights)[0],
                "industry": industry,
                "employees": employees,
                "request_type": request,
                "lead_source": rng.choice(SOURCES),
                "channel": rng.choice(CHANNELS),
                "converted": "yes" if rng.random() < probability else "no",
                "true_probability": round(probability, 6),
            }
        )
    return rows


def write_history(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write history rows as CSV (a header, then one line per lead); return the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in FIELDS})
            count += 1
    return count
