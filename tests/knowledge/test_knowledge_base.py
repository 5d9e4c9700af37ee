"""The bundled rule packs carry the whole paper: each of its recommendations and warnings has a rule citing its section."""

from pathlib import Path

import pytest

import ipexpert
from ipexpert._authoring import testcases as _testcases

ROOT = Path(__file__).resolve().parents[2]

# What the paper recommends or warns about, with the section it is in and the rules that carry it.
PAPER = {
    "stage: development firms put confidentiality first, stable firms trademark layout (§5.1)": (
        "paper §5.1",
        ["paper-core/development-confidentiality-first", "paper-core/stable-layout-first"],
    ),
    "stage inferred from age, staff, revenue, rights when not declared (§5.1)": (
        "paper §5.1",
        [
            "paper-core/stage-inferred-development",
            "paper-core/stage-inferred-stable-by-staff",
            "paper-core/stage-inferred-growth-by-staff",
            "paper-core/stage-inferred-startup",
            "paper-core/stage-assumed-development",
        ],
    ),
    "inventory of current IP: holdings, value, protection status (§5.1)": (
        "paper §5.1",
        ["paper-management/inventory-current-ip", "paper-management/grade-asset-value"],
    ),
    "write the strategy down, professional help an option (§5.1)": ("paper §5.1", ["paper-management/write-strategy-down"]),
    "trademark timeline: registration takes time, file ahead of sales (§5.1)": (
        "paper §5.1",
        [
            "paper-core/register-brand-before-entry",
            "paper-core/register-brand-planned-no-date",
            "paper-core/registration-time-sourced",
            "paper-core/jurisdiction-fallback",
        ],
    ),
    "territoriality: rights exist only where registered (§2.3)": (
        "paper §2.3",
        [
            "paper-core/trademark-gap",
            "paper-core/covered-national",
            "paper-core/covered-eu",
            "paper-core/covered-international",
            "paper-core/register-brand-where-selling",
        ],
    ),
    "squatting: search before filing, a taken mark, rebranding (§4.2)": (
        "paper §4.2",
        [
            "paper-trademarks/squatting-risk-first-to-file",
            "paper-trademarks/brand-taken-in-market",
            "paper-trademarks/rebrand-when-taken-widely",
        ],
    ),
    "temporality: renew ahead of expiry, or adjust (§2.3)": (
        "paper §2.3",
        [
            "paper-trademarks/renew-trademark-before-expiry",
            "paper-trademarks/plan-for-expiry-of-right",
            "paper-trademarks/lapsed-right",
            "paper-trademarks/right-expired",
        ],
    ),
    "trending products need a freedom-to-operate search (§4, §4.1)": ("paper §4.1", ["paper-core/trending-without-clearance"]),
    "complaints remove listings, close stores, freeze accounts (§4)": (
        "paper §4",
        ["paper-products/respond-to-complaints", "paper-products/product-clearance-search"],
    ),
    "copycats: design/patent protection per market, monitoring, marketplace enforcement (§4)": (
        "paper §4",
        [
            "paper-products/protect-own-design",
            "paper-products/watch-for-copies-and-squatting",
            "paper-products/enforce-against-copycats",
            "paper-products/enrol-amazon-brand-registry",
        ],
    ),
    "management systems: records, technical contracts, reward and punishment, confidentiality (§5.2)": (
        "paper §5.2",
        [
            "paper-management/contract-management",
            "paper-management/reward-and-punishment-system",
            "paper-management/confidentiality-system",
            "paper-management/inventory-current-ip",
        ],
    ),
    "institutionalise management with expansion; evaluate and rectify (§5.2)": (
        "paper §5.2",
        ["paper-management/institutionalise-for-expansion", "paper-management/evaluate-and-rectify"],
    ),
    "an IP function with international expertise; virtual for a small firm (§5.3)": (
        "paper §5.3",
        ["paper-management/virtual-ip-department", "paper-management/in-house-ip-department"],
    ),
    "the IP function looks for unintentional and malicious infringement abroad (§5.3)": (
        "paper §5.3",
        ["paper-products/watch-for-copies-and-squatting", "paper-products/product-clearance-search"],
    ),
    "non-independence: cooperate with the other departments (§2.3)": (
        "paper §2.3",
        ["paper-management/coordinate-ip-with-launches"],
    ),
    "confidentiality of the strategy itself (§2.3)": (
        "paper §2.3",
        ["paper-secrets/keep-strategy-confidential", "paper-secrets/secret-leak-risk"],
    ),
    "legality: the strategy rests on each jurisdiction's law (§2.3)": (
        "paper §2.3",
        ["paper-core/registration-time-sourced", "paper-trademarks/squatting-risk-first-to-file"],
    ),
    "commercial confidentiality measures (§5.1)": (
        "paper §5.1",
        [
            "paper-secrets/employee-nda",
            "paper-secrets/supplier-nda",
            "paper-secrets/access-control",
            "paper-secrets/secret-register",
            "paper-secrets/staff-training",
            "paper-secrets/exit-procedure",
        ],
    ),
}

