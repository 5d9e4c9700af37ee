"""Recommendation and risk ids never merge distinct subjects, and are the same in every process."""

import json
import os
import subprocess
import sys

from conftest import ROOT

import ipexpert

AS_OF = "2026-11-25"


def profile(*brands):
    return {
        "firm": {"name": "Four Brands", "home_country": "CN", "stage": "development"},
        "markets": [{"code": "US", "status": "active"}],
        "ip_assets": [{"type": "trademark", "name": name} for name in brands],
    }


def filings(outline):
    return {r.assets[0]: r.id for r in outline.recommendations if r.rule == "paper-core/register-brand-where-selling"}


def test_four_brands_get_four_recommendations_with_four_ids():
    found = filings(ipexpert.evaluate(profile("旋转", "品牌", "ACME", "A.C.M.E"), as_of=AS_OF))
    assert sorted(found) == sorted(["旋转", "品牌", "ACME", "A.C.M.E"])
    assert len(set(found.values())) == 4
    assert found["ACME"] == "register-brand-where-selling:acme:us"  # ASCII words stay readable
    assert found["A.C.M.E"].startswith("register-brand-where-selling:a-c-m-e-")


def test_names_that_differ_only_in_case_or_separators_stay_apart():
    outline = ipexpert.evaluate(profile("Fidget Cube", "FIDGET-CUBE"), as_of=AS_OF)
    found = filings(outline)
    assert len(found) == 2 and len(set(found.values())) == 2
    assert all(i.startswith("register-brand-where-selling:fidget-cube:us~") for i in found.values())
    ids = [r.id for r in outline.recommendations] + [r.id for r in outline.risks]
    assert len(ids) == len(set(ids))
    dates = {t.recommendation for t in outline.timeline}
    assert dates <= set(ids)


def test_diff_sees_a_changed_non_ascii_brand(invoke, tmp_path):
    import yaml

    (tmp_path / "a.yaml").write_text(yaml.safe_dump(profile("旋转"), allow_unicode=True), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(profile("品牌"), allow_unicode=True), encoding="utf-8")
    result = invoke("diff", tmp_path / "a.yaml", tmp_path / "b.yaml", "--as-of", AS_OF)
    assert "no differences" not in result.output
    assert "Register 品牌 in US" in result.output and "Register 旋转 in US" in result.output


def test_explain_finds_a_recommendation_by_its_digest_id(invoke, tmp_path):
    import yaml

    (tmp_path / "p.yaml").write_text(yaml.safe_dump(profile("旋转", "品牌"), allow_unicode=True), encoding="utf-8")
    rec_id = filings(ipexpert.evaluate(tmp_path / "p.yaml", as_of=AS_OF))["品牌"]
    result = invoke("explain", tmp_path / "p.yaml", rec_id, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"how: {rec_id} (recommendation, critical): Register 品牌 in US")
    assert "brand=品牌" in result.output and "旋转" not in result.output


SCRIPT = """
import json, sys, ipexpert
rules = ipexpert.load_rules()
out = {}
for path in sys.argv[1:]:
    o = ipexpert.evaluate(path, rules, as_of="2026-11-25")
    out[path] = [r.id for r in o.recommendations] + [r.id for r in o.risks] + [t.recommendation for t in o.timeline]
print(json.dumps(out, ensure_ascii=False))
"""


def test_ids_are_the_same_under_different_hash_seeds(tmp_path):
    import yaml

    four = tmp_path / "four.yaml"
    four.write_text(
        yaml.safe_dump(profile("旋转", "品牌", "ACME", "A.C.M.E", "Fidget Cube", "FIDGET-CUBE"), allow_unicode=True),
        encoding="utf-8",
    )
    paths = [str(p) for p in sorted((ROOT / "examples").glob("*.yaml"))] + [str(four)]
    runs = []
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", SCRIPT, *paths], capture_output=True, text=True, env=env, check=True)
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]
    assert all(runs[0][p] for p in paths)
