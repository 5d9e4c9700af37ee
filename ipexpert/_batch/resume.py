"""Resuming a batch: the records an earlier run already wrote that this run may keep as they are.

A run killed part-way leaves its temporary file (`.ipexpert-*.tmp`) beside the output, holding
the records written before the kill; a finished run leaves the output itself, which a run over
a longer input (lines added at the end) can extend. Either is kept up to the first record that
does not fit: another input in that place, another `--as-of` date or other rule pack versions,
a line cut short by the kill, or a record that says the evaluation itself failed (a lost worker,
an internal error), which is worth trying again.
"""

from __future__ import annotations

import json
import os

from ipexpert._common import output as _output

RETRIED_KINDS = ("worker_lost", "internal_error")


def kept_records(names, output, as_of, rules) -> list[tuple[bool, str]]:
    """(ok, line) for the longest run of leading inputs (by *names*) an earlier run wrote to *output* or left in its folder."""
    if output == "-" or not _regular_or_missing(output):
        return []
    packs = [{"name": pack.name, "version": pack.version} for pack in rules.packs]
    best: list[tuple[bool, str]] = []
    for candidate in _candidates(output):
        found = _matching(candidate, names, as_of.isoformat(), packs)
        if len(found) > len(best):
            best = found
    return best


def _regular_or_missing(path) -> bool:
    try:
        return os.path.isfile(path) or not os.path.exists(path)
    except OSError:
        return False


def _candidates(output):
    """The output itself, then the temporary files no live run holds in its folder, oldest first."""
    target = os.path.realpath(output)
    if os.path.isfile(target):
        yield target
    folder = os.path.dirname(target)
    try:
        entries = sorted(
            (e for e in os.scandir(folder) if e.name.startswith(_output.TEMP_PREFIX) and e.name.endswith(_output.TEMP_SUFFIX)),
            key=lambda e: (e.stat(follow_symlinks=False).st_mtime, e.name),
        )
    except OSError:
        return
    for entry in entries:
        if entry.is_file(follow_symlinks=False) and not _output.is_held(entry.path):
            yield entry.path


def _matching(path, names, as_of: str, packs) -> list[tuple[bool, str]]:
    kept: list[tuple[bool, str]] = []
    try:
        with open(path, "rb") as handle:
            for raw, name in zip(handle, names):
                if not raw.endswith(b"\n"):
                    break  # the last line, cut short when the run was killed
                try:
                    record = json.loads(raw)
                except ValueError:
                    break
                if not _fits(record, name, as_of, packs):
                    break
                kept.append(("outline" in record, raw.decode("utf-8")))
    except (OSError, UnicodeDecodeError):
        return kept
    return kept


def _fits(record, name: str, as_of: str, packs) -> bool:
    if not isinstance(record, dict) or record.get("input") != name:
        return False
    if "outline" in record:
        outline = record["outline"]
        return isinstance(outline, dict) and outline.get("as_of") == as_of and outline.get("rule_packs") == packs
    error = record.get("error")
    return isinstance(error, dict) and error.get("kind") not in RETRIED_KINDS
