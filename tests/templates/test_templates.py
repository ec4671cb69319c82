"""Every shipped template parses, compiles against the sample org, and routes sample leads."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import leadroute.templates
from leadroute.adapters.leadfile import build_lead
from leadroute.adapters.memory import MemoryRoutingState
from leadroute.adapters.orgfile import org_from_doc
from leadroute.domain.checks import lint
from leadroute.domain.config import RoutingConfig, compile_config
from leadroute.domain.decision import Decision, NodeTrace, Outcome
from leadroute.domain.distribution import RepLoad, unavailable, weight_of
from leadroute.domain.engine import Router, sticky_key
from leadroute.domain.fields import Vocabulary
from leadroute.domain.intent import Activity
from leadroute.domain.lead import Lead
from leadroute.domain.normalize import Normalizer
from leadroute.domain.org import Account, Org
from leadroute.domain.scoring import Signals
from leadroute.domain.yamldoc import load_with_lines
from leadroute.sample import FREE_MAIL_DOMAINS, generate_leads, sample_org_doc

TEMPLATE_DIR = Path(leadroute.templates.__file__).parent
TEMPLATES = sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml"))
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday: NA and EMEA at work, APAC not
LEADS = 2_000


@dataclass
class Routed:
    row: dict[str, object]
    lead: Lead
    account: Account | None
    data: dict[str, Any]
    decision: Decision


@dataclass
class Run:
    config: RoutingConfig
    org: Org
    routed: list[Routed]
    rejected: int

    def by_node(self, node: str) -> list[Routed]:
        return [r for r in self.routed if r.decision.node == node]


@cache
def sample_org() -> Org:
    return org_from_doc(sample_org_doc())


@cache
def sample_rows() -> tuple[dict[str, object], ...]:
    return tuple(generate_leads(sample_org_doc(), LEADS))


def account_for(row: dict[str, object], org: Org) -> Account | None:
    """The account whose domain is the lead's email domain or `domain` (free mail skipped)."""
    for key in ("email", "domain"):
        value = row.get(key)
        if not isinstance(value, str) or not value:
            continue
        domain = value.rsplit("@", 1)[-1].strip().lower()
        if domain in FREE_MAIL_DOMAINS:
            continue
        account = org.accounts_by_domain.get(domain)
        if account is not None:
            return account
    return None


def load(name: str) -> Any:
    document, lines = load_with_lines((TEMPLATE_DIR / f"{name}.yaml").read_text("utf-8"))
    assert lines  # every value has a line number for error messages
    return document


@cache
def run(name: str) -> Run:
    org = sample_org()
    config, issues = compile_config(load(name), org)
    assert config is not None, issues
    router = Router(config, org)
    state = MemoryRoutingState(org)
    vocabulary = Vocabulary()
    routed: list[Routed] = []
    rejected = 0
    for row in sample_rows():
        try:
            lead = build_lead(row, default_id="unused", vocabulary=vocabulary)
        except ValueError:
            rejected += 1
            continue
        account = account_for(row, org)
        data = router.context(lead, account)
        decision = router.route(lead, now=NOW, state=state, account=account, data=data)
        state.apply(decision, sticky_key(data))
        routed.append(Routed(row, lead, account, data, decision))
    return Run(config, org, routed, rejected)


def available(org: Org, rep_id: str | None) -> bool:
    """Whether an owner can take a lead now (direct assignment ignores hours and caps)."""
    if rep_id is None:
        return False
    return unavailable(org.reps.get(rep_id), NOW, RepLoad(), hours=False, caps=False) is None


def pool_trace(decision: Decision, pool: str) -> NodeTrace | None:
    return next((t for t in decision.nodes if t.pool == pool and t.candidates), None)


def team_of(org: Org, team: str) -> set[str]:
    return set(org.team_members(team))


# --- every template ------------------------------------------------------------------------------


def test_the_shipped_set() -> None:
    shipped = [
        "account_based",
        "fit_intent",
        "industry_verticals",
        "performance_weighted",
        "product_line",
        "round_robin_small_team",
        "sdr_first_vs_ae_fast_track",
        "territory_segment",
    ]
    assert shipped == TEMPLATES
    root_link = Path(__file__).resolve().parents[2] / "templates"
    if root_link.exists():
        assert root_link.resolve() == TEMPLATE_DIR.resolve()


