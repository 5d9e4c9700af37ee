"""Take the screenshots in docs/interview.md: the web interview in headless Chromium, and the
terminal interview in tmux (its screen rendered as a page and photographed the same way).

    .venv/bin/python scripts/interview_screenshots.py      # writes docs/interview/*.png
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from interview_firms import AS_OF, hand_written, reply  # noqa: E402
from interview_server import running  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from ipexpert import _api  # noqa: E402
from ipexpert._interview import questions as _questions  # noqa: E402
from ipexpert._interview import web as _web  # noqa: E402

OUT = ROOT / "docs" / "interview"


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,860",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))


def answer_page(driver, engine, firm):
    """Answer the question on the page as *firm*; False when the interview is done."""
    forms = driver.find_elements(By.ID, "question")
    if not forms:
        return False
    state = _questions.State.from_json(driver.find_element(By.CSS_SELECTOR, "#question input[name=state]").get_attribute("value"))
    question = engine.find(state, driver.find_element(By.CSS_SELECTOR, "#question input[name=question]").get_attribute("value"))
    action, answer = reply(question, state.profile, firm)
    if action == "answer":
        for sub in question.fields if question.kind == "item" else [question]:
            name = sub.path[-1] if question.kind == "item" else "value"
            value = answer[name]
            if sub.type in ("choice", "boolean"):
                driver.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']").click()
            elif sub.type == "list":
                for item in value:
                    boxes = driver.find_elements(By.CSS_SELECTOR, f"input[name='{name}'][value='{item}']")
                    if boxes:
                        boxes[0].click()
                    else:
                        driver.find_element(By.NAME, "other").send_keys(item + ",")
            else:
                driver.find_element(By.NAME, name).send_keys(value)
    old = driver.find_element(By.TAG_NAME, "html").id
    driver.find_element(By.CSS_SELECTOR, f"button[value='{action}']").click()
    for _ in range(600):
        try:
            if driver.find_element(By.TAG_NAME, "html").id != old:
                break
        except Exception:  # the page is being replaced
            pass
        time.sleep(0.05)
    return True


def web(driver, url, lang, firm_name, shots):
    """Walk one firm's interview, saving the pages named in *shots*.

    *shots* maps a question, as `id#n` (its n-th time; numbers in the id written as N, so
    `ip_assets[N].registrations[+]#1`), "review" or "done", to the picture's name. Naming the question
    rather than the step keeps each caption right when the questions before it change.
    """
    import collections
    import re

    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    firm = hand_written(firm_name)
    driver.get(f"{url}/?lang={lang}")
    seen: collections.Counter = collections.Counter()
    taken = {shots[k] for k in ("review", "done") if k in shots}
    while True:
        inputs = driver.find_elements(By.CSS_SELECTOR, "#question input[name=question]")
        if inputs:
            key = re.sub(r"\[\d+\]", "[N]", inputs[0].get_attribute("value"))
            seen[key] += 1
            name = shots.get(f"{key}#{seen[key]}")
            if name:
                driver.save_screenshot(str(OUT / f"{name}.png"))
                taken.add(name)
        if not answer_page(driver, engine, firm):
            break
    if "review" in shots:
        driver.save_screenshot(str(OUT / f"{shots['review']}.png"))
    old = driver.find_element(By.TAG_NAME, "html").id
    driver.find_element(By.ID, "confirm").click()  # the answers are right: on to the downloads
    for _ in range(600):
        if driver.find_elements(By.ID, "done") and driver.find_element(By.TAG_NAME, "html").id != old:
            break
        time.sleep(0.05)
    if "done" in shots:
        driver.save_screenshot(str(OUT / f"{shots['done']}.png"))
    missing = set(shots.values()) - taken
    if missing:
        raise SystemExit(f"{firm_name} ({lang}) was never asked the questions of {sorted(missing)}")


def skip_keys(partial: Path) -> list:
    """The keys that skip every question left after the profile *partial* (a choice's skip is its last entry)."""
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    state, keys = _questions.read_partial(str(partial)), []
    while (question := engine.next_question(state)) is not None:
        if question.kind == "item":
            keys.append(["Down", "Enter"])  # "No more"
        elif question.type in ("choice", "boolean"):
            count = 2 if question.type == "boolean" else len(question.choices)
            keys.append(["Down"] * count + ["Enter"])
        else:
            keys.append(["Enter"])
        state = engine.skip(state, question)
    return keys + [["Enter"]]  # the review: the answers are right, write the profile


def terminal(driver, lang, name, keys, start=""):
    """Run the terminal interview in tmux (from the profile *start*, if given), type *keys*, and photograph the screen."""
    session = f"ipexpert-shot-{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        command = f"{sys.executable} -m ipexpert interview -o {folder}/profile.yaml --lang {lang} --as-of {AS_OF}"
        if start:
            command += f" --from {start}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "24", command],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            for number, key in enumerate(keys):
                time.sleep(2.5 if number < len(keys) - 1 else 8)  # the last step follows writing the profile
                subprocess.run(["tmux", "send-keys", "-t", session, *key], check=True)
            time.sleep(6)  # the last step may write a report
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], check=True, capture_output=True, text=True
            ).stdout
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    page = Path(tempfile.mkstemp(suffix=".html")[1])
    page.write_text(
        "<!doctype html><meta charset=utf-8><body style='margin:0;background:#1e1e1e'>"
        "<pre style='margin:0;padding:14px;color:#e8e8e8;font:15px/1.35 \"Noto Sans Mono CJK SC\",monospace'>"
        f"{html.escape(screen.rstrip())}</pre>",
        encoding="utf-8",
    )
    driver.get(page.as_uri())
    height = driver.execute_script("return document.body.scrollHeight")  # the whole screen, however tall
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1000, "height": height, "deviceScaleFactor": 1, "mobile": False}
    )
    driver.save_screenshot(str(OUT / f"{name}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    page.unlink()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    driver = browser()
    try:
        with running(_web.create_app(_api.default_rules(), as_of=AS_OF)) as url:
            web(
                driver,
                url,
                "en",
                "eu-brand-owner",
                {
                    "firm.name#1": "web-1-start",
                    "markets[+]#2": "web-2-market",
                    "ip_assets[N].registrations[+]#1": "web-3-registration",
                    "confidentiality.*#1": "web-4-checklist",
                    "channels#1": "web-5-channels",
                    "review": "web-6-review",
                    "done": "web-7-done",
                },
            )
            web(driver, url, "zh-CN", "small-reseller", {"markets[+]#2": "web-8-zh-CN", "review": "web-9-zh-CN-review"})
        terminal(driver, "en", "term-1-choice", [["Lumen Home Ltd.", "Enter"], ["CN", "Enter"], ["EU", "Enter"], ["Down"]])
        terminal(
            driver,
            "zh-CN",
            "term-2-zh-CN",
            [["Quickship Goods", "Enter"], ["CN", "Enter"], ["US", "Enter"], ["Enter"], ["Enter"]],
        )
        reseller = ROOT / "tests" / "fixtures" / "interview" / "small-reseller.yaml"
        keys = skip_keys(reseller) + [["Down", "Enter"]]  # then write the HTML report
        terminal(driver, "zh-CN", "term-3-zh-CN-report", keys, start=str(reseller))
        terminal(driver, "en", "term-4-review", skip_keys(reseller)[:-1], start=str(reseller))  # stops at the review
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
