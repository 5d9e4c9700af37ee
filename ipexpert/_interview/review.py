"""Going back a step, and the review page: every answer and skipped question, each one editable.

Both interviews use it. Back undoes the newest step the state records; editing an answer
removes it, so the question engine asks it again (with the old answer offered), and the
answers must be reviewed once more before the report.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from ipexpert._interview.questions import Engine, Question, State
from ipexpert._knowledge import i18n as _i18n
from ipexpert._reading import codes as _codes
from ipexpert._reading import document as _document

SKIPPED = object()  # the value of a question left unanswered on purpose


@dataclass(frozen=True)
class Answer:
    """One line of the review: the question, what was answered (or SKIPPED), and where it is in the profile."""

    question: Question
    value: object
    path: tuple

    @property
    def skipped(self) -> bool:
        return self.value is SKIPPED


def back(state: State) -> State:
    """*state* without its newest step (the answer, skip or list item it added); as it is when there is none."""
    if state.reviewed or not state.steps:  # from the downloads, back is the review page
        return replace(state, reviewed=False)
    profile = copy.deepcopy(state.profile)
    settled = list(state.settled)
    step = state.steps[-1]
    if "put" in step:
        for path in step["put"]:
            _remove(profile, tuple(path))
            _prune(profile, tuple(path)[:-1])
    elif "append" in step:
        items = _at(profile, tuple(step["append"]))
        if isinstance(items, list) and items:
            items.pop()
            if not items:
                _remove(profile, tuple(step["append"]))
    else:
        for question_id in reversed(step["settle"]):
            if question_id in settled:
                settled.reverse()
                settled.remove(question_id)  # the newest of equal ids
                settled.reverse()
    return State(profile, settled, state.steps[:-1], False)


def answers(engine: Engine, state: State) -> list[Answer]:
    """Every answer in the profile and every question skipped, in the schema's order."""
    out: list[Answer] = []
    _collect(engine, state, state.profile, engine.schema, (), "", out)
    return out


def reopen(engine: Engine, state: State, path: tuple) -> tuple[State, Question | None, object]:
    """*state* with the answer at *path* removed (or its skip undone), the question that asks it
    again, and the old answer to offer; (state, None, SKIPPED) if *path* names no answer."""
    found = next((a for a in answers(engine, state) if a.path == path), None)
    if found is None:
        return state, None, SKIPPED
    profile = copy.deepcopy(state.profile)
    _remove(profile, path)
    settled = [i for i in state.settled if i != found.question.id]
    opened = State(profile, settled, state.steps, False)
    question = engine.find(opened, found.question.id) or found.question
    return opened, question, found.value


def confirm(state: State) -> State:
    """*state* with its answers reviewed: the report may be made."""
    return replace(state, reviewed=True)


def shown(value, question: Question, texts) -> str:
    """An answer as the review shows it, in the interview's language."""
    if isinstance(value, bool):
        return texts.ui("answer_yes") if value else texts.ui("answer_no")
    if isinstance(value, list):
        named = question.choices or (question.path and question.path[-1] in _codes.CODE_LIST_FIELDS)
        return _i18n.list_separator(texts.lang).join(texts.choice(question, v) if named else str(v) for v in value)
    if question.choices or (question.path and question.path[-1] in _codes.CODE_FIELDS):
        return texts.choice(question, value)  # a market code reads as its name: 美国（US）
    return str(value)


def _collect(engine, state, data, node, path, spath, out) -> None:
    required = set(node.get("required", ()))
    for name, sub in node.get("properties", {}).items():
        if name == "$schema":
            continue
        child_path, child_spath = path + (name,), f"{spath}.{name}" if spath else name
        if sub.get("type") == "object":
            _collect(engine, state, data.get(name) or {}, sub, child_path, child_spath, out)
        elif sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
            items = data.get(name)
            for i, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict):
                    _collect(engine, state, item, sub["items"], child_path + (i,), f"{child_spath}[]", out)
        else:
            question_id = _document.json_path(child_path)[2:]
            if name in data or question_id in state.settled:
                question = _question_for(engine, state, child_path, child_spath, sub, name in required)
                out.append(Answer(question, data[name] if name in data else SKIPPED, child_path))


def _question_for(engine: Engine, state: State, path: tuple, spath: str, sub: dict, required: bool) -> Question:
    """The question that fills the field at *path* (the review names answers by it)."""
    found = engine.field_question(path, spath, sub, required, state)
    if found is not None:
        return found
    return Question(id=_document.json_path(path)[2:], kind="field", path=path, schema_path=spath, schema=sub, required=required)


def _at(profile, path: tuple):
    data = profile
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _remove(profile: dict, path: tuple) -> None:
    parent = _at(profile, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and isinstance(path[-1], int) and 0 <= path[-1] < len(parent):
        parent.pop(path[-1])


def _prune(profile: dict, path: tuple) -> None:
    """Remove the mappings along *path* that a removed answer left empty (as they were before it was given)."""
    while path and _at(profile, path) == {}:
        _remove(profile, path)
        path = path[:-1]
