"""What a notification says, and how it looks in Slack (Block Kit) and in an email.

Pure. `Context` gathers the facts of one event once: who the lead is, its account (customer?
open opportunity and stage? owner?), why it went where it went, where it came from, its scores
with their reasons and its recent activity. Every value from a lead is escaped for the medium:
Slack mrkdwn (&, <, >) and HTML; links only when they are http(s).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadroute.domain.brief import Brief, score_lines
from leadroute.domain.intent import TYPE_LABELS
from leadroute.domain.org import Org

ATTRIBUTION = (
    "lead_source",
    "channel",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
)
MAX_ACTIVITY = 5

# Block Kit limits: header text 150, section text 3000, 10 fields of 2000, 10 context elements.
_HEADER, _SECTION, _FIELDS, _FIELD = 150, 3000, 10, 2000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _line(text: Any) -> str:
    """One line of text: newlines and runs of spaces become one space."""
    return " ".join(str(text).split())


def mrkdwn(text: Any) -> str:
    """Text safe in Slack mrkdwn: the control characters &, < and > escaped."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def web_link(url: Any) -> str | None:
    """`url` if it is an http(s) link without characters that break a Slack or HTML link."""
    if not isinstance(url, str):
        return None
    link: str = url.strip()
    if not link.lower().startswith(("https://", "http://")) or any(c in link for c in '<>|" \n'):
        return None
    return link


@dataclass(frozen=True, slots=True)
class Context:
    """The facts of one event of one lead, as text."""

    event: str
    lead_id: str
    title: str
    who: str
    contact: tuple[str, ...]  # email, phone
    account: str | None
    why: str
    source: str | None
    facts: tuple[tuple[str, str], ...]  # short label -> value (scores, rep, route)
    score_reasons: tuple[str, ...]
    activity: tuple[str, ...]
    booking_link: str | None
    footer: str
    brief_text: str

    @classmethod
    def build(
        cls,
        event: str,
        record: Mapping[str, Any],
        brief: Brief,
        org: Org,
        lead_fields: Mapping[str, Any],
        *,
        source: str | None,
        previous_rep: str | None,
    ) -> Context:
        def rep_label(rep_id: Any) -> str | None:
            if not rep_id:
                return None
            rep = org.reps.get(str(rep_id))
            return rep.name if rep is not None and rep.name else str(rep_id)

        person = brief.person
        name = " ".join(str(person[k]) for k in ("first_name", "last_name") if person.get(k))
        company = person.get("company") or (brief.account or {}).get("name")
        label = name or str(person.get("email") or brief.lead_id)
        if company:
            label += f" ({company})"
        rep = rep_label(record.get("rep")) or "nobody"
        queue = record.get("queue") or "a queue"
        titles = {
            "assigned": f"New lead for {rep}: {label}",
            "reassigned": f"Lead reassigned to {rep}: {label}",
            "reminder": f"Reminder: {label} is waiting for {rep}",
            "escalated": f"Escalated: {rep} has not accepted {label} in time",
            "queued": f"Lead queued in {queue}: {label}",
            "recycled": f"Lead recycled to {queue}: {label}",
            "held": f"Lead held: {label}",
            "unrouted": f"Unrouted lead: {label}",
        }
        who = ", ".join(
            str(x)
            for x in (
                name or None,
                " at ".join(str(v) for v in (person.get("title"), company) if v) or None,
                person.get("country"),
            )
            if x
        )
        why = _line(record.get("reason") or "no reason recorded")
        if record.get("route"):
            why = f"route {record['route']}: {why}"
        previous = rep_label(previous_rep)
        if event == "reassigned" and previous:
            why += f" (was {previous})"
        return cls(
            event=event,
            lead_id=brief.lead_id,
            title=_line(titles.get(event, label)),
            who=_line(who or label),
            contact=tuple(_line(person[k]) for k in ("email", "phone") if person.get(k)),
            account=_account(brief.account, rep_label),
            why=why,
            source=_source(lead_fields, source),
            facts=_facts(brief.scores, rep_label(record.get("rep")), record),
            score_reasons=tuple(_line(s) for s in score_lines(brief.scores)),
            activity=tuple(_activity(item) for item in brief.activity[:MAX_ACTIVITY]),
            booking_link=web_link(record.get("booking_link")),
            footer=_footer(brief.lead_id, record),
            brief_text=brief.text(),
        )


def _account(account: Mapping[str, Any] | None, rep_label: Any) -> str | None:
    if not account:
        return None
    parts = [str(account.get("status") or "prospect")]
    if account.get("named"):
        parts.append("named account")
    stage = account.get("opportunity_stage")
    parts.append(f"open opportunity: {stage}" if stage else "no open opportunity")
    owner = rep_label(account.get("owner"))
    parts.append(f"owner {owner}" if owner else "no owner")
    return _line(f"{account.get('name') or account.get('id')} ({', '.join(parts)})")


def _source(lead_fields: Mapping[str, Any], source: str | None) -> str | None:
    parts = [f"source {source}"] if source else []
    for key in ATTRIBUTION:
        value = lead_fields.get(key)
        if value not in (None, ""):
            parts.append(f"{key} {value}")
    return _line(", ".join(parts)) if parts else None


