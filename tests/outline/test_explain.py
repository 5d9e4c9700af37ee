"""`ipexpert explain`: how a conclusion was reached, and why a rule did not fire (with a verified fix)."""

import json

import pytest
from conftest import AS_OF, ROOT, SPINWELL

SMALL = "tests/fixtures/profiles/small.yaml"
OWN = ("--rules", "tests/fixtures/packs/base", "--no-default-rules", "--as-of", AS_OF)


@pytest.fixture
def explain(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *args: invoke("explain", *args)


def test_how_traces_a_recommendation_to_profile_lines(explain):
    result = explain(SMALL, "register-brand:acme:de", *OWN)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "how: register-brand:acme:de (recommendation, high): Register ACME in DE",
        "  by base/register-brand (tests/fixtures/packs/base/base.yaml:21) with brand=ACME, market=DE",
        "  because: ACME has no registration covering DE",
        "  matched:",
        "    market $.markets[1] (tests/fixtures/profiles/small.yaml:9): code=DE",
        "    asset $.ip_assets[0] (tests/fixtures/profiles/small.yaml:16): type=trademark, name=ACME",
        "  and found no fact matching:",
        "    {covered: {asset: ACME, market: DE}}",
    ]


def test_how_goes_through_derived_facts(explain):
    # supplier-nda does not fire on small.yaml; on the later profile it does, through the derived stage
    result = explain("tests/fixtures/profiles/small-complaints.yaml", "supplier-nda", *OWN)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "how: supplier-nda (recommendation, medium): Have suppliers sign confidentiality agreements"
    assert (
        "    stage derived by base/stage-small (tests/fixtures/packs/base/base.yaml:6): declared=false, value=development"
    ) in lines
    assert "      because: the firm has fewer than 50 employees" in lines
    assert "      from firm $.firm (tests/fixtures/profiles/small-complaints.yaml:4): stage=null, employees=12" in lines


def test_why_not_names_the_failing_condition_and_the_smallest_change(explain):
    result = explain(SMALL, "base/supplier-nda", *OWN)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "why not: base/supplier-nda (tests/fixtures/packs/base/base.yaml:35): Have suppliers sign confidentiality agreements",
        "  condition 2 fails: {confidentiality: {supplier_nda: false}}",
        "    held: stage derived by base/stage-small (tests/fixtures/packs/base/base.yaml:6): declared=false, value=development",
        "      because: the firm has fewer than 50 employees",
        "      from firm $.firm (tests/fixtures/profiles/small.yaml:3): stage=null, employees=12",
        "    confidentiality $.confidentiality (tests/fixtures/profiles/small.yaml:22): supplier_nda is true, needs false",
        "  would fire if $.confidentiality.supplier_nda were false",
    ]


def test_why_not_for_an_operator_condition_proposes_a_passing_value(explain):
    result = explain(SMALL, "complaints-risk", *OWN)
    assert (
        "history $.history (tests/fixtures/profiles/small.yaml:24): infringement_complaints is 0, needs {gt: 0}" in result.output
    )
    assert result.output.rstrip().endswith("would fire if $.history.infringement_complaints were 1")


def test_why_not_for_negation_names_the_blocking_fact(explain):
    result = explain(SMALL, "register-brand:acme:us", *OWN)
    out = result.output
    assert "it fired, but not for register-brand:acme:us; it concluded: register-brand:acme:de" in out
    assert "condition 3 fails: {not: {covered: {asset: $brand, market: $market}}}  (with brand=ACME, market=US)" in out
    assert "blocked by: covered derived by base/covered (tests/fixtures/packs/base/base.yaml:13): asset=ACME, market=US" in out
    # removing the US market would remove the item asked about too, so only the registration is offered
    assert out.rstrip().splitlines()[-1] == "  would fire without $.ip_assets[0].registrations[0]"


def test_json_gives_the_same_as_data(explain):
    result = explain(SMALL, "supplier-nda", "--format", "json", *OWN)
    data = json.loads(result.output)
    assert data["explain"] == "why-not" and data["rule"] == "base/supplier-nda"
    assert data["changes"] == ["would fire if $.confidentiality.supplier_nda were false"]
    (candidate,) = data["failures"][0]["candidates"]
    assert (candidate["set"], candidate["value"], candidate["line"]) == ("$.confidentiality.supplier_nda", False, 22)
    how = json.loads(explain(SMALL, "register-brand:acme:de", "-f", "json", *OWN).output)
    assert how["explain"] == "how"
    assert [f["path"] for f in how["firings"][0]["matched"]] == ["$.markets[1]", "$.ip_assets[0]"]


def test_an_unknown_target_is_an_error_with_a_suggestion(explain):
    result = explain(SMALL, "base/suplier-nda", *OWN)
    assert result.exit_code == 1
    assert "did you mean 'base/supplier-nda'?" in result.output


# -- the bundled knowledge base, whatever its rules are called today ------------------------------


def bundled():
    import ipexpert
    from ipexpert import _api

    rules = ipexpert.load_rules()
    outline, run, _ = _api.evaluate_run(str(SPINWELL), rules, AS_OF)
    return rules, outline, run


def test_how_on_every_recommendation_of_the_bundled_example(explain):
    _, outline, _ = bundled()
    assert outline.recommendations
    for rec in outline.recommendations:
        result = explain(SPINWELL, rec.id, "--as-of", AS_OF)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"how: {rec.id} (recommendation, {rec.priority}): {rec.title}")
        assert "examples/spinwell-trending.yaml:" in result.output


def test_why_not_on_every_bundled_rule_that_did_not_fire(explain):
    rules, _, run = bundled()
    fired = {f.rule.key for f in run.firings}
    silent = [r.key for r in rules.rules if r.key not in fired]
    assert silent, "the example should leave some rule silent"
    for key in silent:
        result = explain(SPINWELL, key, "--as-of", AS_OF, "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["explain"] == "why-not" and data["rule"] == key
        assert data["failures"] or data.get("note"), key


def test_why_not_follows_a_missing_derived_fact_to_the_profile_value_that_blocks_it(invoke, tmp_path):
    profile = tmp_path / "why.yaml"
    profile.write_text(
        "firm: {name: Why Co, home_country: CN, stage: development}\n"
        "markets:\n  - {code: US, status: active}\n"
        "ip_assets:\n  - type: trademark\n    name: ACME\n    registrations:\n"
        '      - {jurisdiction: US, status: registered, filed: "2024-01-10"}\n'
    )
    result = invoke("explain", profile, "register-brand-where-selling:acme:us", "--as-of", "2026-11-25")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "  condition 1 fails: {gap: {asset: $brand, market: $market, status: active}}"
    assert lines[3].startswith("    paper-core/trademark-gap (") and lines[3].endswith(") would derive it with status=active")
    assert lines[4] == (
        "      condition 3 fails: {not: {covered: {asset: $brand, type: trademark, market: $market}}}"
        "  (with brand=ACME, market=US, status=active)"
    )
    assert any(line.startswith("        blocked by: covered derived by paper-core/covered-national") for line in lines)
    assert f"registration $.ip_assets[0].registrations[0] ({profile}:8)" in result.output
    assert lines[-1] == "  would fire without $.ip_assets[0].registrations[0]"
