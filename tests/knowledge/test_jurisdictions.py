"""The jurisdiction facts: official sources, check dates, estimates labelled, enough markets, valid codes."""

import datetime
import subprocess
import sys

import pytest
from conftest import ROOT

import ipexpert
from ipexpert._authoring import sources as _sources
from ipexpert._knowledge import packs as _packs
from ipexpert._reading import codes as _codes


@pytest.fixture(scope="module")
def packs():
    return _packs.load()


@pytest.fixture(scope="module")
def claims(packs):
    return _sources.claims(packs)


def jurisdictions(packs):
    return [f.fields for p in packs for f in p.facts if f.kind == "jurisdiction"]


def test_source_urls_are_official_or_a_reasoned_exception(claims):
    listed = _sources.official_list()
    urls = [c for c in claims if c.is_url]
    unofficial = sorted({c.source for c in urls if not _sources.is_official(c.source)})
    unexplained = [u for u in unofficial if not listed["exceptions"].get(u, "").strip()]
    assert not unexplained, f"sources that are neither official nor listed exceptions: {unexplained}"
    share = sum(_sources.is_official(c.source) for c in urls) / len(urls)
    assert share >= 0.9, f"only {share:.0%} of the source URLs are official"
    unused = set(listed["exceptions"]) - {c.source for c in urls}
    assert not unused, f"exceptions no fact uses any more: {sorted(unused)}"


def test_the_official_check_looks_at_the_host_not_the_text():
    assert _sources.is_official("https://www.wipo.int/madrid/en/")
    assert _sources.is_official("https://eteas.uspto.gov/sect08")
    assert not _sources.is_official("https://wipo.int.example.com/madrid")
    assert not _sources.is_official("https://example.com/?u=https://www.wipo.int/")
    assert not _sources.is_official("https://notgov.uk/")


def test_every_fact_carries_the_date_it_was_checked(claims):
    today = datetime.date.today().isoformat()
    for claim in claims:
        assert claim.checked, f"{claim.location}: {claim.kind} {claim.subject} {claim.claim} has no checked date"
        assert datetime.date.fromisoformat(claim.checked).isoformat() == claim.checked
        assert claim.checked <= max(today, "2026-12-01"), claim.location


def test_no_claim_without_an_official_source_is_left_unlabelled(claims):
    for claim in claims:
        status = _sources.status(claim)
        assert status != "secondary", (
            f"{claim.location}: {claim.source} is not official; label it an estimate or list the exception"
        )
        if not claim.is_url:
            assert "an estimate" in claim.note, f"{claim.location}: {claim.kind} {claim.subject} {claim.claim}"


def test_at_least_35_markets_with_valid_codes(packs):
    facts = jurisdictions(packs)
    codes = [f["code"] for f in facts]
    assert len(codes) == len(set(codes)) >= 35
    assert {"EG", "KZ", "MY", "PH", "PK", "NG", "ZA", "CL", "CO", "NZ", "CH", "NO", "IL", "GB", "EU"} <= set(codes)
    assert "UK" not in codes
    assert set(codes) <= set(_codes.market_codes())
    eu = [f.fields for p in packs for f in p.facts if f.kind == "eu"][0]
    assert len(eu["members"]) == 27 and set(eu["members"]) <= set(_codes.iso_codes())
    assert not set(eu["members"]) & set(codes), "a member state is covered by the EU fact"


def test_every_market_has_the_same_facts(packs):
    facts = jurisdictions(packs)
    keys = set(facts[0])
    for fact in facts:
        assert set(fact) == keys, fact["code"]
        assert fact["term_from"] in ("filing", "registration"), fact["code"]
        assert fact["first_to_file"] in (True, False, "unknown"), fact["code"]
        assert fact["madrid"] in (True, False, "unknown"), fact["code"]
        if fact["tm_months"] is None:
            assert fact["tm_note"] == "", fact["code"]  # the fallback's note speaks instead


def test_the_terms_count_from_the_event_the_law_counts_from(packs):
    by_code = {f["code"]: f for f in jurisdictions(packs)}
    assert by_code["CN"]["term_from"] == "registration"  # Trademark Law Art. 39
    assert by_code["US"]["term_from"] == "registration"
    assert by_code["JP"]["term_from"] == "registration"
    assert by_code["EU"]["term_from"] == "filing"
    assert by_code["AU"]["term_from"] == "filing"


def test_the_outline_says_when_a_figure_is_an_estimate():
    profile = {
        "firm": {"name": "Kay", "home_country": "CN", "employees": 5},
        "markets": [{"code": "KR", "status": "planned", "launch_date": "2028-06-01"}],
        "ip_assets": [{"type": "trademark", "name": "KAY"}],
    }
    outline = ipexpert.evaluate(profile, as_of="2026-12-01")
    register = [r for r in outline.recommendations if r.rule == "paper-core/register-brand-before-entry"]
    assert register and "an estimate" in register[0].justification.because


def test_rules_sources_lists_the_oldest_checks_first(tmp_path):
    pack = tmp_path / "old.yaml"
    pack.write_text(
        "pack: old-facts\nversion: 1.0.0\nfacts:\n"
        "  - jurisdiction: {code: BD, tm_months: 10, tm_note: 'about 10 months', tm_source: 'https://www.wipo.int/x', tm_checked: '2019-05-01'}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "ipexpert", "rules", "sources", "--rules", str(pack), "-n", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "source URLs official" in lines[0] and "oldest check 2019-05-01" in lines[0]
    assert lines[1].split() == ["CHECKED", "FACT", "STATUS", "SOURCE"]
    assert lines[2].split() == ["2019-05-01", "jurisdiction", "BD", "tm", "official", "https://www.wipo.int/x"]
    assert len(lines) == 6 and lines[-1].startswith("... ")
