"""The three firms the interview tests complete, and how a person answering for them would reply."""

from __future__ import annotations

from pathlib import Path

import yaml

FIXTURES = Path(__file__).parent / "fixtures" / "interview"
FIRMS = ("small-reseller", "eu-brand-owner", "patent-holder")
AS_OF = "2026-12-01"


def hand_written(firm: str) -> dict:
    """The firm's profile as written by hand (dates as text, as the profile reader keeps them)."""
    return yaml.load((FIXTURES / f"{firm}.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader if False else _TextDates)


class _TextDates(yaml.SafeLoader):
    pass


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _get(data, path):
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return None
        elif not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _text(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def reply(question, profile_so_far: dict, firm: dict):
    """What the firm answers: ("answer", {field: text}) or ("skip", None)."""
    if question.kind == "item":
        have = _get(profile_so_far, question.path) or []
        wanted = _get(firm, question.path) or []
        if len(have) >= len(wanted):
            return "skip", None
        item = wanted[len(have)]
        return "answer", {sub.path[-1]: _text(item[sub.path[-1]]) for sub in question.fields}
    if question.kind == "group":
        section = firm.get(question.path[0], {})
        return "answer", {"value": [name for name in question.choices if section.get(name) is True]}
    value = _get(firm, question.path)
    if value is None:
        return "skip", None
    return "answer", {"value": _text(value)}
