"""What a rule's conditions and conclusions mean, as a user sees it through the command line.

`exists`, `not` and groups read the variables bound before them; firings whose words differ
are not merged into one item; `rules check` finds codes inside every kind of condition and
warns where an item's words use a value its identity ignores. The probe pack is the one a new
user tried: two brands, one with a US registration.
"""

import json

import pytest
from conftest import AS_OF, ROOT

PROBE = ("--rules", "tests/fixtures/packs/probe", "--no-default-rules", "--as-of", AS_OF)
PROBE_PROFILE = "tests/fixtures/correlation/probe.yaml"
TWO_BRANDS = "tests/fixtures/correlation/two-brands.yaml"


@pytest.fixture
def cli(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    return invoke


def titles(result) -> list:
    return [item["title"] for item in json.loads(result.output)["recommendations"]]


def test_the_probe_pack_gives_the_us_item_for_alpha_only_and_one_item_per_brand(cli):
    result = cli("evaluate", PROBE_PROFILE, "--format", "json", *PROBE)
    assert result.exit_code == 0, result.output
    items = {item["id"]: item["title"] for item in json.loads(result.output)["recommendations"]}
    assert items == {
        "has-us:alpha": "ALPHA has a US registration",
        "no-subject:alpha": "Look again at ALPHA",
        "no-subject:beta": "Look again at BETA",
    }


def test_why_not_says_beta_has_no_us_registration(cli):
    result = cli("explain", PROBE_PROFILE, "has-us:beta", *PROBE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "why not: probe/has-us (tests/fixtures/packs/probe/probe.yaml:4): {a} has a US registration"
    assert "  it fired, but not for has-us:beta; it concluded: has-us:alpha" in lines
    assert "  condition 2 fails: {exists: {registration: {asset: $a, jurisdiction: US}}}  (with a=BETA)" in lines
    assert "    no fact matches {registration: {asset: BETA, jurisdiction: US}}" in lines


def test_how_shows_only_the_firing_of_the_item_asked_about(cli):
    result = cli("explain", PROBE_PROFILE, "no-subject:beta", *PROBE)
    assert result.exit_code == 0, result.output
    assert "  by probe/no-subject (tests/fixtures/packs/probe/probe.yaml:13) with a=BETA" in result.output
    assert "a=ALPHA" not in result.output


def test_how_shows_the_fact_an_exists_found_for_this_brand(cli):
    result = cli("explain", PROBE_PROFILE, "has-us:alpha", *PROBE)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        "  and found a fact matching:",
        "    {registration: {asset: ALPHA, jurisdiction: US}}",
    ]


def test_three_firings_whose_words_differ_stay_three_items(cli):
    result = cli("evaluate", TWO_BRANDS, "--format", "json", *PROBE)
    items = {item["id"] for item in json.loads(result.output)["recommendations"] if item["rule"] == "probe/no-subject"}
    assert items == {"no-subject:alpha", "no-subject:beta", "no-subject:spin-hinge"}


def test_rules_check_finds_codes_inside_group_and_not_at_their_place(cli):
    result = cli("rules", "check", "tests/fixtures/packs/codes-in-conditions", "--no-default-rules")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("tests/fixtures/packs/codes-in-conditions/codes.yaml:9:40: 'XQ' is not an ISO 3166-1 alpha-2")
        and line.endswith("(at $.rules[0].when[1].group.match.market.code)")
        for line in lines
    ), lines
    assert any(
        line.startswith("tests/fixtures/packs/codes-in-conditions/codes.yaml:18:30: 'XZ' is not")
        and line.endswith("(at $.rules[1].when[1].not.market.code)")
        for line in lines
    ), lines


def test_a_bad_code_inside_a_group_stops_evaluation(cli):
    result = cli("evaluate", TWO_BRANDS, "--rules", "tests/fixtures/packs/codes-in-conditions", "--no-default-rules")
    assert result.exit_code == 1
    assert "codes.yaml:9:40: 'XQ' is not an ISO 3166-1 alpha-2" in result.output + (result.stderr or "")


def test_rules_check_warns_where_words_use_a_value_the_subject_does_not_fix(cli):
    result = cli("rules", "check", "tests/fixtures/packs/merged-words", "--no-default-rules")
    assert result.exit_code == 0
    out = result.output + (result.stderr or "")
    assert (
        "tests/fixtures/packs/merged-words/merged.yaml:5:12: warning: the words of this recommend use $jurisdiction, "
        "but its items are told apart only by assets"
    ) in out


def test_two_brands_and_a_china_only_invention_with_the_bundled_packs(cli):
    result = cli("evaluate", TWO_BRANDS, "--format", "json", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    outline = json.loads(result.output)
    rules = {item["rule"] for item in outline["recommendations"] + outline["risks"]}
    # The invention was filed only in China: a trade mark registered abroad is no foreign patent filing.
    assert "routes/security-exam-filed-abroad-without" not in rules
    # Only ALPHA has an international registration: BETA is told to register in JP, not to designate it.
    recommended = titles(result)
    assert "Designate JP in ALPHA's international registration" in recommended
    assert not any("BETA's international registration" in title for title in recommended)
    assert "Register BETA in JP before selling there" in recommended
