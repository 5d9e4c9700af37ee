"""Group conditions: one conclusion over every match of a pattern, with its list, count, min and max."""

import re

import pytest
from conftest import ROOT

import ipexpert
from ipexpert._errors import InvalidRulePackError

AS_OF = "2026-11-25"
PROFILE = {
    "firm": {"name": "G", "home_country": "CN", "stage": "development"},
    "markets": [
        {"code": "DE", "status": "planned", "launch_date": "2027-05-01"},
        {"code": "FR", "status": "planned", "launch_date": "2027-03-01"},
        {"code": "JP", "status": "planned", "launch_date": "2027-08-01"},
        {"code": "US", "status": "active"},
    ],
    "ip_assets": [
        {"type": "trademark", "name": "ACME"},
        {
            "type": "trademark",
            "name": "SOLO",
            "registrations": [{"jurisdiction": "FR", "status": "registered"}, {"jurisdiction": "JP", "status": "registered"}],
        },
    ],
}

# The group rule is written first and has the higher salience: it still sees every gap.
PACK = """\
pack: g
version: 0.0.1
rules:
  - id: one-filing
    title: "File {brand} once for {markets}"
    category: trademark
    salience: 100
    when:
      - asset: {type: trademark, name: $brand}
      - group:
          match: {gap: {asset: $brand, market: $market, launch: $launch}}
          collect: {markets: $market}
          count: $n
          min: {first: $launch}
          max: {last: $launch}
      - test: {value: $n, ge: 2}
    recommend: {priority: high, markets: [$markets], assets: [$brand], due: {months_before: [$first, 2]}}
    because: "{brand}: {n} markets ({markets}), first launch {first}, last {last}"
    source: [paper §2.3]
  - id: gap
    title: gap
    when:
      - asset: {type: trademark, name: $brand}
      - market: {code: $market, launch_date: $launch}
      - not: {registration: {asset: $brand, jurisdiction: $market}}
    derive: {gap: {asset: $brand, market: $market, launch: $launch}}
    because: "{brand} is not registered in {market}"
    source: [paper §2.3]
"""


def rules(tmp_path, text=PACK):
    (tmp_path / "g.yaml").write_text(text)
    return ipexpert.load_rules(tmp_path, defaults=False)


def test_one_recommendation_over_every_match_with_count_min_and_max(tmp_path):
    outline = ipexpert.evaluate(PROFILE, rules(tmp_path), as_of=AS_OF)
    (rec,) = outline.recommendations
    assert (rec.title, rec.markets, rec.assets, rec.due) == (
        "File ACME once for DE, FR, JP",
        ["DE", "FR", "JP"],
        ["ACME"],
        "2027-01-01",
    )
    assert rec.justification.because == "ACME: 3 markets (DE, FR, JP), first launch 2027-03-01, last 2027-08-01"
    # every fact of the group justifies the conclusion, each through the rule that derived it
    assert sorted(link["values"]["market"] for link in rec.justification.chain) == ["DE", "FR", "JP"]
    assert {f["path"] for f in rec.justification.facts} >= {"$.markets[0]", "$.markets[1]", "$.markets[2]", "$.ip_assets[0]"}


def test_a_group_with_one_match_fails_its_test_and_one_with_none_does_not_hold(tmp_path):
    solo_only = dict(PROFILE, ip_assets=PROFILE["ip_assets"][1:])
    assert ipexpert.evaluate(solo_only, rules(tmp_path), as_of=AS_OF).recommendations == []
    no_test = PACK.replace("      - test: {value: $n, ge: 2}\n", "")
    covered = dict(PROFILE, markets=[PROFILE["markets"][1], PROFILE["markets"][3]], ip_assets=PROFILE["ip_assets"][1:])
    assert ipexpert.evaluate(covered, rules(tmp_path, no_test), as_of=AS_OF).recommendations == []
    (rec,) = ipexpert.evaluate(solo_only, rules(tmp_path, no_test), as_of=AS_OF).recommendations
    assert rec.markets == ["DE"]


def test_the_group_waits_for_every_rule_deriving_its_kind(tmp_path):
    with_salience = ipexpert.evaluate(PROFILE, rules(tmp_path), as_of=AS_OF).to_json()
    without = ipexpert.evaluate(PROFILE, rules(tmp_path, PACK.replace("    salience: 100\n", "")), as_of=AS_OF).to_json()
    assert with_salience == without


@pytest.mark.parametrize(
    "change, where, message",
    [
        (
            "      - test: {value: $n, ge: 2}\n",
            "      - market: {code: {in: $markets}}\n",
            r"g.yaml:16:17: \$markets is bound by a group; only `test:` conditions and the conclusion can read it",
        ),
        (
            "          collect: {markets: $market}\n",
            "          collect: {markets: $brand}\n",
            r"g.yaml:12:30: collect reads \$brand, which the group's pattern does not bind",
        ),
    ],
)
def test_mistakes_in_a_group_are_refused_with_their_place(tmp_path, change, where, message):
    with pytest.raises(InvalidRulePackError, match=message):
        rules(tmp_path, PACK.replace(change, where))


def test_a_group_deriving_what_it_groups_over_is_a_cycle(tmp_path):
    text = PACK.replace(
        "    recommend: {priority: high, markets: [$markets], assets: [$brand], due: {months_before: [$first, 2]}}",
        "    derive: {gap: {asset: $brand, market: $first, launch: $first}}",
    )
    with pytest.raises(InvalidRulePackError, match=r"rule g/one-filing reads in a group the kind it derives"):
        rules(tmp_path, text)


def test_the_guide_shows_the_bundled_group_rule_as_it_is():
    guide = (ROOT / "docs" / "rule-packs.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml excerpt=rules/routes.yaml\n(.*?)```", guide, re.S).group(1)
    assert block.startswith("  - id: eu-trade-mark\n") and "group:" in block
    assert block in (ROOT / "rules" / "routes.yaml").read_text(encoding="utf-8")


def test_rules_check_reads_groups(invoke, tmp_path):
    (tmp_path / "g.yaml").write_text(PACK)
    result = invoke("rules", "check", "--no-default-rules", tmp_path / "g.yaml")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if "has no zh-CN translation" not in line] == []
    shown = invoke("rules", "show", "g/one-filing", "--no-default-rules", "--rules", tmp_path / "g.yaml")
    assert "reads: asset, gap" in shown.output
    bad = PACK.replace("min: {first: $launch}", "min: {first: $nowhere}")
    (tmp_path / "g.yaml").write_text(bad)
    result = invoke("rules", "check", "--no-default-rules", tmp_path / "g.yaml")
    assert result.exit_code == 1
    assert "g.yaml:14:24: min reads $nowhere, which the group's pattern does not bind" in result.stdout
