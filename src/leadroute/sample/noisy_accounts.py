"""Labelled, noisy accounts and leads for measuring lead-to-account matching.

    accounts = noisy_accounts(100_000, seed=1)
    for fields, truth in noisy_leads(accounts, 5_000, seed=2):
        ...  # truth: the id of the account the lead belongs to, or None

Deterministic: a seeded `random.Random`, no clock. A million accounts take seconds.

Accounts: invented names built from syllables ("Brentova"), compounds ("Bluewater"), surnames
("Harlow & Finch") and initials, most with an industry word ("Analytics"), a legal form of their
country ("GmbH", "Pty Ltd", "S.r.l.", ...) and a domain under a matching TLD (com, io, co.uk,
com.au, de, ...), written in varied forms ("https://www.Brentova.com/", "BRENTOVA.COM"). About
3% have no domain. About 6% are subsidiaries ("Brentova Deutschland GmbH", parent_id set) with
their own country domain, a subdomain of the parent's ("de.brentova.com") or none; about 2% are
duplicate records of an earlier account (same company, same domain in another form or none).

Leads: 85% come from an account, 15% from companies that are not accounts (their names and
domains differ from every account's) and must match nothing. Noise: corporate, free-mail or no
email; websites with www., subdomains and paths; company names with case changes, legal forms
added, removed or changed, "The" added or dropped, "&" vs "and", 1-2 typos, or left out (only
when a corporate domain is there); a few corporate emails at another TLD of the account's
domain. The label is the account routing should pick: among duplicate records of one company
(equal company key) the customer, else the one with an open opportunity, else the lowest id.

Fields are leadroute field names plus what normalisation adds, computed simply here: `email`,
`email_domain`, `free_email`, `domain` (registrable domain of the website or corporate email),
`website`, `company`, `company_key`, `first_name`, `last_name`, `id`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from leadroute.domain.account_match import company_key, registrable_domain
from leadroute.domain.org import Account, AccountStatus


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ONSETS = _words(
    "b br c ch cl d dr f fl g gr h j k kr l m n p pl pr qu r s sc sh sk st t tr v w z zh"
)
_VOWELS = _words("a e i o u a e i o u a e o ai ea ou y")
_CODAS = ["", "", "", "n", "r", "l", "s", "x", "nt", "rd", "m", "v", "th", "ck", "lt", "st"]
_ENDINGS = ["", "", "", "a", "o", "ia", "ex", "on", "ix", "um", "is", "ent", "ora", "ify", "ar"]
_PREFIXES = _words("Neo Pro Omni Nova Terra Aero Alpha Prime Vita Astra Uni")
_COMPOUND_HEAD = _words(
    "Blue Silver North Iron Bright Clear Green Red Stone Oak Pine Summit Harbor River Eagle "
    "Falcon Golden Crystal Maple Cedar Star Sun Moon Ocean Sky Rock Wolf Fox Bear Lion Copper "
    "Black White Swift True High Deep Far Long Wild Still Cold Fair Broad Grand Amber Arrow "
    "Ash Birch Bold Bridge Brook Cloud Coral Crane Dawn Elm Ember Fern Flint Frost Glen Hawk "
    "Heath Holly Ivy Jade Lake Lark Marble Mist Oak Orchard Quartz Raven Sage Salt Shore "
    "Slate Snow Spruce Storm Thorn Timber Willow Wren"
)
_COMPOUND_TAIL = _words(
    "water field stone bridge point ridge gate wood brook crest view light way path line peak "
    "haven ford port mark wave forge spring vale stream bay hill side works well field "
    "fall wing hurst mont dale moor leaf shire wick ton stead grove lake cliff rise run "
    "cross marsh mead"
)
_SURNAMES = _words(
    "Harlow Finch Mercer Caldwell Whitmore Ashby Thornton Pryce Langley Doyle Sutton Barrett "
    "Holloway Kendrick Marsh Fletcher Radcliffe Winslow Granger Carver Hale Blake Morrow Quinn "
    "Ramsey Sterling Vaughn Weston Yates Abbott Bishop Chandler Dalton Ellis Foster Garrett "
    "Hughes Irving Jensen Keller Lambert Monroe Nash Osborne Porter Reyes Sawyer Tanner Underwood "
    "Vance Walsh Becker Schmidt Hoffmann Lindqvist Moreau Rossi Novak Kowalski Tanaka Silva "
    "Dubois Jansen Larsen Meyer Fischer Wagner Bauer Richter Klein Wolff Schulz Andersson "
    "Nilsson Lefebvre Ricci Marino Greco Costa Ferreira Santos Oliveira Pereira Almeida"
)
_NOUNS = _words(
    "Analytics Systems Solutions Technologies Software Logistics Consulting Partners Labs "
    "Networks Media Health Energy Capital Foods Robotics Security Dynamics Designs Ventures "
    "Biotech Pharma Motors Textiles Materials Engineering Construction Digital Data Cloud "
    "Payments Insurance Realty Properties Studios Games Learning Travel Marine Aerospace "
    "Instruments Devices Electronics Chemicals Plastics Metals Mining Farms Brewing Coffee "
    "Apparel Furniture Interiors Architects Legal Accounting Staffing Recruiting "
    "Communications Telecom Wireless Power Solar Water Environmental Works Industries "
    "Manufacturing Supply Distribution Transport Freight Shipping Medical Diagnostics "
    "Therapeutics Clinics Dental Nutrition Fitness Sports Outdoor Home Kitchen Print Packaging "
    "Events Hospitality Hotels Catering Creative Marketing Advertising Research Advisors "
    "Management Investments Finance Lending Group Holdings"
)
# country -> (legal forms, TLDs, subsidiary name word, subdomain label)
_COUNTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
    "US": (
        ("Inc", "Inc.", "LLC", "Corp.", "Corporation", "Co.", ""),
        ("com", "io", "net", "co", "ai"),
        "USA",
        "us",
    ),
    "GB": (("Ltd", "Ltd.", "Limited", "PLC", "LLP"), ("co.uk", "com", "uk"), "Britain", "gb"),
    "DE": (("GmbH", "AG", "GmbH & Co. KG", "KG"), ("de", "com"), "Deutschland", "de"),
    "FR": (("SA", "SAS", "SARL"), ("fr", "com"), "France", "fr"),
    "NL": (("B.V.", "N.V."), ("nl", "com"), "Benelux", "nl"),
    "AU": (("Pty Ltd", "Pty. Ltd."), ("com.au",), "Australia", "au"),
    "ES": (("S.L.", "S.A."), ("es", "com"), "Iberia", "es"),
    "IT": (("S.r.l.", "S.p.A."), ("it",), "Italia", "it"),
    "SE": (("AB",), ("se", "com"), "Nordic", "se"),
    "JP": (("K.K.",), ("co.jp", "jp"), "Japan", "jp"),
    "BR": (("Ltda.",), ("com.br",), "Brasil", "br"),
    "CA": (("Inc.", "Ltd."), ("ca", "com"), "Canada", "ca"),
    "CH": (("AG", "SA", "GmbH"), ("ch",), "Schweiz", "ch"),
    "IN": (("Pvt Ltd", "Private Limited"), ("in", "co.in"), "India", "in"),
}
_COUNTRY_WEIGHTS = {"US": 40, "GB": 12, "DE": 10, "FR": 6, "NL": 4, "AU": 5, "ES": 3, "IT": 3}
_COUNTRY_WEIGHTS |= {"SE": 3, "JP": 3, "BR": 3, "CA": 4, "CH": 2, "IN": 2}
_COUNTRY_LIST = tuple(_COUNTRY_WEIGHTS)
_COUNTRY_CUM = tuple(accumulate(_COUNTRY_WEIGHTS.values()))
_ALL_FORMS = tuple(sorted({f for forms, *_ in _COUNTRIES.values() for f in forms if f}))
FREE_MAIL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "yahoo.co.uk",
    "orange.fr",
    "libero.it",
)
_FIRST = _words("ada alan grace linus mia noah emma liam olga jonas sofia lucas yuki ravi ana paul")
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keys_near() -> dict[str, str]:
    """QWERTY neighbours of each letter: beside it and in the rows above and below."""
    near = {}
    for r, row in enumerate(_KEYBOARD):
        for i, c in enumerate(row):
            spots = ((r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i))
            near[c] = "".join(
                _KEYBOARD[y][x] for y, x in spots if 0 <= y < 3 and 0 <= x < len(_KEYBOARD[y])
            )
    return near


_NEAR = _keys_near()


def _country(rng: random.Random) -> str:
    return rng.choices(_COUNTRY_LIST, cum_weights=_COUNTRY_CUM)[0]


def _stem(rng: random.Random) -> str:
    word = rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
    word += rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_ENDINGS)
    return word.capitalize()


def _base_name(rng: random.Random) -> tuple[str, str]:
    """(company name without legal form, domain label)."""
    roll = rng.random()
    noun = rng.choice(_NOUNS)
    if roll < 0.55:
        stem = _stem(rng)
        if rng.random() < 0.12:
            return f"{stem} {noun} {rng.choice(_NOUNS)}", stem.lower()
        if rng.random() < 0.65:
            return f"{stem} {noun}", stem.lower() + (noun.lower() if rng.random() < 0.3 else "")
        return stem, stem.lower()
    if roll < 0.8:
        word = rng.choice(_COMPOUND_HEAD) + rng.choice(_COMPOUND_TAIL)
        word = word if rng.random() < 0.7 else rng.choice(_PREFIXES) + word.lower()
        word = word.capitalize()
        if rng.random() < 0.8:
            return f"{word} {noun}", word.lower() + noun.lower()
        return word, word.lower()
    if roll < 0.86:
        one, two = rng.sample(_SURNAMES, 2)
        joint = "&" if rng.random() < 0.6 else "and"
        slug = f"{one}{two}".lower()
        if rng.random() < 0.7:
            return f"{one} {joint} {two} {noun}", slug
        return f"{one} {joint} {two}", slug
    if roll < 0.9:
        surname = rng.choice(_SURNAMES)
        return f"{surname} {noun}", (surname + noun).lower()
    letters = "".join(rng.choice("BCDFGHKLMNPRSTVWXZ") for _ in range(3))
    stem = _stem(rng)
    return f"{letters} {stem} {noun}", (letters + stem).lower()


def _plain(base: str) -> str:
    """What makes two company names the same here: case, "The" and "&" aside."""
    return base.lower().removeprefix("the ").replace(" & ", " and ")


def _with_form(rng: random.Random, base: str, form: str) -> str:
    if not form:
        return base
    return f"{base}, {form}" if form.startswith("Inc") and rng.random() < 0.3 else f"{base} {form}"


def _written(rng: random.Random, domain: str) -> str:
    """A domain as people type it into a CRM."""
    roll = rng.random()
    if roll < 0.8:
        return domain
    if roll < 0.86:
        return f"https://www.{domain}/"
    if roll < 0.92:
        return f"www.{domain.capitalize()}"
    if roll < 0.96:
        return domain.upper()
    return f"http://{domain}/about"


class _Accounts:
    """The accounts made so far and the names and domains they took."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.accounts: list[Account] = []
        self.companies: list[tuple[int, str, str | None]] = []  # (index, base name, domain)
        self.names: set[str] = set()
        self.domains: set[str] = set()

    def _append(self, base: str, form: str, domain: str | None, parent_id: str | None) -> None:
        rng = self.rng
        status = AccountStatus.CUSTOMER if rng.random() < 0.15 else AccountStatus.PROSPECT
        stage = None
        if status is AccountStatus.PROSPECT and rng.random() < 0.12:
            stage = rng.choice(("Discovery", "Demo", "Proposal", "Negotiation"))
        self.names.add(_plain(base))
        if domain:
            self.domains.add(domain)
        self.companies.append((len(self.accounts), base, domain))
        self.accounts.append(
            Account(
                id=f"acc{len(self.accounts):07d}",
                name=_with_form(rng, base, form),
                domain=_written(rng, domain) if domain else None,
                parent_id=parent_id,
                owner_id=f"rep{rng.randrange(500):03d}",
                status=status,
                opportunity_stage=stage,
                employees=int(rng.lognormvariate(4.5, 1.6)) + 1,
            )
        )

    def add_company(self) -> None:
        rng = self.rng
        forms, tlds, _, _ = _COUNTRIES[_country(rng)]
        base, slug = _base_name(rng)
        while _plain(base) in self.names:
            base, slug = _base_name(rng)
        if rng.random() < 0.04:
            base = f"The {base}"
        domain: str | None = f"{slug}.{rng.choice(tlds)}"
        while domain in self.domains:
            domain = f"{slug}{rng.choice(('hq', 'group', 'global', 'inc'))}.{tlds[0]}"
            slug += str(rng.randrange(10))
        if rng.random() < 0.03:
            domain = None
        self._append(base, rng.choice(forms), domain, None)

    def add_subsidiary(self) -> bool:
        rng = self.rng
        index, parent_base, parent_domain = rng.choice(self.companies)
        forms, tlds, word, sub = _COUNTRIES[rng.choice(_COUNTRY_LIST[1:])]
        base = f"{parent_base.removeprefix('The ')} {word}"
        if _plain(base) in self.names:
            return False
        label = (parent_domain or base).split(".")[0].replace(" ", "").lower()
        own = f"{label}.{tlds[0]}"
        pick = rng.random()
        domain: str | None = None
        if parent_domain and (pick < 0.3 or own in self.domains):
            domain = f"{sub}.{parent_domain}"
        elif pick < 0.8 and own not in self.domains:
            domain = own
        self._append(base, rng.choice(forms), domain, self.accounts[index].id)
        return True

    def add_duplicate(self) -> None:
        rng = self.rng
        index, base, domain = rng.choice(self.companies)
        original = self.accounts[index]
        self.accounts.append(
            Account(
                id=f"acc{len(self.accounts):07d}",
                name=original.name if rng.random() < 0.5 else base,
                domain=_written(rng, domain) if domain and rng.random() < 0.7 else None,
                parent_id=original.parent_id,
                owner_id=f"rep{rng.randrange(500):03d}",
            )
        )


