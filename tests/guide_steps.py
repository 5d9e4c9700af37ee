"""A guide in docs/ that runs: its `yaml file=...` blocks are written and its console commands run in order,
each printing what the guide shows (a `...` line stands for any lines) and exiting 1 only where it shows an error line."""

import re
import shlex
from pathlib import Path

BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.S | re.M)
ERROR_LINE = re.compile(r"^\S+:\d+:\d+: (?!warning:)")


def steps(guide: Path) -> list:
    """("file", path, text) and ("run", command, expected lines), in the guide's order."""
    out = []
    for kind, info, body in BLOCK.findall(guide.read_text(encoding="utf-8")):
        if kind == "yaml" and "file=" in info:
            out.append(("file", info.split("file=", 1)[1].strip(), body))
        elif kind == "po" and "file=" in info:  # `po file=X edit`: these messages' msgstr, filled in as an editor would
            out.append(("edit", info.split("file=", 1)[1].split()[0], body))
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


def run(guide: Path, invoke, folder: Path) -> None:
    """Write the guide's files under *folder* (the current directory) and run its commands, checking each."""
    for step in steps(guide):
        if step[0] == "file":
            path = folder / step[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step[2], encoding="utf-8")
            continue
        if step[0] == "edit":
            _edit_po(folder / step[1], step[2])
            continue
        _, command, shown = step
        result = invoke(*shlex.split(command)[1:])
        actual = result.output.rstrip("\n").split("\n") if result.output.strip() else []
        assert matches(shown, actual), (
            f"$ {command}\n--- the guide shows:\n" + "\n".join(shown) + "\n--- the tool printed:\n" + result.output
        )
        expected_code = 1 if any(ERROR_LINE.match(line) for line in shown) else 0
        assert result.exit_code == expected_code, f"$ {command}\n{result.output}"


def _edit_po(path: Path, block: str) -> None:
    """Set the msgstr of each message in *block* in the PO file at *path*, keeping the rest as it is."""
    import io

    from babel.messages.pofile import read_po, write_po

    po = read_po(io.BytesIO(path.read_bytes()))
    for message in read_po(io.StringIO(block)):
        if message.id:
            po.get(message.id, message.context).string = message.string
    out = io.BytesIO()
    write_po(out, po, width=0)
    path.write_bytes(out.getvalue())
