"""The faster matcher gives the same outlines as experta's own, and `not` conditions hold when many rules tie."""

import random

import pytest
from conftest import AS_OF, EXAMPLES

from ipexpert import _api
from ipexpert._engine import rulebase as _rulebase
from ipexpert._engine.agenda import ExactDepthStrategy
from ipexpert._engine.experta import ReteMatcher
from ipexpert._engine.network import ChangedNodesMatcher
from ipexpert._knowledge import packs as _packs
from ipexpert._outputs import text as _text

STATUSES = ("registered", "pending", "refused", "expired")
CODES = ("US", "DE", "FR", "JP", "CN", "GB", "IT", "ES", "BR", "IN", "KR", "AU")


@pytest.fixture(scope="module")
def rule_bases():
    packs = _packs.load((), defaults=True)
    return _rulebase.RuleBase(packs, matcher=ReteMatcher), _rulebase.RuleBase(packs, matcher=ChangedNodesMatcher)


def outline_json(profile, rule_base):
    return _text.render(_api.evaluate(profile, rule_base, AS_OF), "json")


def random_profile(rng: random.Random) -> dict:
    """A valid profile with a random mix of markets, products, assets and registrations."""
    codes = rng.sample(CODES, rng.randint(1, 8))
    markets = []
    for code in codes:
        if rng.random() < 0.4:
            markets.append({"code": code, "status": "planned", "launch_date": f"2027-0{rng.randint(1, 9)}-01"})
        else:
            markets.append({"code": code, "status": "active"})
    products = [
        {
            "name": f"P{i}",
            "origin": rng.choice(["own_design", "trending", "licensed", "generic"]),
            "markets": rng.sample(codes, rng.randint(1, len(codes))),
            "clearance_search": rng.random() < 0.3,
        }
        for i in range(rng.randint(0, 3))
    ]
    assets = []
    for i in range(rng.randint(0, 4)):
        where = rng.sample(CODES + ("EU",), rng.randint(0, 4))
        assets.append(
            {
                "type": rng.choice(["trademark", "trademark", "patent", "design"]),
                "name": f"MARK{i}",
                "registrations": [{"jurisdiction": j, "status": rng.choice(STATUSES), "filed": "2025-01-10"} for j in where],
            }
        )
    profile = {
        "firm": {
            "name": "Random Co.",
            "home_country": "CN",
            "founded": rng.randint(2005, 2025),
            "employees": rng.choice([3, 12, 45, 80, 400]),
        },
        "markets": markets,
        "products": products,
        "ip_assets": assets,
        "confidentiality": {"employee_nda": rng.random() < 0.5},
        "history": {"infringement_complaints": rng.randint(0, 3)},
    }
    if rng.random() < 0.5:
        profile["firm"]["stage"] = rng.choice(["startup", "development", "growth", "stable"])
    return profile


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples_give_identical_outlines(rule_bases, example):
    plain, fast = rule_bases
    assert outline_json(example, fast) == outline_json(example, plain)


def test_random_profiles_give_identical_outlines(rule_bases):
    plain, fast = rule_bases
    rng = random.Random(20261125)
    checked = 0
    for _ in range(40):
        profile = random_profile(rng)
        if _api.validate(profile):
            continue  # the generator may produce an inconsistent profile; only valid ones are compared
        assert outline_json(profile, fast) == outline_json(profile, plain), profile
        checked += 1
    assert checked >= 30


def test_a_not_condition_holds_when_many_rules_match_the_same_facts(tmp_path):
    # Eight rules match the same firm and market; half are blocked by a registration declared
    # after the market. experta's own agenda only looked at two of the tied activations.
    rules = "\n".join(
        f"""  - id: r{i}
    title: r{i} in {{market}}
    when:
      - firm: {{home_country: CN}}
      - market: {{code: $market}}
      - not: {{registration: {{jurisdiction: $market, asset_type: {kind}}}}}
    recommend: {{priority: low, markets: [$market]}}
    because: test"""
        for i, kind in enumerate(["trademark", "patent"] * 4)
    )
    (tmp_path / "tied.yaml").write_text(f"pack: tied\nversion: 0.0.1\nrules:\n{rules}\n", encoding="utf-8")
    profile = {
        "firm": {"name": "T", "home_country": "CN"},
        "markets": [{"code": "US", "status": "active"}],
        "ip_assets": [{"type": "trademark", "name": "T", "registrations": [{"jurisdiction": "US", "status": "registered"}]}],
    }
    for matcher in (ReteMatcher, ChangedNodesMatcher):
        rule_base = _rulebase.RuleBase(_packs.load([tmp_path], defaults=False), matcher=matcher)
        outline = _api.evaluate(profile, rule_base, AS_OF)
        fired = sorted(r.rule for r in outline.recommendations)
        assert fired == ["tied/r1", "tied/r3", "tied/r5", "tied/r7"], matcher


