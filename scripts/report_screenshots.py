"""Photograph the top of the client report in English and Chinese for the README (docs/report-*.png).

Run from the checkout: `.venv/bin/python scripts/report_screenshots.py`. It needs Debian's
chromium and chromium-driver. The report is the Spinwell example's, signed with a sample
letterhead (consultant, consultancy and a plain logo), as a consultancy would send it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ipexpert  # noqa: E402

AS_OF = "2026-11-25"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="180" height="44" viewBox="0 0 180 44">'
    '<rect width="44" height="44" rx="8" fill="#123a5c"/><text x="22" y="29" font-size="18" font-family="sans-serif"'
    ' text-anchor="middle" fill="#fff">HI</text><text x="54" y="28" font-size="15" font-family="sans-serif"'
    ' fill="#123a5c">Harbour IP</text></svg>'
)


def main() -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,1357"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        with tempfile.TemporaryDirectory() as folder:
            logo = Path(folder) / "logo.svg"
            logo.write_text(LOGO, encoding="utf-8")
            letterhead = ipexpert.Letterhead.from_options(None, "Mei Lin", "Harbour IP Advisers", str(logo))
            for lang in ipexpert.LANGUAGES:
                page = Path(folder) / f"report-{lang}.html"
                example = ROOT / "examples" / "spinwell-trending.yaml"
                page.write_text(ipexpert.report(example, as_of=AS_OF, lang=lang, letterhead=letterhead), encoding="utf-8")
                driver.get(page.as_uri())
                driver.save_screenshot(str(ROOT / "docs" / f"report-{lang}.png"))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
