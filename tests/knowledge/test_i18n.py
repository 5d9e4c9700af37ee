"""Languages: every bundled rule is translated, a missing or stale translation is reported and
shown in English (marked), and ids and codes never change with the language."""

import json
import re
import shutil

import pytest
from conftest import AS_OF, EXAMPLES, ROOT, SPINWELL, bare_codes

import ipexpert
from ipexpert._knowledge import i18n as _i18n
from ipexpert._knowledge import packs as _packs

GULF = EXAMPLES / "gulf-expansion.yaml"

ZH = ROOT / "rules" / "i18n" / "zh-CN"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_bundled_rule_has_its_chinese_texts():
    assert _i18n.check_translations(_packs.load()) == []


def test_rules_check_is_clean_with_the_translations(invoke):
    result = invoke("rules", "check")
    assert result.exit_code == 0 and "0 error(s), 0 warning(s)" in result.output


def test_every_translation_keeps_the_placeholders_of_its_english():
    for path in sorted(ZH.glob("*.yaml")):
        data = _i18n._load(path).data
        entries = list(data.get("values") or [])
        for fields in (data.get("rules") or {}).values():
            for entry in fields.values():
                entries += entry if isinstance(entry, list) else [entry]
        for entry in entries:
            assert _i18n._expressions.placeholders(entry["en"]) == _i18n._expressions.placeholders(entry["zh-CN"]), (
                path.name,
                entry,
            )
            assert CJK.search(entry["zh-CN"]), (path.name, entry)


def copy_packs(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    for pack in (ROOT / "rules").glob("*.yaml"):
        shutil.copy(pack, folder / pack.name)
    return folder


def test_a_changed_english_text_and_a_new_rule_are_reported(tmp_path):
    folder = copy_packs(tmp_path)
    core = folder / "paper-core.yaml"
    text = core.read_text(encoding="utf-8")
    text = text.replace("Register {brand} in {market} before selling there", "Register {brand} in {market} before any sale there")
    text += """  - id: brand-new-rule
    title: A rule nobody has translated
    category: strategy
    when:
      - firm: {name: $firm}
    recommend: {priority: low, actions: ["Do the new thing"]}
    because: "{firm} needs it"
    source: [paper §5.1]
"""
    core.write_text(text, encoding="utf-8")
    packs = _packs.load([folder], defaults=False)
    messages = [p.format() for p in _i18n.check_translations(packs, "zh-CN", ZH)]
    assert any("paper-core/register-brand-before-entry title is older than its English text" in m for m in messages), messages
    assert any("paper-core/brand-new-rule title is missing" in m for m in messages)
    assert any("paper-core/brand-new-rule recommend.actions is missing" in m for m in messages)
    assert all(m.startswith(str(core.name)) or "paper-core.yaml:" in m for m in messages)
    assert all("warning:" in m for m in messages)


def test_an_untranslated_rule_falls_back_to_english_marked(tmp_path):
    override = tmp_path / "override.yaml"
    override.write_text(
        """pack: consultant
version: 1.0.0
rules: []
overrides:
  - rule: paper-core/register-brand-before-entry
    title: Register {brand} in {market} well before the launch
""",
        encoding="utf-8",
    )
    rules = ipexpert.load_rules(override)
    # Saudi Arabia is filed nationally (the other Gulf markets go into one Madrid application)
    outline = ipexpert.evaluate(GULF, rules, as_of=AS_OF, lang="zh-CN")
    assert outline.untranslated == ["paper-core/register-brand-before-entry"]
    rec = outline.recommendation("register-brand-before-entry:desert-rose:sa")
    assert rec.title == "Register DESERT ROSE in SA well before the launch"
    assert CJK.search(rec.justification.because)  # the other texts of the rule are still translated
    page = ipexpert.report(GULF, rules, as_of=AS_OF, lang="zh-CN")
    assert 'Register DESERT ROSE in SA well before the launch <span class="mark-en">尚未翻译：显示英文原文</span>' in page
    text = ipexpert._outputs.text.text(outline)
    assert "Register DESERT ROSE in SA well before the launch [尚未翻译：显示英文原文]" in text
    assert json.loads(outline.to_json())["untranslated"] == ["paper-core/register-brand-before-entry"]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_ids_and_codes_are_the_same_in_every_language(example):
    en = json.loads(ipexpert.evaluate(example, as_of=AS_OF).to_json())
    zh = json.loads(ipexpert.evaluate(example, as_of=AS_OF, lang="zh-CN").to_json())
    assert en["language"] == "en" and zh["language"] == "zh-CN"
    assert en["untranslated"] == zh["untranslated"] == []

    def skeleton(outline):
        return {
            "recommendations": [
                (
                    r["id"],
                    r["rule"],
                    r["category"],
                    r["priority"],
                    r["due"],
                    r["markets"],
                    r["assets"],
                    r["products"],
                    [f["path"] for f in r["justification"]["facts"]],
                    r["justification"]["sources"],
                )
                for r in outline["recommendations"]
            ],
            "risks": [(r["id"], r["rule"], r["kind"], r["severity"]) for r in outline["risks"]],
            "timeline": sorted((t["date"], t["recommendation"]) for t in outline["timeline"]),
            "stage": (outline["stage"]["value"], outline["stage"]["declared"]),
            "as_of": outline["as_of"],
            "firm": outline["firm"],
            "rule_packs": outline["rule_packs"],
        }

    assert skeleton(en) == skeleton(zh)
    for rec in zh["recommendations"]:
        assert CJK.search(rec["title"]) and CJK.search(rec["justification"]["because"])
        assert all(CJK.search(a) for a in rec["actions"])
    for risk in zh["risks"]:
        assert CJK.search(risk["title"])


def test_the_outline_schema_accepts_both_languages():
    from ipexpert._reading import schemas as _schemas

    for lang in _i18n.LANGUAGES:
        data = json.loads(ipexpert.evaluate(SPINWELL, as_of=AS_OF, lang=lang).to_json())
        assert list(_schemas.validator("outline").iter_errors(data)) == []


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_in_chinese(invoke, fmt):
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "--lang", "zh-CN", "--format", fmt)
    assert result.exit_code == 0
    out = result.output
    assert "以 SPINWELL 在中国的申请为基础，提交一件指定日本、美国的马德里国际申请" in out and "2026年11月25日" in out
    assert ("市场：日本、美国；权利：SPINWELL" if fmt == "text" else "市场：日本、美国；权利：SPINWELL") in out
    assert ("== 商标 ==" if fmt == "text" else "## 商标") in out
    assert "File one Madrid application" not in out


