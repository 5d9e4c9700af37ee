"""The interview's state: the answers so far as a partial profile, its limits, and reading one back."""

from __future__ import annotations

import copy
import datetime
import json
import os
from dataclasses import dataclass, field

from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile
from ipexpert._reading import schemas as _schemas


@dataclass
class State:
    """The answers so far (a partial profile), the questions left unanswered on purpose, how to
    take each step back (so the interview can go Back), and whether the answers were reviewed."""

    profile: dict = field(default_factory=dict)
    settled: list = field(default_factory=list)  # ids answered "skip" or "no more"
    # One entry per step, newest last: {"put": [paths set]}, {"append": path of the list} or {"settle": [ids]}.
    steps: list = field(default_factory=list)
    reviewed: bool = False  # the answers were looked over on the review page and confirmed

    def to_json(self) -> str:
        data = {"profile": self.profile, "settled": self.settled, "steps": self.steps, "reviewed": self.reviewed}
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> State:
        """A state from text a client sent back; anything malformed starts afresh."""
        return cls.read(text) or cls()

    @classmethod
    def read(cls, text: str) -> State | None:
        """The state a client sent back, or None when it does not read as one this interview wrote.

        No text is a new interview. Past the document size, nesting deeper than any profile,
        a number JSON has no name for (Infinity, NaN), a lone surrogate or a wrong shape: None.
        """
        if not text:
            return cls()
        if len(text) > _document.MAX_BYTES:
            return None
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return None
        steps = data.pop("steps", []) if isinstance(data, dict) else []
        depth, longest = _shape(data)
        if depth > MAX_NESTING or longest > MAX_ITEMS:
            return None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be sent back
        except UnicodeEncodeError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("profile", {}), dict):
            return None
        settled = data.get("settled", [])
        if not isinstance(settled, list) or not all(isinstance(s, str) for s in settled):
            return None
        if not isinstance(steps, list) or len(steps) > MAX_STEPS or not all(_is_step(s) for s in steps):
            return None
        return cls(_tidy(data.get("profile", {})), settled, steps, data.get("reviewed") is True)


MAX_NESTING = 32  # a profile nests 5 deep; a state sent back deeper than this was not written here
# The most items a list of the interview's answers may hold (there are 249 ISO 3166 countries): each
# question walks every item, so the work per page grows with the square of the longest list.
MAX_ITEMS = 250
MAX_STEPS = 1000  # how many steps Back can undo; older ones are forgotten


def with_step(state: State, step: dict) -> list:
    """*state*'s steps with *step* added as the newest, keeping the newest MAX_STEPS."""
    return [*state.steps, step][-MAX_STEPS:]


def _shape(data) -> tuple[int, int]:
    """(how deep lists and mappings nest, the length of the longest list) in *data*, walked without recursion."""
    deepest, longest, stack = 0, 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if isinstance(value, list):
                longest = max(longest, len(value))
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest, longest


def _too_many_items(profile) -> tuple | None:
    """The path (a tuple) of the first list in *profile* with more than MAX_ITEMS items, or None."""
    stack: list = [(profile, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, list):
            if len(value) > MAX_ITEMS:
                return where
            stack.extend((v, (*where, i)) for i, v in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((v, (*where, k)) for k, v in value.items())
    return None


def _is_path(value) -> bool:
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_NESTING
        and all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in value)
    )


def _is_step(step) -> bool:
    """Whether a client-sent step has the shape `State.steps` describes (what it undoes is checked again)."""
    if not isinstance(step, dict) or len(step) != 1:
        return False
    ((kind, value),) = step.items()
    if kind == "put":
        return isinstance(value, list) and all(_is_path(p) for p in value)
    if kind == "append":
        return _is_path(value)
    return kind == "settle" and isinstance(value, list) and all(isinstance(i, str) for i in value)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _tidy(profile: dict) -> dict:
    """A client-sent profile keeps only its schema's keys (answers are checked again when given)."""
    schema = _schemas.schema("profile")

    def walk(value, node):
        if isinstance(value, dict) and node.get("type") == "object":
            props = node.get("properties", {})
            return {k: walk(v, props[k]) for k, v in value.items() if k in props}
        if isinstance(value, list) and node.get("type") == "array":
            return [walk(v, node.get("items", {})) for v in value]
        return value

    return walk(profile, schema)


def trusted(state: State) -> State | None:
    """*state* if its profile breaks the schema only by what is still unanswered, else None.

    A resumed or client-sent profile may be unfinished, never wrong.
    """
    errors = _schemas.validator("profile").iter_errors(state.profile)
    if any(error.validator not in ("required", "minItems") for error in errors):
        return None
    return state


def read_partial(path) -> State:
    """The state for a partial profile file; InvalidProfileError if it holds a wrong answer."""
    return from_document(_profile.read(os.fspath(path), str(path)))


def from_document(doc) -> State:
    """The state for a parsed partial profile; InvalidProfileError if it holds a wrong answer."""
    from ipexpert._errors import InvalidProfileError

    data = doc.data if isinstance(doc.data, dict) else None
    crowded = _too_many_items(data) if data is not None else None
    if crowded is not None:
        message = f"the interview takes at most {MAX_ITEMS} items in a list; write a longer profile by hand"
        raise InvalidProfileError([doc.problem(crowded, message)])
    state = trusted(resume(_plain(data))) if data is not None else None
    if state is None:
        problems = [p for p in _profile.problems(doc) if "is a required property" not in p.message] or _profile.problems(doc)
        raise InvalidProfileError(problems)
    return state


def _plain(data):
    """YAML values (dates included) as the JSON the state carries."""
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, (datetime.date, datetime.datetime)):
        return data.isoformat()
    return data


def resume(profile: dict) -> State:
    """The state for a partial profile: only what is missing will be asked."""
    return State(_tidy(copy.deepcopy(profile)), [])


def _put(profile: dict, path: tuple, value) -> None:
    target = profile
    for part in path[:-1]:
        if isinstance(target, dict) and part not in target:
            target[part] = {}
        target = target[part]
    target[path[-1]] = value


def _delete(profile: dict, path: tuple) -> None:
    target = profile
    for part in path[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError):
            return
    if isinstance(target, dict):
        target.pop(path[-1], None)


def asked_fields(questions) -> set[str]:
    """The schema paths a list of asked questions covered (an item counts its own fields)."""
    out: set[str] = set()
    for question in questions:
        if question.kind in ("item", "group"):
            out.update(sub.schema_path for sub in question.fields)
        else:
            out.add(question.schema_path)
    return out


def has_items(profile: dict, path: tuple) -> bool:
    """Whether *profile* already holds at least one item of the list at *path* (both interviews ask "another?")."""
    data = profile
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    return bool(data)


def registration_places(profile: dict) -> tuple:
    """Where a right may be registered: the firm's markets, its home country (a seller's first
    filing is usually at home), and WO for an international registration."""
    home = (profile.get("firm") or {}).get("home_country")
    codes = [m.get("code") for m in profile.get("markets", []) if isinstance(m, dict) and m.get("code")]
    return tuple(dict.fromkeys([*codes, *([home] if isinstance(home, str) and home else []), "WO"]))
