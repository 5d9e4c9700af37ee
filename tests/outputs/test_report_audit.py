"""The report a consultancy signs: prepared for and by, a logo, and the audit trail kept to an appendix."""

import re

import pytest
from conftest import AS_OF, SPINWELL
from test_report import browser  # noqa: F401 - the headless Chromium fixture

import ipexpert

LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#123a5c"/></svg>'


def report(lang="en", letterhead=None) -> str:
    return ipexpert.report(SPINWELL, as_of=AS_OF, lang=lang, letterhead=letterhead)


def cards(page: str) -> list[str]:
    plan = page.split('<section id="plan">')[1].split("</section>")[0]
    return re.findall(r'<article class="item".*?</article>', plan, flags=re.S)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_cards_show_advice_and_the_appendix_shows_ids_rules_packs_and_profile_lines(lang):
    page = report(lang)
    outline = ipexpert.evaluate(SPINWELL, as_of=AS_OF, lang=lang)
    for card in cards(page):
        assert "$." not in card and "<code>" not in card  # no profile paths or ids on the client's cards
    audit = page.split('<section id="audit">')[1].split("</section>")[0]
    assert page.index('<section id="audit">') > page.index('<section id="sources">')  # at the end
    for rec in outline.recommendations:
        assert rec.id in audit and rec.rule in audit
        for fact in rec.justification.facts:
            assert fact["path"] in audit
    for pack in outline.rule_packs:
        assert f"{pack['name']} {pack['version']}" in audit


def test_prepared_for_and_by_with_a_logo_from_a_file_and_options(tmp_path):
    (tmp_path / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")
    (tmp_path / "letterhead.yaml").write_text(
        "consultant: Mei Lin\nconsultancy: Harbour IP Advisers\nlogo: logo.svg\n", encoding="utf-8"
    )
    letterhead = ipexpert.Letterhead.from_file(tmp_path / "letterhead.yaml")
    page = report(letterhead=letterhead)
    block = page.split('<section id="prepared">')[1].split("</section>")[0]
    assert "Prepared for" in block and "Spinwell Trading Co." in block
    assert "Prepared by" in block and "Mei Lin, Harbour IP Advisers" in block
    assert 'src="data:image/svg+xml;base64,' in block
    chinese = report("zh-CN", letterhead=ipexpert.Letterhead.from_options(str(tmp_path / "letterhead.yaml"), "王芳"))
    assert "编制人" in chinese and "王芳, Harbour IP Advisers" in chinese
    assert '<section id="prepared">' not in report()  # nothing to sign: no block


def test_a_wrong_letterhead_says_where_in_one_line(tmp_path, invoke):
    bad = tmp_path / "letterhead.yaml"
    bad.write_text("consultant: Mei Lin\nconsultancy: [a, b]\nsignature: x\n", encoding="utf-8")
    result = invoke("evaluate", SPINWELL, "--format", "html", "--letterhead", bad, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:3:1: unknown key 'signature'; use consultant, consultancy, logo (at $.signature)",
        f"{bad}:2:14: consultancy is text (at $.consultancy)",
    ]
    (tmp_path / "letterhead.yaml").write_text("logo: logo.gif\n", encoding="utf-8")
    result = invoke("evaluate", SPINWELL, "--format", "html", "--letterhead", bad, "--as-of", AS_OF)
    assert result.exit_code == 1 and result.output == f"{bad}:1:7: the logo logo.gif is not PNG, JPEG or SVG (at $.logo)\n"


def test_the_cli_signs_the_report_from_options(tmp_path, invoke):
    out = tmp_path / "r.html"
    result = invoke(
        "evaluate",
        SPINWELL,
        "--format",
        "html",
        "-o",
        out,
        "--as-of",
        AS_OF,
        "--prepared-by",
        "Mei Lin",
        "--consultancy",
        "Harbour IP",
    )
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8") == report(letterhead=ipexpert.Letterhead("Mei Lin", "Harbour IP"))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_latin_text_is_drawn_in_a_latin_font_and_chinese_in_a_cjk_font(browser, tmp_path, lang):  # noqa: F811
    """The fonts Chromium actually draws a reason with: a CJK font for English text would open
    wide gaps around quotes and §."""
    page = tmp_path / "report.html"
    page.write_text(report(lang), encoding="utf-8")
    browser.get(page.as_uri())
    browser.execute_cdp_cmd("DOM.enable", {})
    browser.execute_cdp_cmd("CSS.enable", {})
    root = browser.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    node = browser.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": "#plan .why"})["nodeId"]
    used = browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    most = max(used, key=lambda f: f["glyphCount"])["familyName"]
    assert ("CJK" in most) == (lang == "zh-CN"), used


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_word_report_has_the_letterhead_and_the_audit_appendix_read_back(lang):
    docx = pytest.importorskip("docx")
    import io

    signed = ipexpert.Letterhead.from_options(None, "Mei Lin", "Harbour IP Advisers")
    document = docx.Document(io.BytesIO(ipexpert.report(SPINWELL, as_of=AS_OF, lang=lang, format="docx", letterhead=signed)))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Mei Lin, Harbour IP Advisers" in cells and "Spinwell Trading Co." in cells
    assert {"en": "Appendix: audit trail", "zh-CN": "附录：审计记录"}[lang] in text
    outline = ipexpert.evaluate(SPINWELL, as_of=AS_OF, lang=lang)
    audit = "\n".join(cells)
    for rec in outline.recommendations:
        assert rec.id in audit and rec.rule in audit
    cards = text.split({"en": "Appendix: audit trail", "zh-CN": "附录：审计记录"}[lang])[0]
    assert "$." not in cards  # the profile paths are in the appendix only
