"""docs/practice.md runs: its files are written and its commands run in order on a copy of the examples, with the output it shows."""

import shutil

from conftest import EXAMPLES, ROOT
from guide_steps import run, steps

GUIDE = ROOT / "docs" / "practice.md"


def test_the_guide_walks_through_agenda_calendar_review_and_release():
    commands = [step[1] for step in steps(GUIDE) if step[0] == "run"]
    assert [c.split()[1] for c in commands] == ["agenda", "agenda", "review", "review", "review", "rules"]


def test_every_command_in_the_practice_guide_prints_what_the_guide_shows(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clients").mkdir()
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, tmp_path / "clients" / example.name)
    run(GUIDE, invoke, tmp_path)
    assert (tmp_path / "agenda.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
