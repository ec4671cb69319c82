"""A deterministic sample sales org and lead stream, for demos, templates and tests.

from leadroute.sample import sample_org_doc, generate_leads, write_sample
doc = sample_org_doc(seed=7)           # org document (orgfile YAML shape)
rows = generate_leads(doc, 10_000)     # lead rows keyed by leadroute field names
files = write_sample(Path("demo"))     # demo/org.yaml and demo/leads.csv
"""

from leadroute.sample.leads import (
    FREE_MAIL_DOMAINS,
    MALFORMED_EVERY,
    SampleFiles,
    generate_leads,
    is_free_mail,
    malformed_reason,
    write_sample,
)
from leadroute.sample.org import sample_org_doc

__all__ = [
    "FREE_MAIL_DOMAINS",
    "MALFORMED_EVERY",
    "SampleFiles",
    "generate_leads",
    "is_free_mail",
    "malformed_reason",
    "sample_org_doc",
    "write_sample",
]