# Every section of the paper that gives advice or a warning must be cited by at least one rule.
SECTIONS = ["paper §2.3", "paper §4", "paper §4.1", "paper §4.2", "paper §5.1", "paper §5.2", "paper §5.3"]


@pytest.fixture(scope="module")
def rule_base():
    return ipexpert.load_rules()


def _sources(rule):
    return [s if isinstance(s, str) else s["ref"] for s in rule.data.get("source", [])]


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_is_cited(rule_base, section):
    assert any(section in _sources(rule) for rule in rule_base.rules), f"no rule cites {section}"


@pytest.mark.parametrize("bullet", sorted(PAPER))
def test_every_paper_bullet_has_a_rule_citing_its_section(rule_base, bullet):
    section, keys = PAPER[bullet]
    for key in keys:
        rule = rule_base.rule(key)
        assert rule is not None, f"{bullet}: rule {key} is missing"
        assert section in _sources(rule), f"{bullet}: {key} does not cite {section}"


def test_every_rule_has_sources_and_a_category(rule_base):
    for rule in rule_base.rules:
        assert rule.data.get("source"), f"{rule.key} has no source"
        assert rule.data.get("category"), f"{rule.key} has no category"


def test_every_example_has_a_test_case():
    cases = _testcases.collect([_testcases.default_dir()])
    used = {(Path(c.file).parent / c.data["profile"]).resolve() for c in cases if isinstance(c.data["profile"], str)}
    missing = [p.name for p in sorted((ROOT / "examples").glob("*.yaml")) if p.resolve() not in used]
    assert not missing, f"examples without a test case: {missing}"
    assert len(list((ROOT / "examples").glob("*.yaml"))) >= 10


def test_every_pack_starts_with_the_schema_hint_and_has_a_version():
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/rule-pack.schema.json", path.name


def test_jurisdiction_figures_have_sources(rule_base):
    facts = [f for f in rule_base.static_facts if f.kind == "jurisdiction"]
    assert {"CN", "US", "EU", "GB", "JP"} <= {f.fields["code"] for f in facts}
    for fact in facts:
        if fact.fields["tm_months"] is not None:
            assert fact.fields["tm_source"].startswith(("https://", "paper §", "none found")), fact.fields["code"]
        if fact.fields["tm_estimate"] and fact.fields["tm_months"] is not None:
            assert "an estimate" in fact.fields["tm_note"], fact.fields["code"]


def test_the_paper_cases_get_the_papers_advice(rule_base):
    spinner = ipexpert.evaluate(ROOT / "examples" / "spinwell-trending.yaml", rule_base, as_of="2026-11-25")
    fto = [r for r in spinner.recommendations if r.rule == "paper-core/trending-without-clearance"]
    assert fto and all(r.priority == "critical" for r in fto)
    assert any(r.kind == "account_freeze" for r in spinner.risks)
    legend = ipexpert.evaluate(ROOT / "examples" / "legend-brand.yaml", rule_base, as_of="2026-11-25")
    rules = {r.rule for r in legend.recommendations}
    assert "paper-trademarks/rebrand-when-taken-widely" in rules
    assert "paper-core/register-brand-before-entry" not in rules
