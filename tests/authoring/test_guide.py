"""docs/rule-packs.md runs: its files are written and its commands run in order, with the output it shows."""

import re
import shlex

import pytest

from conftest import ROOT

GUIDE = ROOT / "docs" / "rule-packs.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.S | re.M)
ERROR_LINE = re.compile(r"^\S+:\d+:\d+: (?!warning:)")


def steps():
    """("file", path, text) and ("run", command, expected lines), in the guide's order."""
    out = []
    for kind, info, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        if kind == "yaml" and "file=" in info:
            out.append(("file", info.split("file=", 1)[1].strip(), body))
        elif kind == "console":
            for chunk in re.split(r"^(?=\$ )", body, flags=re.M):
                if chunk.strip():
                    command, *shown = chunk.rstrip("\n").split("\n")
                    out.append(("run", command[2:], shown))
    return out


def matches(shown, actual) -> bool:
    """Whether *actual* lines read as *shown*, where a `...` line stands for any lines."""
    if not shown:
        return not actual
    if shown[0] == "...":
        return any(matches(shown[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == shown[0].rstrip() and matches(shown[1:], actual[1:])


def test_the_guide_has_commands_and_files():
    kinds = [step[0] for step in steps()]
    assert kinds.count("run") >= 8 and kinds.count("file") >= 4
    assert all(step[1].startswith("ipexpert ") for step in steps() if step[0] == "run")


def test_every_command_in_the_guide_prints_what_the_guide_shows(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
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
