"""What a consultant checks in every example's outline: no item contradicts another, no filing the dates make invalid, one item per decision, trade-secret advice scaled to the firm."""

from pathlib import Path

import pytest
import yaml

import ipexpert
from ipexpert._outputs import text as _text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EU = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}


@pytest.fixture(scope="module")
def rules():
    return ipexpert.load_rules()


def outline(path, rules):
    return ipexpert.evaluate(path, rules, as_of="2026-11-25")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_an_example_outline_is_one_a_consultant_would_sign(path, rules):
    out = outline(path, rules)
    recs = out.recommendations
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    markets = [m["code"] for m in profile["markets"] if m["status"] == "active"]
    by_rule = {}
    for rec in recs:
        by_rule.setdefault(rec.rule.split("/")[1], []).append(rec)
    # one item per decision: no national trademark or design filing in an EU member state
    for rec in recs:
        if rec.rule.split("/")[1] in (
            "register-brand-before-entry",
            "register-brand-where-selling",
            "register-brand-planned-no-date",
            "protect-own-design",
            "design-no-longer-new",
            "protect-own-design-in-grace",
        ):
            assert not set(rec.markets) & EU, (rec.id, "an EU member state gets the one EU item")
    # no contradiction: Brand Registry is not advised for a brand the outline says cannot enrol anywhere it sells
    blocked = {
        (a, m) for r in out.risks if r.rule.endswith("brand-registry-needs-local-mark") for a in r.assets for m in r.markets
    }
    for rec in by_rule.get("enrol-amazon-brand-registry", []):
        assert any((rec.assets[0], m) not in blocked for m in markets), rec.id
    # no invalid filing: a design is never both to be filed and no longer new in the same place
    filed = {
        (p, m)
        for rule in ("protect-own-design", "protect-own-design-in-grace")
        for r in by_rule.get(rule, [])
        for p in r.products
        for m in r.markets
    }
    lost = {(p, m) for r in by_rule.get("design-no-longer-new", []) for p in r.products for m in r.markets}
    assert not filed & lost
    # no contradiction: where an application was refused, the refusal item decides; no plain filing beside it
    refused = {
        (a["name"], r["jurisdiction"])
        for a in profile.get("ip_assets", [])
        for r in a.get("registrations", [])
        if r["status"] == "refused"
    }
    for rec in recs:
        if rec.rule.split("/")[1] in (
            "register-brand-before-entry",
            "register-brand-where-selling",
            "register-brand-planned-no-date",
            "madrid-route",
            "madrid-subsequent-designation",
            "eu-trade-mark",
        ):
            assert not {(a, m) for a in rec.assets for m in rec.markets} & refused, (rec.id, "refused there")
    # no "confidentiality before registrations" next to critical filings
    for rec in recs:
        assert not any("before spending on registrations" in a.lower() for a in rec.actions), rec.id
    # trade-secret advice scaled: a reseller gets at most one trade-secret item, and none at high
    if profile["firm"].get("business_model") == "reseller":
        secrets = [r for r in recs if r.category == "trade_secret"]
        assert len(secrets) <= 1 and all(r.priority in ("medium", "low") for r in secrets), [r.id for r in secrets]


def test_the_same_decision_in_four_member_states_is_one_item(rules):
    profile = {
        "firm": {"name": "F", "home_country": "CN", "employees": 30, "business_model": "own_brand"},
        "markets": [{"code": c, "status": "active"} for c in ("DE", "FR", "IT", "ES")],
        "products": [{"name": "Vase", "origin": "own_design", "clearance_search": True}],
        "ip_assets": [{"type": "trademark", "name": "LUMO", "registrations": [{"jurisdiction": "CN", "status": "registered"}]}],
    }
    out = ipexpert.evaluate(profile, rules, as_of="2026-11-25")
    trademark = [
        r
        for r in out.recommendations
        if r.category == "trademark" and "LUMO" in r.assets and r.rule != "paper-trademarks/claim-trademark-priority"
    ]
    design = [r for r in out.recommendations if r.category == "design"]
    assert [(r.rule, r.markets) for r in trademark] == [("routes/eu-trade-mark", ["DE", "ES", "EU", "FR", "IT"])]
    assert [(r.rule, r.markets) for r in design] == [("paper-products/protect-own-design", ["EU"])]
    # the merged item keeps the profile lines of all four member states
    paths = {f["path"] for f in trademark[0].justification.facts}
    assert {"$.markets[0]", "$.markets[1]", "$.markets[2]", "$.markets[3]"} <= paths


def _texts(out):
    """Every text a reader sees in an outline: titles, actions, reasons, risks and the timeline."""
    for rec in out.recommendations:
        yield rec.title
        yield from rec.actions
        yield rec.justification.because
    for risk in out.risks:
        yield risk.title
        yield risk.justification.because
    for entry in out.timeline:
        yield entry.action


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_made_to_order_firm_of_unknown_size_reads_right(rules, lang):
    profile = {
        "firm": {"name": "F", "home_country": "CN", "business_model": "oem", "stage": "development"},
        "markets": [{"code": "US", "status": "active"}],
        "products": [{"name": "Drill", "origin": "generic", "clearance_search": True}],
        "confidentiality": {"employee_nda": False, "access_control": False, "secret_register": False},
    }
    out = ipexpert.evaluate(profile, rules, as_of="2026-11-25", lang=lang)
    texts = "\n".join(_texts(out))
    assert "{" not in texts, "a placeholder is printed as written"
    reasons = {r.rule.split("/")[1]: r.justification.because for r in out.recommendations}
    if lang == "en":
        assert "made to its specifications (OEM or private label)" in reasons["development-confidentiality-first"]
        assert "(team size not given)" in reasons["access-control"] and "small team" not in texts
    else:
        assert "未提供团队规模" in reasons["access-control"] and "小团队" not in texts


