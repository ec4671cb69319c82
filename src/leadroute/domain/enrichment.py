"""Waterfall enrichment: fill a lead's empty fields from providers tried in order, per field.

Pure: the config models, the lookup key, the provider port and the `Waterfall`, which says which
provider to ask next and keeps per-field provenance. The service asks the providers, the cache
and the clock, and hands every answer back to the waterfall.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from leadroute.domain.fields import FieldType, Vocabulary
from leadroute.domain.matching import FREE_MAIL, domain_of

# What a provider may be asked by: the parts of a lead that identify it or its company.
LOOKUP_PARTS = ("domain", "email", "company", "country", "state", "postal_code", "phone")

# Fields the router derives itself; enriching them would fight the derivation.
DERIVED_FIELDS: Mapping[str, str] = {
    "segment": "segment is derived by the router from employees and the org's segments; "
    "enrich employees instead",
    "email_domain": "email_domain is derived from the email address",
    "free_email": "free_email is derived from the email domain",
}

# What the inference provider can work out without any outside source.
INFERABLE_FIELDS = frozenset({"country", "timezone"})

MAX_KEY_LENGTH = 255
FILLED, EMPTY, CACHED = "filled", "empty", "cached"

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", min_length=1, max_length=80)]
LookupPart = Literal["domain", "email", "company", "country", "state", "postal_code", "phone"]

_TEMPLATE = re.compile(r"\$\{(?P<env>[A-Za-z_][A-Za-z0-9_]*)\}|\{(?P<part>[^{}]*)\}")


class ProviderError(Exception):
    """A provider could not answer (timeout, HTTP error, malformed body); the message says how."""


class ProviderSetupError(ValueError):
    """A provider cannot be built from its config (missing file, unknown column, bad URL)."""


# -- templates ---------------------------------------------------------------------------------


def template_parts(template: str) -> tuple[str, ...]:
    """The `{placeholder}` names of a template, in order, without `${VAR}` references."""
    found: list[str] = []
    for match in _TEMPLATE.finditer(template):
        part = match.group("part")
        if part is not None and part not in found:
            found.append(part)
    return tuple(found)


def template_env(template: str) -> tuple[str, ...]:
    """The `${VAR}` environment variables a template reads."""
    return tuple(dict.fromkeys(m.group("env") for m in _TEMPLATE.finditer(template) if m["env"]))


def render(
    template: str,
    *,
    environ: Mapping[str, str],
    key: LookupKey | None = None,
    encode: bool = True,
) -> str:
    """Fill `${VAR}` from `environ` and `{part}` from `key` (URL-encoded when `encode`).

    Raises ProviderError naming what is missing; never includes a variable's value.
    """

    def fill(match: re.Match[str]) -> str:
        env = match.group("env")
        if env is not None:
            value = environ.get(env)
            if value is None:
                raise ProviderError(f"environment variable {env} is not set")
            return value
        part = match.group("part")
        value = key.get(part) if key is not None else None
        if value is None:
            raise ProviderError(f"no {part} to look up")
        return quote(value, safe="") if encode else value

    return _TEMPLATE.sub(fill, template)


# -- config ------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableProviderModel(_Strict):
    """A local table: a CSV file, or a SQL table reached by URL."""

    type: Literal["table"]
    path: str | None = Field(None, description="CSV file, relative to the config's folder")
    url: str | None = Field(None, description="SQLAlchemy URL of a database; ${VAR} allowed")
    table: str | None = Field(None, description="table name (schema.table allowed) with url")
    key: str = Field(min_length=1, description="the column holding the lookup key")
    match: LookupPart | None = Field(
        None,
        description="what of the lead the key column holds; defaults to the key column's name "
        "when it is one of domain, email, company, phone, else domain",
    )
    fields: dict[Name, str] = Field(min_length=1, description="lead field -> column")
    confidence: float = Field(1.0, ge=0, le=1)
    daily_cap: int | None = Field(None, ge=0)
    cache_ttl_hours: float = Field(0, ge=0)

    @model_validator(mode="after")
    def _source(self) -> TableProviderModel:
        if (self.path is None) == (self.url is None):
            raise ValueError("a table provider needs exactly one of path (CSV) or url (database)")
        if (self.url is None) != (self.table is None):
            raise ValueError("a database table provider needs both url and table")
        return self

    @property
    def lookup_part(self) -> str:
        if self.match is not None:
            return self.match
        column = self.key.strip().lower()
        return column if column in ("domain", "email", "company", "phone") else "domain"


class HttpProviderModel(_Strict):
    """A JSON API asked with GET; `${VAR}` in url and headers is read from the environment."""

    type: Literal["http"]
    url: str = Field(description="URL template with {domain}, {email}, {company} ... placeholders")
    headers: dict[str, str] = Field(default_factory=dict)
    fields: dict[Name, str] = Field(min_length=1, description="lead field -> dotted JSON path")
    timeout_ms: int = Field(800, ge=1, le=60_000)
    retries: int = Field(2, ge=0, le=10)
    backoff_ms: int = Field(100, ge=0, le=60_000)
    daily_cap: int | None = Field(None, ge=0)
    cache_ttl_hours: float = Field(720, ge=0)
    confidence: float = Field(0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _template(self) -> HttpProviderModel:
        if not self.url.lower().startswith(("http://", "https://", "${")):
            raise ValueError("url must start with http:// or https://")
        parts = template_parts(self.url)
        unknown = [p for p in parts if p not in LOOKUP_PARTS]
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}} in url (use {', '.join(LOOKUP_PARTS)})"
            )
        if not parts:
            raise ValueError("url needs a placeholder such as {domain} to look a lead up by")
        for name, value in self.headers.items():
            if template_parts(value):
                raise ValueError(f"header {name}: only ${{VAR}} references are allowed")
        return self


class InferenceProviderModel(_Strict):
    """Inference from the lead itself: country from the phone, time zone from country/state."""

    type: Literal["inference"]
    fields: list[Literal["country", "timezone"]] | None = Field(
        None, description="what to infer; default both"
    )
    confidence: float = Field(0.6, ge=0, le=1)


AnyProviderModel = TableProviderModel | HttpProviderModel | InferenceProviderModel
ProviderModel = Annotated[AnyProviderModel, Field(discriminator="type")]


def capabilities(model: AnyProviderModel) -> frozenset[str]:
    """The lead fields a provider can give."""
    if isinstance(model, InferenceProviderModel):
        return frozenset(model.fields) if model.fields is not None else INFERABLE_FIELDS
    return frozenset(model.fields)


class EnrichmentConfig(_Strict):
    """The `enrichment:` section: providers, and per field the providers to try in order."""

    wait_ms: int = Field(
        1500, ge=0, le=60_000, description="how long routing waits for enrichment at most"
    )
    policy: Literal["wait", "route_now"] = Field(
        "wait",
        description="wait: enrich (within wait_ms) before deciding; route_now: decide at once, "
        "then re-route if the filled fields change the route. A node's `enrichment:` overrides",
    )
    providers: dict[Name, ProviderModel] = Field(default_factory=dict)
    fields: dict[Name, list[Name]] = Field(
        default_factory=dict, description="field -> providers to try, in order"
    )

    @model_validator(mode="after")
    def _references(self) -> EnrichmentConfig:
        problems: list[InitErrorDetails] = []

        def problem(loc: tuple[str | int, ...], message: str, value: Any) -> None:
            problems.append(
                InitErrorDetails(
                    type=PydanticCustomError("enrichment", message),
                    loc=loc,
                    input=value,
                )
            )

        for name, chain in self.fields.items():
            if name in DERIVED_FIELDS:
                problem(("fields", name), DERIVED_FIELDS[name], chain)
                continue
            if not chain:
                problem(("fields", name), f"{name} needs at least one provider", chain)
            seen: set[str] = set()
            for index, provider in enumerate(chain):
                model = self.providers.get(provider)
                if provider in seen:
                    problem(
                        ("fields", name, index), f"provider {provider} is listed twice", provider
                    )
                elif model is None:
                    known = ", ".join(sorted(self.providers)) or "none"
                    problem(
                        ("fields", name, index),
                        f"unknown provider {provider} (providers: {known})",
                        provider,
                    )
                elif name not in capabilities(model):
                    problem(
                        ("fields", name, index),
                        _cannot_give(provider, model, name),
                        provider,
                    )
                seen.add(provider)
        if problems:
            raise ValidationError.from_exception_data("EnrichmentConfig", problems)
        return self


def _cannot_give(provider: str, model: AnyProviderModel, field_name: str) -> str:
    if isinstance(model, InferenceProviderModel):
        if field_name in INFERABLE_FIELDS:
            return (
                f"provider {provider} is set to infer only {', '.join(sorted(capabilities(model)))}"
            )
        return (
            f"the inference provider {provider} never invents {field_name}; "
            f"it infers only {', '.join(sorted(INFERABLE_FIELDS))}"
        )
    return f"provider {provider} has no mapping for {field_name} (add it under its fields)"


# -- lookup keys ---------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


@dataclass(frozen=True, slots=True)
class LookupKey:
    """What identifies a lead to a provider, normalised."""

    domain: str | None = None
    email: str | None = None
    company: str | None = None
    country: str | None = None
    state: str | None = None
    postal_code: str | None = None
    phone: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> LookupKey:
        email = _text(fields.get("email"))
        email = email.lower() if email and "@" in email else None
        domain = domain_of(fields.get("domain")) or domain_of(fields.get("website"))
        if domain is None and email is not None:
            email_domain = domain_of(email)
            if email_domain not in FREE_MAIL and fields.get("free_email") is not True:
                domain = email_domain
        country = _text(fields.get("country"))
        return cls(
            domain=domain,
            email=email,
            company=_text(fields.get("company")),
            country=country.upper() if country else None,
            state=_text(fields.get("state")),
            postal_code=_text(fields.get("postal_code")),
            phone=_text(fields.get("phone")) or _text(fields.get("mobile_phone")),
        )

    def get(self, part: str) -> str | None:
        if part not in LOOKUP_PARTS:
            raise KeyError(part)
        value: str | None = getattr(self, part)
        return value


def lookup_text(model: AnyProviderModel, key: LookupKey) -> str | None:
    """The cache key of `key` for this provider, or None when the lead lacks what it needs."""
    if isinstance(model, TableProviderModel):
        parts: tuple[str, ...] = (model.lookup_part,)
    elif isinstance(model, HttpProviderModel):
        parts = template_parts(model.url)
    else:
        parts = tuple(p for p in ("phone", "country", "state", "postal_code") if key.get(p))
        if not parts:
            return None
    values = [(part, key.get(part)) for part in sorted(parts)]
    if any(value is None for _, value in values):
        return None
    text = "|".join(f"{part}:{value}" for part, value in values)
    if len(text) > MAX_KEY_LENGTH:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


# -- ports ---------------------------------------------------------------------------------------


class Provider(Protocol):
    """An enrichment source. `lookup` raises ProviderError when it cannot answer."""

    name: str
    fields: frozenset[str]

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        """The lead fields found for `key` (only those found); `budget_ms` bounds the wait."""
        ...


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    fields: dict[str, Any]
    fetched_at: datetime


class EnrichmentState(Protocol):
    """The cache of provider answers and the daily call counters, shared by every process."""

    def cached(self, provider: str, key: str, *, fresh_since: datetime) -> CachedAnswer | None: ...

    def put(
        self, provider: str, key: str, fields: Mapping[str, Any], *, fetched_at: datetime
    ) -> None: ...

    def take_call(self, provider: str, day: str, *, cap: int | None) -> bool:
        """Count one call for `provider` on `day`, unless `cap` calls were counted already."""
        ...


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Provenance:
    provider: str
    at: datetime
    confidence: float
    cached: bool


@dataclass(frozen=True, slots=True)
class Attempt:
    provider: str
    field: str | None
    outcome: str  # filled, empty, cached, "error: ...", "skipped: ..."


@dataclass
class EnrichmentResult:
    fields: dict[str, Any]
    provenance: dict[str, Provenance]
    attempts: list[Attempt]
    elapsed_ms: float

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready form for the decision record."""
        return {
            "fields": dict(self.fields),
            "provenance": {
                name: {
                    "provider": p.provider,
                    "at": p.at.isoformat(),
                    "confidence": p.confidence,
                    "cached": p.cached,
                }
                for name, p in self.provenance.items()
            },
            "attempts": [
                {"provider": a.provider, "field": a.field, "outcome": a.outcome}
                for a in self.attempts
            ],
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What asking a provider gave: its fields (from a call or the cache), or why none."""

    fields: Mapping[str, Any] | None
    outcome: str = ""
    at: datetime | None = None
    cached: bool = False

    @classmethod
    def found(cls, fields: Mapping[str, Any], *, at: datetime, cached: bool = False) -> Answer:
        return cls(dict(fields), at=at, cached=cached)

    @classmethod
    def failed(cls, message: str) -> Answer:
        return cls(None, f"error: {message}")

    @classmethod
    def skipped(cls, reason: str) -> Answer:
        return cls(None, f"skipped: {reason}")


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set) and not value


# -- the waterfall -------------------------------------------------------------------------------


@dataclass
class Waterfall:
    """Per field, the configured providers in order until one fills it; each asked once.

    Drive it with `next_provider()` and `record(provider, answer)` until `next_provider()`
    returns None, then take `result()`.
    """

    config: EnrichmentConfig
    lead: Mapping[str, Any]
    wanted: Iterable[str] | None = None
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    targets: list[str] = field(init=False)
    filled: dict[str, Any] = field(init=False, default_factory=dict)
    provenance: dict[str, Provenance] = field(init=False, default_factory=dict)
    attempts: list[Attempt] = field(init=False, default_factory=list)
    _answers: dict[str, Answer] = field(init=False, default_factory=dict)
    _position: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        wanted = None if self.wanted is None else set(self.wanted)
        self.targets = [
            name
            for name in self.config.fields
            if (wanted is None or name in wanted) and is_empty(self.lead.get(name))
        ]
        self._position = dict.fromkeys(self.targets, 0)

    def next_provider(self) -> str | None:
        """The provider to ask next, or None when every wanted field is filled or out of options."""
        for name in self.targets:
            chain = self.config.fields[name]
            while name not in self.filled and self._position[name] < len(chain):
                provider = chain[self._position[name]]
                answer = self._answers.get(provider)
                if answer is None:
                    return provider
                self._apply(name, provider, answer)
                self._position[name] += 1
        return None

    def record(self, provider: str, answer: Answer) -> None:
        if provider in self._answers:
            raise ValueError(f"provider {provider} was already asked for this lead")
        self._answers[provider] = answer

    @property
    def known(self) -> dict[str, Any]:
        """The lead with the fields filled so far."""
        return {**self.lead, **self.filled}

    def result(self, elapsed_ms: float) -> EnrichmentResult:
        return EnrichmentResult(
            dict(self.filled), dict(self.provenance), list(self.attempts), elapsed_ms
        )

    def _apply(self, name: str, provider: str, answer: Answer) -> None:
        if answer.fields is None:
            self.attempts.append(Attempt(provider, name, answer.outcome))
            return
        raw = answer.fields.get(name)
        try:
            value = self._coerce(name, raw)
        except ValueError as exc:
            self.attempts.append(Attempt(provider, name, f"error: invalid value: {exc}"))
            return
        if is_empty(value):
            self.attempts.append(Attempt(provider, name, EMPTY))
            return
        assert answer.at is not None
        self.filled[name] = value
        confidence = self.config.providers[provider].confidence
        self.provenance[name] = Provenance(provider, answer.at, confidence, answer.cached)
        self.attempts.append(Attempt(provider, name, CACHED if answer.cached else FILLED))

    def _coerce(self, name: str, value: Any) -> Any:
        spec = self.vocabulary.get(name)
        if isinstance(value, dict):
            raise ValueError(f"{name} must be a single value, got an object")
        if isinstance(value, list | tuple) and (spec is None or spec.type is not FieldType.LIST):
            raise ValueError(f"{name} must be a single value, got a list")
        return self.vocabulary.coerce(name, value)
