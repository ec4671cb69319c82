"""The data pipeline that runs inside the routing path, before the router decides.

For every lead, in order: normalise and validate (flags, never drops), look for a duplicate among
known leads, match the lead to its account, and enrich missing fields through the configured
waterfall. The outcome is a `CleanLead`: the cleaned fields, the matched account, the duplicate
found, and a data-quality record that goes into the decision record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadroute.domain.account_match import AccountIndex, AccountMatch
from leadroute.domain.dedupe import DuplicateMatch, LeadIndex
from leadroute.domain.engine import Reach
from leadroute.domain.enrichment import EnrichmentResult
from leadroute.domain.lead import Lead
from leadroute.domain.matching import match_account
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Account, Org
from leadroute.domain.scoring import Signals
from leadroute.services.enrichment import Enricher

# Fields the dedupe index keeps per lead (enough to score a match, small in memory).
DEDUPE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "company_key",
    "domain",
    "phone",
    "country",
    "free_email",
    "email_domain",
)


@dataclass
class CleanLead:
    lead: Lead
    account: Account | None
    match: AccountMatch
    duplicate: DuplicateMatch | None = None
    enrichment: EnrichmentResult | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    account_key: str | None = None  # what ties it to earlier leads of its company (sticky)
    signals: Signals | None = None  # engagement and predictive score, set for a chunk at once
    context: dict[str, Any] | None = None  # what the conditions see; None: compute when needed
    prepare_ns: int = 0  # time spent cleaning and scoring before the decision
    deduped: bool = False  # looked for among known leads (so a duplicate may be found later)
    reach: Reach | None = None  # the pools its decision may touch, for `context` as it is


class LeadPipeline:
    """Normalise -> dedupe -> account match -> enrich, with everything it did on record."""

    def __init__(
        self,
        org: Org,
        *,
        normalizer: Normalizer | None = None,
        enricher: Enricher | None = None,
        known_leads: Callable[[], Iterable[tuple[str, Mapping[str, Any]]]] | None = None,
        contacts: Mapping[str, int] | None = None,
        last_activity: Mapping[str, datetime] | None = None,
        normalize: bool = True,
        dedupe: bool = True,
        match_names: bool = True,
    ) -> None:
        self.org = org
        self._normalizer = normalizer
        self.normalizing = normalize
        self.deduping = dedupe
        self.matching_names = match_names
        self.accounts = AccountIndex(
            org.accounts.values(), contacts=contacts, last_activity=last_activity
        )
        self.enricher = enricher
        self._known_leads = known_leads
        self._leads: LeadIndex | None = None
        self.seen_decision = 0  # the newest decision id whose lead the index holds
        # decision ids below `seen_decision` not read yet (a transaction that had not
        # committed, or never will), with when each was first missed (time.monotonic)
        self.unseen: dict[int, float] = {}

    @property
    def normalizer(self) -> Normalizer:
        """Built on first use: loading its reference data takes half a second."""
        if self._normalizer is None:
            self._normalizer = Normalizer()
        return self._normalizer

    @property
    def leads(self) -> LeadIndex:
        """The dedupe index, filled from the known leads on first use."""
        if self._leads is None:
            self._leads = LeadIndex()
            if self._known_leads is not None:
                for lead_id, fields in self._known_leads():
                    self._leads.add(lead_id, fields)
        return self._leads

    def normalize(self, lead: Lead) -> tuple[Lead, dict[str, Any]]:
        if not self.normalizing:
            return lead, {}
        cleaned = self.normalizer.normalize(lead.fields)
        quality: dict[str, Any] = {}
        if cleaned.flags:
            quality["flags"] = [f.as_record() for f in cleaned.flags]
        if cleaned.changes:
            quality["changes"] = {k: [v[0], v[1]] for k, v in cleaned.changes.items()}
        return _with_fields(lead, cleaned.fields), quality

    def clean(self, lead: Lead, *, enrich: bool = False, dedupe: bool = True) -> CleanLead:
        lead, quality = self.normalize(lead)
        duplicate = None
        if dedupe and self.deduping:
            duplicate = self.leads.find(lead.fields, exclude=lead.id)
            if duplicate is not None:
                quality["duplicate"] = duplicate.as_record()
        match = self._match(lead.fields)
        quality["account_match"] = match.as_record()
        result = CleanLead(
            lead, match.account, match, duplicate, quality=quality, deduped=dedupe and self.deduping
        )
        if enrich:
            self.enrich(result)
        return result

    def enrich(self, clean: CleanLead, *, fields: Iterable[str] | None = None) -> bool:
        """Fill missing fields through the waterfall; True if anything was filled."""
        if self.enricher is None:
            return False
        outcome = self.enricher.enrich(clean.lead.fields, missing=fields)
        clean.enrichment = outcome
        clean.quality["enrichment"] = outcome.as_record()
        if not outcome.fields:
            return False
        clean.lead = _with_fields(clean.lead, {**clean.lead.fields, **outcome.fields})
        if clean.account is None:
            clean.match = self._match(clean.lead.fields)
            clean.account = clean.match.account
            clean.quality["account_match"] = clean.match.as_record()
        return True

    def _match(self, fields: Mapping[str, Any]) -> AccountMatch:
        if self.matching_names:
            return self.accounts.match(fields)
        # Domains only: the exact domain of the company, website or a non-free email.
        account = match_account(fields, self.org)
        if account is None:
            return AccountMatch(None, 0.0, "none", (), "no account with this domain")
        return AccountMatch(
            account, 0.95, "domain", (), f"domain matches account {account.name} ({account.id})"
        )

    def forget(self, lead_ids: Iterable[str]) -> None:
        """Drop leads from the dedupe index (their routing was rolled back)."""
        if self._leads is not None:
            for lead_id in lead_ids:
                if lead_id in self._leads:
                    self._leads.remove(lead_id)

    @property
    def index_loaded(self) -> bool:
        return self._leads is not None

    def learn(self, known: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Index leads decided elsewhere (by another process) that the index does not hold
        yet; how many were added."""
        added = 0
        if self.deduping and self._leads is not None:
            for lead_id, fields in known:
                if lead_id not in self._leads:
                    self._leads.add(lead_id, fields)
                    added += 1
        return added

    def remember(self, lead: Lead) -> None:
        """Make a routed lead findable as a duplicate of later ones."""
        if not self.deduping:
            return
        self.leads.add(lead.id, {k: lead.fields.get(k) for k in DEDUPE_FIELDS})


def _with_fields(lead: Lead, fields: Mapping[str, Any]) -> Lead:
    return Lead(
        id=lead.id,
        fields=dict(fields),
        source=lead.source,
        channel=lead.channel,
        received_at=lead.received_at,
    )