TEST_FIRMS = sorted((ROOT / "tests" / "fixtures" / "interview").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "fixtures" / "profiles").glob("*.yaml")
)


@pytest.mark.parametrize("profile", sorted(EXAMPLES.glob("*.yaml")) + TEST_FIRMS, ids=lambda p: p.stem)
def test_chinese_outlines_name_markets_and_cite_the_paper_in_words(profile):
    from ipexpert._outputs import text as _text

    outline = ipexpert.evaluate(profile, as_of=AS_OF, lang="zh-CN")
    for text in (_text.text(outline), _text.markdown(outline)):
        assert bare_codes(text) == []
        assert "paper §" not in text


def test_market_names_come_from_cldr_with_eu_and_international_registrations():
    assert [_i18n.market("zh-CN", c) for c in ("CN", "US", "EU", "DE", "GB", "WO")] == [
        "中国",
        "美国",
        "欧盟",
        "德国",
        "英国",
        "国际注册",
    ]
    assert _i18n.market_with_code("zh-CN", "CN") == "中国（CN）"
    assert _i18n.market("en", "US") == "US"  # English sentences keep the code


def test_an_unknown_language_is_a_usage_error(invoke):
    result = invoke("evaluate", SPINWELL, "--lang", "fr")
    assert result.exit_code == 2 and "'fr' is not one of 'en', 'zh-CN'" in result.output
    with pytest.raises(ipexpert.IPExpertError, match="not a supported language"):
        ipexpert.evaluate(SPINWELL, as_of=AS_OF, lang="fr")


