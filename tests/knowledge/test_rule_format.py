"""Every feature of the rule-pack format, each with a profile that fires it and one that does not."""

import textwrap

import pytest

import ipexpert

AS_OF = "2026-11-25"

PROFILE = {
    "firm": {"name": "Acme", "home_country": "CN", "employees": 12, "founded": 2020},
    "markets": [
        {"code": "US", "status": "active"},
        {"code": "JP", "status": "planned", "launch_date": "2027-03-01"},
    ],
    "products": [{"name": "Gyro", "origin": "trending", "markets": ["US"]}],
    "ip_assets": [
        {
            "type": "trademark",
            "name": "ACME",
            "registrations": [
                {"jurisdiction": "US", "status": "registered", "filed": "2020-01-01", "expires": "2027-01-01"},
            ],
        },
    ],
    "confidentiality": {"employee_nda": True},
}


def pack(tmp_path, rules_yaml, facts_yaml=""):
    text = (
        "pack: t\nversion: 1.0.0\n"
        + textwrap.dedent(facts_yaml)
        + "rules:\n"
        + textwrap.indent(textwrap.dedent(rules_yaml), "  ")
    )
    (tmp_path / "t.yaml").write_text(text)
    return ipexpert.load_rules(tmp_path, defaults=False)


def fired(tmp_path, rules_yaml, profile=PROFILE, facts_yaml=""):
    outline = ipexpert.evaluate(profile, pack(tmp_path, rules_yaml, facts_yaml), as_of=AS_OF)
    return outline


def one(condition, conclusion="recommend: {priority: low}"):
    return f"""\
- id: r
  title: T
  category: strategy
  when:
{textwrap.indent(textwrap.dedent(condition), "    ")}
  {conclusion}
  because: B
  source: [paper §5.1]
"""


@pytest.mark.parametrize(
    "hit, miss",
    [
        ("- market: {code: US}", "- market: {code: FR}"),
        ("- market: {code: {in: [US, FR]}}", "- market: {code: {in: [FR, DE]}}"),
        ("- market: {code: {not_in: [FR]}}", "- market: {code: {not_in: [US, JP]}}"),
        ("- firm: {employees: {lt: 50}}", "- firm: {employees: {ge: 50}}"),
        ("- firm: {employees: {gt: 5, le: 12}}", "- firm: {employees: {gt: 12}}"),
        ("- firm: {employees: {ne: 3}}", "- firm: {employees: {ne: 12}}"),
        ("- market: {launch_date: {exists: true}}", "- firm: {annual_revenue_usd: {exists: true}}"),
        ("- firm: {stage: {exists: false}}", "- firm: {employees: {exists: false}}"),
        ("- product: {markets: {contains: US}}", "- product: {markets: {contains: JP}}"),
        (
            "- market: {launch_date: {before: {months_from_as_of: 6}}}",
            "- market: {launch_date: {before: {months_from_as_of: 3}}}",
        ),
        (
            "- registration: {expires: {on_or_before: {days_from_as_of: 40}}}",
            "- registration: {expires: {after: {days_from_as_of: 40}}}",
        ),
    ],
    ids=["eq", "in", "not_in", "lt", "range", "ne", "exists", "absent", "contains", "before-months", "days"],
)
def test_operators(tmp_path, hit, miss):
    assert fired(tmp_path, one(hit)).recommendations
    assert not fired(tmp_path, one(miss)).recommendations


def test_variables_join_across_facts(tmp_path):
    rule = one(
        """\
        - market: {code: $m}
        - registration: {jurisdiction: $m, asset: $brand}
        """,
        "recommend: {priority: low, markets: [$m], assets: [$brand]}",
    )
    (rec,) = fired(tmp_path, rule).recommendations
    assert (rec.markets, rec.assets, rec.id) == (["US"], ["ACME"], "r:acme:us")


def test_negation_binds_from_earlier_conditions(tmp_path):
    rule = one(
        """\
        - market: {code: $m}
        - not: {registration: {jurisdiction: $m}}
        """,
        "recommend: {markets: [$m]}",
    )
    assert [r.markets for r in fired(tmp_path, rule).recommendations] == [["JP"]]


def test_exists_fires_once_however_many_facts_match(tmp_path):
    rule = one("- exists: {market: {status: {in: [active, planned]}}}")
    assert len(fired(tmp_path, rule).recommendations) == 1


def test_a_test_condition_compares_bound_values(tmp_path):
    rule = one(
        """\
        - registration: {filed: $filed, expires: $expires}
        - test: {value: $expires, after: {months_after: [$filed, 60]}}
        """
    )
    assert fired(tmp_path, rule).recommendations
    short = dict(
        PROFILE,
        ip_assets=[
            {
                "type": "trademark",
                "name": "ACME",
                "registrations": [{"jurisdiction": "US", "status": "registered", "filed": "2024-01-01", "expires": "2027-01-01"}],
            }
        ],
    )
    assert not fired(tmp_path, rule, short).recommendations


def test_derived_facts_chain_forward_and_justify(tmp_path):
    rules = """\
    - id: small
      title: small firm
      when: [{firm: {employees: {lt: 50}}}]
      derive: {size: {value: small}}
      because: it has fewer than 50 employees
      source: [paper §5.3]
    - id: virtual
      title: Use a virtual IP department
      category: organization
      when: [{size: {value: small}}]
      recommend: {priority: medium}
      because: a small firm outsources IP work
      source: [paper §5.3]
    """
    (rec,) = fired(tmp_path, rules).recommendations
    assert rec.justification.chain == [
        {"fact": "size", "values": {"value": "small"}, "rule": "t/small", "because": "it has fewer than 50 employees"}
    ]
    assert [f["path"] for f in rec.justification.facts] == ["$.firm"]


