"""Variables as plain YAML: `$name`, and the older `?name` read on and rewritten in place.

`{asset: ?brand}` inside a flow mapping is a complex-key indicator to PyYAML, ruamel.yaml,
yamllint and check-jsonschema, so packs written that way fail every standard YAML tool;
`{asset: $brand}` is a plain string to all of them. A pack still written with `?name`
loads (its variables are read as `$name`, with a warning saying how to convert), and
`ipexpert rules upgrade` rewrites such files: only the character `?` of each variable
changes, at the place the parser found it, so comments, quoting and layout stay as written,
and the result is read back and compared with the original before anything is written.

A `?name` counts as a variable only where the rule language reads operands (conditions,
`derive`, `source`, and the subjects, dates and tests of `recommend` and `risk`); in
titles, `because`, actions and reference facts it is text and stays as written.
"""

from __future__ import annotations

import copy
import re

from ipexpert._errors import InvalidRulePackError, Problem
from ipexpert._reading import document as _document

OLD_VARIABLE = re.compile(r"^\?([a-z][a-z0-9_]*)$")
TEXT_KEYS = frozenset({"title", "actions", "action"})  # templates inside recommend/risk


def old_variables(data) -> list[tuple]:
    """Paths of every `?name` variable in a pack's data, in document order."""
    found: list[tuple] = []
    if not isinstance(data, dict):
        return found
    rules = data.get("rules")
    if not isinstance(rules, list):
        return found
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        for section in ("when", "derive", "source", "recommend", "risk"):
            if section in rule:
                skip = TEXT_KEYS if section in ("recommend", "risk") else frozenset()
                _collect(rule[section], ("rules", i, section), skip, found)
    return found


def _collect(item, path, skip, found):
    if isinstance(item, str):
        if OLD_VARIABLE.match(item):
            found.append(path)
    elif isinstance(item, dict):
        for key, value in item.items():
            if key not in skip:
                _collect(value, path + (key,), skip, found)
    elif isinstance(item, list):
        for index, value in enumerate(item):
            _collect(value, path + (index,), skip, found)


def modernize(data):
    """(*data* with each `?name` variable written `$name`, the paths changed); *data* itself is not changed."""
    paths = old_variables(data)
    if not paths:
        return data, []
    data = copy.deepcopy(data)
    for path in paths:
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = "$" + parent[path[-1]][1:]
    return data, paths


def warning(doc, paths) -> Problem:
    """The load-time warning for a pack still written with `?name` variables."""
    return doc.problem(
        paths[0],
        f"this pack writes its {len(paths)} variable(s) as ?name, which plain YAML tools reject inside {{...}}; "
        f"they are read as $name: run `ipexpert rules upgrade {doc.source}` to rewrite the file",
        severity="warning",
    )


def upgrade_text(text: str, source: str) -> tuple[str, int]:
    """(*text* with its `?name` variables written `$name`, how many places changed); the same text when there are none.

    Raises InvalidRulePackError when the file cannot be read or a variable cannot be rewritten exactly.
    """
    try:
        doc = _document.load(text, source)
    except _document.YAMLInputError as exc:
        raise InvalidRulePackError(exc.problem) from None
    expected, paths = modernize(doc.data)
    if not paths:
        return text, 0
    lines = text.splitlines(keepends=True)
    done: set[tuple[int, int]] = set()
    for path in paths:
        line, column = doc.position(path)
        if line is None or column is None:
            raise InvalidRulePackError(doc.problem(path, "cannot find this variable in the text; write it as $name by hand"))
        if (line, column) in done:
            continue  # one anchored scalar reached again through an alias
        done.add((line, column))
        row = lines[line - 1] if line is not None and line <= len(lines) else ""
        if column is not None and row[column - 1 : column] == "*":
            continue  # an alias: its anchor is rewritten where it is written
        index = _variable_index(lines, line, column)
        if index is None:
            raise InvalidRulePackError(
                doc.problem(path, "cannot rewrite this variable in place (a block scalar?); write it as $name by hand")
            )
        row = lines[line - 1]
        lines[line - 1] = row[:index] + "$" + row[index + 1 :]
    upgraded = "".join(lines)
    count = len(done) - sum(1 for line, column in done if lines[line - 1][column - 1 : column] == "*")
    try:
        again = _document.load(upgraded, source)
    except _document.YAMLInputError as exc:  # pragma: no cover - a `$` in place of `?` keeps every scalar plain
        raise InvalidRulePackError(exc.problem) from None
    if again.data != expected:
        raise InvalidRulePackError(
            doc.problem(paths[0], "rewriting the variables would change what the pack means; the file is left as it is")
        )
    return upgraded, count


def _variable_index(lines, line, column):
    """The index in its line of the `?` of the variable whose scalar starts at *line*:*column* (1-based)."""
    if line is None or column is None or line > len(lines):
        return None
    row = lines[line - 1]
    index = column - 1
    while row[index : index + 1] in ("&", "!"):  # an anchor or a tag before the scalar
        while index < len(row) and not row[index].isspace():
            index += 1
        while index < len(row) and row[index] in " \t":
            index += 1
    if row[index : index + 1] == "?":
        return index
    if row[index : index + 1] in ("'", '"') and row[index + 1 : index + 2] == "?":
        return index + 1
    return None
