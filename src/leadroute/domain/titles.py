"""Seniority and department from a job title, by keyword rules.

    classify_title("SVP, Sales")             -> ("vp", "sales")
    classify_title("Co-Founder & CTO")       -> ("c_level", "engineering")
    classify_title("Directeur Commercial")   -> ("director", "sales")
    classify_title("Geschäftsführer")        -> ("c_level", "executive")

A title is folded (case, accents, punctuation), its abbreviations spelled out, then matched
word by word. Seniority takes the highest level any rule finds. Department takes the function
named first in the title (so "Marketing Operations Manager" is marketing); executive words
(CEO, founder, owner, ...) give "executive" only when no function is named. A title with
words but no rule gives ("individual_contributor", "other"); an empty or placeholder title
gives (None, None).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SENIORITIES = ("c_level", "vp", "director", "manager", "individual_contributor")
DEPARTMENTS = (
    "sales",
    "marketing",
    "engineering",
    "it",
    "finance",
    "operations",
    "hr",
    "product",
    "customer_success",
    "legal",
    "executive",
    "other",
)

# Word-for-word spellings of common abbreviations (after folding).
_ABBREVIATIONS = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "mgr": "manager",
    "dir": "director",
    "eng": "engineering",
    "engg": "engineering",
    "mktg": "marketing",
    "mkt": "marketing",
    "ops": "operations",
    "acct": "account",
    "svp": "vp",
    "evp": "vp",
    "avp": "vp",
    "vicepresident": "vp",
    "cofounder": "founder",
    "tech": "technology",
    "bizdev": "business development",
    "revops": "revenue operations",
    "salesops": "sales operations",
    "devops": "devops engineering",
    "swe": "software engineer",
    "sde": "software engineer",
    "geschaeftsfuehrer": "geschaftsfuhrer",
}

# fmt: off
_C_LEVEL_WORDS = frozenset({
    "chief", "ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "ciso", "cso", "cpo", "cco",
    "cdo", "chro", "clo", "cxo", "founder", "owner", "president", "chairman", "chairwoman",
    "chair", "geschaftsfuhrer", "geschaftsfuhrerin", "pdg", "vorstand",
})
# fmt: on
_C_LEVEL_PHRASES = (
    "managing director",
    "managing partner",
    "general partner",
    "founding partner",
    "directeur general",
    "director general",
    "directora general",
    "board member",
)
_NOT_C_LEVEL = (
    "vice president",
    "vp",
    "product owner",
    "process owner",
    "assistant to",
    "executive assistant",
)
_VP_WORDS = frozenset({"vp"})
_DIRECTOR_WORDS = frozenset(
    {"director", "directeur", "directrice", "directora", "diretor", "diretora", "head", "leiter"}
)
_MANAGER_WORDS = frozenset(
    {"manager", "supervisor", "gerente", "responsable", "lead", "teamleiter", "teamlead", "chef"}
)
# "manager"/"lead" in these names a role, not a rank.
_IC_PHRASES = (
    "account manager",
    "success manager",
    "relationship manager",
    "lead generation",
    "lead gen",
    "lead development",
    "assistant to",
    "executive assistant",
)

# (department, phrases); each phrase is matched on word boundaries of the folded title.
# fmt: off
_DEPARTMENT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "operations",
        ("revenue operations", "operations", "operating", "coo", "supply chain", "logistics",
         "procurement", "purchasing", "facilities", "einkauf"),
    ),
    (
        "marketing",
        ("marketing", "product marketing", "cmo", "growth", "demand generation", "demand gen",
         "lead generation", "lead gen", "brand", "content", "seo", "communications",
         "public relations", "pr", "social media", "events"),
    ),
    (
        "sales",
        ("sales", "sales engineer", "sales operations", "account executive", "ae", "sdr", "bdr",
         "bdm", "business development", "account manager", "key account", "revenue", "cro",
         "commercial", "commerciale", "comercial", "vertrieb", "ventes", "ventas", "vendas",
         "partnerships", "channel", "inside sales", "presales", "pre sales"),
    ),
    (
        "product",
        ("product", "cpo", "product owner", "ux", "ui", "user experience", "design", "designer"),
    ),
    (
        "engineering",
        ("engineering", "engineer", "developer", "software", "devops", "sre", "cto",
         "technology", "technical", "programmer", "architect", "qa", "quality assurance",
         "data", "r and d", "research and development", "ingenieur", "ingeniero",
         "developpeur", "desarrollador", "entwickler", "machine learning"),
    ),
    (
        "it",
        ("it", "information technology", "information", "cio", "ciso", "system administrator",
         "systems administrator", "sysadmin", "helpdesk", "help desk", "network",
         "infrastructure", "security", "informatique"),
    ),
    (
        "finance",
        ("finance", "financial", "cfo", "accounting", "accountant", "controller", "treasurer",
         "fp and a", "bookkeeper", "comptable", "finanzen", "buchhaltung", "daf", "tax",
         "audit", "payroll"),
    ),
    (
        "hr",
        ("hr", "human resources", "people", "talent", "recruiter", "recruiting", "recruitment",
         "chro", "ressources humaines", "rh", "drh", "personnel"),
    ),
    (
        "customer_success",
        ("customer success", "customer support", "customer service", "customer experience",
         "customer", "support", "onboarding", "implementation", "client services"),
    ),
    (
        "legal",
        ("legal", "counsel", "attorney", "lawyer", "paralegal", "compliance", "clo",
         "juriste", "avocat", "jurist"),
    ),
)
# fmt: on
# Executive words below c-level ("General Manager", "Partner", "Board Member").
_EXECUTIVE_PHRASES = ("general manager", "partner", "board", "entrepreneur", "owner")
# German compounds: "Vertriebsleiter", "Marketingleiterin", "Personalreferent".
_COMPOUND_PREFIXES = (
    ("vertrieb", "sales"),
    ("marketing", "marketing"),
    ("personal", "hr"),
    ("finanz", "finance"),
    ("buchhalt", "finance"),
    ("einkauf", "operations"),
    ("entwickl", "engineering"),
    ("software", "engineering"),
)
_LEITER = ("leiter", "leiterin")
_PLACEHOLDERS = frozenset({"", "na", "n a", "none", "null", "unknown", "other", "tbd"})

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _fold(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words: list[str] = []
    initials = False  # "C.E.O", "V.P." -> "ceo", "vp"
    for word in _NOT_WORD.sub(" ", bare.replace("&", " and ")).split():
        if len(word) == 1 and initials:
            words[-1] += word
        else:
            words.append(word)
            initials = len(word) == 1
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _find(padded: str, phrase: str) -> int:
    """Where ` phrase ` starts in the padded title, or -1."""
    return padded.find(f" {phrase} ")


def _seniority(padded: str, words: set[str]) -> str:
    ic = any(_find(padded, p) >= 0 for p in _IC_PHRASES)
    if not ic or "chief" in words:
        blocked = any(_find(padded, p) >= 0 for p in _NOT_C_LEVEL)
        c_words = words & _C_LEVEL_WORDS
        if blocked:
            # "Vice President", "Product Owner": drop the words those phrases explain.
            c_words -= {"president", "owner"}
            if _find(padded, "assistant to") >= 0 or _find(padded, "executive assistant") >= 0:
                c_words = set()
        if c_words or any(_find(padded, p) >= 0 for p in _C_LEVEL_PHRASES):
            return "c_level"
        if padded == " partner ":
            return "c_level"
    if words & _VP_WORDS or _find(padded, "vice president") >= 0:
        return "vp"
    if words & _DIRECTOR_WORDS or _find(padded, "general manager") >= 0:
        return "director"
    if any(w.endswith(_LEITER) and not w.startswith("team") for w in words):
        return "director"  # "Vertriebsleiter"; a "Teamleiter" is a team lead
    if not ic and words & _MANAGER_WORDS:
        return "manager"
    return "individual_contributor"


def _department(padded: str, words: list[str], seniority: str) -> str:
    best: tuple[int, int, str] | None = None  # (position, -length, department)
    for department, phrases in _DEPARTMENT_RULES:
        for phrase in phrases:
            at = _find(padded, phrase)
            if at >= 0:
                candidate = (at, -len(phrase), department)
                if best is None or candidate < best:
                    best = candidate
    if best is not None:
        return best[2]
    for word in words:
        for prefix, department in _COMPOUND_PREFIXES:
            if word.startswith(prefix) and len(word) > len(prefix):
                return department
    if seniority == "c_level" or any(_find(padded, p) >= 0 for p in _EXECUTIVE_PHRASES):
        return "executive"
    return "other"


@lru_cache(maxsize=16_384)
def classify_title(title: str | None) -> tuple[str | None, str | None]:
    """(seniority, department) for a job title; (None, None) for an empty one."""
    if not title:
        return None, None
    folded = _fold(title)
    if folded in _PLACEHOLDERS or not any(ch.isalpha() for ch in folded):
        return None, None
    padded = f" {folded} "
    words = folded.split()
    seniority = _seniority(padded, set(words))
    return seniority, _department(padded, words, seniority)
