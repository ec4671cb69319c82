"""Duplicate leads: find the existing lead an incoming lead repeats, and merge the two.

Leads come in normalised (`leadroute.domain.normalize`): `email`, `email_domain`, `free_email`,
`domain`, `phone` (E.164), `first_name`, `last_name`, `company`, `company_key`, `country`.

Finding a duplicate (`LeadIndex.find`), in this order:
1. Same email. Compared without case and without a "+tag" in the local part; at gmail.com and
   googlemail.com (one mailbox) also without dots: "Ann.Lee+news@googlemail.com" is
   "annlee@gmail.com". The match is the first lead indexed with that email; score 1.0.
2. Same person. Only leads sharing a blocking key with the incoming lead are scored. The keys:
   the phone (last 9 digits); the email local part (no dots, "_", "-" or +tag); each name
   token's Soundex code (nickname resolved: "Bob" is "Robert") with the company; both initials
   with the company; both codes with the company's first six letters (a typo later in the
   company name keeps this key). "The company" is both the company key and the name part of
   the company domain ("acme" of acme.co.uk), so a lead that gives only a company name meets
   one that gives only a work address. A key shared by more than `max_block` leads (a company
   switchboard, "info@", a common name at a very large company) says little: it is dropped,
   stays dropped, and lookups skip it. So a lookup scores at most 10 x `max_block` leads,
   whatever the size of the index.

   Scoring a candidate (names folded: no case, accents or punctuation, "Müller" = "muller"):
   - name: each name token by the mean of Jaro-Winkler and edit similarity (1 - edits /
     length, a swap of neighbouring letters being one edit), also tried with first and last
     name swapped; a nickname of the other's name counts 0.95. Both tokens must reach 0.8; the
     name score is their mean. A lead with no first name takes it from its email address when
     the address spells it out around the last name ("ann.lee84@..."). A lead still missing a
     first or last name scores 0.9 x its one name (which must reach 0.95), and matches only
     with an equal phone, no other mailbox at the same company domain, and a single person
     among the candidates that pass;
   - company: company keys by edit similarity (one lead's company key against the other's
     domain name if one gives no company); they agree at >= 0.9, or only when equal if the
     two leads' company domains differ;
   - phone: equal (last 9 digits) or not; domain: equal or not.
   A candidate needs the name AND at least one of: equal phone, equal domain, agreeing
   companies. Its score = 0.6 x name + 0.4 x the best of those (1.0 for phone or domain,
   else the company similarity), + 0.05 when phone and company (or domain) both agree,
   - 0.03 for different phones, - 0.05 for clearly different companies (< 0.6) or else 0.03 for
   different domains, - 0.05 for two different mailboxes at the same company domain; then
   clipped to [0, 1]. The best candidate at or above `threshold` (default 0.9) is the match;
   a tie goes to the lead indexed (added or updated) first.
   So the same name at another company is not a duplicate unless the phone is equal; two
   free-mail leads with different addresses but the same name and phone are; relatives at one
   company, sharing its phone and last name, are not.

Merging two leads (`merge`), the survivor rule: the survivor is
1. the most advanced lead by status: converted > contacted > routed = assigned > held > new >
   unrouted; disqualified (a rep worked it, then closed it) ranks with contacted, and any other
   status below unrouted; then
2. the most complete: more fields with a value (not None, blank, or an empty collection); then
3. the most recent by `received_at` (a lead without one counts as oldest; naive times are UTC);
4. and if all that ties, the lead passed as `survivor`.
The survivor's values win. A field empty in the survivor takes the other lead's value (`filled`
records which lead it came from). A field both hold with different values keeps the survivor's
and lists both in `conflicts` (strings compare without case and surrounding blanks). Sources
are the union of both leads' sources, the survivor's first, nothing dropped.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler

from leadroute.domain.matching import FREE_MAIL, domain_of

GMAIL = frozenset({"gmail.com", "googlemail.com"})
# Most advanced first; "routed" and "assigned" rank alike, "disqualified" (worked by a rep and
# closed) with "contacted".
STATUS_ORDER = ("converted", "contacted", "routed", "assigned", "held", "new", "unrouted")
_STATUS_RANK = {"converted": 6, "contacted": 5, "disqualified": 5, "routed": 4, "assigned": 4}
_STATUS_RANK |= {"held": 3, "new": 2, "unrouted": 1}

TOKEN_MIN = 0.80  # each name token
COMPANY_AGREES = 0.90  # at most one edit per ten letters
_TOO_COMMON = -1


def _by_nickname(table: str) -> dict[str, str]:
    """'robert: bob rob; ...' -> {'bob': 'robert', 'rob': 'robert', ...}"""
    pairs = (entry.split(":") for entry in table.split(";"))
    return {nick: formal.strip() for formal, nicks in pairs for nick in nicks.split()}


# Common nicknames, by formal name.
_NICKNAMES = _by_nickname(
    "william: bill billy will; robert: bob bobby rob; james: jim jimmy; michael: mike; "
    "richard: rick dick; joseph: joe; thomas: tom; elizabeth: liz beth; margaret: maggie "
    "peggy; jennifer: jen jenny; daniel: dan danny; anthony: tony; matthew: matt; andrew: "
    "andy drew; alexander: alex sasha; nicholas: nick; stephen: steve; samuel: sam; "
    "benjamin: ben; david: dave; charles: chuck charlie; katherine: kate katie; katharina: "
    "kathi; jose: pepe; francisco: paco"
)
# Letters NFKD does not take apart.
_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th"})  # noqa: RUF001
_LETTERS |= str.maketrans({"æ": "ae", "œ": "oe", "ß": "ss"})
_SOUNDEX = {
    c: d for d, letters in enumerate(("bfpv", "cgjkqsxz", "dt", "l", "mn", "r"), 1) for c in letters
}


def fold(text: Any) -> str:
    """Letters and digits of a name without case or accents: "O'Connor" -> 'oconnor'."""
    if not isinstance(text, str):
        return ""
    plain = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(ch for ch in plain if ch.isalnum())


def nickname_root(name: str) -> str:
    """The formal name for a folded nickname ('bob' -> 'robert'), else the name itself."""
    return _NICKNAMES.get(name, name)


def email_key(email: Any) -> str:
    """The mailbox an address reaches: no case, no +tag; at Gmail no dots either ('' if none)."""
    if not isinstance(email, str):
        return ""
    local, _, host = email.strip().casefold().rpartition("@")
    local = local.split("+", 1)[0]
    if host in GMAIL:
        local, host = local.replace(".", ""), "gmail.com"
    return f"{local}@{host}" if local and host else ""


def sound(token: str) -> str:
    """A Soundex-like code of a folded name token ('smith' -> 's530'); scripts other than
    Latin keep their first four characters."""
    if not token or not ("a" <= token[0] <= "z"):
        return token[:4]
    out, last = token[0], _SOUNDEX.get(token[0], 0)
    for ch in token[1:]:
        if ch in "hw":
            continue
        code = _SOUNDEX.get(ch, 0)
        if code and code != last:
            out += str(code)
            if len(out) == 4:
                break
        last = code
    return out.ljust(4, "0")


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """The existing lead an incoming lead duplicates, how sure, and why."""

    lead_id: str
    score: float
    method: str  # "email" or "fuzzy"
    evidence: dict[str, float]
    reason: str

    def as_record(self) -> dict[str, object]:
        return {
            "lead_id": self.lead_id,
            "score": self.score,
            "method": self.method,
            "evidence": dict(self.evidence),
            "reason": self.reason,
        }


# What the index keeps of a lead, folded, "" for missing: (lead id, first name,
# last name, company key without blanks or punctuation, company domain (never a free-mail
# one), phone (last 9 digits), email_key). A plain tuple of strings: the garbage collector
# stops tracking it, so a full collection does not walk a million leads.
_Entry = tuple[str, str, str, str, str, str, str]
_FIRST, _LAST, _EMAIL = 1, 2, 6


def _entry(lead_id: str, fields: Mapping[str, Any]) -> _Entry:
    email = email_key(fields.get("email"))
    free = fields.get("free_email")
    mail_host = email.rpartition("@")[2]
    if not isinstance(free, bool):
        free = mail_host in FREE_MAIL
    domain = domain_of(fields.get("domain")) or ""
    if domain in FREE_MAIL or (free and domain == mail_host):
        domain = ""
    if not domain and mail_host and not free:
        domain = mail_host
    phone = "".join(ch for ch in str(fields.get("phone") or "") if ch.isdigit())
    first, last = fold(fields.get("first_name")), fold(fields.get("last_name"))
    if last and not first:
        first = _first_from_email(fields.get("email"), last)
    return (
        lead_id,
        first,
        last,
        fold(fields.get("company_key") or fields.get("company")),
        domain,
        phone[-9:] if len(phone) >= 7 else "",
        email,
    )


def _first_from_email(email: Any, last: str) -> str:
    """The first name an address spells out around the last name: 'ann.lee7@x' -> 'ann'."""
    if not isinstance(email, str) or "@" not in email:
        return ""
    local = email.rpartition("@")[0].split("+", 1)[0].casefold()
    parts = [fold(p).rstrip("0123456789") for p in re.split(r"[._-]", local)]
    parts = [p for p in parts if p]
    if len(parts) == 2 and last in parts:
        other = parts[1] if parts[0] == last else parts[0]
        return other if len(other) >= 2 else ""
    if len(parts) == 1 and len(parts[0]) >= len(last) + 2:
        word = parts[0]
        if word.endswith(last):
            return word[: -len(last)]
        if word.startswith(last):
            return word[len(last) :]
    return ""


def _label(domain: str) -> str:
    """The name part of a registrable domain: 'acme.co.uk' -> 'acme'."""
    return domain.partition(".")[0]


def _keys(entry: _Entry) -> set[int]:
    """The entry's blocking keys (hashed; a collision only adds candidates)."""
    _, first, last, company, domain, phone, email = entry
    keys: set[int] = set()
    if phone:
        keys.add(hash(("p", phone)))
    local = email.rpartition("@")[0].replace(".", "").replace("_", "").replace("-", "")
    if len(local) >= 3:
        keys.add(hash(("l", local)))
    orgs = {company, _label(domain)} - {""}
    tokens = sorted({first, last} - {""})
    codes = sorted(sound(nickname_root(token)) for token in tokens)
    for org in orgs:
        for code in codes:
            keys.add(hash(("o", code, org)))
        if len(tokens) == 2:
            keys.add(hash(("i", tokens[0][0], tokens[1][0], org)))
            keys.add(hash(("n", *codes, org[:6])))  # survives a typo late in the company name
    return keys


