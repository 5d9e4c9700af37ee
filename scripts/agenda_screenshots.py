"""Take the screenshots of the HTML agenda in docs/practice.md, in both languages, with headless Chromium.

    .venv/bin/python scripts/agenda_screenshots.py      # writes docs/practice/agenda-en.png and agenda-zh-CN.png

The agenda is the bundled examples' as of 2026-11-25, 30 days ahead: the page `ipexpert agenda
examples --format html` writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "practice"
AS_OF, DAYS = "2026-11-25", "30"


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs Chromium (apt-get install chromium fonts-noto-cjk)")
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for lang in ("en", "zh-CN"):
            page = Path(folder) / f"agenda-{lang}.html"
            command = [sys.executable, "-m", "ipexpert", "agenda", "examples", "--as-of", AS_OF, "--days", DAYS]
            subprocess.run([*command, "--format", "html", "--lang", lang, "-o", str(page)], cwd=ROOT, check=True)
            shot = OUT / f"agenda-{lang}.png"
            subprocess.run(
                [
                    chromium,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--window-size=1100,1500",
                    f"--screenshot={shot}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
            )
            print(f"wrote {shot.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
