"""Write docs/cli.md, the command-line reference, from the commands' own --help.

    python scripts/cli_docs.py          # rewrite docs/cli.md
    python scripts/cli_docs.py --check  # exit 1 if docs/cli.md is stale (CI and tests run this)

Every command and subcommand gets a section with its --help text, formatted at a fixed
width so the file does not depend on the terminal that wrote it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"
WIDTH = 100


def commands(command: click.Command, parent: click.Context | None = None, name: str = "ipexpert"):
    """(full name, help text) for *command* and every command beneath it, depth first, in name order."""
    settings = {"terminal_width": WIDTH, "max_content_width": WIDTH, **command.context_settings}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    yield ctx.command_path, command.get_help(ctx)
    if isinstance(command, click.Group):
        for sub in sorted(command.list_commands(ctx)):
            subcommand = command.get_command(ctx, sub)
            if subcommand is not None and not subcommand.hidden:
                yield from commands(subcommand, ctx, sub)


def exit_codes(doc: str) -> list[str]:
    """The exit-code table of the ipexpert.cli package's docstring (its indented lines that start with a number)."""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip()[:1].isdigit())
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return [line[4:] for line in lines[start:end]]


def render() -> str:
    from ipexpert import cli as module

    cli = module.cli
    parts = [
        "# Command-line reference",
        "",
        "<!-- Generated from the commands' --help by `python scripts/cli_docs.py`; do not edit by hand. -->",
        "",
        "Exit codes:",
        "",
        "```text",
        *exit_codes(module.__doc__ or ""),
        "```",
        "",
    ]
    found = list(commands(cli))
    parts += [f"- [`{path}`](#{path.replace(' ', '-')})" for path, _ in found]
    for path, text in found:
        parts += ["", f"## {path}", "", "```text", text.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md differs from the --help text")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/cli_docs.py", file=sys.stderr)
            return 1
        print(f"{TARGET.relative_to(ROOT)} matches the commands' --help")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
