"""The config reference (fields, operators), rendered as Markdown from the vocabulary."""

from __future__ import annotations

from leadroute.domain.fields import ACCOUNT_FIELDS, LEAD_FIELDS, OPERATOR_HELP, OPERATORS


def config_reference() -> str:
    lines = [
        "# Config reference: fields and operators",
        "",
        "Generated from leadroute's vocabulary by `leadroute reference`; do not edit by hand.",
        "A config may declare more fields under `fields:` (name, type, description).",
        "",
        "## Operators by field type",
        "",
        "| type | operators |",
        "|---|---|",
    ]
    lines += [
        f"| {kind.value} | {', '.join(f'`{op}`' for op in ops)} |"
        for kind, ops in OPERATORS.items()
    ]
    lines += ["", "## Operators", "", "| operator | meaning |", "|---|---|"]
    lines += [f"| `{op}` | {text} |" for op, text in OPERATOR_HELP.items()]
    for title, fields in (("Lead fields", LEAD_FIELDS), ("Account fields", ACCOUNT_FIELDS)):
        lines += ["", f"## {title}", "", "| field | type | meaning |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {f.type.value} | {f.description} |" for f in fields]
    lines += [
        "",
        "## Membership and combinators",
        "",
        "| key | value | meaning |",
        "|---|---|---|",
        "| `territory` | id or list of ids | the lead's country, state or postal code is in it |",
        "| `segment` | id or list of ids | the lead's size segment (from the org) is one of |",
        "| `all` | list of conditions | every condition holds |",
        "| `any` | list of conditions | at least one condition holds |",
        "| `not` | condition | the condition does not hold |",
        "| `jsonlogic` | JsonLogic expression | the expression is truthy (jsonlogic.com); a bare "
        'expression whose only key is a JsonLogic operator (`{"and": [...]}`) works too |',
        "",
    ]
    return "\n".join(lines)