@pytest.mark.parametrize("name", TEMPLATES)
def test_parses_and_compiles_cleanly(name: str) -> None:
    text = (TEMPLATE_DIR / f"{name}.yaml").read_text("utf-8")
    assert sum(1 for line in text.splitlines() if line.lstrip().startswith("#")) >= 15
    config, issues = compile_config(load(name), sample_org())
    assert config is not None
    assert [i for i in issues if i.severity == "error"] == []
    assert issues == []
    assert lint(config, sample_org()) == []
    assert config.nodes[-1].fallback


@pytest.mark.parametrize("name", TEMPLATES)
def test_routes_every_sample_lead(name: str) -> None:
    result = run(name)
    assert result.rejected == LEADS // 500
    assert len(result.routed) + result.rejected == LEADS
    assert len({r.lead.id for r in result.routed}) == len(result.routed)
    outcomes = Counter(r.decision.outcome for r in result.routed)
    assert set(outcomes) <= {Outcome.ROUTED, Outcome.HELD, Outcome.UNROUTED}
    assert sum(outcomes.values()) == len(result.routed)
    nodes = Counter(r.decision.node for r in result.routed if r.decision.node)
    assert sum(nodes.values()) == outcomes[Outcome.ROUTED] + outcomes[Outcome.HELD]
    assert len(nodes) > 1
    for item in result.routed:
        decision = item.decision
        assert decision.lead_id == item.lead.id
        if decision.outcome is Outcome.ROUTED:
            assert (decision.rep_id is None) != (decision.queue is None)
        if decision.rep_id is not None:
            assert decision.rep_id in result.org.reps
            assert decision.booking_link


@pytest.mark.parametrize("name", TEMPLATES)
def test_caps_are_never_exceeded_by_pools(name: str) -> None:
    result = run(name)
    pooled = Counter(
        r.decision.rep_id
        for r in result.routed
        if r.decision.pool is not None and r.decision.rep_id
    )
    for rep_id, count in pooled.items():
        rep = result.org.reps[rep_id]
        for period, limit in rep.caps.items():
            assert count <= limit, (rep_id, period)


# --- round robin for a small team ----------------------------------------------------------------


def test_round_robin_is_even_among_available_reps() -> None:
    result = run("round_robin_small_team")
    picks = [r.decision for r in result.routed if r.decision.pool == "team"]
    traces = [t for d in result.routed if (t := pool_trace(d.decision, "team"))]
    always = set.intersection(*({c.rep_id for c in t.candidates if c.eligible} for t in traces))
    assert len(always) >= 3
    counts = Counter(d.rep_id for d in picks if d.rep_id in always)
    assert max(counts.values()) - min(counts.values()) <= 1
    # the rep on vacation and the inactive/outside-hours reps got nothing
    assert "jasmine.patel" not in counts
    for item in result.by_node("missing_email"):
        assert not item.row.get("email") and item.decision.outcome is Outcome.HELD
    for item in result.by_node("fallback"):
        assert item.decision.queue == "unassigned"


# --- territory x segment -------------------------------------------------------------------------


def test_named_accounts_go_to_their_owner() -> None:
    for name, node in (("territory_segment", "named_accounts"), ("account_based", "named_account")):
        result = run(name)
        checked = 0
        for item in result.routed:
            account = item.account
            if account is None or not account.named:
                continue
            owner = account.owner_id
            if owner is None and account.parent_id:
                owner = result.org.accounts[account.parent_id].owner_id
            if not available(result.org, owner):
                continue
            checked += 1
            assert item.decision.rep_id == owner, (name, account.id)
            if name == "territory_segment":
                assert item.decision.node == node
        assert checked >= 20, name