def _token_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    if _NICKNAMES.get(a, a) == _NICKNAMES.get(b, b):
        return 0.95
    return (JaroWinkler.normalized_similarity(a, b) + _edit_sim(a, b)) / 2


def _edit_sim(a: str, b: str) -> float:
    """1 - edits / length, a swap of neighbours counting as one edit."""
    return 1.0 - OSA.distance(a, b) / max(len(a), len(b))


def _name(q: _Entry, e: _Entry) -> tuple[float, bool, bool]:
    """Name agreement, whether it took swapping first and last, whether only part was there."""
    q_first, q_last, e_first, e_last = q[_FIRST], q[_LAST], e[_FIRST], e[_LAST]
    if q_first and q_last and e_first and e_last:
        best, swapped = 0.0, False
        for turned, (first, last) in enumerate(((e_first, e_last), (e_last, e_first))):
            one = _token_sim(q_first, first)
            if one < TOKEN_MIN:  # the second token only if the first agrees
                continue
            two = _token_sim(q_last, last)
            if two >= TOKEN_MIN and (one + two) / 2 > best:
                best, swapped = (one + two) / 2, bool(turned)
                if best == 1.0:
                    break
        return best, swapped, False
    q_parts, e_parts = [t for t in (q_first, q_last) if t], [t for t in (e_first, e_last) if t]
    if not q_parts or not e_parts:
        return 0.0, False, True
    # One side gives a single name: it must equal one of the other side's names.
    best_part = max(_token_sim(a, b) for a in q_parts for b in e_parts)
    return (best_part * 0.9 if best_part >= 0.95 else 0.0), False, True


