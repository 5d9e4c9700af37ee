"""The bundled JSON Schemas, and checking a document against one with readable problems."""

from __future__ import annotations

import difflib
import functools
import json
import re

from ipexpert._common import resources as _resources
from ipexpert._common import values as _values
from ipexpert._errors import Problem
from ipexpert._reading import codes as _codes
from ipexpert._reading.document import Document, json_path

SCHEMA_FILES = {
    "profile": "firm-profile.schema.json",
    "rule-pack": "rule-pack.schema.json",
    "outline": "outline.schema.json",
    "test-case": "test-case.schema.json",
}


@functools.cache
def schema(name: str) -> dict:
    """The parsed schema called *name* (profile, rule-pack, outline, test-case)."""
    return json.loads(_resources.schema_path(SCHEMA_FILES[name]).read_text(encoding="utf-8"))


@functools.cache
def validator(name: str):
    import jsonschema

    cls = jsonschema.validators.validator_for(schema(name))
    # Strict on every Python: an integer is an int (not 2000.0 or 1e308), a date is YYYY-MM-DD.
    types = cls.TYPE_CHECKER.redefine("integer", lambda checker, value: _values.is_integer(value))
    formats = jsonschema.FormatChecker()
    formats.checks("date")(_values.is_date_text)
    return jsonschema.validators.extend(cls, type_checker=types)(schema(name), format_checker=formats)


def check(doc: Document, name: str) -> list[Problem]:
    """Every way *doc* breaks schema *name*, in document order, one Problem each."""
    errors = sorted(validator(name).iter_errors(doc.data), key=lambda e: _sort_key(doc, e))
    problems = []
    seen = set()
    wrong_type = set()  # paths with a value of the wrong type: its range or pattern says nothing more
    for error in errors:
        where = tuple(error.absolute_path)
        if where in wrong_type:
            continue
        if error.validator == "type":
            wrong_type.add(where)
        problem = _problem(doc, error)
        if (problem.line, problem.column, problem.message) not in seen:
            seen.add((problem.line, problem.column, problem.message))
            problems.append(problem)
    return problems


def _sort_key(doc, error):
    line, col = doc.position(error.absolute_path)
    # At one place, a wrong type first: 1e308 for a count "should be of type integer" before it is out of range.
    return (line or 0, col or 0, json_path(error.absolute_path), error.validator != "type", error.message)


def suggest(word: str, choices) -> str:
    """` (did you mean 'x'?)` for the closest of *choices*, or an empty string."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _short(value) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    """`A channel` -> `a channel`, but `ISO 3166` stays."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _problem(doc: Document, error) -> Problem:
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "oneOf" or kind == "anyOf":
        # Report the most specific branch, not the whole alternation.
        best = _best_context(error)
        if best is not None:
            return _problem(doc, best)
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        patterns = error.schema.get("patternProperties", {})
        extras = [e for e in extras if not any(re.search(p, e) for p in patterns)] or extras
        key = extras[0] if extras else "?"
        message = f"unknown key {key!r}{suggest(key, allowed)}"
        if not suggest(key, allowed) and allowed:
            message += f"; allowed: {', '.join(allowed)}"
        return doc.problem(path + [key], message, key=True)
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return doc.problem(path, f"missing required key {missing[0]!r}" if missing else error.message)
    if kind == "enum":
        options = error.validator_value
        if _codes.is_code_list(options):
            return doc.problem(path, _codes.message(error.instance, options))
        message = f"{_short(error.instance)} is not one of {', '.join(map(str, options))}"
        return doc.problem(path, message + suggest(error.instance, options))
    if kind == "const":
        return doc.problem(path, f"{_short(error.instance)} must be {_short(error.validator_value)}")
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        message = f"{_short(error.instance)} should be of type {expected}"
        if expected == "boolean" and isinstance(error.instance, str):
            message += " (write true or false)"
        if expected == "string" and isinstance(error.instance, (bool, int, float)):
            message += " (quote it)"
        return doc.problem(path, message)
    if kind == "format":
        return doc.problem(path, f"{_short(error.instance)} is not a valid {error.validator_value} (YYYY-MM-DD)")
    if kind == "pattern":
        description = error.schema.get("description") or f"the pattern {error.validator_value}"
        return doc.problem(path, f"{_short(error.instance)} is not valid: expected {_lower_first(description)}")
    if kind == "uniqueItems":
        return doc.problem(path, "the list has duplicate items")
    if kind == "minItems":
        return doc.problem(path, f"needs at least {error.validator_value} item(s)")
    if kind == "maxLength":
        return doc.problem(
            path,
            f"{_short(error.instance)} is {len(error.instance):,} characters long; at most {error.validator_value} are allowed",
        )
    return doc.problem(path, error.message if len(error.message) < 200 else error.message[:197] + "...")


def _best_context(error):
    """The sub-error of a oneOf/anyOf that went deepest (the branch the author most likely meant)."""
    if not error.context:
        return None
    return max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))


def field_schema(path: tuple) -> dict | None:
    """The profile-schema node at *path* (names, and "[]" for list items), or None."""
    node = schema("profile")
    for step in path:
        child = node.get("items") if step == "[]" else node.get("properties", {}).get(step)
        if not isinstance(child, dict):
            return None
        node = child
    return node
