"""Lead-to-account matching at scale: by domain first, then by company name.

`AccountIndex(accounts)` indexes the accounts once; `index.match(fields)` takes one lead's
normalised fields (`email`, `email_domain`, `free_email`, `domain`, `website`, `company`,
`company_key`) and returns an `AccountMatch`: the account (or None), a confidence, how it
matched, the best few candidates and the reason in plain words. Pure: no I/O, no clock.

1. Domain. The lead's website host, `domain` and email domain (not a free-mail one: the lead's
   `free_email`, else `matching.FREE_MAIL`) are reduced to registrable domains
   ("https://www.EU.Acme.co.uk/x" -> "acme.co.uk") and looked up among the accounts', which
   may be written in any form. Accounts listing a free-mail domain (bad data) are not indexed
   by it. Website or `domain`: confidence 0.99; email domain: 0.95.
2. Company name, when no domain matched. The exact `company_key` (score 1.0, confidence 0.9),
   else a fuzzy match (confidence 0.9 x score) against a blocked candidate set: the accounts
   whose key holds one of the lead's distinctive words, or a word one or two typos from it
   (`_near_words`). A million accounts cost the same per lead as a thousand. The score
   (`_name_score`) is the best of rapidfuzz's `ratio` and `token_sort_ratio` and a typing-slip
   score (1 - 0.05 per slip, `_slips`). Below `name_threshold` nothing matches, but the
   candidates are listed; so too when two different names are equally close (ambiguous).

Generic-name guard: a word is generic when it is a common business word (`GENERIC_WORDS`:
"consulting", "solutions", "global", ...) or appears in more than max(100, 0.2% of) the
account names. Generic words never select candidates, so a fuzzy match always shares a
distinctive word (up to typos); a name of generic words only ("Global Consulting Group")
never matches by name, not even exactly; keys of under MIN_FUZZY_CHARS letters match only
exactly; and names differing in a generic word ("Flintrise Learning", "Flintrise Lending")
score lower (GENERIC_MISMATCH). Such leads match by domain.

Domain conflict: when the lead has a corporate domain that matched nothing and a name
candidate's account has a domain with another label ("zentara.com" vs "zentora.de"; but
"acme.com" and "acme.de" agree), the name score is multiplied by CONFLICT_PENALTY (0.85, below
the default threshold): a similar name on another company's domain is another company.

Equally good candidates (several accounts on a domain, duplicate names): the one whose name
agrees with the lead's company, then the one on the exact host ("eu.acme.com"), then status
customer > open opportunity > prospect, most contacts, most recent activity, lowest id.

Hierarchy: the chosen account's parent is listed among the candidates (method "parent");
`parent()` and `ultimate_parent()` walk the parent ids, safely through cycles.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import tldextract
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from leadroute.domain import normalize as _normalize
from leadroute.domain.matching import FREE_MAIL
from leadroute.domain.org import Account, AccountStatus


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DOMAIN_SCORES: Mapping[str, float] = {"website": 0.99, "domain": 0.99, "email_domain": 0.95}
NAME_CONFIDENCE = 0.9
CONFLICT_PENALTY = 0.85
MAX_CANDIDATES = 5
MIN_EXACT_CHARS = 2
MIN_FUZZY_CHARS = 5
GENERIC_MIN_DF = 100
GENERIC_SHARE = 0.002
MAX_BLOCK = 2000  # accounts one token of a lead's company name may bring for comparison
SCAN_LIMIT = 300  # above this, several tokens' accounts are narrowed to those sharing two
BUCKET_SIZE = 400  # typo buckets bigger than this are split
MIN_NEAR_CHARS = 4  # shorter tokens ("ibm") are looked up as typed, without typo neighbours
LIST_CUTOFF = 70.0  # rapidfuzz ratios (0-100) below this are not even listed as candidates
TYPO_COST = 0.05
AMBIGUITY_MARGIN = 0.02
GENERIC_MISMATCH = 0.9
MIN_TYPO_CHARS = (6, 9)  # letters a key needs for one, two typos to count as typos

GENERIC_WORDS = frozenset(
    _words(
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
    """
    )
)