class _Scored(NamedTuple):
    score: float
    evidence: dict[str, float]
    swapped: bool
    partial: bool


def _org_sim(q: _Entry, e: _Entry) -> float:
    """Company agreement: the company keys compared, or if one lead has no company, its
    company's name against the other's domain ('acme' and 'acme.com'). -1 if nothing to compare."""
    q_company, q_domain, e_company, e_domain = q[3], q[4], e[3], e[4]
    if q_company and e_company:
        return 1.0 if q_company == e_company else _edit_sim(q_company, e_company)
    if q_company and e_domain:
        return _edit_sim(q_company, _label(e_domain))
    if e_company and q_domain:
        return _edit_sim(e_company, _label(q_domain))
    return -1.0


def _score(q: _Entry, e: _Entry) -> _Scored | None:
    name, swapped, partial = _name(q, e)
    if name <= 0:
        return None
    evidence = {"name": round(name, 3)}
    phone = domain = -1.0
    _, _, _, _, q_domain, q_phone, q_email = q
    _, _, _, _, e_domain, e_phone, e_email = e
    if q_phone and e_phone:
        phone = evidence["phone"] = 1.0 if q_phone == e_phone else 0.0
    if q_domain and e_domain:
        domain = evidence["domain"] = 1.0 if q_domain == e_domain else 0.0
    company = _org_sim(q, e)
    if company >= 0:
        evidence["company"] = round(company, 3)
    # Two different company domains leave room only for the very same company name.
    company_agrees = company == 1.0 or (company >= COMPANY_AGREES and domain != 0.0)
    org = max(domain, company if company_agrees else 0.0)
    agreement = max(org, phone)
    other_mailbox = (
        domain == 1.0
        and q_email != e_email
        and q_email.rpartition("@")[2] == q_domain == e_email.rpartition("@")[2]
    )
    if agreement <= 0 or (partial and (phone != 1.0 or other_mailbox)):
        return None
    score = 0.6 * name + 0.4 * agreement
    if phone == 1.0 and org > 0:
        score += 0.05
    if phone == 0.0:
        score -= 0.03
    if 0 <= company < 0.6 and domain != 1.0:
        score -= 0.05
    elif domain == 0.0 and not company_agrees:
        score -= 0.03
    if other_mailbox:
        score -= 0.05
    return _Scored(min(1.0, max(0.0, score)), evidence, swapped, partial)


