"""The client report as a person sees it: HTML in headless Chromium, PDF through poppler's tools.

The browser and PDF tests need Debian's chromium, chromium-driver, poppler-utils and
fonts-noto-cjk (installed by .ci/run). Without them they skip locally, and fail in CI (CI=true):
see `need` in conftest.py.
"""

import json
import os
import pty
import re
import subprocess
import sys

import pytest
from conftest import AS_OF, CHROMEDRIVER, CHROMIUM, EXAMPLES, ROOT, SPINWELL, need, need_cjk_font, need_pdf

import ipexpert

MADRID = EXAMPLES / "madrid-designations.yaml"
HOSTILE_NAMES = ROOT / "tests" / "hostile" / "profiles" / "markup-in-names.yaml"
EXAMPLES_SHOWN = (SPINWELL, MADRID)
LANGS = ("en", "zh-CN")


HOSTILE_NAME = 'Evil <script>alert("x")</script> <img src=x onerror=alert(1)> \u202eTAC\u202c \u2067x\u2069 bell\x07 nul\x1b[31m'


def hostile_profile():
    return {
        "firm": {"name": HOSTILE_NAME, "home_country": "CN", "employees": 3},
        "markets": [{"code": "US", "status": "active"}, {"code": "JP", "status": "planned", "launch_date": "2027-05-01"}],
        "products": [{"name": "<svg onload=alert(2)>", "origin": "own_design", "markets": ["US"]}],
        "ip_assets": [
            {
                "type": "trademark",
                "name": "</title><script>alert(3)</script>",
                "registrations": [{"jurisdiction": "CN", "status": "pending", "filed": "2026-10-01"}],
            },
            {"type": "design", "name": "\u202egnp.exe", "products": ["<svg onload=alert(2)>"]},
        ],
    }


def report(profile, lang="en", fmt="html"):
    return ipexpert.report(profile, as_of=AS_OF, lang=lang, format=fmt)


# ---- the HTML, as bytes ----


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_inputs_give_the_same_html_bytes(lang):
    first = report(SPINWELL, lang)
    ipexpert._api.default_rules.cache_clear()
    assert report(SPINWELL, lang) == first


@pytest.mark.parametrize("lang", LANGS)
def test_the_html_holds_every_part_in_order(lang):
    page = report(SPINWELL, lang)
    order = [page.index(f'id="{part}"') for part in ("summary", "matrix", "timeline", "plan", "risks", "sources")]
    assert order == sorted(order)
    assert "Spinwell Trading Co." in page and f'<html lang="{lang}">' in page
    assert "<svg" in page and 'class="matrix"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.split('id="sources"')[0]), "a link before the sources"


def test_the_chinese_report_is_in_chinese():
    page = report(SPINWELL, "zh-CN")
    for text in (
        "知识产权战略报告",
        "市场与权利矩阵",
        "时间线",
        "行动计划",
        "提交一件指定日本、美国的马德里国际申请",
        "不构成法律意见",
        "2026年11月25日",
    ):
        assert text in page
    assert "File one Madrid application" not in page and "尚未翻译" not in page


