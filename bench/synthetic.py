"""Generated inputs for the benchmark: scaled profiles, non-matching rule packs, and the reference rule shape.

The reference shape is `Firm(stage=S) ∧ Market(code=?m) ∧ ¬Registration(market=?m, kind=K)`,
N rules of it, run four ways on the same facts: experta with a new engine per
evaluation, experta with one reused engine, ipexpert's compiled rule base, and CLIPS
(through clipspy, when installed). Every way returns the same set of (rule, market)
firings, which the benchmark checks before it reports a time.
"""

from __future__ import annotations

import copy
from pathlib import Path

STAGES = ("development", "growth", "stable", "startup")
KINDS = ("trademark", "patent", "design")


# Real ISO 3166-1 codes in a fixed order (profiles may only use real codes), the home country
# CN left out so a generated market is never the firm's home.
def _codes():
    from ipexpert._reading import codes as codes  # the benchmark runs inside the project

    return [c for c in codes.iso_codes() if c != "CN"]


CODES = _codes()


# ---------------------------------------------------------------- scaled profiles


def scaled_profile(markets: int, assets: int) -> dict:
    """A valid profile with *markets* markets (a third planned) and *assets* trademarks.

    Each trademark is registered at home and in two of the markets (a different pair
    for each), so the number of facts grows with markets + assets and the work that
    must grow with markets × assets is the advice per market and asset.
    """
    codes = [c for c in CODES if c not in ("EU", "WO")][:markets]
    market_list = []
    for i, code in enumerate(codes):
        if i % 3 == 2:
            market_list.append({"code": code, "status": "planned", "launch_date": "2027-05-01"})
        else:
            market_list.append({"code": code, "status": "active"})
    ip_assets = []
    for a in range(assets):
        registrations = [{"jurisdiction": "CN", "status": "registered", "filed": "2024-01-10", "expires": "2034-01-09"}]
        registrations += [
            {"jurisdiction": code, "status": "pending", "filed": "2026-03-01"}
            for code in sorted({codes[a % markets], codes[(a + 1) % markets]})
        ]
        ip_assets.append({"type": "trademark", "name": f"BRAND{a:04d}", "registrations": registrations})
    return {
        "firm": {
            "name": "Scaling Co.",
            "home_country": "CN",
            "founded": 2020,
            "employees": 30,
            "annual_revenue_usd": 2_000_000,
            "business_model": "reseller",
        },
        "channels": ["amazon"],
        "markets": market_list,
        "products": [{"name": "Gadget", "origin": "trending", "clearance_search": False}],
        "ip_assets": ip_assets,
        "confidentiality": {"employee_nda": False},
        "history": {"infringement_complaints": 1},
    }


# ---------------------------------------------------------------- non-matching rules


def non_matching_packs(rule_base, copies: int, directory: Path) -> Path:
    """Write *copies* packs, each a clone of every bundled rule made unable to fire.

    A clone keeps the original's conditions and conclusions and gains a first condition
    no profile meets (a firm whose home country is `AQ`, Antarctica, where no firm is based),
    the way a pack of rules for other firms' situations sits beside the ones that apply.
    """
    from ipexpert._reading import document as _document  # noqa: F401 - the benchmark runs inside the project

    for n in range(copies):
        rules = []
        for rule in rule_base.rules:
            data = copy.deepcopy(_plain(rule.data))
            data["id"] = f"{rule.pack.replace('/', '-')}-{rule.id}"
            data["when"] = [{"firm": {"home_country": "AQ"}}] + list(data["when"])
            data.pop("salience", None)
            rules.append(data)
        pack = {"pack": f"non-matching-{n:03d}", "version": "0.0.1", "title": "Rules that never fire", "rules": rules}
        _dump(pack, directory / f"non-matching-{n:03d}.yaml")
    return directory


