"""Packs are plain YAML ($name variables); packs in the older ?name form load with a warning and upgrade in place."""

import json
import re
import warnings

import pytest
import yaml
from conftest import ROOT

import ipexpert
from ipexpert._knowledge import syntax as _syntax
from ipexpert._knowledge.packs import PackWarning

RULES = ROOT / "rules"
PACKS = sorted(RULES.glob("*.yaml"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
VARIABLE = re.compile(r"(?<=[\s\[{,:])\$(?=[a-z_])(?!schema=)")  # not the editor comment's $schema=


def old_form(text: str) -> str:
    """A pack as it was written before $name: each variable's `$` back to `?`."""
    return VARIABLE.sub("?", text)


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_under_rules_is_plain_yaml(path):
    assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None


@pytest.mark.parametrize("path", PACKS, ids=lambda p: p.name)
def test_upgrade_restores_every_shipped_pack_byte_for_byte(path):
    text = path.read_text(encoding="utf-8")
    old = old_form(text)
    upgraded, count = _syntax.upgrade_text(old, path.name)
    assert upgraded == text
    assert count == len(VARIABLE.findall(text))
    assert _syntax.upgrade_text(upgraded, path.name) == (text, 0)


def test_old_and_new_packs_give_the_same_outlines(tmp_path):
    for path in PACKS:
        (tmp_path / path.name).write_text(old_form(path.read_text(encoding="utf-8")), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PackWarning)
        old_rules = ipexpert.load_rules(tmp_path, defaults=False)
    assert len(caught) == sum(1 for p in PACKS if VARIABLE.search(p.read_text(encoding="utf-8")))
    new_rules = ipexpert.load_rules()
    for example in EXAMPLES:
        old = ipexpert.evaluate(example, old_rules, as_of="2026-11-25").to_dict()
        new = ipexpert.evaluate(example, new_rules, as_of="2026-11-25").to_dict()
        old.pop("rule_packs"), new.pop("rule_packs")
        assert without_pack_files(old) == without_pack_files(new), example.name


def without_pack_files(outline: dict) -> str:
    """The outline with the packs' file names left out (they differ; everything else must not)."""
    for item in outline["recommendations"] + outline["risks"]:
        facts = item["justification"]["facts"]
        for fact in facts:
            if fact["kind"] not in ("evaluation",) and ":facts[" in fact["path"]:
                fact["file"] = None
        facts.sort(key=lambda f: json.dumps(f, sort_keys=True))
    return json.dumps(outline, sort_keys=True)


OLD_PACK = """\
# A consultant's pack, still in the old form
pack: old
version: 1.0.0
rules:
  - id: file-it   # keep this comment
    title: "File ?brand now: {brand} in {m}"
    when:
      - market: {code: ?m}
      - asset: {type: trademark, name: "?brand"}
      - asset:
          name: ?brand
          value: {bind: ?value, exists: false}
    recommend:
      priority: high
      markets: [?m]
      assets:
        - ?brand
      actions: ["ask ?m first"]
    because: "{brand} is not filed in {m}"
    source: [paper §2.3]
"""


def test_old_variables_load_with_a_warning_naming_the_upgrade(tmp_path):
    (tmp_path / "old.yaml").write_text(OLD_PACK)
    with pytest.warns(PackWarning) as caught:
        rules = ipexpert.load_rules(tmp_path, defaults=False)
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith(f"{tmp_path / 'old.yaml'}:8:24: warning: ")
    assert f"run `ipexpert rules upgrade {tmp_path / 'old.yaml'}`" in message
    profile = {
        "firm": {"name": "X", "home_country": "CN"},
        "markets": [{"code": "US", "status": "active"}],
        "ip_assets": [{"type": "trademark", "name": "ACME"}],
    }
    (rec,) = ipexpert.evaluate(profile, rules, as_of="2026-11-25").recommendations
    assert (rec.title, rec.markets, rec.assets, rec.actions) == (
        "File ?brand now: ACME in US",
        ["US"],
        ["ACME"],
        ["ask ?m first"],
    )


def test_rules_upgrade_rewrites_in_place_keeping_comments_and_text(tmp_path, invoke):
    path = tmp_path / "old.yaml"
    path.write_text(OLD_PACK)
    result = invoke("rules", "upgrade", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: 6 variable(s) rewritten as $name\n"
    text = path.read_text()
    assert text == (
        OLD_PACK.replace("{code: ?m}", "{code: $m}")
        .replace('"?brand"', '"$brand"')
        .replace("name: ?brand", "name: $brand")
        .replace("bind: ?value", "bind: $value")
        .replace("[?m]", "[$m]")
        .replace("- ?brand", "- $brand")
    )
    assert "# keep this comment" in text and "File ?brand now" in text and "ask ?m first" in text
    again = invoke("rules", "upgrade", path)
    assert again.output == f"{path}: nothing to change\n" and path.read_text() == text
    with warnings.catch_warnings():
        warnings.simplefilter("error", PackWarning)
        ipexpert.load_rules(tmp_path, defaults=False)


def test_rules_check_reports_old_variables_as_a_warning(tmp_path, invoke):
    (tmp_path / "old.yaml").write_text(OLD_PACK)
    result = invoke("rules", "check", "--no-default-rules", tmp_path / "old.yaml")
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'old.yaml'}:8:24: warning: this pack writes its 6 variable(s) as ?name" in result.output


def test_upgrade_refuses_a_file_it_cannot_read(tmp_path, invoke):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: [unclosed\n")
    result = invoke("rules", "upgrade", bad)
    assert result.exit_code == 1
    assert result.output.startswith(f"{bad}:") and "Traceback" not in result.output
    assert bad.read_text() == "pack: [unclosed\n"


def test_upgrade_keeps_crlf_line_ends(tmp_path, invoke):
    path = tmp_path / "crlf.yaml"
    path.write_bytes(OLD_PACK.replace("\n", "\r\n").encode())
    assert invoke("rules", "upgrade", path).exit_code == 0
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == OLD_PACK.count("\n") and b"{code: $m}" in raw


def test_upgrade_handles_anchors_aliases_and_tags(tmp_path, invoke):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "pack: anchors\nversion: 1.0.0\nrules:\n  - id: a\n    title: T\n    when:\n"
        "      - market: {code: &m ?m}\n"
        "      - registration: {jurisdiction: *m, status: !!str ?st}\n"
        "    recommend: {priority: low, markets: [?m]}\n    because: b\n    source: [paper §2.3]\n"
    )
    result = invoke("rules", "upgrade", path)
    assert result.output == f"{path}: 3 variable(s) rewritten as $name\n"
    text = path.read_text()
    assert "{code: &m $m}" in text and "{jurisdiction: *m, status: !!str $st}" in text and "[$m]" in text
    data = yaml.safe_load(text)
    assert data["rules"][0]["when"] == [{"market": {"code": "$m"}}, {"registration": {"jurisdiction": "$m", "status": "$st"}}]
