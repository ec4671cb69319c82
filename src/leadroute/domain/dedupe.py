"""Duplicate leads: find the existing lead an incoming lead repeats, and merge the two.

Leads come in normalised (`leadroute.domain.normalize`): `email`, `email_domain`, `free_email`,
`domain`, `phone` (E.164), `first_name`, `last_name`, `company`, `company_key`, `country`.

Finding a duplicate (`LeadIndex.find`), in this order:
1. Same email. Compared without case, and without a "+tag" in the local part; at gmail.com and
   googlemail.com (one mailbox) also without dots. "Ann.Lee+news@googlemail.com" is
   "annlee@gmail.com". The first lead added with that email is the match, with score 1.0.
2. Same person. Only leads sharing a blocking key with the incoming lead are compared:
   its phone (last 9 digits), its email local part (no dots, no +tag), each of its name tokens
   (a Soundex code, nicknames resolved) with its company key and with its company domain, and
   its initials with its company domain. A key shared by more than `max_block` leads (a company
   switchboard, "info@", a Soundex code at a very large company) says too little: the key is
   dropped, stays dropped, and lookups skip it. A lookup therefore compares at most
   `max_block` leads per key, whatever the index size.
   Each candidate is scored: names by Jaro-Winkler over folded letters ("Müller" = "muller"),
   in the given order or with first and last swapped, nicknames counting 0.95 ("Bob" and
   "Robert"); company keys by edit-distance ratio; phone and domain equal or not. A candidate
   can match only if the names agree (average >= 0.85, each >= 0.75) AND the phone is equal, the
   domain is equal or the companies agree (>= 0.9). Score = 0.6 x name + 0.4 x that agreement,
   plus 0.05 when both the phone and the company agree, minus 0.03 for a different phone and
   0.05 for a different company (or 0.03 for a different domain). A lead missing a first or
   last name matches only with an equal phone and only if that leaves one candidate. The best
   candidate at or above the threshold is the match; ties go to the lead added first.
   So the same name at another company is not a duplicate unless the phone is equal, and the
   same name and phone with two free-mail addresses is.

Merging two leads (`merge`), the survivor rule: the survivor is
1. the most advanced lead by status: converted > contacted > routed = assigned > held > new >
   unrouted (any other status, e.g. disqualified, ranks below unrouted); then
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler

from leadroute.domain.matching import FREE_MAIL, domain_of

GMAIL = frozenset({"gmail.com", "googlemail.com"})
STATUS_ORDER: tuple[str, ...] = (
    "converted",
    "contacted",
    "routed",
    "assigned",
    "held",
    "new",
    "unrouted",
)
_STATUS_RANK = {"converted": 6, "contacted": 5, "routed": 4, "assigned": 4, "held": 3}
_STATUS_RANK |= {"new": 2, "unrouted": 1}

NAME_MIN = 0.80  # average of the two name tokens
TOKEN_MIN = 0.80  # each name token
COMPANY_AGREES = 0.85
_TOO_COMMON = -1

# Common English nicknames and a few others: nickname -> formal name.
_NICKNAMES: dict[str, str] = {
    "bill": "william",
    "billy": "william",
    "will": "william",
    "bob": "robert",
    "bobby": "robert",
    "rob": "robert",
    "jim": "james",
    "jimmy": "james",
    "mike": "michael",
    "rick": "richard",
    "dick": "richard",
    "joe": "joseph",
    "tom": "thomas",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "maggie": "margaret",
    "peggy": "margaret",
    "jen": "jennifer",
    "jenny": "jennifer",
    "dan": "daniel",
    "danny": "daniel",
    "tony": "anthony",
    "matt": "matthew",
    "andy": "andrew",
    "drew": "andrew",
    "alex": "alexander",
    "sasha": "alexander",
    "nick": "nicholas",
    "steve": "stephen",
    "sam": "samuel",
    "ben": "benjamin",
    "dave": "david",
    "chuck": "charles",
    "charlie": "charles",
    "kate": "katherine",
    "katie": "katherine",
    "kathi": "katharina",
    "pepe": "jose",
    "paco": "francisco",
}
# Letters NFKD does not take apart.
_LETTERS = str.maketrans(
    {
        "ı": "i",  # noqa: RUF001
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
    }
)
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


class _Entry(NamedTuple):
    """What the index keeps of a lead: folded, interned, '' for missing."""

    lead_id: str
    first: str
    last: str
    company: str  # company key without blanks or punctuation
    domain: str  # company domain; never a free-mail domain
    phone: str  # last 9 digits
    email: str  # email_key


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
    intern = sys.intern
    return _Entry(
        lead_id,
        intern(first),
        intern(last),
        intern(fold(fields.get("company_key") or fields.get("company"))),
        intern(domain),
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
    keys: set[int] = set()
    if entry.phone:
        keys.add(hash(("p", entry.phone)))
    local = entry.email.rpartition("@")[0].replace(".", "").replace("_", "").replace("-", "")
    if len(local) >= 3:
        keys.add(hash(("l", local)))
    orgs = {entry.company, _label(entry.domain)} - {""}
    tokens = {entry.first, entry.last} - {""}
    for token in tokens:
        code = sound(nickname_root(token))
        for org in orgs:
            keys.add(hash(("o", code, org)))
    if len(tokens) == 2:
        initials = "".join(sorted(t[0] for t in tokens))
        for org in orgs:
            keys.add(hash(("i", initials, org)))
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
    if q.first and q.last and e.first and e.last:
        straight = (_token_sim(q.first, e.first), _token_sim(q.last, e.last))
        swapped = (_token_sim(q.first, e.last), _token_sim(q.last, e.first))
        best = max(straight, swapped, key=sum)
        if min(best) < TOKEN_MIN:
            return 0.0, False, False
        return sum(best) / 2, best is swapped and best != straight, False
    q_parts, e_parts = [t for t in (q.first, q.last) if t], [t for t in (e.first, e.last) if t]
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
    if q.company and e.company:
        return 1.0 if q.company == e.company else _edit_sim(q.company, e.company)
    if q.company and e.domain:
        return _edit_sim(q.company, _label(e.domain))
    if e.company and q.domain:
        return _edit_sim(e.company, _label(q.domain))
    return -1.0


def _score(q: _Entry, e: _Entry) -> _Scored | None:
    name, swapped, partial = _name(q, e)
    if name < (NAME_MIN * 0.9 if partial else NAME_MIN):
        return None
    evidence = {"name": round(name, 3)}
    phone = domain = -1.0
    if q.phone and e.phone:
        phone = evidence["phone"] = 1.0 if q.phone == e.phone else 0.0
    if q.domain and e.domain:
        domain = evidence["domain"] = 1.0 if q.domain == e.domain else 0.0
    company = _org_sim(q, e)
    if company >= 0:
        evidence["company"] = round(company, 3)
    org = max(domain, company if company >= COMPANY_AGREES else 0.0)
    agreement = max(org, phone)
    if agreement <= 0:
        return None
    score = 0.6 * name + 0.4 * agreement
    if phone == 1.0 and org > 0:
        score += 0.05
    if phone == 0.0:
        score -= 0.03
    if 0 <= company < 0.6 and domain != 1.0:
        score -= 0.05
    elif domain == 0.0 and company < COMPANY_AGREES:
        score -= 0.03
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


class LeadIndex:
    """Existing leads, indexed to find the duplicates of an incoming lead quickly.

    In memory; not safe for concurrent writers. `add` also replaces a lead already indexed
    (e.g. after a merge); `remove` forgets one. See the module docstring for the rules.
    """

    def __init__(self, *, threshold: float = 0.90, max_block: int = 100) -> None:
        if not 0 < threshold <= 1 or max_block < 1:
            raise ValueError("threshold must be in (0, 1] and max_block at least 1")
        self.threshold = threshold
        self.max_block = max_block
        self._entries: list[_Entry | None] = []
        self._free: list[int] = []
        self._slots: dict[str, int] = {}
        self._emails: dict[str, int | list[int]] = {}
        self._blocks: dict[int, int | list[int]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, lead_id: object) -> bool:
        return lead_id in self._slots

    def add(self, lead_id: str, fields: Mapping[str, Any]) -> None:
        if lead_id in self._slots:
            self.remove(lead_id)
        entry = _entry(lead_id, fields)
        slot = self._free.pop() if self._free else len(self._entries)
        if slot == len(self._entries):
            self._entries.append(entry)
        else:
            self._entries[slot] = entry
        self._slots[lead_id] = slot
        if entry.email:
            _put(self._emails, entry.email, slot, cap=None)
        blocks, cap = self._blocks, self.max_block
        for key in _keys(entry):
            _put(blocks, key, slot, cap=cap)

    def remove(self, lead_id: str) -> None:
        """Forget a lead (KeyError if it is not indexed)."""
        slot = self._slots.pop(lead_id)
        entry = self._entries[slot]
        assert entry is not None
        if entry.email:
            _take(self._emails, entry.email, slot)
        for key in _keys(entry):
            _take(self._blocks, key, slot)
        self._entries[slot] = None
        self._free.append(slot)

    def find(
        self, fields: Mapping[str, Any], *, exclude: str | None = None
    ) -> DuplicateMatch | None:
        """The existing lead this lead duplicates, or None. `exclude`: a lead id to ignore
        (the lead itself, when it is already indexed)."""
        query = _entry("", fields)
        skip = self._slots.get(exclude, -1) if exclude is not None else -1
        if query.email:
            for slot in _members(self._emails.get(query.email)):
                if slot != skip:
                    return self._email_match(fields, query.email, slot)
        best: tuple[float, int, _Scored] | None = None
        partial_hits = 0
        for slot in sorted(self._candidate_slots(query, skip)):
            entry = self._entries[slot]
            assert entry is not None
            scored = _score(query, entry)
            if scored is None or scored.score < self.threshold:
                continue
            partial_hits += scored.partial
            if best is None or scored.score > best[0]:
                best = (scored.score, slot, scored)
        if best is None or (best[2].partial and partial_hits > 1):
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
        if not (query.first or query.last):
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

    def _lead_id(self, slot: int) -> str:
        entry = self._entries[slot]
        assert entry is not None
        return entry.lead_id

    def _email_match(self, fields: Mapping[str, Any], key: str, slot: int) -> DuplicateMatch:
        lead_id = self._lead_id(slot)
        written = str(fields.get("email")).strip()
        reason = f"same email {written} as lead {lead_id}"
        if written.casefold() != key:
            reason += f" (compared as {key})"
        return DuplicateMatch(lead_id, 1.0, "email", {"email": 1.0}, reason)


def _members(value: int | list[int] | None) -> Iterable[int]:
    if value is None or value == _TOO_COMMON:
        return ()
    return (value,) if isinstance(value, int) else value


def _put(table: dict[Any, int | list[int]], key: Any, slot: int, *, cap: int | None) -> None:
    members = table.get(key)
    if members is None:
        table[key] = slot
    elif isinstance(members, int):
        if members != _TOO_COMMON:
            table[key] = [members, slot] if cap is None or cap >= 2 else _TOO_COMMON
    elif cap is not None and len(members) >= cap:
        table[key] = _TOO_COMMON
    else:
        members.append(slot)


def _take(table: dict[Any, int | list[int]], key: Any, slot: int) -> None:
    members = table.get(key)
    if members is None or members == _TOO_COMMON:
        return
    if isinstance(members, int):
        if members == slot:
            del table[key]
    elif slot in members:
        members.remove(slot)
        if len(members) == 1:
            table[key] = members[0]


# --- merging -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadMeta:
    """What the survivor rule needs to know of a lead besides its fields."""

    lead_id: str
    status: str = "new"
    received_at: datetime | None = None
    sources: tuple[str, ...] = ()  # e.g. "web_form:Webinar", "list_import:batch-x"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Two leads made one. `fields` are the survivor's, gaps filled from the merged lead."""

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
    """Higher is more advanced; statuses outside STATUS_ORDER rank 0."""
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