def _plain(value):
    """Mappings and sequences from the YAML loader as plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _dump(data, path: Path):
    import json

    # JSON is YAML; dates in the bundled rules are written as text already.
    path.write_text(json.dumps(data, default=str, indent=1), encoding="utf-8")


# ---------------------------------------------------------------- the reference shape


def reference_rules(n: int) -> list[tuple[str, str, str]]:
    """(rule id, stage, registration kind) of the n reference rules."""
    return [(f"r{i}", STAGES[i % len(STAGES)], KINDS[(i // len(STAGES)) % len(KINDS)]) for i in range(n)]


def reference_facts(markets: int) -> tuple[str, list[str], list[tuple[str, str]]]:
    """The firm's stage, its market codes, and its registrations (market, kind).

    Every other market has a trademark registration and every third a patent, so
    each rule fires for some markets and is blocked for others.
    """
    codes = CODES[:markets]
    registrations = [(c, "trademark") for i, c in enumerate(codes) if i % 2 == 0]
    registrations += [(c, "patent") for i, c in enumerate(codes) if i % 3 == 0]
    return "development", codes, registrations


def expected(rules, facts) -> set:
    """The (rule, market) pairs any correct engine fires."""
    stage, codes, registrations = facts
    blocked = set(registrations)
    return {(rid, m) for rid, s, k in rules if s == stage for m in codes if (m, k) not in blocked}


class ExpertaReference:
    """The reference rules as a hand-written experta engine class."""

    def __init__(self, rules, matcher=None):
        from ipexpert._engine.experta import MATCH, NOT, Fact, KnowledgeEngine, Rule

        self.Firm = type("Firm", (Fact,), {})
        self.Market = type("Market", (Fact,), {})
        self.Registration = type("Registration", (Fact,), {})
        namespace = {}
        for rid, stage, kind in rules:

            def fire(engine, m, rid=rid):
                engine.results.add((rid, m))

            namespace[rid] = Rule(
                self.Firm(stage=stage), self.Market(code=MATCH.m), NOT(self.Registration(market=MATCH.m, kind=kind))
            )(fire)
        if matcher is not None:
            namespace["__matcher__"] = matcher
        self.engine_class = type("ReferenceEngine", (KnowledgeEngine,), namespace)

    def new_engine(self):
        return self.engine_class()

    def evaluate(self, engine, facts) -> set:
        stage, codes, registrations = facts
        engine.reset()
        engine.results = set()
        engine.declare(self.Firm(stage=stage))
        for code in codes:
            engine.declare(self.Market(code=code))
        for market, kind in registrations:
            engine.declare(self.Registration(market=market, kind=kind))
        engine.run()
        return engine.results


def reference_pack(rules, directory: Path) -> Path:
    """The reference rules as an ipexpert rule pack (registration kind is `asset_type`)."""
    data = {
        "pack": "reference",
        "version": "0.0.1",
        "title": "Reference rule shape",
        "rules": [
            {
                "id": rid,
                "title": f"{rid} for {{market}}",
                "because": "reference shape",
                "recommend": {"priority": "low", "markets": ["$market"]},
                "when": [
                    {"firm": {"stage": stage}},
                    {"market": {"code": "$market"}},
                    {"not": {"registration": {"jurisdiction": "$market", "asset_type": kind}}},
                ],
            }
            for rid, stage, kind in rules
        ],
    }
    path = directory / "reference.yaml"
    _dump(data, path)
    return path


class IPExpertReference:
    """The reference rules compiled by ipexpert and run by its RuleBase."""

    def __init__(self, pack_dir: Path):
        from ipexpert import _api

        self.rule_base = _api.load_rules(pack_dir, defaults=False)

    def evaluate(self, facts) -> set:
        from ipexpert._reading.facts import FactSpec

        stage, codes, registrations = facts
        specs = [FactSpec("firm", {"stage": stage}, ("firm",))]
        specs += [FactSpec("market", {"code": c}, ("markets", i)) for i, c in enumerate(codes)]
        specs += [
            FactSpec("registration", {"jurisdiction": m, "asset_type": k}, ("ip_assets", i))
            for i, (m, k) in enumerate(registrations)
        ]
        run = self.rule_base.run(specs, None)
        return {(f.rule.id, f.bindings["market"]) for f in run.firings}


class ClipsReference:
    """The reference rules in CLIPS; firings come back through a Python function."""

    def __init__(self, rules):
        import clips

        self.env = clips.Environment()
        self.results = set()
        self.env.define_function(lambda rid, m: self.results.add((str(rid), str(m))), "record")
        self.env.build("(deftemplate firm (slot stage))")
        self.env.build("(deftemplate market (slot code))")
        self.env.build("(deftemplate registration (slot market) (slot kind))")
        for rid, stage, kind in rules:
            self.env.build(
                f"(defrule {rid} (firm (stage {stage})) (market (code ?m)) "
                f'(not (registration (market ?m) (kind {kind}))) => (record "{rid}" ?m))'
            )
        self.firm = self.env.find_template("firm")
        self.market = self.env.find_template("market")
        self.registration = self.env.find_template("registration")

    def evaluate(self, facts) -> set:
        import clips

        stage, codes, registrations = facts
        self.env.reset()
        self.results = set()
        self.firm.assert_fact(stage=clips.Symbol(stage))
        for code in codes:
            self.market.assert_fact(code=clips.Symbol(code))
        for market, kind in registrations:
            self.registration.assert_fact(market=clips.Symbol(market), kind=clips.Symbol(kind))
        self.env.run()
        return self.results
