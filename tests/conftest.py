"""Shared fixtures: paths of the checkout and a click test runner."""

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