def crowded_profile(markets: int, assets: int) -> dict:
    """Many markets and trademarks, each registered at home and in two markets: joins with many partners."""
    codes = list(CODES[:markets])
    assets_list = [
        {
            "type": "trademark",
            "name": f"BRAND{a}",
            "registrations": [
                {"jurisdiction": "CN", "status": "registered", "filed": "2024-01-10", "expires": "2034-01-09"},
                *(
                    {"jurisdiction": c, "status": "pending", "filed": "2026-03-01"}
                    for c in sorted({codes[a % markets], codes[(a + 1) % markets]})
                ),
            ],
        }
        for a in range(assets)
    ]
    return {
        "firm": {"name": "Crowded Co.", "home_country": "CN", "founded": 2020, "employees": 30},
        "markets": [
            {"code": c, "status": "planned" if i % 3 == 2 else "active", **({"launch_date": "2027-05-01"} if i % 3 == 2 else {})}
            for i, c in enumerate(codes)
        ],
        "products": [{"name": "Gadget", "origin": "trending", "clearance_search": False}],
        "ip_assets": assets_list,
        "confidentiality": {"employee_nda": False},
        "history": {"infringement_complaints": 1},
    }


@pytest.mark.parametrize("markets, assets", [(1, 1), (4, 9), (10, 12)])
def test_crowded_profiles_give_identical_outlines(rule_bases, markets, assets):
    plain, fast = rule_bases
    profile = crowded_profile(markets, assets)
    assert not _api.validate(profile)
    assert outline_json(profile, fast) == outline_json(profile, plain)


def test_retracted_facts_leave_the_same_agenda():
    # ipexpert never retracts, but the matcher must undo joins, `not` and `exists` exactly as experta does.
    from ipexpert._engine.experta import EXISTS, MATCH, NOT, TEST, Fact, KnowledgeEngine, Rule

    class Market(Fact):
        pass

    class Mark(Fact):
        pass

    def engine_class(matcher):
        def rule(salience, *conditions):  # the salience tells the rules apart in the agenda
            return Rule(*conditions, salience=salience)(lambda engine, **kw: None)

        return type(
            "E",
            (KnowledgeEngine,),
            {
                "__matcher__": matcher,
                "__strategy__": ExactDepthStrategy,
                "joined": rule(1, Market(code=MATCH.m), Mark(where=MATCH.m, name=MATCH.n)),
                "absent": rule(2, Market(code=MATCH.m), NOT(Mark(where=MATCH.m))),
                "any": rule(3, EXISTS(Mark(kind="word"))),
                "tested": rule(4, Mark(name=MATCH.n, where=MATCH.m), TEST(lambda n, m: n < m)),
                "late": rule(5, Market(code="IT"), Mark(name=MATCH.n)),  # its first fact comes last
            },
        )

    def agenda(engine):
        return [
            (
                a.rule.salience,
                sorted(f["__factid__"] for f in a.facts),
                sorted((k, v) for k, v in a.context.items() if not k.startswith("_")),
            )
            for a in engine.agenda.activations
        ]

    histories = []
    for matcher in (ReteMatcher, ChangedNodesMatcher):
        engine = engine_class(matcher)()
        engine.reset()
        history = []
        declared = [engine.declare(Market(code=c)) for c in ("US", "DE", "FR")]
        declared += [
            engine.declare(Mark(where=w, name=n, kind=k))
            for w, n, k in (("US", "A", "word"), ("DE", "B", "logo"), ("US", "Z", "logo"), ("JP", "C", "word"))
        ]
        history.append(sorted(map(repr, agenda(engine))))
        for fact in (declared[3], declared[1], declared[6], declared[5], declared[4]):
            engine.retract(fact)
            history.append(sorted(map(repr, agenda(engine))))
        engine.declare(Mark(where="DE", name="D", kind="word"))
        engine.declare(Market(code="DE"))
        engine.declare(Market(code="IT"))
        history.append(sorted(map(repr, agenda(engine))))
        histories.append(history)
    assert histories[0] == histories[1]
    assert histories[0][0] != histories[0][-1]


def test_an_evaluation_leaves_the_garbage_collector_as_it_found_it(rule_bases):
    # Evaluations pause the cyclic collector; it must be back on afterwards, even after an
    # invalid profile, and stay off for a caller who had turned it off.
    import gc

    from ipexpert._errors import InvalidProfileError

    _, fast = rule_bases
    assert gc.isenabled()
    _api.evaluate(sorted(EXAMPLES.glob("*.yaml"))[0], fast, AS_OF)
    with pytest.raises(InvalidProfileError):
        _api.evaluate({"firm": {}}, fast, AS_OF)
    assert gc.isenabled()
    gc.disable()
    try:
        _api.evaluate(sorted(EXAMPLES.glob("*.yaml"))[0], fast, AS_OF)
        assert not gc.isenabled()
    finally:
        gc.enable()
