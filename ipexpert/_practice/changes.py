"""What changed in one client's advice between two outlines: items that appeared or disappeared,
and items whose level or date changed.

Outlines are compared as their JSON data, so an outline read back from the ledger compares like
a fresh one. Recommendations and risks are matched by id. A due date that was the as-of date in
both outlines (overdue then and still overdue now) is not a change: an outline moves every past
date to its as-of date, so it would otherwise change at every review.
"""

from __future__ import annotations

import functools

from ipexpert._knowledge import i18n as _i18n

GROUPS = (("recommendations", "recommendation", "priority"), ("risks", "risk", "severity"))


def compare(before: dict, after: dict) -> dict:
    """The changes from outline *before* to outline *after* (both JSON data)."""
    out: dict = {"stage": None}
    stage_before, stage_after = before["stage"]["value"], after["stage"]["value"]
    if stage_before != stage_after:
        out["stage"] = {"before": stage_before, "after": stage_after}
    for group, _, level in GROUPS:
        old = {item["id"]: item for item in before[group]}
        new = {item["id"]: item for item in after[group]}
        out[group] = {
            "appeared": [_brief(new[i], level) for i in sorted(new.keys() - old.keys())],
            "disappeared": [_brief(old[i], level) for i in sorted(old.keys() - new.keys())],
            "changed": [c for i in sorted(old.keys() & new.keys()) if (c := _changed(old[i], new[i], level, before, after))],
        }
    return out


def _brief(item: dict, level: str) -> dict:
    brief = {"id": item["id"], "rule": item["rule"], "title": item["title"], level: item[level]}
    if "due" in item:
        brief["due"] = item["due"]
    return brief


def _changed(old: dict, new: dict, level: str, before: dict, after: dict) -> dict | None:
    change: dict = {}
    if old[level] != new[level]:
        change[level] = [old[level], new[level]]
    old_due, new_due = old.get("due"), new.get("due")
    still_overdue = old_due == before["as_of"] and new_due == after["as_of"]
    if old_due != new_due and not still_overdue:
        change["due"] = [old_due, new_due]
    if not change:
        return None
    return {"id": new["id"], "rule": new["rule"], "title": new["title"], **change}


def same(changes: dict) -> bool:
    """True when the two outlines give the same advice."""
    return changes["stage"] is None and not any(changes[group][kind] for group, _, _ in GROUPS for kind in changes[group])


def count(changes: dict) -> int:
    """How many items appeared, disappeared or changed (the stage counts as one)."""
    return (changes["stage"] is not None) + sum(len(changes[group][kind]) for group, _, _ in GROUPS for kind in changes[group])


def rules_touched(changes: dict) -> list[str]:
    """The rule (pack/id) of every item that appeared, disappeared or changed, once per item."""
    return [item["rule"] for group, _, _ in GROUPS for kind in changes[group] for item in changes[group][kind]]


def lines(changes: dict, indent: str = "  ", lang: str = "en") -> list[str]:
    """`+` appeared, `-` disappeared, `~` changed level or date; one line each, in *lang*."""
    label = functools.partial(_i18n.label, lang)
    out = []
    if changes["stage"]:
        before, after = (_stage(lang, changes["stage"][when]) for when in ("before", "after"))
        out.append(indent + label("change_stage", before=before, after=after))
    for group, word, level in GROUPS:
        kind = label("change_" + word)
        for sign, items in (("+", changes[group]["appeared"]), ("-", changes[group]["disappeared"])):
            for item in items:
                shown = _level_and_due(lang, item, level)
                out.append(indent + label("change_item", sign=sign, kind=kind, id=item["id"], level=shown, title=item["title"]))
        for item in changes[group]["changed"]:
            parts = [
                label(
                    "change_value",
                    name=label("change_" + key),
                    before=_value(lang, key, item[key][0]),
                    after=_value(lang, key, item[key][1]),
                )
                for key in (level, "due")
                if key in item
            ]
            out.append(indent + label("change_changed", kind=kind, id=item["id"], parts=label("clause_separator").join(parts)))
    return out


def _value(lang: str, key: str, value) -> str:
    """A level or a date before or after a change, as *lang* writes it; `(none)` for no value."""
    if not value:
        return _i18n.label(lang, "change_none")
    return _i18n.date(lang, value) if key == "due" else _i18n.word(lang, "priority", value)


def _stage(lang: str, value) -> str:
    return _i18n.word(lang, "stage", value) if value else _i18n.label(lang, "change_none")


def _level_and_due(lang: str, item: dict, level: str) -> str:
    shown = _i18n.word(lang, "priority", item[level])
    return _i18n.label(lang, "change_level_due", level=shown, due=_i18n.date(lang, item["due"])) if item.get("due") else shown
