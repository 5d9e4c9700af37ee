"""Shared fixtures: paths of the checkout, a click test runner, and the check for outside tools.

A test that needs something Python cannot install (Chromium, poppler, Node.js packages, Pango)
calls `need(...)`: on a machine without it the test skips with a one-line reason, and under
CI=true (set by .ci/run, which installs them all) the missing tool is a failure instead.
"""

import functools
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPINWELL = EXAMPLES / "spinwell-trending.yaml"
AS_OF = "2026-11-25"
CI = os.environ.get("CI") == "true"

# Found on PATH (Debian puts them in /usr/bin), so a PATH without them is a machine without them.
CHROMIUM = shutil.which("chromium") or "chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "chromedriver"
AXE = ROOT / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
AJV = ROOT / ".ci" / "node_modules" / "ajv"

# How each outside tool is installed, for the skip message.
INSTALL = {
    CHROMIUM: "apt-get install chromium",
    CHROMEDRIVER: "apt-get install chromium-driver",
    "pdftotext": "apt-get install poppler-utils",
    "pdffonts": "apt-get install poppler-utils",
    "pdftoppm": "apt-get install poppler-utils",
    "pdfinfo": "apt-get install poppler-utils",
    "node": "apt-get install nodejs npm",
    "fc-list": "apt-get install fontconfig",
    str(AXE): "npm ci --prefix .ci",
    str(AJV): "npm ci --prefix .ci",
}


def skip_or_fail(reason: str) -> None:
    """Skip with *reason*; under CI=true, where everything is installed, fail with it."""
    if CI:
        pytest.fail(f"{reason}; CI=true says it must be installed (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def need(*tools) -> None:
    """Go on only if every tool (a command on PATH or a file path) is here."""
    missing = [str(t) for t in tools if not (shutil.which(str(t)) or os.sep in str(t) and os.path.exists(t))]
    if missing:
        hints = sorted({INSTALL.get(t, "") for t in missing} - {""})
        names = ", ".join(Path(t).name if os.sep in t else t for t in missing)
        skip_or_fail(f"needs {names}" + (f" ({'; '.join(hints)})" if hints else ""))


def pytest_runtest_logreport(report):
    """With IPEXPERT_SKIPPED=FILE, list each skipped test's id in FILE, so .ci/run can run them again where the tools are."""
    where = os.environ.get("IPEXPERT_SKIPPED")
    if where and report.skipped:
        with open(where, "a", encoding="utf-8") as skipped:
            skipped.write(report.nodeid + "\n")


@functools.cache
def _pdf_available() -> bool:
    from ipexpert._outputs import pdf as _pdf

    return _pdf.available()


def need_pdf() -> None:
    """Go on only if PDF reports can be made: WeasyPrint and the Pango libraries it loads."""
    if not _pdf_available():
        skip_or_fail(
            "needs WeasyPrint with Pango for PDF (pip install '.[pdf]'; apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        )


def need_cjk_font() -> None:
    """Go on only if fontconfig knows a Chinese font, which the Chinese PDF embeds."""
    need("fc-list")
    import subprocess

    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout.strip()
    if not found:
        skip_or_fail("needs a Chinese font (apt-get install fonts-noto-cjk)")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def invoke(runner):
    """Run the CLI in-process: invoke("evaluate", path, ...) -> click Result."""
    from ipexpert.cli import cli

    def run(*args, input=None):
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


@pytest.fixture
def book(tmp_path):
    """A client book of twelve varied profiles (the examples and a seller served with a US restraining order) in tmp_path/book."""
    import shutil

    folder = tmp_path / "book"
    folder.mkdir()
    for path in [*sorted(EXAMPLES.glob("*.yaml")), ROOT / "tests" / "fixtures" / "book" / "court-order.yaml"]:
        shutil.copy(path, folder / path.name)
    return folder


# A market code standing alone (not in brackets after its name) with Chinese text around it.
BARE_CODE = re.compile(r"(?<![A-Za-z0-9（])([A-Z]{2})(?![A-Za-z0-9）])")
WIDE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def bare_codes(text: str) -> list:
    from ipexpert._reading import codes as _codes

    codes = set(_codes.jurisdiction_codes())
    found = []
    for line in text.splitlines():
        for match in BARE_CODE.finditer(line):
            around = line[max(0, match.start() - 12) : match.end() + 12]
            if match.group(1) in codes and WIDE.search(around):
                found.append(around)
    return found