def test_salience_decides_which_rule_of_one_stratum_fires_first(tmp_path):
    rules = """\
    - id: low
      title: guess development
      salience: 1
      when: [{firm: {stage: {exists: false}, employees: {ge: 0}}}]
      derive: {stage: {value: development, declared: false}}
      because: weak evidence
      source: [paper §5.1]
    - id: high
      title: guess development
      salience: 10
      when: [{firm: {stage: {exists: false}, founded: {le: 2021}}}]
      derive: {stage: {value: development, declared: false}}
      because: founded in or before 2021
      source: [paper §5.1]
    """
    outline = fired(tmp_path, rules)
    assert (outline.stage.value, outline.stage.declared) == ("development", False)
    assert outline.stage.because == "inferred: founded in or before 2021" and outline.stage.rule == "t/high"
    declared = dict(PROFILE, firm=dict(PROFILE["firm"], stage="stable"))
    assert fired(tmp_path, rules, declared).stage.value == "stable"


def test_conditional_priority_due_date_and_timeline(tmp_path):
    rule = one(
        "- market: {code: $m, launch_date: {bind: $launch}}",
        """recommend:
    priority: {if: {value: $launch, before: {months_from_as_of: 13}}, then: critical, else: high}
    due: {months_before: [$launch, 2]}
    markets: [$m]
    timeline:
      - {date: $launch, action: "Launch in {m}"}""",
    )
    outline = fired(tmp_path, rule)
    (rec,) = outline.recommendations
    assert (rec.priority, rec.due) == ("critical", "2027-01-01")
    assert [(t.date, t.action) for t in outline.timeline] == [("2027-03-01", "Launch in JP")]


def test_templates_fill_variables_and_leave_everything_else_literal(tmp_path):
    rule = """\
    - id: r
      title: "Sell {p} in {m}; {m.__class__} {0} %(m)s {{m}}"
      category: strategy
      when: [{sale: {product: $p, market: $m}}]
      recommend: {actions: ["Check {p}"]}
      because: "{p} is sold in {m} as of {as_of}"
      source: [paper §4]
    """
    (rec,) = fired(tmp_path, rule).recommendations
    assert rec.title == "Sell Gyro in US; {m.__class__} {0} %(m)s {US}"
    assert rec.actions == ["Check Gyro"]
    assert rec.justification.because == "Gyro is sold in US as of 2026-11-25"


def test_sources_can_come_from_reference_facts(tmp_path):
    facts = 'facts:\n  - jurisdiction: {code: US, source: "https://example.org/us"}\n'
    rule = one(
        """\
        - market: {code: $m}
        - jurisdiction: {code: $m, source: $src}
        """,
        "recommend: {markets: [$m]}",
    ).replace("source: [paper §5.1]", "source: [paper §5.1, $src]")
    (rec,) = fired(tmp_path, rule, facts_yaml=facts).recommendations
    assert [s.to_dict() for s in rec.justification.sources] == [
        {"ref": "paper §5.1", "url": None},
        {"ref": "https://example.org/us", "url": "https://example.org/us"},
    ]
    assert any(f["path"] == "t:facts[0]" for f in rec.justification.facts)


def test_a_risk_is_reported_with_its_severity(tmp_path):
    rule = one(
        "- sale: {product: $p, market: $m, origin: trending}",
        "risk: {kind: account_freeze, severity: critical, markets: [$m], products: [$p]}",
    )
    (risk,) = fired(tmp_path, rule).risks
    assert (risk.kind, risk.severity, risk.markets, risk.products) == ("account_freeze", "critical", ["US"], ["Gyro"])


@pytest.mark.parametrize(
    "rule, message",
    [
        (one("- market: {code: US}", "recommend: {markets: [$m]}"), "$m is used but no condition binds it"),
        (one("- market: {code: US}").replace("title: T", "title: '{x}'"), "{x} is used but no condition binds $x"),
        (one("- test: {value: $nope, gt: 1}"), "$nope is read here but no earlier condition binds it"),
        (one("- market: {code: {like: US}}"), "unknown key 'like'"),
    ],
    ids=["unbound-conclusion", "unbound-template", "unbound-test", "unknown-operator"],
)
def test_mistakes_are_rule_pack_errors_with_a_line(tmp_path, rule, message):
    with pytest.raises(ipexpert.InvalidRulePackError) as caught:
        pack(tmp_path, rule)
    text = str(caught.value)
    assert message in text
    assert "t.yaml:" in text


def test_a_rule_that_derives_forever_is_stopped_and_named(tmp_path):
    rules = """\
    - id: seed
      title: seed
      when: [{market: {code: US}}]
      derive: {tick: {on: "2026-01-01"}}
      because: start
      source: [test]
    - id: loop
      title: loop
      when: [{tick: {on: $d}}]
      derive: {tick: {on: {months_after: [$d, 1]}}}
      because: forever
      source: [test]
    """
    with pytest.raises(ipexpert.EvaluationError) as caught:
        fired(tmp_path, rules)
    assert "rule t/loop fired more than" in str(caught.value)