def noisy_accounts(n: int, seed: int = 1) -> list[Account]:
    """`n` accounts with realistic names, domains, subsidiaries and duplicate records."""
    made = _Accounts(random.Random(seed))
    while len(made.accounts) < n:
        roll = made.rng.random()
        if made.companies and roll < 0.02:
            made.add_duplicate()
        elif made.companies and roll < 0.08 and made.add_subsidiary():
            continue
        else:
            made.add_company()
    return made.accounts


_FORM_ENDINGS = tuple(sorted((f" {f}" for f in _ALL_FORMS), key=len, reverse=True))


def _split_form(name: str) -> tuple[str, str]:
    """'Acme Analytics, Inc.' -> ('Acme Analytics', 'Inc.')."""
    for ending in _FORM_ENDINGS:
        if name.endswith(ending):
            return name[: -len(ending)].rstrip(","), ending[1:]
    return name, ""


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard slip in a word of three letters or more."""
    words = text.split(" ")
    places = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha()]
    if not places:
        return text
    at = rng.choice(places)
    word = words[at]
    # Slips rarely hit a word's first letter (a few percent of misspellings do).
    pos = rng.randrange(1, len(word)) if rng.random() < 0.95 else 0
    kind = rng.random()
    if kind < 0.4:
        near = _NEAR.get(word[pos].lower()) or "e"
        slip = rng.choice(near)
        word = word[:pos] + (slip.upper() if word[pos].isupper() else slip) + word[pos + 1 :]
    elif kind < 0.65:
        word = word[:pos] + word[pos + 1 :]
    elif kind < 0.85:
        word = word[:pos] + word[pos] + word[pos:]
    elif pos + 1 < len(word):
        swapped = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        word = swapped.capitalize() if word[0].isupper() and word[1:].islower() else swapped
    words[at] = word
    return " ".join(words)


def _noisy_company(rng: random.Random, name: str) -> str:
    """A company name as a lead types it: legal form, "The", "&", typos and case vary."""
    base, form = _split_form(name)
    roll = rng.random()
    if roll < 0.25:
        form = ""
    elif roll < 0.45 or (not form and roll < 0.55):
        form = rng.choice(_ALL_FORMS)
    if base.startswith("The "):
        base = base[4:] if rng.random() < 0.5 else base
    elif rng.random() < 0.04:
        base = f"The {base}"
    if " & " in base and rng.random() < 0.5:
        base = base.replace(" & ", " and ")
    elif " and " in base and rng.random() < 0.5:
        base = base.replace(" and ", " & ")
    if rng.random() < 0.25:
        base = _typo(rng, base)
        if rng.random() < 0.3:
            base = _typo(rng, base)
    text = f"{base} {form}" if form else base
    roll = rng.random()
    if roll < 0.1:
        return text.upper()
    if roll < 0.2:
        return text.lower()
    return text


def _rank(account: Account) -> tuple[int, str]:
    if account.status == AccountStatus.CUSTOMER:
        return 0, account.id
    return (1 if account.opportunity_stage else 2), account.id


def _lead_fields(
    rng: random.Random,
    number: int,
    company: str | None,
    domain: str | None,
    host: str | None,
    may_drop_company: bool,
) -> dict[str, Any]:
    """A lead's fields: `domain` is the company's registrable domain, `host` its website host.

    The company name is left out of some leads with a corporate domain, when
    `may_drop_company` says that domain alone identifies the company.
    """
    first, last = rng.choice(_FIRST), rng.choice(_SURNAMES).lower()
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", first))
    roll = rng.random()
    email = email_domain = None
    if domain and roll < 0.62:
        email_domain = domain if host == domain or rng.random() < 0.8 else host
    elif roll < 0.9 or not company:
        email_domain = rng.choice(FREE_MAIL_DOMAINS)
    if email_domain:
        email = f"{local}@{email_domain}"
    free = email_domain in FREE_MAIL_DOMAINS if email_domain else None
    website = None
    if domain and rng.random() < 0.25:
        website = rng.choice(
            (
                f"https://www.{host}",
                f"{host}",
                f"http://{host}/contact",
                f"WWW.{host.upper() if host else ''}",
                f"https://{rng.choice(('eu', 'shop', 'info'))}.{host}/",
            )
        )
    has_domain = bool(website or (email_domain and not free))
    if company and has_domain and may_drop_company and rng.random() < 0.08:
        company = None
    return {
        "id": f"lead-{number:06d}",
        "first_name": first.capitalize(),
        "last_name": last.capitalize(),
        "email": email,
        "email_domain": email_domain,
        "free_email": free,
        "domain": domain if has_domain else None,
        "website": website,
        "company": company,
        "company_key": company_key(company) or None,
    }


def _other_tld(rng: random.Random, domain: str, taken: set[str]) -> str | None:
    label = domain.split(".", 1)[0]
    for tld in rng.sample(("de", "net", "io", "co.uk", "eu", "fr"), 6):
        other = f"{label}.{tld}"
        if other != domain and other not in taken:
            return other
    return None


def noisy_leads(
    accounts: Sequence[Account], n: int, seed: int = 2
) -> list[tuple[dict[str, Any], str | None]]:
    """`n` noisy leads, each with the id of the account it should match (None: no account)."""
    rng = random.Random(seed)
    keys = [company_key(a.name) for a in accounts]
    label_of: dict[str, Account] = {}
    for account, key in zip(accounts, keys, strict=True):
        held = label_of.get(key)
        if held is None or _rank(account) < _rank(held):
            label_of[key] = account
    domains = {d for a in accounts if a.domain and (d := registrable_domain(a.domain))}
    taken_keys = set(keys)
    leads: list[tuple[dict[str, Any], str | None]] = []
    for number in range(n):
        if not accounts or rng.random() < 0.15:
            base, slug = _base_name(rng)
            while company_key(base) in taken_keys:
                base, slug = _base_name(rng)
            forms, tlds, _, _ = _COUNTRIES[_country(rng)]
            domain = f"{slug}.{rng.choice(tlds)}"
            if domain in domains:
                domain = f"{slug}-{rng.choice(('team', 'hq', 'labs'))}.{tlds[0]}"
            name = _with_form(rng, base, rng.choice(forms))
            company = _noisy_company(rng, name)
            while company_key(company) in taken_keys:  # a typo that makes it an account's name
                company = _noisy_company(rng, name)
            fields = _lead_fields(rng, number, company, domain, domain, True)
            leads.append((fields, None))
            continue
        index = rng.randrange(len(accounts))
        account = accounts[index]
        truth = label_of[keys[index]] if keys[index] else account
        written = account.domain or truth.domain
        host = registrable = None
        if written:
            host = written.lower().split("://")[-1].removeprefix("www.").split("/")[0]
            registrable = registrable_domain(host)
        indexed = registrable is not None and host == registrable
        if registrable is None:
            registrable = host = f"{company_key(account.name).replace(' ', '')[:24]}.com"
            if registrable in domains:
                registrable = host = registrable.replace(".com", "-team.com")
        elif rng.random() < 0.04 and (other := _other_tld(rng, registrable, domains)):
            registrable = host = other
            indexed = False
        company = _noisy_company(rng, account.name)
        fields = _lead_fields(rng, number, company, registrable, host, indexed)
        leads.append((fields, truth.id))
    return leads
