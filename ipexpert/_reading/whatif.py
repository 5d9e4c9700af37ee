"""What-if changes to a profile: `--set firm.stage=stable`, applied before evaluation."""

from __future__ import annotations

import copy
import re

from ipexpert._errors import IPExpertError, Problem
from ipexpert._reading import document as _document

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_path(text: str) -> tuple:
    """`markets[1].status` -> ("markets", 1, "status")."""
    text = text[2:] if text.startswith("$.") else text
    parts, pos = [], 0
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        match = _STEP.match(text, pos)
        if not match:
            raise IPExpertError(Problem("--set", None, None, "$", f"cannot read the path {text!r}"))
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not parts:
        raise IPExpertError(Problem("--set", None, None, "$", "empty path"))
    return tuple(parts)


def apply_assignments(doc: _document.Document, assignments) -> _document.Document:
    """A copy of *doc* with each `PATH=VALUE` applied (VALUE read as a YAML scalar or list)."""
    data = copy.deepcopy(doc.data)
    positions = dict(doc.positions)
    for assignment in assignments:
        if "=" not in assignment:
            raise IPExpertError(Problem("--set", None, None, "$", f"{assignment!r} is not PATH=VALUE"))
        path_text, value_text = assignment.split("=", 1)
        path = parse_path(path_text.strip())
        try:
            value = _document.load(value_text, "--set").data if value_text.strip() else None
        except _document.YAMLInputError:
            value = value_text
        target = data
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                raise IPExpertError(
                    Problem("--set", None, None, _document.json_path(path), f"{path_text} does not exist in the profile")
                ) from None
        try:
            target[path[-1]] = value
        except (IndexError, TypeError):
            raise IPExpertError(Problem("--set", None, None, _document.json_path(path), f"{path_text} cannot be set")) from None
        # A value set on the command line has no line in the file.
        positions = {p: v for p, v in positions.items() if p[: len(path)] != path}
        positions[path] = (None, None)
    return _document.Document(data, doc.source, positions, dict(doc.key_positions))
