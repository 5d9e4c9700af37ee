"""A consultant's pack folder layered on a base pack: it disables, overrides and adds exactly what it says."""

import json

import pytest
from conftest import AS_OF, ROOT

PROFILE = "tests/fixtures/profiles/small-no-nda.yaml"
BASE = ("--no-default-rules", "--rules", "tests/fixtures/packs/base")
CONSULTANT = ("--rules", "tests/fixtures/packs/consultant")


@pytest.fixture
def outline(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*rules):
        result = invoke("evaluate", PROFILE, "--format", "json", "--as-of", AS_OF, *rules)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


def levels(data):
    return {r["id"]: r["priority"] for r in data["recommendations"]}


def test_the_consultant_pack_changes_the_outline_exactly_as_declared(outline):
    before, after = outline(*BASE), outline(*BASE, *CONSULTANT)
    expected = dict(levels(before))
    del expected["supplier-nda"]  # disable: base/supplier-nda
    expected["register-brand:acme:de"] = "critical"  # overrides: priority (was high)
    expected["brand-registry:acme:us"] = "medium"  # the consultant's own rule
    assert levels(before)["register-brand:acme:de"] == "high"
    assert levels(after) == expected
    assert before["risks"] == after["risks"]


def test_an_override_replaces_the_justifying_sentence(outline):
    rec = next(r for r in outline(*BASE, *CONSULTANT)["recommendations"] if r["id"] == "register-brand:acme:de")
    assert rec["justification"]["because"] == "ACME is unprotected in DE; our clients file before anything else"
    assert rec["rule"] == "base/register-brand"


def test_the_outline_lists_every_pack_with_its_version(outline):
    assert outline(*BASE, *CONSULTANT)["rule_packs"] == [
        {"name": "base", "version": "1.0.0"},
        {"name": "consultant", "version": "2.1.0"},
    ]


def test_the_consultant_pack_layers_on_the_bundled_packs_too(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    # Saudi Arabia is the Gulf market filed nationally (AE and EG go into one Madrid application)
    result = invoke(
        "evaluate",
        "examples/gulf-expansion.yaml",
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--rules",
        "tests/fixtures/packs/consultant-bundled",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rule_packs"][-1] == {"name": "my-rules", "version": "0.1.0"}
    rec = next(r for r in data["recommendations"] if r["rule"] == "paper-core/register-brand-before-entry")
    assert rec["justification"]["because"].endswith("file before the launch on 2028-06-01.")


def test_an_override_of_a_missing_rule_is_an_error_at_its_place(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("evaluate", PROFILE, *BASE, "--rules", "tests/fixtures/packs/mistakes/override-missing.yaml")
    assert result.exit_code == 1
    assert sorted(result.output.splitlines()) == [
        "tests/fixtures/packs/mistakes/override-missing.yaml:4:11: cannot override base/register-brands: no such rule; "
        "did you mean 'base/register-brand'? (at $.overrides[0].rule)",
        "tests/fixtures/packs/mistakes/override-missing.yaml:7:5: cannot disable base/supplier-ndaa: no such rule; "
        "did you mean 'base/supplier-nda'? (at $.disable[0])",
    ]


def test_rules_list_and_show_see_the_layers(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    listing = invoke("rules", "list", *BASE, *CONSULTANT).output
    assert "consultant 2.1.0  (tests/fixtures/packs/consultant/consultant.yaml, 1 rules)" in listing
    assert "supplier-nda" not in listing
    shown = invoke("rules", "show", "base/register-brand", *BASE, *CONSULTANT).output
    assert "defined at tests/fixtures/packs/base/base.yaml:21" in shown
    assert "overridden at tests/fixtures/packs/consultant/consultant.yaml:8" in shown
    covered = invoke("rules", "show", "base/covered", *BASE, *CONSULTANT).output
    assert "    consultant/brand-registry  tests/fixtures/packs/consultant/consultant.yaml:12" in covered