def _reason(lead_id: str, scored: _Scored) -> str:
    ev = scored.evidence
    parts = [
        f"name {round(ev['name'], 2)}"
        + (
            " (first and last swapped)"
            if scored.swapped
            else " (only part of the name)"
            if scored.partial
            else ""
        )
    ]
    if "company" in ev:
        parts.append(f"company {round(ev['company'], 2)}")
    for what in ("domain", "phone"):
        if what in ev:
            parts.append(f"{what} {'equal' if ev[what] == 1.0 else 'differs'}")
    return f"same person: {', '.join(parts)}, as lead {lead_id}"


# A block (or the leads of one email) is one slot, a tuple of slots, or _TOO_COMMON.
Members = int | tuple[int, ...]


class LeadIndex:
    """Existing leads, indexed to find the duplicates of an incoming lead quickly.

    In memory, about 1.3 KB a lead (traced over 22,000 demo leads); not safe for concurrent
    writers. `add` indexes a lead, or re-indexes one already there (after a merge, say);
    `remove` forgets one. Each add takes
    a new slot, so a removed or re-indexed lead leaves an 8-byte hole. `threshold`: the least
    score of a fuzzy match; `max_block`: the most leads a blocking key may gather before it is
    dropped. See the module docstring for the rules.
    """

    def __init__(self, *, threshold: float = 0.90, max_block: int = 100) -> None:
        if not 0 < threshold <= 1 or max_block < 1:
            raise ValueError("threshold must be in (0, 1] and max_block at least 1")
        self.threshold = threshold
        self.max_block = max_block
        # Plain tuples of strings and ints only: untracked by the garbage collector.
        self._entries: list[_Entry | None] = []  # by slot, in the order indexed
        self._slots: dict[str, int] = {}
        self._emails: dict[str, Members] = {}
        self._blocks: dict[int, Members] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, lead_id: object) -> bool:
        return lead_id in self._slots

    def add(self, lead_id: str, fields: Mapping[str, Any]) -> None:
        if lead_id in self._slots:
            self.remove(lead_id)
        _, first, last, company, domain, phone, email = _entry(lead_id, fields)
        # Names, companies and domains repeat across leads: keep one copy of each. (Not done
        # for lookups: interning throwaway strings makes the interpreter's table churn.)
        intern = sys.intern
        entry = (
            lead_id,
            intern(first),
            intern(last),
            intern(company),
            intern(domain),
            phone,
            email,
        )
        slot = len(self._entries)
        self._entries.append(entry)
        self._slots[lead_id] = slot
        if entry[_EMAIL]:
            _put(self._emails, entry[_EMAIL], slot, cap=None)
        blocks, cap = self._blocks, self.max_block
        for key in _keys(entry):
            _put(blocks, key, slot, cap=cap)

    def remove(self, lead_id: str) -> None:
        """Forget a lead (KeyError if it is not indexed)."""
        slot = self._slots.pop(lead_id)
        entry = self._entry_at(slot)
        if entry[_EMAIL]:
            _take(self._emails, entry[_EMAIL], slot)
        for key in _keys(entry):
            _take(self._blocks, key, slot)
        self._entries[slot] = None

    def find(
        self, fields: Mapping[str, Any], *, exclude: str | None = None
    ) -> DuplicateMatch | None:
        """The existing lead this lead duplicates, or None. `exclude`: a lead id to ignore
        (the lead itself, when it is already indexed)."""
        query = _entry("", fields)
        skip = self._slots.get(exclude, -1) if exclude is not None else -1
        email = query[_EMAIL]
        if email:
            for slot in _members(self._emails.get(email)):
                if slot != skip:
                    return self._email_match(fields, email, slot)
        best: tuple[float, int, _Scored] | None = None
        partial_names: set[tuple[str, str]] = set()
        for slot in sorted(self._candidate_slots(query, skip)):
            entry = self._entry_at(slot)
            scored = _score(query, entry)
            if scored is None or scored.score < self.threshold:
                continue
            if scored.partial:
                partial_names.add((entry[_FIRST], entry[_LAST]))
            if best is None or scored.score > best[0]:
                best = (scored.score, slot, scored)
        if best is None or (best[2].partial and len(partial_names) > 1):
            return None
        score, slot, scored = best
        lead_id = self._lead_id(slot)
        return DuplicateMatch(
            lead_id, round(score, 4), "fuzzy", scored.evidence, _reason(lead_id, scored)
        )

    def candidates(self, fields: Mapping[str, Any]) -> list[str]:
        """The leads a fuzzy lookup would score for these fields (diagnostics, tests)."""
        return [self._lead_id(s) for s in sorted(self._candidate_slots(_entry("", fields), -1))]

    def _candidate_slots(self, query: _Entry, skip: int) -> set[int]:
        if not (query[_FIRST] or query[_LAST]):  # no name, nothing to compare
            return set()
        found: set[int] = set()
        blocks = self._blocks
        for key in _keys(query):
            members = blocks.get(key)
            if members is None or members == _TOO_COMMON:
                continue
            if isinstance(members, int):
                found.add(members)
            else:
                found.update(members)
        found.discard(skip)
        return found

    def _entry_at(self, slot: int) -> _Entry:
        entry = self._entries[slot]
        assert entry is not None
        return entry

    def _lead_id(self, slot: int) -> str:
        return self._entry_at(slot)[0]

    def _email_match(self, fields: Mapping[str, Any], key: str, slot: int) -> DuplicateMatch:
        lead_id = self._lead_id(slot)
        written = str(fields.get("email")).strip()
        reason = f"same email {written} as lead {lead_id}"
        if written.casefold() != key:
            reason += f" (compared as {key})"
        return DuplicateMatch(lead_id, 1.0, "email", {"email": 1.0}, reason)