# --- keys -------------------------------------------------------------------------------------


def company_key(name: object) -> str:
    """The comparable form of a company name: "The Acme Corporation, Inc." -> "acme".

    One implementation for the whole pipeline: the normaliser's, so a lead's `company_key` and
    an account's always agree.
    """
    if not isinstance(name, str):
        return ""
    return _normalize.company_key(name)


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


def _affix_size(size: int) -> int:
    """Letters in a typo bucket's affix for tokens of `size` letters: at most half of them."""
    return min(4, max(1, (size - 1) // 2))


def _bucket(kind: str, token: str, size: int, extra: int = 0) -> str:
    """The typo bucket of tokens of `size` letters by their first (h) or last (t) letters.

    A bucket too big to scan is split by `extra` more letters: a longer head, or a tail with
    the first letters (typos seldom hit those, and a typo in the middle spares a tail).
    """
    letters = _affix_size(size)
    if kind == "h":
        return f"h{size}:{token[: letters + extra]}"
    return f"t{size}:{token[-letters:]}:{token[:extra]}"


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


_KEYBOARD = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    """Keys next to each key on a QWERTY keyboard, in its row and the rows above and below."""
    where = {c: (r, i) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)}
    near: dict[str, frozenset[str]] = {}
    for c, (r, i) in where.items():
        spots = ((r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i))
        near[c] = frozenset(
            _KEYBOARD[y][x]
            for y, x in spots
            if 0 <= y < len(_KEYBOARD) and 0 <= x < len(_KEYBOARD[y])
        )
    return near


_NEIGHBOUR_KEYS = _keyboard_neighbours()


def _slips(a: str, b: str) -> int | None:
    """How many typing slips turn `a` into `b` (1 or 2), or None if not explained by slips.

    A slip is a letter dropped, added or swapped with the next one, or a key hit next to the
    right one; a substitution between keys far apart ("jeltdroix" vs "jentdroix") or of a
    word's first letter (people rarely mistype that) points to a different name instead.
    Keys need MIN_TYPO_CHARS letters for one slip, or two, to count.
    """
    edits = OSA.distance(a, b, score_cutoff=2)
    if edits == 0 or edits > 2:
        return None
    if min(len(a) - a.count(" "), len(b) - b.count(" ")) < MIN_TYPO_CHARS[edits - 1]:
        return None
    for op in Levenshtein.editops(a, b):
        if op.tag != "replace":
            continue
        i, j = op.src_pos, op.dest_pos
        first = i == 0 or a[i - 1] == " "
        if b[j] in _NEIGHBOUR_KEYS.get(a[i], ()) and not first:
            continue
        swapped = (i + 1 < len(a) and j + 1 < len(b) and a[i] == b[j + 1] and a[i + 1] == b[j]) or (
            i > 0 and j > 0 and a[i] == b[j - 1] and a[i - 1] == b[j]
        )
        if not swapped:
            return None
    return edits


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
        if not isinstance(free, bool) and email_host:
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

Posting = int | list[int] | tuple[int, ...]  # one account, or several (a list while building)


def _add(table: dict[str, Posting], key: str, index: int) -> None:
    held = table.get(key)
    if held is None:
        table[key] = index
    elif isinstance(held, int):
        table[key] = [held, index]
    elif isinstance(held, list):
        held.append(index)


def _items(held: Posting | None) -> Sequence[int]:
    if held is None:
        return ()
    return (held,) if isinstance(held, int) else held


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
        self._near: dict[str, Sequence[str]] = {}
        self._split: set[str] = set()
        self._common: set[str] = set()
        self._generic_df = max(GENERIC_MIN_DF, int(len(self._accounts) * GENERIC_SHARE))
        self._build()

    def __len__(self) -> int:
        return len(self._accounts)

    def _build(self) -> None:
        counts: Counter[str] = Counter()
        for i, account in enumerate(self._accounts):
            self._by_id.setdefault(account.id, i)
            key = company_key(account.name)
            self._keys.append(key)
            if key:
                _add(self._by_key, key, i)
                counts.update(set(key.split()))
            host = host_of(account.domain)
            domain = _registrable(host) if host else None
            if domain is not None and (_is_free(domain) or _is_free(host or "")):
                host = domain = None
            self._hosts.append(host)
            self._domains.append(domain)
            if domain is not None:
                _add(self._by_domain, domain, i)
        self._common = {word for word, n in counts.items() if n > self._generic_df}
        del counts
        for i, key in enumerate(self._keys):
            for token in set(key.split()):
                if self._blockable(token):
                    _add(self._postings, token, i)
        pending: dict[tuple[str, int, int], list[str]] = {}
        for token in self._postings:
            for kind in "ht":
                name = _bucket(kind, token, len(token))
                pending.setdefault((name, len(token), 0), []).append(token)
        work = [(kind, tokens) for kind, tokens in pending.items()]
        while work:
            (name, size, extra), tokens = work.pop()
            if len(tokens) <= BUCKET_SIZE or extra >= _affix_size(size):
                self._near[name] = tuple(tokens)
                continue
            self._split.add(name)  # too big to scan: split by one more letter
            finer: dict[tuple[str, int, int], list[str]] = {}
            for token in tokens:
                finer_name = _bucket(name[0], token, size, extra + 1)
                finer.setdefault((finer_name, size, extra + 1), []).append(token)
            work.extend(finer.items())
        # Tuples of ints and strings drop out of the cyclic GC's sight; lists would not.
        for table in (self._by_domain, self._by_key, self._postings):
            for word, held in table.items():
                if isinstance(held, list):
                    table[word] = tuple(held)

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
                elif self._name_score(key, account_key) >= self.name_threshold:
                    hit.name_level = max(hit.name_level, 1)

    def _by_name(self, key: str, lead_labels: set[str]) -> list[_Found]:
        if not self._informative(key):
            return []
        exact = _items(self._by_key.get(key))
        if exact:
            hits = [_Found(i, 1.0, "name_exact", 2) for i in exact]
        elif len(key.replace(" ", "")) >= MIN_FUZZY_CHARS:
            choices = {i: self._keys[i] for i in self._block(key)}
            hits = [_Found(i, score, "name_fuzzy") for i, score in self._similar(key, choices)]
        else:
            return []
        if lead_labels:
            for hit in hits:
                domain = self._domains[hit.index]
                if domain is not None and not _labels_agree(_label(domain), lead_labels):
                    hit.score *= CONFLICT_PENALTY
        return hits

    def _similar(self, key: str, choices: Mapping[int, str]) -> list[tuple[int, float]]:
        """(choice, score) for the choices near `key`: rapidfuzz finds them, _name_score scores."""
        near: set[int] = set()
        # Up to two slips in a key of MIN_TYPO_CHARS[1] letters keep `ratio` above LIST_CUTOFF.
        scorers = (fuzz.ratio, fuzz.token_sort_ratio) if " " in key else (fuzz.ratio,)
        for scorer in scorers:
            found = process.extract(
                key, choices, scorer=scorer, score_cutoff=LIST_CUTOFF, limit=None
            )
            near.update(i for _, _, i in found)
        return [(i, self._name_score(key, choices[i])) for i in near]

    def _name_score(self, key: str, other: str) -> float:
        """How alike two company keys are, 0..1.

        The best of (a) rapidfuzz `ratio` and `token_sort_ratio` once the generic words both
        keys share are set aside ("farlight recruiting" vs "bearlight recruiting" compares
        "farlight" with "bearlight"), times GENERIC_MISMATCH if one key has a generic word the
        other lacks, and (b) 1 - TYPO_COST per typing slip when one or two slips explain the
        difference (see `_slips`): the ratios punish a slip in a short name hard ("dordpoifu"
        vs "dordpoify": 0.89). Times GENERIC_MISMATCH again when each key has a generic word
        the other lacks: "flintrise media" and "flintrise medical" are two companies.
        """
        if key == other:
            return 1.0
        mine, theirs = key.split(), other.split()
        shared = {t for t in mine if t in theirs and self._generic(t)}
        left = [t for t in mine if t not in shared]
        right = [t for t in theirs if t not in shared]
        a, b = (" ".join(left), " ".join(right)) if shared and left and right else (key, other)
        score = max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100
        mine_only = any(self._generic(t) for t in left if t not in theirs)
        theirs_only = any(self._generic(t) for t in right if t not in mine)
        if mine_only or theirs_only:
            score *= GENERIC_MISMATCH  # "brentova" is not "brentova deutschland"
        slips = _slips(key, other)
        if slips is not None:
            score = max(score, 1 - TYPO_COST * slips)
        if mine_only and theirs_only:
            score *= GENERIC_MISMATCH  # one common word for another is no typo
        return score

    def _generic(self, token: str) -> bool:
        return token in GENERIC_WORDS or token in self._common

    def _blockable(self, token: str) -> bool:
        return len(token) >= 3 and not self._generic(token)

    def _informative(self, key: str) -> bool:
        if len(key.replace(" ", "")) < MIN_EXACT_CHARS:
            return False
        return any(token not in GENERIC_WORDS for token in key.split())

    def _block(self, key: str) -> set[int]:
        """Accounts sharing a distinctive token of `key`, or one a typo or two away.

        When that is more than SCAN_LIMIT accounts and the key has several distinctive tokens,
        a token's accounts are kept if they are few, else only those sharing another of the
        tokens ("sutton and nilsson events" need not be compared with every Sutton); if that
        leaves none, the biggest token's accounts (the other token may be mistyped). One token
        brings at most MAX_BLOCK accounts, its own first, then its typo neighbours'.
        """
        groups: list[set[int]] = []
        for token in set(key.split()):
            if not self._blockable(token):
                continue
            group = set(_items(self._postings.get(token)))
            near = [self._postings[t] for t in self._near_words(token) if t in self._postings]
            near.sort(key=lambda p: 1 if isinstance(p, int) else len(p))
            for posting in near:
                if isinstance(posting, int):
                    group.add(posting)
                elif len(group) + len(posting) <= MAX_BLOCK:
                    group.update(posting)
            if group:
                groups.append(group)
        if len(groups) <= 1:
            return groups[0] if groups else set()
        block = set().union(*groups)
        if len(block) <= SCAN_LIMIT:
            return block
        narrow: set[int] = set()
        for i, group in enumerate(groups):
            if len(group) <= SCAN_LIMIT // len(groups):
                narrow |= group
            for other in groups[i + 1 :]:
                narrow |= group & other
        return narrow or max(groups, key=len)

    def _near_words(self, token: str) -> set[str]:
        """Indexed tokens within one edit (tokens of up to 5 letters) or two of `token`.

        Tokens are bucketed by length and by their first or last letters, fewer than half of
        them, so one typo (even two letters swapped in the middle) leaves one of the two
        affixes intact. A bucket bigger than BUCKET_SIZE is split (see `_bucket`). Only buckets
        of lengths within the allowed edits are scanned (with rapidfuzz), so the cost stays
        flat as the vocabulary grows.
        """
        similar = {token}
        size = len(token)
        if size < MIN_NEAR_CHARS:
            return similar
        most = 1 if size <= 5 else 2
        for other in range(max(1, size - most), size + most + 1):
            for kind in "ht":
                extra = 0
                name = _bucket(kind, token, other)
                while name in self._split:
                    extra += 1
                    name = _bucket(kind, token, other, extra)
                bucket = self._near.get(name)
                if bucket:
                    hits = process.extract(
                        token, bucket, scorer=OSA.distance, score_cutoff=most, limit=None
                    )
                    similar.update(hit[0] for hit in hits)
        return similar

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
        if best.method == "name_fuzzy":
            rival = next(
                (h for h in ranked[1:] if self._keys[h.index] != self._keys[best.index]), None
            )
            if rival is not None and rival.score > best.score - AMBIGUITY_MARGIN:
                a, b = self._accounts[best.index], self._accounts[rival.index]
                reason = (
                    f"no account: company name {lead.company!r} is as close to {a.name} ({a.id}) "
                    f"as to {b.name} ({b.id}) ({best.score:.2f})"
                )
                return AccountMatch(None, 0.0, "none", tuple(candidates), reason)
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
