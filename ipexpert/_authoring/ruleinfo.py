"""Describing the loaded rules for a reader: the table of `rules list` and the page of `rules show`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ipexpert._authoring import check as _check
from ipexpert._common import resources as _resources


def category(rule) -> str:
    """The outline section a rule writes to, or what it derives."""
    data = rule.data
    if "recommend" in data:
        return data.get("category", "strategy")
    if "risk" in data:
        return "risk:" + data["risk"]["kind"]
    ((kind, _),) = data["derive"].items()
    return f"derives {kind}"


def sources(rule) -> str:
    out = []
    for item in rule.data.get("source", []):
        out.append(item["ref"] if isinstance(item, dict) else str(item))
    return ", ".join(out) or "(none)"


def table(packs) -> list[str]:
    """One block per pack (name, version, file), then one row per rule: id, category, title, source."""
    lines: list[str] = []
    for pack in packs:
        if lines:
            lines.append("")
        lines.append(
            f"{pack.name} {pack.version}  ({pack.file}, {len(pack.rules)} rules"
            f"{', ' + str(len(pack.facts)) + ' facts' if pack.facts else ''})"
        )
        rows = [(rule.id, category(rule), rule.data["title"], sources(rule)) for rule in pack.rules]
        if not rows:
            continue
        widths = [max(len(r[i]) for r in rows + [("ID", "CATEGORY", "TITLE", "SOURCE")]) for i in range(3)]
        for row in [("ID", "CATEGORY", "TITLE", "SOURCE")] + rows:
            lines.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    return [line.rstrip() for line in lines]


def source_file(doc) -> Path:
    """The file a Document was read from (bundled files are named `<bundled>/rules/...`)."""
    if doc.source.startswith("<bundled>/"):
        return _resources.rules_dir().parent / doc.source[len("<bundled>/") :]
    return Path(doc.source)


def written(rule) -> str:
    """The rule's YAML exactly as written in its file."""
    try:
        lines = source_file(rule.doc).read_text(encoding="utf-8").splitlines()
    except OSError:
        return _yaml_dump(rule.data)
    start, col = rule.doc.position(rule.path)
    nxt = rule.doc.positions.get(rule.path[:-1] + (rule.path[-1] + 1,))
    end = nxt[0] - 1 if nxt else len(lines)
    indent = max(col - 3, 0)
    block = [lines[start - 1]]
    for line in lines[start:end]:
        if line.strip() and not line.lstrip().startswith("#") and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    while block and not block[-1].strip():
        block.pop()
    return textwrap.dedent("\n".join(block))


def _yaml_dump(data) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip()


def page(packs, rule) -> list[str]:
    """What `rules show` prints: where the rule lives, the rule as written, what it concludes, who uses it."""
    pack = next(p for p in packs if p.name == rule.pack)
    lines = [f"{rule.key}  (pack {pack.name} {pack.version})", f"defined at {rule.location()}"]
    for where in rule.overridden_by:
        lines.append(f"overridden at {where}")
    lines += ["", textwrap.indent(written(rule), "    "), ""]
    data = rule.data
    uses = sorted({kind for _, kind, _, _ in _check.patterns(rule)})
    lines.append("reads: " + ", ".join(uses))
    if "recommend" in data:
        lines.append(f"concludes: a recommendation in {data.get('category', 'strategy')}")
    if "risk" in data:
        lines.append(f"concludes: a risk of kind {data['risk']['kind']}")
    if "derive" in data:
        ((kind, values),) = data["derive"].items()
        lines.append(f"concludes: derives a {kind} fact ({', '.join(values)})")
        users = [r for p in packs for r in p.rules if any(k == kind for _, k, _, _ in _check.patterns(r))]
        if users:
            lines.append(f"used by ({len(users)}):")
            lines += [f"    {r.key}  {r.location()}" for r in users]
        else:
            lines.append(f"used by: no rule has a condition on {kind}")
    return lines
