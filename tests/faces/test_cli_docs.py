"""docs/cli.md is the commands' own --help, complete and current."""

import importlib.util
import re
import subprocess
import sys

import click
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "cli_docs.py"


def _generator():
    spec = importlib.util.spec_from_file_location("cli_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_cli_md_is_current():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{done.stderr}(regenerate with: python scripts/cli_docs.py)"


def test_every_command_has_a_section_with_its_help():
    from ipexpert.cli import cli

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (.+)$", text, flags=re.M))

    def names(group, prefix):
        for name, command in group.commands.items():
            yield f"{prefix} {name}"
            if isinstance(command, click.Group):
                yield from names(command, f"{prefix} {name}")

    every = {"ipexpert", *names(cli, "ipexpert")}
    assert every - headings == set()
    assert "## ipexpert schema\n" in text and "--path" in text.split("## ipexpert schema\n")[1].split("## ")[0]


def test_a_changed_help_text_makes_the_check_fail(monkeypatch):
    from ipexpert.cli import cli

    generator = _generator()
    assert generator.main(["--check"]) == 0
    monkeypatch.setattr(cli.commands["validate"], "help", "A new description of validate.")
    assert "A new description of validate." in generator.render()
    assert generator.main(["--check"]) == 1


def test_the_documented_shell_completion_completes_commands_and_choices():
    import os
    from pathlib import Path

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_IPEXPERT_COMPLETE=bash_source ipexpert)"' in readme
    script = Path(sys.executable).parent / "ipexpert"
    env = {**os.environ, "_IPEXPERT_COMPLETE": "bash_complete", "COMP_WORDS": "ipexpert schema ", "COMP_CWORD": "2"}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["plain,profile", "plain,rule-pack", "plain,outline", "plain,test-case"]
    source = subprocess.run(
        [str(script)], env={**os.environ, "_IPEXPERT_COMPLETE": "bash_source"}, capture_output=True, text=True, check=True
    )
    assert "complete -o nosort -F _ipexpert_completion ipexpert" in source.stdout
