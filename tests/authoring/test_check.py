"""`ipexpert rules check`: one fixture pack per mistake, each reported at its exact FILE:LINE:COL."""

import pytest
from conftest import ROOT

BASE = "tests/fixtures/packs/base"
MISTAKES = "tests/fixtures/packs/mistakes"

CASES = {
    "schema-error": [
        "4:5: missing required key 'when' (at $.rules[0])",
        "6:5: unknown key 'whn'; did you mean 'when'? (at $.rules[0].whn)",
    ],
    "unknown-kind": [
        "7:9: nothing produces 'markt' facts: it is not a profile fact kind, and no loaded rule derives it nor pack "
        "declares it; did you mean 'market'? (at $.rules[0].when[0].markt)",
    ],
    "unknown-field": [
        "7:33: market facts have no field 'launch'; did you mean 'launch_date'? (at $.rules[0].when[0].market.launch)",
    ],
    "unbound-variable": [
        "5:12: {brand} is used but no condition binds $brand (at $.rules[0].title)",
        "8:61: $brand is used but no condition binds it (at $.rules[0].recommend.assets[0])",
    ],
    "duplicate-id": [
        "4:9: rule id 'register-brand' is already used by base/register-brand (tests/fixtures/packs/base/base.yaml:21); "
        "give it another id, or override that rule instead (at $.rules[0].id)",
    ],
    "never-produced": [
        "9:15: nothing produces 'madrid_cover' facts: it is not a profile fact kind, and no loaded rule derives it nor "
        "pack declares it (at $.rules[0].when[2].not.madrid_cover)",
        "16:19: no pack or rule produces covered facts with a field 'brand' (produced fields: asset, market) "
        "(at $.rules[1].when[0].covered.brand)",
    ],
    "never-true": [
        "7:41: this condition can never be true: market.status is never 'plannd' (one of active, planned); "
        "did you mean 'planned'? (at $.rules[0].when[0].market.status)",
        "14:41: this condition can never be true: confidentiality.supplier_nda is never 'no' (true or false) "
        "(at $.rules[1].when[0].confidentiality.supplier_nda)",
        "15:50: this condition can never be true: registration.status is never 'pendng' (one of expired, opposed, "
        "pending, refused, registered); did you mean 'pending'? (at $.rules[1].when[1].registration.status.in[1])",
    ],
    "override-missing": [
        "4:11: cannot override base/register-brands: no such rule; did you mean 'base/register-brand'? (at $.overrides[0].rule)",
        "7:5: cannot disable base/supplier-ndaa: no such rule; did you mean 'base/supplier-nda'? (at $.disable[0])",
    ],
}

WARNINGS = {
    "never-consumed": [
        "8:14: warning: no rule has a condition on the 'watchlist' facts this rule derives (at $.rules[0].derive.watchlist)",
    ],
    "no-source": [
        "4:9: warning: rule no-source/unsourced has no source: add the paper section or URL it rests on (at $.rules[0].id)",
    ],
}


UNTRANSLATED = "translation export"  # in the one warning a pack without any translation file gets


def found(result) -> list:
    """The lines of `rules check` but the warning that a consultant's pack has no translation yet."""
    return [line for line in result.stdout.splitlines() if UNTRANSLATED not in line]


@pytest.fixture
def check(invoke, monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*paths, defaults=False):
        return invoke("rules", "check", *([] if defaults else ["--no-default-rules"]), *paths)

    return run


@pytest.mark.parametrize("name", sorted(CASES), ids=sorted(CASES))
def test_each_mistake_is_an_error_at_its_place(check, name):
    result = check(BASE, f"{MISTAKES}/{name}.yaml")
    assert result.exit_code == 1, result.output
    assert found(result) == [f"{MISTAKES}/{name}.yaml:{line}" for line in CASES[name]]
    assert f"2 file(s) checked: {len(CASES[name])} error(s), " in result.stderr


@pytest.mark.parametrize("name", sorted(WARNINGS), ids=sorted(WARNINGS))
def test_warnings_are_printed_but_exit_zero(check, name):
    result = check(BASE, f"{MISTAKES}/{name}.yaml")
    assert result.exit_code == 0, result.output
    assert found(result) == [f"{MISTAKES}/{name}.yaml:{line}" for line in WARNINGS[name]]


def test_the_fixture_base_pack_is_clean_but_untranslated(check):
    result = check(BASE)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{BASE}/base.yaml:2:7: warning: pack base has no zh-CN translation ({BASE}/i18n/zh-CN/base.yaml): its texts "
        "show in English in zh-CN outlines; start one with: ipexpert rules translation export "
        f"{BASE}/base.yaml --lang zh-CN -o base.zh-CN.po (at $.pack)"
    ]


def test_the_bundled_packs_check_clean(check):
    result = check(defaults=True)
    errors = [line for line in result.stdout.splitlines() if ": warning: " not in line]
    assert errors == [] and result.exit_code == 0, result.output
    assert "0 error(s)" in result.stderr


def test_a_consultant_folder_is_checked_with_the_bundled_packs(check):
    # The override names a bundled rule, so it only resolves when the bundled packs are loaded too.
    with_bundled = check("tests/fixtures/packs/consultant-bundled", defaults=True)
    assert with_bundled.exit_code == 0, with_bundled.output
    alone = check("tests/fixtures/packs/consultant-bundled")
    assert alone.exit_code == 1
    assert (
        "tests/fixtures/packs/consultant-bundled/my-rules.yaml:5:11: cannot override "
        "paper-core/register-brand-before-entry: no such rule" in alone.stdout
    )


def test_a_missing_folder_is_a_usage_error(check):
    result = check("tests/fixtures/packs/no-such-folder")
    assert result.exit_code == 2


def test_check_library_call_reports_problems_as_data():
    from ipexpert._authoring import check as _check

    problems = _check.check([ROOT / MISTAKES / "unknown-field.yaml", ROOT / BASE], defaults=False)
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.line, p.column, p.path) for p in errors] == [(7, 33, "$.rules[0].when[0].market.launch")]
