"""`ipexpert diff`: what appears, disappears or changes level between two profiles (or after --set)."""

import json

import pytest
from conftest import AS_OF, ROOT, SPINWELL

SMALL = "tests/fixtures/profiles/small.yaml"
LATER = "tests/fixtures/profiles/small-complaints.yaml"
OWN = ("--rules", "tests/fixtures/packs/base", "--no-default-rules", "--as-of", AS_OF)


@pytest.fixture
def diff(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *args: invoke("diff", *args)


def test_two_profiles(diff):
    result = diff(SMALL, LATER, *OWN)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"--- {SMALL}",
        f"+++ {LATER}",
        "+ recommendation supplier-nda [medium]: Have suppliers sign confidentiality agreements",
        "- recommendation register-brand:acme:de [high]: Register ACME in DE",
        "~ recommendation clearance-search:fidget-cube:de: priority high -> critical",
        "~ recommendation clearance-search:fidget-cube:us: priority high -> critical",
        "+ risk risk:complaints-risk:fidget-cube:de [critical]: Listings of Fidget cube at risk in DE",
        "+ risk risk:complaints-risk:fidget-cube:us [critical]: Listings of Fidget cube at risk in US",
    ]


def test_json(diff):
    data = json.loads(diff(SMALL, LATER, "--format", "json", *OWN).output)
    assert [i["id"] for i in data["recommendations"]["disappeared"]] == ["register-brand:acme:de"]
    assert data["recommendations"]["changed"][0]["priority"] == ["high", "critical"]
    assert [i["id"] for i in data["risks"]["appeared"]] == [
        "risk:complaints-risk:fidget-cube:de",
        "risk:complaints-risk:fidget-cube:us",
    ]


def test_what_if_with_set(diff):
    result = diff(SMALL, "--set", "history.infringement_complaints=1", *OWN)
    assert result.exit_code == 0, result.output
    assert f"+++ {SMALL} with history.infringement_complaints=1" in result.output
    assert "~ recommendation clearance-search:fidget-cube:us: priority high -> critical" in result.output
    assert "+ recommendation" not in result.output and "- recommendation" not in result.output


def test_the_same_profile_has_no_differences(diff):
    result = diff(SMALL, SMALL, *OWN)
    assert result.output.splitlines()[-1] == "no differences"


def test_stage_change_on_the_bundled_knowledge_base(diff):
    result = diff(SPINWELL, "--set", "firm.stage=stable", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "~ stage: development -> stable" in result.output


def test_one_profile_without_set_is_a_usage_error(diff):
    assert diff(SMALL).exit_code == 2


def test_evaluate_set_is_the_same_what_if(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)
    changed = invoke("evaluate", SMALL, "--set", "confidentiality.supplier_nda=false", *OWN)
    assert "Have suppliers sign confidentiality agreements" in changed.output
    assert "Have suppliers sign" not in invoke("evaluate", SMALL, *OWN).output
    bad = invoke("evaluate", SMALL, "--set", "markets[7].status=active", *OWN)
    assert bad.exit_code == 1 and "--set" in bad.output


def test_the_same_profile_twice_exits_0_with_every_json_list_empty_and_so_does_a_difference(diff):
    same = diff(SMALL, SMALL, "--format", "json", *OWN)
    assert same.exit_code == 0
    data = json.loads(same.output)
    assert all(
        data[kind][change] == [] for kind in ("recommendations", "risks") for change in ("appeared", "disappeared", "changed")
    )
    assert diff(SMALL, LATER, *OWN).exit_code == 0  # 1 is an invalid profile, as in every command
    assert diff(SMALL, "tests/fixtures/profiles/missing.yaml", *OWN).exit_code == 1
