"""The web interview in real headless Chromium, used with the keyboard only, as a person would.

For each of the three firms the browser answers every question the page asks (Tab,
arrow keys, Space, typing, Enter), downloads the profile, the report and the outline, and
the profile must validate and evaluate to the outline of the same firm written by hand; the
report is the one `ipexpert evaluate --format html|pdf --lang` makes of that profile.
axe-core (from npm, injected into the page) must find no serious or critical problem,
and the browser must make no request to anywhere but the interview server. Without Chromium
(or axe-core, or poppler for the PDF) the tests skip, saying what is missing; under CI=true they fail.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser / terminal session per firm: run once, not on every Python

pytest.importorskip("uvicorn")
pytest.importorskip("jinja2")
webdriver = pytest.importorskip("selenium.webdriver")

from conftest import AXE, CHROMEDRIVER, CHROMIUM, need, need_pdf  # noqa: E402
from interview_firms import AS_OF, FIRMS, FIXTURES, hand_written, reply  # noqa: E402
from interview_server import forget_service_modules, running  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from ipexpert import _api  # noqa: E402
from ipexpert._interview import questions as _questions  # noqa: E402
from ipexpert._interview import review as _review  # noqa: E402
from ipexpert._interview import web as _web  # noqa: E402
from ipexpert._knowledge import i18n as _i18n  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    need(CHROMIUM, CHROMEDRIVER)
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-default-apps",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server():
    with running(_web.create_app(_api.default_rules(), as_of=AS_OF)) as url:
        yield url
    forget_service_modules()  # test_serve checks what happens when Starlette is not installed


def _active(driver):
    return driver.switch_to.active_element


def _tab_to(driver, matches, limit=60):
    """Press Tab until the focused element matches; the test sees focus as a sighted user does."""
    for _ in range(limit):
        element = _active(driver)
        if matches(element):
            return element
        element.send_keys(Keys.TAB)
    raise AssertionError("Tab never reached the element")


def _is(tag=None, **attrs):
    def matches(element):
        if tag and element.tag_name != tag:
            return False
        return all(element.get_attribute(name) == value for name, value in attrs.items())

    return matches


def _choose_radio(driver, name, value):
    first = _tab_to(driver, _is("input", type="radio", name=name))
    radios = [e.get_attribute("value") for e in driver.find_elements(By.NAME, name)]
    first.send_keys(Keys.SPACE)
    for _ in range(radios.index(value)):
        _active(driver).send_keys(Keys.ARROW_DOWN)
    assert _active(driver).get_attribute("value") == value and _active(driver).is_selected()


def _fill(driver, question, name, value):
    """Answer one field of the form with the keyboard."""
    kind = question.type
    if kind in ("choice", "boolean"):
        _choose_radio(driver, name, value)
    elif kind == "list":
        for item in value:
            if item in question.choices:
                _tab_to(driver, _is("input", type="checkbox", name=name, value=item)).send_keys(Keys.SPACE)
        typed = [item for item in value if item not in question.choices]
        if typed:
            _tab_to(driver, _is("input", name="other")).send_keys(", ".join(typed))
    else:
        _tab_to(driver, _is("input", name=name)).send_keys(value)


def _page_state(driver):
    return _page_state_of(driver, "#question")


def _page_state_of(driver, form):
    return _questions.State.from_json(driver.find_element(By.CSS_SELECTOR, f"{form} input[name=state]").get_attribute("value"))


def _wait_for(path: Path, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size and not list(path.parent.glob("*.crdownload")):
            return path
        time.sleep(0.1)
    raise AssertionError(f"{path.name} was not downloaded")


def _axe(driver):
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script("const done = arguments[0]; axe.run(document).then(r => done(r.violations));")
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in result if v["impact"] in ("serious", "critical")]


def _comparable(outline) -> dict:
    data = json.loads(outline.to_json())
    for section in ("recommendations", "risks"):
        for entry in data[section]:
            entry["justification"].pop("facts", None)  # file and line differ; what they say does not
    return {key: data[key] for key in ("firm", "stage", "recommendations", "risks", "timeline")}


def _complete(driver, url, firm_name, lang="en", check_axe=False):
    """Answer every question for one firm with the keyboard; the questions asked, in order."""
    firm = hand_written(firm_name)
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))  # the server's: its work is cached
    driver.get(f"{url}/?lang={lang}")
    asked, axe_problems, seen_kinds = [], [], set()
    while driver.find_elements(By.CSS_SELECTOR, "#question"):
        state = _page_state(driver)
        qid = driver.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value")
        question = engine.find(state, qid)
        if check_axe and question.type not in seen_kinds:
            seen_kinds.add(question.type)
            axe_problems += _axe(driver)
        asked.append(question)
        action, answer = reply(question, state.profile, firm)
        if action == "answer":
            fields = question.fields if question.kind == "item" else [question]
            for sub in fields:
                name = sub.path[-1] if question.kind == "item" else "value"
                _fill(driver, sub if question.kind == "item" else question, name, answer[name])
        button = _tab_to(driver, _is("button", value=action))
        before = driver.current_url, driver.find_element(By.TAG_NAME, "html").id
        button.send_keys(Keys.ENTER)
        _wait_new_page(driver, before[1])
        assert not driver.find_elements(By.CSS_SELECTOR, ".problems"), driver.find_element(By.CSS_SELECTOR, ".problems").text
        assert len(asked) < 80, "the interview does not end"
    if check_axe:
        axe_problems += _axe(driver)  # the review page
    _confirm_review(driver)
    if check_axe:
        axe_problems += _axe(driver)
    return asked, axe_problems


def _confirm_review(driver):
    """On the review page, every answer has a Change button; confirm with the keyboard to reach the downloads."""
    assert driver.find_element(By.ID, "review").is_displayed()
    state = _page_state_of(driver, "#review-form")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.answers tbody tr")
    assert len(rows) == len(_review.answers(_questions.engine(_api.default_rules(), _api.parse_date(AS_OF)), state))
    page = driver.find_element(By.TAG_NAME, "html").id
    _tab_to(driver, _is("button", id="confirm")).send_keys(Keys.ENTER)
    _wait_new_page(driver, page)


def _wait_new_page(driver, old_html_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if driver.find_element(By.TAG_NAME, "html").id != old_html_id:
                return
        except Exception:  # the page is being replaced
            pass
        time.sleep(0.02)
    raise AssertionError("the next page did not load")


def _outside_requests(driver, url):
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            target = message["params"]["request"]["url"]
            if not target.startswith(url) and not target.startswith("data:"):
                out.append(target)
    return out


@pytest.mark.parametrize("firm_name", FIRMS)
def test_the_interview_writes_the_profile_of_a_firm_written_by_hand(browser, server, firm_name, capsys):
    for old in browser.downloads.iterdir():
        old.unlink()
    browser.get_log("performance")
    check_axe = firm_name == FIRMS[0]  # one firm meets every kind of question
    asked, axe_problems = _complete(browser, server, firm_name, check_axe=check_axe and AXE.exists())
    assert browser.find_element(By.ID, "done").is_displayed()

    _tab_to(browser, _is("button", id="download-profile")).send_keys(Keys.ENTER)
    profile = _wait_for(browser.downloads / "firm-profile.yaml")
    _tab_to(browser, _is("button", id="download-report-html")).send_keys(Keys.ENTER)
    report = _wait_for(browser.downloads / "ip-report.html")
    _tab_to(browser, _is("button", id="download-markdown")).send_keys(Keys.ENTER)
    outline_md = _wait_for(browser.downloads / "ip-outline.md")

    text = profile.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert _api.validate(text) == []
    by_hand = _api.evaluate(FIXTURES / f"{firm_name}.yaml", as_of=AS_OF)
    assert _comparable(_api.evaluate(text, as_of=AS_OF)) == _comparable(by_hand)
    assert by_hand.recommendations[0].title in outline_md.read_text(encoding="utf-8")
    assert report.read_text(encoding="utf-8") == _api.report(text, as_of=AS_OF, name="firm-profile.yaml", format="html")
    assert axe_problems == []
    assert _outside_requests(browser, server) == []
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    not_asked = engine.count_fields() - len(_questions.asked_fields(asked))
    with capsys.disabled():
        print(
            f"\n{firm_name}: {len(asked)} questions asked in the browser, {not_asked} of {engine.count_fields()} schema fields not asked"
        )
    if check_axe:
        need(AXE)  # everything else was checked; the accessibility check could not be


def test_in_chinese_the_questions_say_why_in_chinese_and_the_report_downloads_in_chinese(browser, server):
    """A seller who picks 中文 gets every page, every reason and both reports in Chinese."""
    import re
    import subprocess

    for old in browser.downloads.iterdir():
        old.unlink()
    firm_name = FIRMS[1]
    browser.get(f"{server}/?lang=zh-CN")
    # The reasons under "为什么问这个" on the first optional question are Chinese, not English rule titles.
    while browser.find_element(By.CSS_SELECTOR, ".why p").text == "每份档案都需要这一项。":
        _complete_one(browser, firm_name)
    sentence = browser.find_element(By.CSS_SELECTOR, ".why p").text
    assert sentence.startswith("之所以询问此项，是因为您的回答决定纲要是否给出以下建议：“") and sentence.endswith("”。"), sentence
    reasons = re.findall(r"“([^”]*)”", sentence)
    english_reasons = [r for r in reasons if not re.search(r"[\u4e00-\u9fff]", r)]
    assert reasons and english_reasons == [] and "…" not in sentence, sentence
    while browser.find_elements(By.CSS_SELECTOR, "#question"):
        _complete_one(browser, firm_name)
    assert browser.find_element(By.ID, "review").text == "请检查您的回答"
    assert "LUMEN" in browser.find_element(By.CSS_SELECTOR, "table.answers").text
    _confirm_review(browser)
    assert browser.find_element(By.ID, "done").text == "您的档案已完成"

    _tab_to(browser, _is("button", id="download-profile")).send_keys(Keys.ENTER)
    profile = _wait_for(browser.downloads / "firm-profile.yaml").read_text(encoding="utf-8")
    _tab_to(browser, _is("button", id="download-report-html")).send_keys(Keys.ENTER)
    html = _wait_for(browser.downloads / "ip-report.html").read_text(encoding="utf-8")
    assert html == _api.report(profile, as_of=AS_OF, name="firm-profile.yaml", lang="zh-CN", format="html")
    assert '<html lang="zh-CN"' in html
    chinese = _api.evaluate(profile, as_of=AS_OF, lang="zh-CN")
    assert chinese.recommendations[0].title in html and re.search(r"[\u4e00-\u9fff]", chinese.recommendations[0].title)

    need("pdftotext")
    need_pdf()
    _tab_to(browser, _is("button", id="download-report-pdf")).send_keys(Keys.ENTER)
    pdf = _wait_for(browser.downloads / "ip-report.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert hand_written(firm_name)["firm"]["name"] in text
    assert re.sub(r"\s+", "", chinese.recommendations[0].title) in re.sub(r"\s+", "", text)


def _complete_one(driver, firm_name):
    """Answer the question on the page as the firm would, with the keyboard."""
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    state = _page_state(driver)
    question = engine.find(state, driver.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value"))
    action, answer = reply(question, state.profile, hand_written(firm_name))
    if action == "answer":
        fields = question.fields if question.kind == "item" else [question]
        for sub in fields:
            name = sub.path[-1] if question.kind == "item" else "value"
            _fill(driver, sub if question.kind == "item" else question, name, answer[name])
    page = driver.find_element(By.TAG_NAME, "html").id
    _tab_to(driver, _is("button", value=action)).send_keys(Keys.ENTER)
    _wait_new_page(driver, page)
    assert not driver.find_elements(By.CSS_SELECTOR, ".problems"), driver.find_element(By.CSS_SELECTOR, ".problems").text


def test_answers_are_escaped_and_checked_with_the_messages_of_validate(browser, server):
    browser.get(f"{server}/?lang=zh-CN")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    page = browser.find_element(By.TAG_NAME, "html").id
    _active(browser).send_keys("<img src=x onerror=alert(1)>" + Keys.ENTER)
    _wait_new_page(browser, page)
    page = browser.find_element(By.TAG_NAME, "html").id
    _tab_to(browser, _is("input", name="value")).send_keys("中华" + Keys.ENTER)
    _wait_new_page(browser, page)
    problems = browser.find_element(By.CSS_SELECTOR, ".problems").text
    assert "无法识别 '中华'：请填写国家（地区）名称或两位字母代码，例如 中国 或 CN" in problems  # the form expected, in Chinese
    page = browser.find_element(By.TAG_NAME, "html").id
    field = _tab_to(browser, _is("input", name="value"))
    field.clear()
    field.send_keys("XX" + Keys.ENTER)
    _wait_new_page(browser, page)
    problems = browser.find_element(By.CSS_SELECTOR, ".problems").text
    said = _api.validate({"firm": {"name": "x", "home_country": "XX"}})
    english = [p.message for p in said if p.path == "$.firm.home_country"][0]
    assert _i18n.message("zh-CN", english) in problems  # what validate --lang zh-CN says
    assert "'XX' 不是 ISO 3166-1 两位字母国家代码" in problems
    assert not browser.find_elements(By.CSS_SELECTOR, "img")
    aside = browser.find_element(By.TAG_NAME, "aside").text
    assert "战略纲要" in aside
    state = _page_state(browser)
    assert state.profile["firm"]["name"] == "<img src=x onerror=alert(1)>"


def _post(url, fields):
    import urllib.error
    import urllib.parse
    import urllib.request

    try:
        with urllib.request.urlopen(url, urllib.parse.urlencode(fields).encode()) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def test_a_tampered_state_starts_afresh_and_a_bad_pasted_profile_says_where(server):
    status, headers, body = _post(
        f"{server}/interview",
        {
            "state": '{"profile": {"firm": {"founded": "<script>"}}, "settled": []}',
            "question": "firm.name",
            "action": "answer",
            "value": "x",
        },
    )
    assert status == 400 and "<script>" not in body and "content-security-policy" in headers
    status, _, body = _post(f"{server}/interview/resume", {"profile": "firm:\n  name: A\n  home_country: China\n"})
    assert status == 422
    assert "&lt;pasted profile&gt;:3:" in body and "(at $.firm.home_country)" in body
    status, headers, body = _post(f"{server}/interview/resume", {"profile": "firm: {name: A, home_country: CN}\n"})
    assert status == 200 and 'value="markets[+]"' in body
    for fmt in ("html", "exe"):  # no report before the profile is complete, and none in an unknown format
        status, headers, body = _post(
            f"{server}/interview/report", {"state": '{"profile": {}, "settled": []}', "format": fmt, "lang": "zh-CN"}
        )
        assert status == 400 and "填好公司和市场后" in body and "content-disposition" not in headers
    status, headers, body = _post(f"{server}/interview/profile", {"state": '{"profile": {}, "settled": []}'})
    assert headers["content-disposition"] == 'attachment; filename="firm-profile.yaml"'


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_back_undoes_the_last_answer_and_the_review_page_changes_one(browser, server, lang):
    """Back shows the previous question without its answer; on the review page "Change" asks a
    question again with the old answer ticked, and the new answer is what the profile holds."""
    firm_name = FIRMS[1]  # its trade mark is registered at home, in CN, which is not one of its markets
    browser.get(f"{server}/?lang={lang}")
    _complete_one(browser, firm_name)  # the firm's name
    _complete_one(browser, firm_name)  # its home country
    assert _page_state(browser).profile["firm"] == {"name": "Lumen Home Ltd.", "home_country": "CN"}
    page = browser.find_element(By.TAG_NAME, "html").id
    _tab_to(browser, _is("button", id="back")).send_keys(Keys.ENTER)
    _wait_new_page(browser, page)
    assert browser.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value") == "firm.home_country"
    assert _page_state(browser).profile["firm"] == {"name": "Lumen Home Ltd."}
    while browser.find_elements(By.CSS_SELECTOR, "#question"):
        _complete_one(browser, firm_name)

    # On the review page, the CN registration is there; change its status from registered to pending.
    rows = {
        row.find_element(By.TAG_NAME, "th").text: row for row in browser.find_elements(By.CSS_SELECTOR, "table.answers tbody tr")
    }
    # The item a question is about: "LUMEN (CN)" in English, "LUMEN（中国）" in Chinese.
    where = [label for label in rows if "(CN)" in label or label.endswith("CN)") or "（中国）" in label]
    status_row = next(
        row
        for label, row in rows.items()
        if ("LUMEN (CN)" in label or "LUMEN（中国）" in label)
        and row.find_element(By.TAG_NAME, "td").text in ("Registered", "已注册")
    )
    button = status_row.find_element(By.TAG_NAME, "button")
    page = browser.find_element(By.TAG_NAME, "html").id
    _tab_to(browser, lambda e: e == button).send_keys(Keys.ENTER)
    _wait_new_page(browser, page)
    assert browser.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value") == (
        "ip_assets[0].registrations[1].status"
    )
    assert browser.find_element(By.CSS_SELECTOR, "input[name=value][value=registered]").is_selected()  # the old answer
    _choose_radio(browser, "value", "pending")
    page = browser.find_element(By.TAG_NAME, "html").id
    _tab_to(browser, _is("button", value="answer")).send_keys(Keys.ENTER)
    _wait_new_page(browser, page)
    while browser.find_elements(By.CSS_SELECTOR, "#question"):  # anything the change makes worth asking
        _complete_one(browser, firm_name)
    state = _page_state_of(browser, "#review-form")
    assert state.profile["ip_assets"][0]["registrations"][1]["status"] == "pending" and where
    _confirm_review(browser)
    assert browser.find_element(By.ID, "done").is_displayed()
    page = browser.find_element(By.TAG_NAME, "html").id
    _tab_to(browser, _is("button", id="back-to-review")).send_keys(Keys.ENTER)
    _wait_new_page(browser, page)
    assert browser.find_element(By.ID, "review").is_displayed()


def test_the_answers_saved_for_later_are_uploaded_to_resume(browser, server, tmp_path):
    """ "Save the answers so far" downloads a partial profile; uploading it on a new page goes on
    from there, asking only what is missing."""
    for old in browser.downloads.iterdir():
        old.unlink()
    firm_name = FIRMS[0]
    browser.get(f"{server}/?lang=en")
    for _ in range(4):
        _complete_one(browser, firm_name)
    answered = _page_state(browser).profile
    _tab_to(browser, _is("button", id="save-for-later")).send_keys(Keys.ENTER)
    saved = _wait_for(browser.downloads / "firm-profile-unfinished.yaml")
    assert _questions.read_partial(saved).profile == answered

    browser.get(f"{server}/?lang=en")
    assert browser.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value") == "firm.name"
    resume = browser.find_element(By.CSS_SELECTOR, "details.resume summary")
    _tab_to(browser, lambda e: e == resume).send_keys(Keys.ENTER)  # open "continue from a profile"
    _tab_to(browser, _is("input", id="resume-file"))  # reached with the keyboard; the file is chosen as a dialog would
    browser.find_element(By.ID, "resume-file").send_keys(str(saved))
    from selenium.webdriver.common.action_chains import ActionChains

    while _active(browser).get_attribute("id") != "resume":  # Tab on, sent to the page: a file input takes keys as a path
        ActionChains(browser).send_keys(Keys.TAB).perform()
    page = browser.find_element(By.TAG_NAME, "html").id
    _active(browser).send_keys(Keys.ENTER)
    _wait_new_page(browser, page)
    assert _page_state(browser).profile == answered
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    asked = browser.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value")
    assert asked == engine.next_question(_questions.resume(answered)).id != "firm.name"
