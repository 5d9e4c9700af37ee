"""The firing order comes from the rules: a rule reading a kind under `not` waits for every rule deriving it."""

import textwrap

import pytest

import ipexpert
from ipexpert._errors import InvalidRulePackError

PROFILE = {
    "firm": {"name": "Trap Co", "home_country": "CN"},
    "markets": [{"code": "US", "status": "active"}, {"code": "DE", "status": "active"}],
    "ip_assets": [{"type": "trademark", "name": "ACME", "registrations": [{"jurisdiction": "US", "status": "registered"}]}],
}

# The negating rule comes first and has the higher salience: only the order computed from the rules saves it.
TRAP = """\
pack: trap
version: 0.0.1
rules:
  - id: gap
    title: "{brand} has no right in {market}"
    salience: 50
    when:
      - asset: {type: trademark, name: $brand}
      - market: {code: $market}
      - not: {covered: {asset: $brand, market: $market}}
    derive: {gap: {asset: $brand, market: $market}}
    because: no coverage
    source: [paper §2.3]
  - id: covered
    title: "{brand} covers {market}"
    when:
      - registration: {asset: $brand, jurisdiction: $market, status: registered}
    derive: {covered: {asset: $brand, market: $market}}
    because: registered
    source: [paper §2.3]
  - id: file
    title: File {brand} in {market}
    category: trademark
    when:
      - gap: {asset: $brand, market: $market}
    recommend: {priority: high, markets: [$market], assets: [$brand]}
    because: "{brand} is not covered in {market}"
    source: [paper §2.3]
"""

CYCLE = """\
pack: cycle
version: 0.0.1
rules:
  - id: quiet
    title: quiet
    when:
      - market: {code: $m}
      - not: {loud: {market: $m}}
    derive: {quiet: {market: $m}}
    because: not loud
    source: [paper §2.3]
  - id: loud
    title: loud
    when:
      - quiet: {market: $m}
    derive: {loud: {market: $m}}
    because: quiet
    source: [paper §2.3]
  - id: use
    title: use {m}
    when:
      - quiet: {market: $m}
    recommend: {priority: low, markets: [$m]}
    because: quiet
    source: [paper §2.3]
"""


def titles(tmp_path, text):
    (tmp_path / "p.yaml").write_text(text)
    rules = ipexpert.load_rules(tmp_path, defaults=False)
    return [r.title for r in ipexpert.evaluate(PROFILE, rules, as_of="2026-11-25").recommendations]


@pytest.mark.parametrize("salience", ["    salience: 50\n", ""])
def test_negation_waits_for_every_rule_deriving_the_kind(tmp_path, salience):
    assert titles(tmp_path, TRAP.replace("    salience: 50\n", salience)) == ["File ACME in DE"]


def test_the_same_outline_with_or_without_salience(tmp_path):
    with_salience = tmp_path / "a"
    without = tmp_path / "b"
    with_salience.mkdir()
    without.mkdir()
    one = titles(with_salience, TRAP)
    assert one == titles(
        without, TRAP.replace("    salience: 50\n", "").replace("  - id: covered", "  - id: covered\n    salience: -5")
    )


def test_a_cycle_through_negation_is_refused_on_load(tmp_path):
    (tmp_path / "cycle.yaml").write_text(CYCLE)
    with pytest.raises(InvalidRulePackError) as caught:
        ipexpert.load_rules(tmp_path, defaults=False)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(tmp_path / "cycle.yaml"), 8, 15)
    assert problem.path == "$.rules[0].when[1].not.loud"
    assert "cycle/quiet" in problem.message and "cycle/loud" in problem.message


def test_rules_check_and_evaluate_report_the_cycle(tmp_path, invoke):
    (tmp_path / "cycle.yaml").write_text(CYCLE)
    (tmp_path / "profile.yaml").write_text(
        textwrap.dedent("""\
        firm: {name: X, home_country: CN}
        markets: [{code: US, status: active}]
        """)
    )
    check = invoke("rules", "check", "--no-default-rules", tmp_path / "cycle.yaml")
    assert check.exit_code == 1
    assert "cycle.yaml:8:15: " in check.output and "cycle through negation" in check.output
    run = invoke("evaluate", tmp_path / "profile.yaml", "--rules", tmp_path / "cycle.yaml", "--no-default-rules")
    assert run.exit_code != 0
    assert "cycle.yaml:8:15: " in run.output and "cycle/quiet" in run.output and "Traceback" not in run.output


def test_a_rule_negating_what_it_derives_is_a_cycle(tmp_path):
    (tmp_path / "self.yaml").write_text(
        textwrap.dedent("""\
        pack: self
        version: 0.0.1
        rules:
          - id: guess
            title: guess
            when:
              - not: {stage: {}}
              - firm: {name: $f}
            derive: {stage: {value: development, declared: false}}
            because: no stage
            source: [paper §5.1]
        """)
    )
    with pytest.raises(InvalidRulePackError, match=r"self.yaml:7:15: rule self/guess reads under `not` the kind it derives"):
        ipexpert.load_rules(tmp_path, defaults=False)


def test_bundled_packs_have_no_salience_left():
    rules = ipexpert.load_rules()
    assert [r.key for r in rules.rules if "salience" in r.data] == []
