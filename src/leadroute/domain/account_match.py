"""Lead-to-account matching at scale: by domain first, then by company name.

`AccountIndex(accounts)` indexes accounts once; `index.match(fields)` takes a lead's normalised
fields (`email`, `email_domain`, `free_email`, `domain`, `website`, `company`, `company_key`)
and returns an `AccountMatch`: the chosen account (or None), a confidence, how it matched, the
best few candidates and a reason in plain words. Pure: no I/O, no clock.

Evidence, strongest first:
1. Domain. The lead's website host, `domain` field and (unless it is a free-mail address) email
   domain are reduced to the registrable domain ("https://www.EU.Acme.co.uk/x" -> "acme.co.uk")
   and looked up among the accounts' registrable domains. Accounts that list a free-mail domain
   (bad data) are not indexed by it, so they never capture every gmail.com lead.
2. Company name. The exact `company_key` first (score 1.0), then a fuzzy comparison
   (`rapidfuzz.fuzz.token_sort_ratio`) against a small blocked candidate set: accounts whose key
   holds one of the lead's distinctive tokens, or a token within one or two edits of it. Typo
   neighbours are found by scanning only the vocabulary tokens that share the first or last three
   letters, so the work per lead stays flat at a million accounts.

Generic-name guard. A token is generic when it is a common business word (`GENERIC_WORDS`:
"consulting", "solutions", "global", ...) or appears in more than max(100, 0.1% of the accounts)
account names (a document-frequency cut, the same one that caps a block). Generic tokens never
form a block, so a fuzzy match always shares a distinctive token; a key made only of generic
words ("Global Consulting Solutions") never matches by name at all, exact or not; fuzzy
matching also needs at least `MIN_FUZZY_CHARS` letters. Such leads match by domain only.

Domain conflict. When the lead has a corporate domain and a name candidate's account has a domain
with a different label ("zentara.com" vs "zentora.de" differ; "acme.com" vs "acme.de" agree),
the name score is multiplied by `CONFLICT_PENALTY`: a near name from another company's domain is
weak evidence.

Ranking among candidates of equal score: company name agreeing with the lead (for accounts sharing
a domain), then the exact host ("eu.acme.com"), then status customer > open opportunity >
prospect, most contacts, most recent activity, lowest id.

Confidence: website or domain 0.99, email domain 0.95, company name 0.9 x score (0.9 when exact);
a fuzzy score below `name_threshold` matches nothing, but the candidates are still listed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import tldextract
from cleanco import prepare_default_terms  # type: ignore[import-untyped]
from cleanco.non_nfkd_map import NON_NFKD_MAP  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from leadroute.domain.matching import FREE_MAIL
from leadroute.domain.org import Account, AccountStatus

DOMAIN_SCORES: Mapping[str, float] = {"website": 0.99, "domain": 0.99, "email_domain": 0.95}
NAME_CONFIDENCE = 0.9
CONFLICT_PENALTY = 0.85
MAX_CANDIDATES = 5
MIN_EXACT_CHARS = 2
MIN_FUZZY_CHARS = 5
GENERIC_MIN_DF = 100
GENERIC_SHARE = 0.001
MAX_BLOCK = 2000
LIST_CUTOFF = 70.0  # rapidfuzz ratios (0-100) below this are not even listed as candidates
TYPO_COST = 0.05
MIN_TYPO_CHARS = (5, 8)  # letters a key needs for one, two typos to count as typos

GENERIC_WORDS = frozenset(
    """
    and of for de la le les der die das et y e del
    group groups holding holdings international intl global worldwide world national
    company companies corp enterprise enterprises industries industry associates partners
    partnership consulting consultants consultancy solutions services service systems system
    technologies technology tech software digital data analytics management capital ventures
    investments investment finance financial advisors advisory media marketing logistics
    engineering healthcare health medical networks network labs lab studio studios design
    designs creative energy trading commerce products product business consult agency
    america american europe european asia pacific usa north south east west central united
    first new general best top pro one plus online web net inc
    """.split()
)

_PUNCT = re.compile(r"[\W_]+")
_NOT_TERM_CHAR = re.compile(r"[^\w/&:]+")


# --- keys -------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Casefolded, accents stripped ("Société" -> "societe", "Łódź" -> "lodz")."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(NON_NFKD_MAP.get(c, c) for c in decomposed if not unicodedata.combining(c))
    return plain.casefold()


def _term_word(word: str) -> str:
    """A word as legal terms are compared: punctuation but / & : dropped, "and" as "&"."""
    bare = _NOT_TERM_CHAR.sub("", word)
    return "&" if bare == "and" else bare


@lru_cache(maxsize=1)
def _legal_terms() -> tuple[frozenset[tuple[str, ...]], int]:
    """cleanco's legal-form terms ("inc", "gmbh & co kg", "pty ltd", ...) as word tuples."""
    terms = set()
    for _size, parts in prepare_default_terms():
        words = tuple(w for w in (_term_word(str(p)) for p in parts) if w)
        if words:
            terms.add(words)
    return frozenset(terms), max(len(t) for t in terms)