def test_territory_segment_matrix() -> None:
    result = run("territory_segment")
    org = result.org
    west_ae, west_sdr = team_of(org, "na_west_ae"), team_of(org, "na_west_sdr")
    east_ae, east_sdr = team_of(org, "na_east_ae"), team_of(org, "na_east_sdr")
    expected: dict[str, tuple[Callable[[Routed], bool], set[str] | None]] = {
        "enterprise": (lambda r: r.data["segment"] == "D", team_of(org, "strategic_ae")),
        "bay_area_direct": (
            lambda r: (
                "940" <= str(r.row.get("postal_code", ""))[:3] <= "951"
                and r.data["segment"] in ("B", "C")
            ),
            west_ae,
        ),
        "na_west_mid_market": (lambda r: r.data["segment"] == "C", west_ae),
        "na_west_sdr": (lambda r: r.data["segment"] in ("A", "B", None), west_sdr),
        "na_east_mid_market": (lambda r: r.data["segment"] == "C", east_ae),
        "na_east_sdr": (lambda r: r.data["segment"] in ("A", "B", None), east_sdr),
        "emea_mid_market": (lambda r: r.data["segment"] == "C", team_of(org, "emea_ae")),
        "emea_sdr": (lambda r: r.data["segment"] != "C", team_of(org, "emea_sdr")),
        "latam": (lambda r: r.decision.queue == "latam_partners", None),
    }
    for node, (check, reps) in expected.items():
        items = result.by_node(node)
        assert items, node
        for item in items:
            assert check(item), (node, item.row)
            if reps is not None and item.decision.outcome is Outcome.ROUTED:
                assert item.decision.rep_id in reps, (node, item.decision.rep_id)
    west = org.territories["na_west"]
    for item in result.routed:
        country = item.row.get("country")
        node = item.decision.node or ""
        if country in ("US", "CA"):
            assert node in expected or node == "named_accounts", node
            args = (item.data.get("country"), item.data.get("state"), item.data.get("postal_code"))
            if west.contains(*args) and node.startswith("na_east"):
                # West leads reach the East pods only when the West pod had nobody available
                west_pool = "na_west_ae" if node == "na_east_mid_market" else "na_west_sdr"
                trace = pool_trace(item.decision, west_pool)
                assert trace is not None
                assert not any(c.eligible for c in trace.candidates)
        if node.startswith("apac"):
            assert item.decision.outcome is Outcome.HELD  # APAC is asleep at NOW
        if node == "fallback":
            assert country is None and item.decision.queue == "triage"


def test_west_overflows_to_east_before_the_pacific_morning() -> None:
    org = sample_org()
    config, _ = compile_config(load("territory_segment"), org)
    assert config is not None
    router = Router(config, org)
    early = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 06:30 in Seattle, 09:30 in New York
    cases = {
        "sdr": ({"employees": 30}, "na_east_sdr", "na_east_sdr"),
        "ae": ({"employees": 300}, "na_east_mid_market", "na_east_ae"),
    }
    for fields, node, team in cases.values():
        lead = Lead(
            "west-1",
            {"email": "cto@newco-sample.example", "country": "US", "state": "WA", **fields},
        )
        decision = router.route(lead, now=early, state=MemoryRoutingState(org))
        assert decision.node == node
        assert decision.rep_id in team_of(org, team)


# --- industry verticals --------------------------------------------------------------------------


def test_missing_industry_is_held_for_enrichment() -> None:
    result = run("industry_verticals")
    missing = [r for r in result.routed if not r.row.get("industry")]
    assert len(missing) >= 20
    for item in missing:
        assert item.decision.outcome is Outcome.HELD
        assert item.decision.node == "needs_industry"
        assert "enrichment" in item.decision.reason
    verticals = {
        "financial_services": ({"Financial Services"}, "vertical_fins"),
        "healthcare": ({"Healthcare"}, "vertical_health"),
        "public_sector": ({"Government", "Education"}, "vertical_public"),
        "industrial": ({"Manufacturing", "Logistics", "Energy"}, "vertical_industrial"),
    }
    for node, (industries, team) in verticals.items():
        items = result.by_node(node)
        assert items, node
        for item in items:
            assert item.row["industry"] in industries
            assert item.data["segment"] in ("B", "C", "D")
            assert item.decision.rep_id in team_of(result.org, team)


# --- product line --------------------------------------------------------------------------------


def test_product_line_specialists_and_self_serve() -> None:
    result = run("product_line")
    for node, team in (
        ("payments", "product_payments"),
        ("analytics", "product_analytics"),
        ("platform", "product_platform"),
    ):
        items = result.by_node(node)
        assert len(items) >= 50, node
        for item in items:
            assert str(item.row["product_interest"]).lower() == node
            assert item.decision.rep_id in team_of(result.org, team)
    small = result.by_node("small_self_serve")
    assert len(small) >= 100
    for item in small:
        assert item.data["segment"] == "A"
        assert item.decision.redirect_url == "https://www.leadroute-demo.example/signup"


# --- account based -------------------------------------------------------------------------------


