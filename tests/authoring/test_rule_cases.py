"""Every YAML test case in rules/tests/ runs as one pytest test, named file::case."""

from pathlib import Path

import pytest

import ipexpert
from ipexpert._authoring import testcases as _testcases

CASES = _testcases.collect([_testcases.default_dir()])


@pytest.fixture(scope="module")
def rule_base():
    return ipexpert.load_rules()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.doc.source.rsplit('/', 1)[-1]}::{c.name}" for c in CASES])
def test_rule_case(case, rule_base):
    result = _testcases.run(case, rule_base)
    assert result.ok, "\n".join(result.report())


def test_every_rule_fires_in_some_case(rule_base):
    fired = set()
    for case in CASES:
        fired |= _testcases.run(case, rule_base).fired
    unfired = [rule.key for rule in rule_base.rules if rule.key not in fired]
    assert not unfired, f"rules no test case makes fire: {unfired}"


# Cases whose rules test, inside `exists:`, a variable bound earlier in the rule: `exists:` reads
# the bindings made before it, so one brand's facts never answer for another's.
CORRELATED = _testcases.collect([Path(__file__).parent.parent / "fixtures" / "correlated-negation"])


@pytest.mark.parametrize("case", CORRELATED, ids=[c.name for c in CORRELATED])
def test_correlated_negation_case(case, rule_base):
    result = _testcases.run(case, rule_base)
    assert result.ok, "\n".join(result.report())