def company_key(name: object) -> str:
    """The comparable form of a company name: "The Acme Corporation, Inc." -> "acme".

    Casefold and strip accents; drop a leading "the"; remove legal-form suffixes (cleanco's
    terms) repeatedly from the end, keeping at least one word; "&" -> "and"; punctuation to
    spaces; spaces collapsed. Not a string (or nothing left) -> "".
    """
    if not isinstance(name, str):
        return ""
    words = [w for w in _fold(name).split() if _term_word(w)]
    if len(words) > 1 and words[0] == "the":
        del words[0]
    terms, longest = _legal_terms()
    compare = [_term_word(w) for w in words]
    while len(compare) > 1:
        for size in range(min(longest, len(compare) - 1), 0, -1):
            if tuple(compare[-size:]) in terms:
                del compare[-size:], words[-size:]
                break
        else:
            break
    tokens = _PUNCT.sub(" ", " ".join(words).replace("&", " and ")).split()
    if len(tokens) > 1 and tokens[0] == "the":
        del tokens[0]
    return " ".join(tokens)


# --- domains ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The bundled public suffix list only: no network, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def host_of(value: object) -> str | None:
    """'https://www.EU.Acme.com:443/x' -> 'eu.acme.com'; 'ada@acme.com' -> 'acme.com'."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    for stop in "/?#":
        text = text.split(stop, 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(". ")
    while text.startswith("www."):
        text = text[4:]
    return text if "." in text and " " not in text else None


def _registrable(host: str) -> str | None:
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"


@lru_cache(maxsize=65536)
def registrable_domain(value: str) -> str | None:
    """The registrable domain of a URL, host or email: 'http://eu.acme.co.uk' -> 'acme.co.uk'."""
    host = host_of(value)
    return _registrable(host) if host else None


def _label(domain: str) -> str:
    return domain.split(".", 1)[0].replace("-", "")


def _frame(token: str, size: int) -> str:
    """A typo bucket: first and last letter and a length ("plunby" -> "py6")."""
    return f"{token[0]}{token[-1]}{size}"


def _labels_agree(label: str, others: Iterable[str]) -> bool:
    """'acme' agrees with 'acme' and 'acmeeu'; not with 'fletcherschmidt' for 'schmidtfletcher'."""
    for other in others:
        short, long = sorted((label, other), key=len)
        if short == long or (len(short) >= 4 and short in long):
            return True
    return False


def _is_free(domain: str) -> bool:
    return domain in FREE_MAIL


# --- name similarity ----------------------------------------------------------------------


def _similar(key: str, choices: Mapping[int, str]) -> list[tuple[int, float]]:
    """(choice, score 0..1) for the choices similar to `key`, at least LIST_CUTOFF.

    The score is the best of rapidfuzz's `ratio` and `token_sort_ratio` (shared characters, in
    order or with the words sorted) and a keystroke score, 1 - TYPO_COST per edit (Damerau,
    optimal string alignment), for keys long enough that one slip (MIN_TYPO_CHARS[0] letters)
    or two (MIN_TYPO_CHARS[1]) still leave them distinctive: the ratios punish a slip in a
    short name hard ("dordpoifu" vs "dordpoify": 0.89).
    """
    best: dict[int, float] = {}
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        for _, score, i in process.extract(
            key, choices, scorer=scorer, score_cutoff=LIST_CUTOFF, limit=None
        ):
            best[i] = max(score / 100, best.get(i, 0.0))
    letters = len(key) - key.count(" ")
    if letters >= MIN_TYPO_CHARS[0]:
        most = 2 if letters >= MIN_TYPO_CHARS[1] else 1
        for _, edits, i in process.extract(
            key, choices, scorer=OSA.distance, score_cutoff=most, limit=None
        ):
            other = choices[i]
            if edits and len(other) - other.count(" ") >= MIN_TYPO_CHARS[edits - 1]:
                best[i] = max(1 - TYPO_COST * edits, best.get(i, 0.0))
    return list(best.items())


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountCandidate:
    """An account considered for a lead: how it matched and how well (0..1)."""

    account_id: str
    name: str
    score: float
    method: str  # "domain", "website", "email_domain", "name_exact", "name_fuzzy", "parent"

    def as_record(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "score": round(self.score, 4),
            "method": self.method,
        }


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """The account chosen for a lead (or None), with the candidates and the reason."""

    account: Account | None
    confidence: float
    method: str
    candidates: tuple[AccountCandidate, ...]
    reason: str

    def as_record(self) -> dict[str, object]:
        return {
            "account_id": self.account.id if self.account else None,
            "account_name": self.account.name if self.account else None,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "reason": self.reason,
            "candidates": [c.as_record() for c in self.candidates],
        }


@dataclass(slots=True)
class _Found:
    index: int
    score: float
    method: str
    name_level: int = 0  # 2 company key equal, 1 similar above threshold, 0 otherwise
    exact_host: bool = False


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a lead offers to match on, pulled from its fields once."""

    domains: tuple[tuple[str, str, str], ...]  # (method, registrable domain, host)
    free_mail: str | None
    keys: tuple[str, ...]  # company keys to try, the recomputed one first
    company: str

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> _Evidence:
        email_host = host_of(fields.get("email_domain") or fields.get("email"))
        free = fields.get("free_email")
        email_domain = registrable_domain(email_host) if email_host else None
        if free is None and email_host:
            free = _is_free(email_host) or (email_domain is not None and _is_free(email_domain))
        free_mail = email_host if free and email_host else None
        domains: list[tuple[str, str, str]] = []
        seen: set[str] = set()

        def add(method: str, host: str | None) -> None:
            domain = registrable_domain(host) if host else None
            if domain and domain not in seen and not _is_free(domain) and host != free_mail:
                seen.add(domain)
                domains.append((method, domain, host or domain))

        add("website", host_of(fields.get("website")))
        own = host_of(fields.get("domain"))
        if own and not free and email_host and registrable_domain(own) == email_domain:
            add("email_domain", email_host)  # the normaliser took `domain` from the email
        add("domain", own)
        if not free:
            add("email_domain", email_host)
        company = fields.get("company")
        keys = [company_key(company)] if isinstance(company, str) else []
        given = fields.get("company_key")
        if isinstance(given, str) and given.strip():
            keys.append(" ".join(given.split()))
        keys = [k for i, k in enumerate(keys) if k and k not in keys[:i]]
        text = company.strip() if isinstance(company, str) else ""
        return cls(tuple(domains), free_mail, tuple(keys), text or (keys[0] if keys else ""))