def test_account_based_precedence() -> None:
    result = run("account_based")
    org = result.org
    owners = holds = 0
    for item in result.routed:
        account, decision = item.account, item.decision
        if account is None:
            assert decision.node is not None
            assert not decision.node.startswith(("customer", "open_", "named", "known"))
            continue
        if account.status == "customer" and available(org, account.owner_id):
            assert decision.node == "customer_owner"
            assert decision.rep_id == account.owner_id
            owners += 1
        elif account.status == "customer":
            assert decision.node == "customer_csm"
            assert decision.rep_id in team_of(org, "csm")
        elif account.opportunity_stage and account.owner_id:
            assert decision.node == "open_opportunity"
            if available(org, account.owner_id):
                assert decision.rep_id == account.owner_id
            else:
                assert decision.outcome is Outcome.HELD
                holds += 1
    assert owners >= 20 and holds >= 1


def test_account_based_pools_are_sticky_per_account() -> None:
    result = run("account_based")
    reps_by_account: dict[str, set[str]] = {}
    for node in ("known_account_na", "known_account_emea"):
        for item in result.by_node(node):
            assert item.account is not None and item.decision.rep_id
            reps_by_account.setdefault(item.account.id, set()).add(item.decision.rep_id)
    repeated = [reps for reps in reps_by_account.values()]
    single = sum(1 for reps in repeated if len(reps) == 1)
    assert len(repeated) >= 30
    assert single / len(repeated) >= 0.9


# --- performance weighted ------------------------------------------------------------------------


@pytest.mark.parametrize("pool_id", ["na_ae", "emea_ae", "na_sdr", "emea_sdr"])
def test_weighted_shares_follow_weights(pool_id: str) -> None:
    result = run("performance_weighted")
    pool = result.config.pools[pool_id]
    assert pool.method == "weighted"
    first: set[str] | None = None
    counts: Counter[str] = Counter()
    for item in result.routed:
        trace = pool_trace(item.decision, pool_id)
        if trace is None:
            continue
        eligible = {c.rep_id for c in trace.candidates if c.eligible}
        first = eligible if first is None else first
        if eligible != first or item.decision.pool != pool_id:
            break  # someone hit a cap or the overload guard: the prefix ends here
        assert item.decision.rep_id is not None
        counts[item.decision.rep_id] += 1
    assert first is not None and len(first) >= 2
    picks = sum(counts.values())
    assert picks >= 30
    weights = {r: weight_of(pool, result.org.reps[r]) for r in first}
    total = sum(weights.values())
    assert len(set(weights.values())) > 1  # the weights really differ
    for rep_id, weight in weights.items():
        assert abs(counts[rep_id] - picks * weight / total) <= 1.0 + 1e-9, (rep_id, counts)


def test_overload_guard_and_overflow() -> None:
    result = run("performance_weighted")
    for pool in result.config.pools.values():
        assert pool.max_open is not None
        per_rep = Counter(r.decision.rep_id for r in result.routed if r.decision.pool == pool.id)
        assert all(count <= pool.max_open for count in per_rep.values()), pool.id
    assert result.config.pools["emea_ae"].weights == {"thomas.mueller": 0.5}
    # once the NA AEs are full, mid-market NA leads overflow to the NA SDRs
    overflow = [r for r in result.by_node("na_sdr") if r.data["segment"] in ("C", "D")]
    assert overflow


# --- SDR first vs AE fast track ------------------------------------------------------------------


def test_fast_track_and_sdr_first() -> None:
    result = run("sdr_first_vs_ae_fast_track")
    org = result.org
    ae_reps = (
        team_of(org, "na_ae")
        | team_of(org, "emea_ae")
        | team_of(org, "apac_ae")
        | team_of(org, "strategic_ae")
    )
    sdr_reps = team_of(org, "na_sdr") | team_of(org, "emea_sdr") | team_of(org, "apac_sdr")
    fast = [r for r in result.routed if (r.decision.node or "").startswith("fast_track")]
    assert len(fast) >= 30
    for item in fast:
        assert item.row["request_type"] == "demo"
        score = item.data.get("score")
        assert item.data["segment"] in ("C", "D") or (isinstance(score, int) and score >= 80)
        assert item.decision.rep_id in ae_reps
    for item in result.routed:
        node = item.decision.node or ""
        if node.startswith("sdr_") and item.decision.rep_id:
            assert item.decision.rep_id in sdr_reps
            assert item.data["segment"] != "A"
    for item in result.by_node("self_serve"):
        assert item.data["segment"] == "A"
        assert item.decision.redirect_url and item.decision.message
    nurture = result.by_node("nurture")
    assert nurture
    for item in nurture:
        score, title = item.data.get("score"), str(item.row.get("title", ""))
        low = isinstance(score, int) and score < 25
        junior = re.search(r"\b(student|intern)\b", title, re.IGNORECASE) is not None
        anonymous = not item.row.get("company")
        assert low or junior or anonymous
    # a demo request from a mid-market NA company never waits for SDR qualification
    for item in result.routed:
        if (
            item.row.get("request_type") == "demo"
            and item.data["segment"] == "C"
            and item.row.get("country") == "US"
            and (item.decision.node or "") != "nurture"
        ):
            assert item.decision.rep_id in ae_reps or item.decision.rep_id is None