def test_risk_kinds_and_channels_read_as_words_in_chinese(rules):
    reseller = _text.text(ipexpert.evaluate(ROOT / "examples" / "generic-reseller.yaml", rules, as_of="2026-11-25", lang="zh-CN"))
    assert "海关扣留" in reseller and "customs_detention" not in reseller
    copied = _text.text(ipexpert.evaluate(ROOT / "examples" / "copycat-victim.yaml", rules, as_of="2026-11-25", lang="zh-CN"))
    assert "在全球速卖通（AliExpress）上销售" in copied
    for code in ("amazon", "ebay", "aliexpress"):
        assert f"在 {code}" not in copied and f"在{code}" not in copied


def test_court_deadlines_count_from_the_right_event(rules):
    profile = {
        "firm": {"name": "F", "home_country": "CN", "employees": 8},
        "markets": [{"code": "US", "status": "active"}],
        "history": {"tro_served": "2026-11-20"},
    }
    out = ipexpert.evaluate(profile, rules, as_of="2026-11-25")
    rec = next(r for r in out.recommendations if r.rule == "us-litigation/schedule-a-playbook-dated")
    actions = "\n".join(rec.actions)
    assert "from the day the court issued it (on or before 2026-11-20" in actions  # FRCP 65(b)(2)
    assert "after the summons and complaint are served, not after the order" in actions  # FRCP 12(a)
    ends = [t for t in out.timeline if "restraining order" in t.action and "ends" in t.action]
    assert [(t.date, "at the latest" in t.action) for t in ends] == [("2026-12-04", True)]


def test_a_missed_mexican_declaration_is_described_one_way(rules):
    profile = {
        "firm": {"name": "F", "home_country": "CN", "employees": 40},
        "markets": [{"code": "MX", "status": "active"}],
        "ip_assets": [
            {
                "type": "trademark",
                "name": "OKTA",
                "registrations": [
                    {"jurisdiction": "MX", "status": "registered", "filed": "2023-01-05", "registered": "2023-09-10"}
                ],
            }
        ],
    }
    out = ipexpert.evaluate(profile, rules, as_of="2026-11-25")
    rec = next(r for r in out.recommendations if r.rule == "maintenance/declaration-of-use-window")
    because = rec.justification.because
    assert "lapses" in because and "cancel" not in because


def _gb_design_firm(product):
    return {
        "firm": {"name": "F", "home_country": "CN", "employees": 30, "business_model": "own_brand"},
        "markets": [{"code": "GB", "status": "active"}, {"code": "US", "status": "active"}],
        "products": [product],
    }


@pytest.mark.parametrize(
    "product",
    [
        {"name": "Lamp", "origin": "own_design", "clearance_search": True},
        {"name": "Lamp", "origin": "own_design", "clearance_search": True, "first_disclosed": "2026-05-01"},
        {"name": "Lamp", "origin": "own_design", "clearance_search": True, "first_disclosed": "2024-05-01"},
    ],
    ids=["disclosure-unknown", "in-grace", "no-longer-new"],
)
def test_design_advice_for_the_united_kingdom_rests_on_uk_law(rules, product):
    out = ipexpert.evaluate(_gb_design_firm(product), rules, as_of="2026-11-25")
    gb = [r for r in out.recommendations if r.category == "design" and r.markets == ["GB"]]
    assert gb, "the UK gets a design item"
    for rec in gb:
        urls = [s.url or s.ref for s in rec.justification.sources]
        assert not any("eur-lex" in u for u in urls), (rec.id, urls)
        words = " ".join([rec.title, *rec.actions, rec.justification.because])
        assert "Community" not in words and "Regulation (EC)" not in words, rec.id
        assert any("legislation.gov.uk" in u or "gov.uk/guidance" in u for u in urls), (rec.id, urls)


def test_egypt_registration_time_is_labelled_an_estimate(rules):
    profile = {
        "firm": {"name": "F", "home_country": "CN", "employees": 30, "business_model": "own_brand"},
        "markets": [{"code": "EG", "status": "planned", "launch_date": "2029-06-01"}],
        "ip_assets": [{"type": "trademark", "name": "NILO"}],
    }
    out = ipexpert.evaluate(profile, rules, as_of="2026-11-25")
    (egypt,) = [r for r in out.recommendations if r.rule == "paper-core/register-brand-before-entry"]
    assert egypt.markets == ["EG"] and egypt.due == "2027-06-01", "filed 24 months before the launch"
    assert "about 24 months (an estimate" in egypt.justification.because
    assert "18 to 24 months" in egypt.justification.because