def glossary_rows():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in glossary.splitlines()
        if line.startswith("| ") and not line.startswith("| English")
    ]


def chinese_texts() -> str:
    """Every Chinese text a user reads: rule texts, labels, messages and the interview."""
    texts = "\n".join(p.read_text(encoding="utf-8") for p in sorted(ZH.glob("*.yaml")))
    for path in ("rules/i18n/labels.yaml", "rules/i18n/messages.yaml", "ipexpert/_interview/zh-CN.yaml"):
        texts += (ROOT / path).read_text(encoding="utf-8")
    return texts


def test_the_glossary_terms_are_the_ones_the_translations_use():
    rows = glossary_rows()
    terms = {en: zh for en, zh, note, source, avoid in rows if CJK.search(zh) and note.startswith("used")}
    assert len(terms) >= 20
    texts = chinese_texts()
    unused = [zh for zh in terms.values() if zh.split("（")[0] not in texts]
    assert unused == []


def test_every_glossary_term_names_its_source_and_no_rejected_word_is_used():
    texts = chinese_texts()
    for en, zh, _note, source, avoid in glossary_rows():
        assert CJK.search(source) or source.startswith("paper"), f"{en}: no statutory or office source"
        rejected = avoid.split("（")[0]
        assert not rejected or rejected not in texts, f"{rejected!r} is used where the glossary says {zh!r} ({en})"


def test_a_new_note_in_the_reference_data_is_reported(tmp_path):
    folder = copy_packs(tmp_path)
    packs_file = folder / "jurisdictions.yaml"
    text = packs_file.read_text(encoding="utf-8")
    note = "a Madrid member (an estimate: named a member by a South African law firm in 2019; not confirmed against WIPO's list of members)"
    changed = note.replace("in 2019", "in May 2019")
    assert text.count(f'"{note}"') == 1
    packs_file.write_text(text.replace(f'"{note}"', f'"{changed}"'), encoding="utf-8")
    packs = _packs.load([folder], defaults=False)
    messages = [p.format() for p in _i18n.check_translations(packs, "zh-CN", ZH)]
    assert len(messages) == 1 and "is missing" in messages[0] and messages[0].endswith(".jurisdiction.madrid_note)"), messages
    assert messages[0].startswith(str(packs_file)) or "jurisdictions.yaml:" in messages[0]


def test_english_outlines_name_marketplaces_not_their_codes(invoke):
    result = invoke("evaluate", EXAMPLES / "copycat-victim.yaml", "--as-of", AS_OF)
    assert "The firm sells on Amazon, and PETALWORK" in result.output and "sells on eBay" in result.output
    assert not re.search(r"sells on (amazon|ebay|aliexpress)\b", result.output)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_interview_choice_has_a_whole_label(lang):
    """A label with an unquoted comma would be cut there by YAML ("The supplier, with permission")."""
    import yaml

    data = yaml.safe_load((ROOT / "ipexpert" / "_interview" / f"{lang}.yaml").read_text(encoding="utf-8"))
    for key, entry in data["questions"].items():
        for value, label in (entry.get("choices") or {}).items() if isinstance(entry, dict) else ():
            assert isinstance(label, str) and label, (key, value)


def test_a_chinese_madrid_application_goes_through_cnipa_and_offices_abroad_are_named():
    from ipexpert._outputs import text as _text

    outline = _text.text(
        ipexpert.evaluate(ROOT / "tests" / "fixtures" / "profiles" / "patent-priority.yaml", as_of=AS_OF, lang="zh-CN")
    )
    madrid = [line for line in outline.splitlines() if "提交一件指定日本、美国的国际申请" in line]
    assert len(madrid) == 2 and all("通过国家知识产权局（CNIPA）提交" in line for line in madrid)  # one per brand
    assert "中国商标局" not in outline
    assert "立即决定欧盟、日本、美国中哪些地区需要保护 Hinge lock" in outline
    english = _text.text(ipexpert.evaluate(ROOT / "tests" / "fixtures" / "profiles" / "patent-priority.yaml", as_of=AS_OF))
    assert "through the CN office" in english and "Decide now which of EU, JP, US need protection" in english
