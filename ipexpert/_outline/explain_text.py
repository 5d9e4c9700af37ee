"""An explanation (from `explain`) as the text `ipexpert explain` prints: how, or why not, with the facts and fixes."""

from __future__ import annotations

from ipexpert._outline.explain import flow


def render(data: dict) -> str:
    lines = []
    if data["explain"] == "how":
        head = data.get("conclusion")
        if head:
            lines.append(f"how: {head['id']} ({head['type']}, {head['level']}): {head['title']}")
        else:
            lines.append(f"how: {data['target']} fired {len(data['firings'])} time(s)")
        for firing in data["firings"]:
            binds = ", ".join(f"{k}={flow(v)}" for k, v in firing["bindings"].items())
            lines.append(f"  by {firing['rule']} ({firing['file']}:{firing['line']})" + (f" with {binds}" if binds else ""))
            lines.append(f"  because: {firing['because']}")
            lines.append("  matched:")
            for fact in firing["matched"]:
                lines += _fact_lines(fact, 4)
            if firing["absent"]:
                lines.append("  and found no fact matching:")
                lines += [f"    {text}" for text in firing["absent"]]
            if firing.get("present"):
                lines.append("  and found a fact matching:")
                lines += [f"    {text}" for text in firing["present"]]
        return "\n".join(lines) + "\n"
    lines.append(f"why not: {data['rule']} ({data['file']}:{data['line']}): {data['title']}")
    if data["fired_for"]:
        lines.append(f"  it fired, but not for {data['target']}; it concluded: {', '.join(data['fired_for'])}")
    if data.get("note"):
        lines.append(f"  {data['note']}")
    for failure in data["failures"]:
        lines += _failure_lines(failure, 2)
    for change in data["changes"]:
        lines.append(f"  {change}")
    if not data["changes"] and data["failures"]:
        lines.append("  no change of one profile value was found that makes it fire")
    return "\n".join(lines) + "\n"


def _failure_lines(failure, indent) -> list[str]:
    """One failing condition: the facts that held, why it fails, the facts that came close, and where derived facts lead."""
    pad = " " * indent
    binds = ", ".join(f"{k}={flow(v)}" for k, v in failure["bindings"].items())
    lines = [f"{pad}condition {failure['condition']} fails: {failure['text']}" + (f"  (with {binds})" if binds else "")]
    for fact in failure["held"]:
        lines += _fact_lines(fact, indent + 2, prefix="held: ")
    for reason in failure["reasons"]:
        lines.append(f"{pad}  {reason}")
    if "blocked_by" in failure:
        lines += _fact_lines(failure["blocked_by"], indent + 2, prefix="blocked by: ")
    for candidate in failure["candidates"]:
        if "field" in candidate:
            values = ""
            if "derived_by" in candidate:
                values = " {" + ", ".join(f"{k}: {flow(v)}" for k, v in candidate["values"].items()) + "}"
            lines.append(
                f"{pad}  {candidate['kind']}{values} {_origin_text(candidate)}: {candidate['field']} is "
                f"{flow(candidate['actual'])}, needs {candidate['needs']}"
            )
    for via in failure.get("via", []):
        binds = ", ".join(f"{k}={flow(v)}" for k, v in via["bindings"].items())
        lines.append(
            f"{pad}  {via['rule']} ({via['file']}:{via['line']}) would derive it"
            + (f" with {binds}" if binds else "")
            + ("" if via["failures"] else ", but no condition of it fails on the final facts")
        )
        for nested in via["failures"]:
            lines += _failure_lines(nested, indent + 4)
    return lines


def _origin_text(fact) -> str:
    if "derived_by" in fact:
        return f"derived by {fact['derived_by']} ({fact['file']}:{fact['line']})"
    if fact.get("line"):
        return f"{fact['path']} ({fact['file']}:{fact['line']})"
    return fact.get("path") or ""


def _fact_lines(fact, indent, prefix="") -> list[str]:
    pad = " " * indent
    values = ", ".join(f"{k}={flow(v)}" for k, v in fact["values"].items())
    lines = [f"{pad}{prefix}{fact['kind']} {_origin_text(fact)}: {values}"]
    if "because" in fact:
        lines.append(f"{pad}  because: {fact['because']}")
    for sub in fact.get("from", []):
        lines += _fact_lines(sub, indent + 2, prefix="from ")
    return lines
