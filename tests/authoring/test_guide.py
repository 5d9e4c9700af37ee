"""docs/rule-packs.md runs: its files are written and its commands run in order, with the output it shows."""

import re

import pytest
from conftest import ROOT
from guide_steps import run, steps

GUIDE = ROOT / "docs" / "rule-packs.md"


def test_the_guide_has_commands_and_files():
    kinds = [step[0] for step in steps(GUIDE)]
    assert kinds.count("run") >= 8 and kinds.count("file") >= 4
    assert all(step[1].startswith("ipexpert ") for step in steps(GUIDE) if step[0] == "run")


def test_every_command_in_the_guide_prints_what_the_guide_shows(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(GUIDE, invoke, tmp_path)


@pytest.mark.parametrize(
    "word",
    [
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "before",
        "on_or_before",
        "after",
        "on_or_after",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "exists",
        "bind",
        "months_from_as_of",
        "days_from_as_of",
        "months_before",
        "months_after",
        "days_before",
        "days_after",
        "not:",
        "salience",
        "derive",
        "overrides",
        "disable",
        "source",
        "test:",
    ],
)
def test_the_guide_names_every_part_of_the_format(word):
    assert re.search("`[^`\n]*" + re.escape(word), GUIDE.read_text(encoding="utf-8")), f"the guide never shows {word}"
