"""Packs that run away by their size: a group over thousands of reference facts, a chain of derivations a thousand deep."""

import json

import pytest
from conftest import AS_OF, SPINWELL

import ipexpert
from ipexpert._engine import rulebase


def wide_group_pack(items: int) -> str:
    """A group over every `item`, computed once per `item`: items**2 facts looked at."""
    facts = "\n".join(f"  - item: {{n: {n}}}" for n in range(items))
    return f"""pack: wide-group
version: 0.0.1
title: A group over every item, for every item
facts:
{facts}
rules:
  - id: items-counted
    title: "{{count}} items besides {{n}}"
    category: strategy
    when:
      - item: {{n: $n}}
      - group:
          match: {{item: {{n: $m}}}}
          count: $count
    recommend: {{priority: low}}
    because: "{{count}} items"
    source: [paper §2.3]
"""


def chain_pack(steps: int) -> str:
    """`step` n+1 derived from `step` n by way of a `link` fact, from 0 to *steps*; a recommendation at the end."""
    links = "\n".join(f"  - link: {{from: {n}, to: {n + 1}}}" for n in range(steps))
    return f"""pack: long-chain
version: 0.0.1
title: A long chain of derivations
facts:
  - start: {{n: 0}}
{links}
rules:
  - id: first-step
    title: first step
    category: strategy
    when:
      - start: {{n: $n}}
    derive: {{step: {{n: $n}}}}
    because: "the chain starts at {{n}}"
    source: [paper §2.3]
  - id: next-step
    title: next step
    category: strategy
    when:
      - step: {{n: $n}}
      - link: {{from: $n, to: $m}}
    derive: {{step: {{n: $m}}}}
    because: "step {{m}} follows step {{n}}"
    source: [paper §2.3]
  - id: chain-end
    title: the chain reached {{n}}
    category: strategy
    when:
      - step: {{n: {{eq: {steps}, bind: $n}}}}
    recommend: {{priority: low}}
    because: "the chain reached {{n}}"
    source: [paper §2.3]
"""


@pytest.fixture
def wide_group(tmp_path):
    path = tmp_path / "wide-group.yaml"
    path.write_text(wide_group_pack(1_200))
    return path


def test_a_group_over_many_reference_facts_stops_at_its_limit(wide_group, monkeypatch):
    # 1,200 x 1,200 facts looked at is past the limit of 50,000 plus 100 per fact (about 180,000).
    rules = ipexpert.load_rules(wide_group, defaults=False)
    with pytest.raises(ipexpert.EvaluationError) as caught:
        ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    assert not isinstance(caught.value, ipexpert.ProfileTooLargeError)  # the pack's fault, whatever the profile
    (problem,) = caught.value.problems
    assert (problem.file, problem.path) == (str(wide_group), "$.rules[0].when[1]")
    assert problem.message.startswith("rule items-counted of pack wide-group stopped the evaluation: it looked at more than")
    # The same engine evaluates the next profile as if nothing had happened.
    monkeypatch.setattr(rulebase, "MATCH_LIMIT_BASE", 10**7)
    outline = ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    assert len(outline.recommendations) == 1_200


def test_rules_check_warns_about_a_group_over_many_reference_facts(invoke, wide_group, tmp_path):
    result = invoke("rules", "check", "--no-default-rules", wide_group)
    assert result.exit_code == 0
    (line,) = [line for line in result.stdout.splitlines() if "warning: the group" in line]
    assert line.startswith(f"{wide_group}:") and line.endswith("(at $.rules[0].when[1].group)")
    assert "looks at all 1,200 `item` facts of the packs each time the conditions before it match" in line
    small = tmp_path / "small-group.yaml"
    small.write_text(wide_group_pack(50))
    assert "warning: the group" not in invoke("rules", "check", "--no-default-rules", small).stdout


def test_a_derived_chain_a_thousand_deep_is_justified_step_by_step(invoke, tmp_path):
    pack = tmp_path / "long-chain.yaml"
    pack.write_text(chain_pack(1_200))
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "--rules", pack, "--no-default-rules", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (recommendation,) = json.loads(result.stdout)["recommendations"]
    chain = recommendation["justification"]["chain"]
    # Every step after the one it came from: 0, 1, ..., 1,200.
    assert [link["values"]["n"] for link in chain] == list(range(1_201))
    assert chain[1]["because"] == "step 1 follows step 0"
    assert len(recommendation["justification"]["facts"]) == 1_201  # the start and every link
