"""docs/practice.md runs: its files are written and its commands run in order on a copy of the examples, with the output it shows."""

import shlex
import shutil

from conftest import EXAMPLES, ROOT
from test_guide import BLOCK, ERROR_LINE, matches

GUIDE = ROOT / "docs" / "practice.md"


def steps():
    """("file", path, text) and ("run", command, expected lines), in the guide's order."""
    out = []
    for kind, info, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        if kind == "yaml" and "file=" in info:
            out.append(("file", info.split("file=", 1)[1].strip(), body))
        elif kind == "console":
            command, *shown = body.rstrip("\n").split("\n")
            out.append(("run", command[2:], shown))
    return out


def test_the_guide_walks_through_agenda_calendar_review_and_release():
    commands = [step[1] for step in steps() if step[0] == "run"]
    assert [c.split()[1] for c in commands] == ["agenda", "agenda", "review", "review", "review", "rules"]


def test_every_command_in_the_practice_guide_prints_what_the_guide_shows(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clients").mkdir()
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, tmp_path / "clients" / example.name)
    for step in steps():
        if step[0] == "file":
            path = tmp_path / step[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step[2], encoding="utf-8")
            continue
        _, command, shown = step
        result = invoke(*shlex.split(command)[1:])
        actual = result.output.rstrip("\n").split("\n") if result.output.strip() else []
        assert matches(shown, actual), (
            f"$ {command}\n--- the guide shows:\n" + "\n".join(shown) + "\n--- the tool printed:\n" + result.output
        )
        expected_code = 1 if any(ERROR_LINE.match(line) for line in shown) else 0
        assert result.exit_code == expected_code, f"$ {command}\n{result.output}"
    assert (tmp_path / "agenda.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
