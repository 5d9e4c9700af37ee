"""What changes between two outlines: recommendations and risks that appear, disappear or change level."""

from __future__ import annotations


def diff(before, after) -> dict:
    """The differences from outline *before* to outline *after*, matched by recommendation and risk id."""
    out = {
        "before": before.source,
        "after": after.source,
        "as_of": after.as_of,
        "stage": None,
        "recommendations": _compare(before.recommendations, after.recommendations, "priority"),
        "risks": _compare(before.risks, after.risks, "severity"),
    }
    if (before.stage.value, before.stage.declared) != (after.stage.value, after.stage.declared):
        out["stage"] = {"before": before.stage.value, "after": after.stage.value}
    return out


def _compare(old, new, level) -> dict:
    old_by_id = {item.id: item for item in old}
    new_by_id = {item.id: item for item in new}
    return {
        "appeared": [_brief(new_by_id[i], level) for i in sorted(set(new_by_id) - set(old_by_id))],
        "disappeared": [_brief(old_by_id[i], level) for i in sorted(set(old_by_id) - set(new_by_id))],
        "changed": [
            {"id": i, "title": new_by_id[i].title, level: [getattr(old_by_id[i], level), getattr(new_by_id[i], level)]}
            for i in sorted(set(old_by_id) & set(new_by_id))
            if getattr(old_by_id[i], level) != getattr(new_by_id[i], level)
        ],
    }


def _brief(item, level) -> dict:
    return {"id": item.id, "title": item.title, level: getattr(item, level)}


def same(data: dict) -> bool:
    """True when the two outlines give the same advice."""
    return data["stage"] is None and not any(v for group in ("recommendations", "risks") for v in data[group].values())


def render(data: dict) -> str:
    """`+` appeared, `-` disappeared, `~` changed level; one line each."""
    lines = [f"--- {data['before']}", f"+++ {data['after']}"]
    if data["stage"]:
        lines.append(f"~ stage: {data['stage']['before'] or '(none)'} -> {data['stage']['after'] or '(none)'}")
    for group, level in (("recommendations", "priority"), ("risks", "severity")):
        word = group[:-1]
        for item in data[group]["appeared"]:
            lines.append(f"+ {word} {item['id']} [{item[level]}]: {item['title']}")
        for item in data[group]["disappeared"]:
            lines.append(f"- {word} {item['id']} [{item[level]}]: {item['title']}")
        for item in data[group]["changed"]:
            lines.append(f"~ {word} {item['id']}: {level} {item[level][0]} -> {item[level][1]}")
    if same(data):
        lines.append("no differences")
    return "\n".join(lines) + "\n"