# --- fit x intent --------------------------------------------------------------------------------


@cache
def run_with_intent() -> Run:
    """The fit_intent template over normalised sample leads (seniority from titles), every
    third lead with a demo request yesterday and every seventh with a page view."""
    org = sample_org()
    config, issues = compile_config(load("fit_intent"), org)
    assert config is not None and config.intent is not None, issues
    router = Router(config, org)
    state = MemoryRoutingState(org)
    normalizer = Normalizer()
    routed: list[Routed] = []
    for i, row in enumerate(sample_rows()):
        try:
            lead = build_lead(row, default_id="unused", vocabulary=Vocabulary())
        except ValueError:
            continue
        lead = Lead(lead.id, normalizer.normalize(lead.fields).fields, lead.source, lead.channel)
        kind = "demo_request" if i % 3 == 0 else "page_view" if i % 7 == 0 else None
        acts = [Activity(kind, NOW.replace(day=23), email="x@y.com")] if kind else []
        signals = Signals(intent=config.intent.score(acts, NOW))
        account = account_for(row, org)
        data = router.context(lead, account, signals)
        decision = router.route(lead, now=NOW, state=state, account=account, data=data)
        state.apply(decision, sticky_key(data))
        routed.append(Routed(row, lead, account, data, decision))
    return Run(config, org, routed, 0)


def test_fit_intent_paths_follow_the_matrix() -> None:
    result = run_with_intent()
    matrix = load("fit_intent")["scoring"]["matrix"]
    paths: Counter[str] = Counter()
    for item in result.routed:
        fit, intent, path = item.data["fit_tier"], item.data["intent_tier"], item.data["path"]
        assert path == matrix[fit][intent]
        assert item.decision.scores["path"] == {
            "fit_tier": fit,
            "intent_tier": intent,
            "path": path,
        }
        assert item.decision.scores["fit"]["reasons"] or fit == "D"
        paths[path] += 1
        node = item.decision.node or ""
        assert (
            node == "fallback"
            or node.startswith(path)
            or (path == "nurture" and node == "self_serve")
        ), (path, node)
    assert all(paths[p] >= 30 for p in ("fast_track", "spread", "qualify", "nurture")), paths


def test_fit_intent_fast_track_goes_to_the_best_ae() -> None:
    result = run_with_intent()
    org = result.org
    owners = pooled = 0
    for item in result.routed:
        if item.data["path"] != "fast_track":
            continue
        decision, account = item.decision, item.account
        if account is not None and account.owner_id and available(org, account.owner_id):
            assert decision.node == "fast_track_owner"
            assert decision.rep_id == account.owner_id
            owners += 1
        elif decision.pool is not None:
            assert result.config.pools[decision.pool].method == "weighted"
            assert decision.rep_id in {
                r
                for t in ("na_west_ae", "na_east_ae", "emea_ae", "apac_ae")
                for r in team_of(org, t)
            }
            pooled += 1
    assert owners >= 5 and pooled >= 20


def test_fit_intent_low_paths_go_to_sdrs_self_serve_and_nurture() -> None:
    result = run_with_intent()
    sdrs = {r for t in ("na_west_sdr", "na_east_sdr", "emea_sdr", "apac_sdr")
            for r in team_of(result.org, t)}  # fmt: skip
    for item in result.routed:
        decision = item.decision
        if decision.node and decision.node.startswith("qualify"):
            assert item.data["intent_tier"] == "high" and item.data["fit_tier"] in "CD"
            assert decision.rep_id in sdrs
        elif decision.node == "self_serve":
            assert item.data["segment"] == "A"
            assert decision.redirect_url == "https://www.leadroute-demo.example/signup"
        elif decision.node == "nurture":
            assert item.data["segment"] != "A" and item.data["intent_tier"] == "low"