def _facts(
    scores: Mapping[str, Any], rep: str | None, record: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    facts: list[tuple[str, str]] = []
    if rep:
        facts.append(("Rep", rep))
    elif record.get("queue"):
        facts.append(("Queue", str(record["queue"])))
    fit = scores.get("fit")
    if fit:
        facts.append(("Fit", f"{fit.get('tier')} ({fit.get('score', 0):g})"))
    intent = scores.get("intent")
    if intent:
        facts.append(("Intent", f"{intent.get('tier')} ({intent.get('score', 0):g})"))
    path = scores.get("path")
    if path:
        facts.append(("Path", str(path.get("path"))))
    predictive = scores.get("predictive")
    if predictive and predictive.get("probability") is not None:
        facts.append(("Conversion", f"{predictive['probability']:.0%}"))
    account = scores.get("account_intent")
    if account:
        facts.append(("Account intent", "hot" if account.get("surging") else "not surging"))
    return tuple((label, _line(value)) for label, value in facts)


def _activity(item: Mapping[str, Any]) -> str:
    at = str(item.get("at", ""))[:16].replace("T", " ")
    kind = str(item.get("type", ""))
    detail = item.get("url") or item.get("product") or ""
    return _line(f"{at} {TYPE_LABELS.get(kind, kind.replace('_', ' '))} {detail}")


def _footer(lead_id: str, record: Mapping[str, Any]) -> str:
    parts = [f"lead {lead_id}"]
    if record.get("decided_at"):
        parts.append(f"decided {str(record['decided_at'])[:16].replace('T', ' ')} UTC")
    config = record.get("config") or {}
    if config.get("name"):
        parts.append(f"config {config['name']}")
    return _line(" \u00b7 ".join(parts))


# -- Slack ---------------------------------------------------------------------------------------


def slack_payload(context: Context) -> dict[str, Any]:
    """A Block Kit message: header, who and why, score fields, reasons, activity, context."""
    c = context
    lines = [f"*Who:* {mrkdwn(c.who)}"]
    if c.contact:
        lines.append(f"*Contact:* {mrkdwn(' | '.join(c.contact))}")
    if c.account:
        lines.append(f"*Account:* {mrkdwn(c.account)}")
    lines.append(f"*Why:* {mrkdwn(c.why)}")
    if c.source:
        lines.append(f"*Source:* {mrkdwn(c.source)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(c.title, _HEADER)}},
        _section("\n".join(lines)),
    ]
    if c.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": _cut(f"*{label}*\n{mrkdwn(value)}", _FIELD)}
                    for label, value in c.facts[:_FIELDS]
                ],
            }
        )
    if c.score_reasons:
        blocks.append(_section("*Scores*\n" + "\n".join(mrkdwn(s) for s in c.score_reasons)))
    if c.activity:
        text = "*Recent activity*\n" + "\n".join(f"\u2022 {mrkdwn(a)}" for a in c.activity)
        blocks.append(_section(text))
    elements = []
    if c.booking_link:
        elements.append({"type": "mrkdwn", "text": f"<{c.booking_link}|Book a meeting>"})
    elements.append({"type": "mrkdwn", "text": mrkdwn(c.footer)})
    blocks.append({"type": "context", "elements": elements})
    return {"text": c.title, "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SECTION)}}


# -- email ---------------------------------------------------------------------------------------


def email_payload(context: Context, recipients: list[str]) -> dict[str, Any]:
    """Recipients, a one-line subject, the brief as plain text and as HTML."""
    c = context
    text = [c.title, "", c.brief_text]
    if c.source:
        text.append(f"Source: {c.source}")
    text += ["", c.footer]
    return {
        "to": list(recipients),
        "subject": _cut(c.title, 200),
        "text": "\n".join(text) + "\n",
        "html": email_html(c),
    }


def email_html(context: Context) -> str:
    c = context
    e = html.escape
    rows = [("Who", e(c.who))]
    if c.contact:
        rows.append(("Contact", " | ".join(e(x) for x in c.contact)))
    if c.account:
        rows.append(("Account", e(c.account)))
    rows.append(("Why", e(c.why)))
    if c.source:
        rows.append(("Source", e(c.source)))
    rows += [(e(label), e(value)) for label, value in c.facts]
    parts = [
        '<!doctype html><html><body style="font-family:sans-serif">',
        f"<h2>{e(c.title)}</h2>",
        "<table>",
        *(f'<tr><th align="left">{k}</th><td>{v}</td></tr>' for k, v in rows),
        "</table>",
    ]
    if c.score_reasons:
        parts += ["<h3>Scores</h3><ul>", *(f"<li>{e(s)}</li>" for s in c.score_reasons), "</ul>"]
    if c.activity:
        parts += ["<h3>Recent activity</h3><ul>", *(f"<li>{e(a)}</li>" for a in c.activity)]
        parts.append("</ul>")
    if c.booking_link:
        parts.append(f'<p><a href="{e(c.booking_link)}">Book a meeting</a></p>')
    parts.append(f'<p style="color:#888">{e(c.footer)}</p></body></html>')
    return "\n".join(parts)