def timeline_marks(page: str) -> list:
    """Each timeline row as (kind, bar from-to, marker place), without its label or its row: the same in every language."""
    rows = re.findall(r'<g class="event event-(\w+)">(.*?)</g>', page, re.S)
    marks = []
    for kind, body in rows:
        bar = re.search(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"', body)
        marker = re.search(r'(?:cx|rect x|points)="([\d.]+)', body)
        marks.append((kind, bar.groups() if bar else None, marker.group(1) if marker else None))
    return sorted(marks, key=repr)


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_timeline_draws_the_same_bars_and_marks_in_both_languages(example):
    english, chinese = report(example), report(example, "zh-CN")
    assert timeline_marks(chinese) == timeline_marks(english)


def test_the_chinese_timeline_shows_the_eu_filing_until_its_estimated_registration():
    page = report(SPINWELL, "zh-CN")
    assert "<title>2026年9月1日：SPINWELL 预计在欧盟获得注册（估计）</title>" in page  # 6 months at the EUIPO, as in English
    expected = [(bar, marker) for kind, bar, marker in timeline_marks(page) if kind == "expected"]
    assert len(expected) == 1 and expected[0][0] is not None and expected[0][0][1] == expected[0][1]  # a bar to the mark


def test_a_hostile_profile_gives_nothing_executable_and_nothing_raw():
    page = report(hostile_profile())
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=" not in lowered.replace("onerror=alert(1)&gt;", "")
    assert "<svg onload" not in lowered and "</title><script" not in lowered
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    for raw in ("\u202e", "\u202c", "\u2067", "\u2069", "\x07", "\x1b"):
        assert raw not in page
    assert "\\x202e" in page and "\\x07" in page  # shown, not obeyed


def test_pdf_needs_the_extra_and_says_so(monkeypatch):
    from ipexpert._outputs import pdf as _pdf

    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(ipexpert.IPExpertError) as caught:
        _pdf.from_html("<p>x</p>")
    assert "pip install 'ipexpert[pdf]'" in caught.value.problems[0].format()


def test_the_cli_writes_html_and_refuses_to_print_a_pdf_on_a_terminal(tmp_path):
    out = tmp_path / "r.html"
    cli = [sys.executable, "-m", "ipexpert", "evaluate", str(SPINWELL), "--as-of", AS_OF]
    done = subprocess.run(cli + ["--format", "html", "--lang", "zh-CN", "-o", str(out)], capture_output=True)
    assert done.returncode == 0 and out.read_text(encoding="utf-8") == report(SPINWELL, "zh-CN")
    need_pdf()
    piped = subprocess.run(cli + ["--format", "pdf", "--lang", "zh-CN"], capture_output=True)  # a pipe is not a terminal
    assert piped.returncode == 0 and piped.stdout.startswith(b"%PDF-")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(cli + ["--format", "pdf"], stdout=follower, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert b"a PDF file is not written to a terminal" in done.stderr and b"Traceback" not in done.stderr


# ---- the HTML in a real browser ----


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM, CHROMEDRIVER)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_page(driver, path, width):
    driver.set_window_size(width, 900)
    driver.get_log("performance")  # forget earlier pages' requests
    driver.get(path.as_uri())
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return requests


VISIBLE = """
const el = document.querySelector(arguments[0]);
if (!el) return null;
const box = el.getBoundingClientRect(), style = getComputedStyle(el);
return {w: box.width, h: box.height, shown: style.display !== 'none' && style.visibility !== 'hidden' && style.opacity !== '0'};
"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("example", EXAMPLES_SHOWN, ids=lambda p: p.stem)
def test_the_report_fits_and_shows_its_chart_and_matrix_in_chromium(browser, tmp_path, example, lang):
    page = tmp_path / "report.html"
    page.write_text(report(example, lang), encoding="utf-8")
    for width in (1280, 390):
        requests = open_page(browser, page, width)
        assert requests == [page.as_uri()], f"requests left the page: {requests}"
        scroll, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"horizontal overflow at {width}px: {scroll} > {inner}"
        for selector in ("figure.timeline svg.chart", "table.matrix"):
            seen = browser.execute_script(VISIBLE, selector)
            assert seen and seen["shown"] and seen["w"] > 100 and seen["h"] > 50, f"{selector} not visible at {width}px"
        today = browser.execute_script(VISIBLE, "figure.timeline svg.chart .today")  # a vertical line: no width
        assert today and today["shown"] and today["h"] > 50
        rows = browser.execute_script("return document.querySelectorAll('figure.timeline svg.chart g.event').length")
        assert rows >= 3
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        if lang == "zh-CN":
            heading = browser.execute_script("return document.querySelector('h1').innerText")
            assert heading.startswith("知识产权战略报告")


def test_the_chinese_report_shows_no_tool_internals_in_chromium(browser, tmp_path):
    """What a client reads in every example's zh-CN report, above the audit appendix: market names,
    no $.paths, rule ids or 'paper §'."""
    from conftest import bare_codes

    for example in sorted(EXAMPLES.glob("*.yaml")):
        page = tmp_path / f"{example.stem}.html"
        page.write_text(report(example, "zh-CN"), encoding="utf-8")
        open_page(browser, page, 1280)
        seen = browser.execute_script("return document.body.innerText")
        seen, audit = seen.split(browser.execute_script("return document.querySelector('#audit h2').innerText"))
        assert "$." not in seen and "paper §" not in seen and "facts[" not in seen, example.stem
        assert bare_codes(seen) == [], example.stem
        assert "语言：zh-CN" not in seen
        assert "$." in audit  # the consultant's trace is in the appendix at the end


@pytest.mark.parametrize("lang", LANGS)
def test_the_hostile_corpus_names_are_shown_not_obeyed_in_the_html(lang):
    page = report(HOSTILE_NAMES, lang)
    assert "<script" not in page.lower() and 'href="javascript' not in page.lower()
    assert not any(ch in page for ch in "\x1b\x07\r\u202e")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("hostile", ["built", "corpus"])
def test_a_hostile_report_runs_nothing_in_chromium(browser, tmp_path, hostile):
    page = tmp_path / "hostile.html"
    page.write_text(report(hostile_profile() if hostile == "built" else HOSTILE_NAMES, "zh-CN"), encoding="utf-8")
    open_page(browser, page, 1280)
    found = browser.execute_script("""return {
        scripts: document.scripts.length,
        handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        images: document.images.length,
        title: document.title,
        text: document.body.innerText}""")
    assert found["scripts"] == 0 and found["handlers"] == 0 and found["images"] == 0
    assert "<script>alert(" in found["text"]
    assert "\u202e" not in found["text"] and "\u202e" not in found["title"]


# ---- the PDF ----


@pytest.mark.parametrize("lang", LANGS)
def test_the_pdf_has_the_firm_its_text_and_an_embedded_cjk_font(tmp_path, lang):
    need("pdftotext", "pdffonts", "pdftoppm")
    need_pdf()
    if lang == "zh-CN":
        need_cjk_font()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report(SPINWELL, lang, "pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Spinwell Trading Co." in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    if lang == "zh-CN":
        assert "知识产权战略报告" in text and "马德里国际申请" in text
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(line.split()[-5] == "yes" for line in cjk), fonts  # the emb column
    else:
        assert "IP strategy report" in text and "Madrid application" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-01.png").stat().st_size > 10_000  # a page with something on it


def test_letter_paper(tmp_path):
    need("pdfinfo")
    need_pdf()
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(ipexpert.report(SPINWELL, as_of=AS_OF, format="pdf", paper="Letter"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