def _members(value: Members | None) -> tuple[int, ...]:
    if value is None or value == _TOO_COMMON:
        return ()
    return (value,) if isinstance(value, int) else value


def _put(table: dict[Any, Members], key: Any, slot: int, *, cap: int | None) -> None:
    members = table.get(key)
    if members is None:
        table[key] = slot
    elif members != _TOO_COMMON:
        grown = (*_members(members), slot)
        table[key] = grown if cap is None or len(grown) <= cap else _TOO_COMMON


def _take(table: dict[Any, Members], key: Any, slot: int) -> None:
    members = table.get(key)
    if members is None or members == _TOO_COMMON:
        return
    left = tuple(m for m in _members(members) if m != slot)
    if not left:
        del table[key]
    else:
        table[key] = left[0] if len(left) == 1 else left


# --- merging -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadMeta:
    """What the survivor rule needs to know of a lead besides its fields: its status (see
    STATUS_ORDER), when it was received, and every source it came in through."""

    lead_id: str
    status: str = "new"
    received_at: datetime | None = None
    sources: tuple[str, ...] = ()  # e.g. "web_form:Webinar", "list_import:batch-x"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Two leads made one: the survivor's fields with its gaps filled from the merged lead.

    `filled` says which lead each filled field came from; `conflicts` holds the fields both
    leads had with different values, as (survivor's value, merged lead's value), the survivor's
    being the one kept; `sources` is both leads' sources, the survivor's first.
    """

    survivor_id: str
    merged_id: str  # the lead folded into the survivor
    fields: dict[str, Any]
    sources: tuple[str, ...]
    filled: dict[str, str] = field(default_factory=dict)  # field -> lead id its value came from
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # (survivor's, other's)
    reason: str = ""  # why this lead survived, in plain words

    def as_record(self) -> dict[str, object]:
        return {
            "survivor_id": self.survivor_id,
            "merged_id": self.merged_id,
            "fields": dict(self.fields),
            "sources": list(self.sources),
            "filled": dict(self.filled),
            "conflicts": {k: list(v) for k, v in self.conflicts.items()},
            "reason": self.reason,
        }


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict | set | frozenset):
        return not value
    return False


def status_rank(status: str) -> int:
    """Higher is more advanced; "disqualified" ranks with "contacted"; statuses outside
    STATUS_ORDER rank 0."""
    return _STATUS_RANK.get(status.strip().lower(), 0)


def _completeness(fields: Mapping[str, Any]) -> int:
    return sum(not is_empty(v) for v in fields.values())


def _instant(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _why(win: LeadMeta, lose: LeadMeta, win_filled: int, lose_filled: int) -> str:
    if status_rank(win.status) != status_rank(lose.status):
        return f"{win.lead_id} survives: status {win.status} ranks above {lose.status}"
    if win_filled != lose_filled:
        return (
            f"{win.lead_id} survives: same status, {win_filled} fields filled against {lose_filled}"
        )
    if _instant(win.received_at) != _instant(lose.received_at):
        return f"{win.lead_id} survives: same status and completeness, received later"
    return f"{win.lead_id} survives: a tie on status, completeness and time; kept as given"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return bool(a == b)


def merge(
    survivor: Mapping[str, Any],
    other: Mapping[str, Any],
    *,
    survivor_meta: LeadMeta,
    other_meta: LeadMeta,
) -> MergeResult:
    """Merge two duplicate leads by the survivor rule (module docstring).

    `survivor` is the caller's proposal: if `other` ranks higher by the rule, the two swap and
    `MergeResult.survivor_id` says so.
    """
    if survivor_meta.lead_id == other_meta.lead_id:
        raise ValueError(f"cannot merge lead {survivor_meta.lead_id} with itself")
    a_filled, b_filled = _completeness(survivor), _completeness(other)
    rank_a = (status_rank(survivor_meta.status), a_filled, _instant(survivor_meta.received_at))
    rank_b = (status_rank(other_meta.status), b_filled, _instant(other_meta.received_at))
    if rank_b > rank_a:
        survivor, other = other, survivor
        survivor_meta, other_meta = other_meta, survivor_meta
        a_filled, b_filled = b_filled, a_filled
    fields = dict(survivor)
    filled: dict[str, str] = {}
    conflicts: dict[str, tuple[Any, Any]] = {}
    for name, value in other.items():
        if is_empty(value):
            continue
        mine = fields.get(name)
        if is_empty(mine):
            fields[name] = value
            filled[name] = other_meta.lead_id
        elif not _same(mine, value):
            conflicts[name] = (mine, value)
    sources = tuple(dict.fromkeys((*survivor_meta.sources, *other_meta.sources)))
    return MergeResult(
        survivor_id=survivor_meta.lead_id,
        merged_id=other_meta.lead_id,
        fields=fields,
        sources=sources,
        filled=filled,
        conflicts=conflicts,
        reason=_why(survivor_meta, other_meta, a_filled, b_filled),
    )
