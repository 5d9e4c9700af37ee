"""Shared fixtures: paths of the checkout and a click test runner."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPINWELL = EXAMPLES / "spinwell-trending.yaml"
AS_OF = "2026-11-25"


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
