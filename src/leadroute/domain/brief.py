"""The brief a rep gets with a lead: who it is, why it came to them, its scores with their
reasons, and what it did lately. Built from the lead, its current decision record and its
recent activity; rendered as plain text (chat, email) or as a JSON-ready record (webhooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadroute.domain.intent import TYPE_LABELS, Activity

_PERSON = ("first_name", "last_name", "title", "email", "phone", "company", "country")


@dataclass(frozen=True)
class Brief:
    lead_id: str
    person: Mapping[str, Any]
    route: Mapping[str, Any]
    account: Mapping[str, Any] | None
    scores: Mapping[str, Any]
    activity: tuple[Mapping[str, Any], ...]

    def as_record(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "person": dict(self.person),
            "route": dict(self.route),
            "account": dict(self.account) if self.account else None,
            "scores": dict(self.scores),
            "recent_activity": list(self.activity),
        }

    def text(self) -> str:
        """Plain text, a line per fact, for a chat message or an email body."""
        p = self.person
        name = " ".join(str(p[k]) for k in ("first_name", "last_name") if p.get(k)) or "Unknown"
        lines = [f"New lead {self.lead_id}: {name}"]
        who = ", ".join(str(p[k]) for k in ("title", "company", "country") if p.get(k))
        if who:
            lines.append(who)
        contact = " | ".join(str(p[k]) for k in ("email", "phone") if p.get(k))
        if contact:
            lines.append(contact)
        route = self.route
        if route.get("rep"):
            lines.append(f"Assigned to {route['rep']}: {route.get('reason', '')}")
        elif route.get("queue"):
            lines.append(f"Queue {route['queue']}: {route.get('reason', '')}")
        else:
            lines.append(f"{route.get('outcome', '').capitalize()}: {route.get('reason', '')}")
        if self.account:
            a = self.account
            owner = f", owner {a['owner']}" if a.get("owner") else ""
            status = a.get("status") or "prospect"
            named = ", named account" if a.get("named") else ""
            lines.append(f"Account: {a.get('name')} ({status}{named}{owner})")
        lines.extend(score_lines(self.scores))
        if self.activity:
            lines.append("Recent activity:")
            for item in self.activity:
                detail = item.get("url") or item.get("product") or ""
                label = TYPE_LABELS.get(item["type"], item["type"])
                lines.append(f"  {item['at'][:16].replace('T', ' ')}  {label}  {detail}".rstrip())
        if route.get("booking_link"):
            lines.append(f"Booking link: {route['booking_link']}")
        return "\n".join(lines)


def score_lines(scores: Mapping[str, Any]) -> list[str]:
    """Each score of a decision record with its reasons, a line each."""
    lines = []
    fit = scores.get("fit")
    if fit:
        why = "; ".join(f"{r['reason']} ({r['points']:+g})" for r in fit.get("reasons", []))
        lines.append(f"Fit {fit['tier']} ({fit['score']:g}): {why or 'no rule matched'}")
    intent = scores.get("intent")
    if intent:
        why = "; ".join(intent.get("reasons", [])) or "no recent activity"
        lines.append(f"Intent {intent['tier']} ({intent['score']:g}): {why}")
    account = scores.get("account_intent")
    if account:
        label = "Hot account" if account.get("surging") else "Account intent"
        lines.append(f"{label}: {account['reason']}")
    path = scores.get("path")
    if path:
        lines.append(
            f"Path: {path['path']} (fit {path['fit_tier']} x intent {path['intent_tier']})"
        )
    predictive = scores.get("predictive")
    if predictive:
        top = ", ".join(
            f"{r['feature']} ({'+' if r['effect'] >= 0 else '-'})" for r in predictive["reasons"]
        )
        chance = f"{predictive['probability']:.0%}"
        lines.append(f"Conversion likelihood {chance}" + (f": {top}" if top else ""))
    return lines


def build_brief(
    lead_id: str,
    fields: Mapping[str, Any],
    record: Mapping[str, Any],
    activity: Sequence[Activity] = (),
) -> Brief:
    route = {
        key: record.get(key)
        for key in ("outcome", "rep", "queue", "route", "reason", "booking_link", "decided_at")
    }
    return Brief(
        lead_id=lead_id,
        person={k: fields[k] for k in _PERSON if fields.get(k) not in (None, "")},
        route=route,
        account=record.get("account"),
        scores=record.get("scores") or {},
        activity=tuple(a.as_record() for a in activity),
    )