# --- the index --------------------------------------------------------------------------------

Posting = int | list[int]


def _add(table: dict[str, Posting], key: str, index: int) -> None:
    held = table.get(key)
    if held is None:
        table[key] = index
    elif isinstance(held, int):
        table[key] = [held, index]
    else:
        held.append(index)


def _items(held: Posting | None) -> list[int]:
    if held is None:
        return []
    return [held] if isinstance(held, int) else held


class AccountIndex:
    """Accounts indexed for matching leads by domain and company name."""

    def __init__(
        self,
        accounts: Iterable[Account],
        *,
        contacts: Mapping[str, int] | None = None,
        last_activity: Mapping[str, datetime] | None = None,
        name_threshold: float = 0.90,
    ) -> None:
        self.name_threshold = name_threshold
        self._accounts = list(accounts)
        self._contacts = contacts or {}
        self._activity = last_activity or {}
        self._by_id: dict[str, int] = {}
        self._keys: list[str] = []
        self._hosts: list[str | None] = []
        self._domains: list[str | None] = []
        self._by_domain: dict[str, Posting] = {}
        self._by_key: dict[str, Posting] = {}
        self._postings: dict[str, Posting] = {}
        self._heads: dict[str, list[str]] = {}
        self._tails: dict[str, list[str]] = {}
        self._frames: dict[str, list[str]] = {}
        self._generic_df = max(GENERIC_MIN_DF, int(len(self._accounts) * GENERIC_SHARE))
        self._build()

    def __len__(self) -> int:
        return len(self._accounts)

    def _build(self) -> None:
        df: Counter[str] = Counter()
        for i, account in enumerate(self._accounts):
            self._by_id.setdefault(account.id, i)
            key = company_key(account.name)
            self._keys.append(key)
            if key:
                _add(self._by_key, key, i)
                df.update(set(key.split()))
            host = host_of(account.domain)
            domain = _registrable(host) if host else None
            if domain is not None and (_is_free(domain) or _is_free(host or "")):
                host = domain = None
            self._hosts.append(host)
            self._domains.append(domain)
            if domain is not None:
                _add(self._by_domain, domain, i)
        self._df = df
        for i, key in enumerate(self._keys):
            for token in set(key.split()):
                if self._blockable(token):
                    _add(self._postings, token, i)
        for token in self._postings:
            self._heads.setdefault(token[:3], []).append(token)
            self._tails.setdefault(token[-3:], []).append(token)
            self._frames.setdefault(_frame(token, len(token)), []).append(token)

    # --- hierarchy ----------------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        index = self._by_id.get(account_id)
        return None if index is None else self._accounts[index]

    def parent(self, account: Account) -> Account | None:
        """The account's parent, if it names one that is indexed (never itself)."""
        if not account.parent_id or account.parent_id == account.id:
            return None
        return self.account(account.parent_id)

    def ultimate_parent(self, account: Account) -> Account:
        """The top of the account's hierarchy; in a cycle, the cycle's account with lowest id."""
        path = [account]
        seen = {account.id}
        while (parent := self.parent(path[-1])) is not None:
            if parent.id in seen:
                start = next(i for i, a in enumerate(path) if a.id == parent.id)
                return min(path[start:], key=lambda a: a.id)
            seen.add(parent.id)
            path.append(parent)
        return path[-1]

    # --- matching -----------------------------------------------------------------------------

    def match(self, fields: Mapping[str, Any]) -> AccountMatch:
        lead = _Evidence.of(fields)
        found: dict[int, _Found] = {}
        for method, domain, host in lead.domains:
            score = DOMAIN_SCORES[method]
            for i in _items(self._by_domain.get(domain)):
                if i not in found:
                    found[i] = _Found(i, score, method, exact_host=self._hosts[i] == host)
        if found:
            self._name_levels(found, lead.keys)
        else:
            lead_labels = {_label(d) for _, d, _ in lead.domains}
            for key in lead.keys:
                for hit in self._by_name(key, lead_labels):
                    if hit.index not in found or found[hit.index].score < hit.score:
                        found[hit.index] = hit
                if any(f.method == "name_exact" for f in found.values()):
                    break
        ranked = sorted(found.values(), key=self._order)
        return self._decide(lead, ranked)

    def _name_levels(self, found: Mapping[int, _Found], keys: tuple[str, ...]) -> None:
        for hit in found.values():
            account_key = self._keys[hit.index]
            for key in keys:
                if key == account_key:
                    hit.name_level = 2
                elif dict(_similar(key, {0: account_key})).get(0, 0.0) >= self.name_threshold:
                    hit.name_level = max(hit.name_level, 1)

    def _by_name(self, key: str, lead_labels: set[str]) -> list[_Found]:
        if not self._informative(key):
            return []
        exact = _items(self._by_key.get(key))
        if exact:
            hits = [_Found(i, 1.0, "name_exact", 2) for i in exact]
        elif len(key.replace(" ", "")) >= MIN_FUZZY_CHARS:
            choices = {i: self._keys[i] for i in self._block(key)}
            hits = [_Found(i, score, "name_fuzzy") for i, score in _similar(key, choices)]
        else:
            return []
        if lead_labels:
            for hit in hits:
                domain = self._domains[hit.index]
                if domain is not None and not _labels_agree(_label(domain), lead_labels):
                    hit.score *= CONFLICT_PENALTY
        return hits

    def _generic(self, token: str) -> bool:
        return token in GENERIC_WORDS or self._df.get(token, 0) > self._generic_df

    def _blockable(self, token: str) -> bool:
        return len(token) >= 3 and not self._generic(token)

    def _informative(self, key: str) -> bool:
        if len(key.replace(" ", "")) < MIN_EXACT_CHARS:
            return False
        return any(token not in GENERIC_WORDS for token in key.split())

    def _block(self, key: str) -> set[int]:
        """Accounts sharing a distinctive token of `key`, up to two typos apart, capped.

        Typo neighbours come from three buckets of the vocabulary: tokens with the same first
        three letters, the same last three, or the same first and last letter and a length
        within two. One typo always leaves one of them intact (tokens of four letters or more).
        """
        postings: list[Posting] = []
        for token in set(key.split()):
            if not self._blockable(token):
                continue
            similar = {token}
            max_edits = 1 if len(token) <= 5 else 2
            buckets = [self._heads.get(token[:3]), self._tails.get(token[-3:])]
            size = len(token)
            buckets += [self._frames.get(_frame(token, n)) for n in range(size - 2, size + 3)]
            for bucket in buckets:
                if bucket:
                    hits = process.extract(
                        token,
                        bucket,
                        scorer=Levenshtein.distance,
                        score_cutoff=max_edits,
                        limit=None,
                    )
                    similar.update(hit[0] for hit in hits)
            postings.extend(p for t in similar if (p := self._postings.get(t)) is not None)
        postings.sort(key=lambda p: 1 if isinstance(p, int) else len(p))
        block: set[int] = set()
        for posting in postings:
            if isinstance(posting, int):
                block.add(posting)
            elif len(block) + len(posting) <= MAX_BLOCK:
                block.update(posting)
            if len(block) >= MAX_BLOCK:
                break
        return block

    def _tiebreak(self, index: int) -> tuple[int, int, float, str]:
        account = self._accounts[index]
        if account.status == AccountStatus.CUSTOMER:
            status = 0
        else:
            status = 1 if account.opportunity_stage else 2
        moment = self._activity.get(account.id)
        if moment is None:
            recent = -math.inf
        else:
            recent = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        return status, -self._contacts.get(account.id, 0), -recent, account.id

    def _order(self, hit: _Found) -> tuple[float, int, int, tuple[int, int, float, str]]:
        return -round(hit.score, 6), -hit.name_level, -hit.exact_host, self._tiebreak(hit.index)

    # --- the decision -------------------------------------------------------------------------

    def _candidate(self, hit: _Found) -> AccountCandidate:
        account = self._accounts[hit.index]
        return AccountCandidate(account.id, account.name, hit.score, hit.method)

    def _decide(self, lead: _Evidence, ranked: list[_Found]) -> AccountMatch:
        candidates = [self._candidate(h) for h in ranked[:MAX_CANDIDATES]]
        best = ranked[0] if ranked else None
        if best is None or (best.method.startswith("name") and best.score < self.name_threshold):
            return AccountMatch(None, 0.0, "none", tuple(candidates), self._why_not(lead, best))
        account = self._accounts[best.index]
        if best.method in DOMAIN_SCORES:
            confidence = DOMAIN_SCORES[best.method]
        else:
            confidence = NAME_CONFIDENCE * best.score
        parent = self.parent(account)
        if parent is not None and all(c.account_id != parent.id for c in candidates):
            candidates = candidates[: MAX_CANDIDATES - 1]
            candidates.append(AccountCandidate(parent.id, parent.name, best.score, "parent"))
        reason = f"{self._evidence_text(lead, best)} account {account.name} ({account.id})"
        reason += self._tie_text(ranked)
        return AccountMatch(account, confidence, best.method, tuple(candidates), reason)

    def _evidence_text(self, lead: _Evidence, best: _Found) -> str:
        if best.method in DOMAIN_SCORES:
            for method, domain, host in lead.domains:
                if method == best.method:
                    shown = domain if host == domain else f"{host} ({domain})"
                    return f"{method.replace('_', ' ')} {shown} matches"
        if best.method == "name_exact":
            return f"company name {lead.company!r} matches"
        return f"company name {lead.company!r} is similar ({best.score:.2f}) to"

    def _tie_text(self, ranked: list[_Found]) -> str:
        if len(ranked) < 2 or round(ranked[0].score, 6) != round(ranked[1].score, 6):
            return ""
        first, second = ranked[0], ranked[1]
        others = sum(1 for h in ranked[1:] if round(h.score, 6) == round(first.score, 6))
        plural = "s" if others > 1 else ""
        head = f", chosen over {others} equally scored account{plural} by"
        if first.name_level != second.name_level:
            return f"{head} company name"
        if first.exact_host != second.exact_host:
            return f"{head} exact host"
        a, b = self._tiebreak(first.index), self._tiebreak(second.index)
        if a[0] != b[0]:
            status = "customer" if a[0] == 0 else "open opportunity"
            return f"{head} status ({status})"
        if a[1] != b[1]:
            return f"{head} contacts ({-a[1]} vs {-b[1]})"
        if a[2] != b[2]:
            return f"{head} most recent activity"
        return f"{head} lowest id"

    def _why_not(self, lead: _Evidence, best: _Found | None) -> str:
        if best is not None:
            account = self._accounts[best.index]
            return (
                f"no account: best name candidate {account.name} ({account.id}) scored "
                f"{best.score:.2f}, below the {self.name_threshold:.2f} threshold"
            )
        if lead.keys and not any(self._informative(k) for k in lead.keys):
            return f"no account: company name {lead.company!r} is too generic to match on"
        if not lead.domains and not lead.keys:
            if lead.free_mail:
                return "no account: free-mail address and no company name"
            return "no account: no domain or company name to match on"
        parts = [f"domain {', '.join(d for _, d, _ in lead.domains)}"] if lead.domains else []
        if lead.free_mail:
            parts.append(f"free-mail address ({lead.free_mail})")
        if lead.keys:
            parts.append(f"company {lead.company!r}")
        return f"no account: {' and '.join(parts)} match no account"
