"""The small expression language of rule packs: operands, tests and text templates.

An operand is a literal, a variable (`$market`), or a date expression
(`{months_from_as_of: 13}`, `{months_before: [$launch, $tm_months]}`, ...).
A test is a mapping of operators (`eq`, `in`, `lt`, `before`, `exists`, `contains`...)
applied to one value. Templates replace `{name}` with a bound variable; nothing is
ever evaluated as Python, and no attribute or index access is possible.
"""

from __future__ import annotations

import calendar
import datetime
import re

VARIABLE = re.compile(r"^\$([a-z][a-z0-9_]*)$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "before": lambda a, b: a < b,
    "on_or_before": lambda a, b: a <= b,
    "after": lambda a, b: a > b,
    "on_or_after": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "contains": lambda a, b: b in a,
    "not_contains": lambda a, b: b not in a,
}
OPERATORS = tuple(COMPARE) + ("exists", "bind")
DATE_FORMS = ("months_from_as_of", "days_from_as_of", "months_before", "months_after", "days_before", "days_after")


def variable(value) -> str | None:
    """The variable name in `$name`, or None."""
    if isinstance(value, str):
        match = VARIABLE.match(value)
        if match:
            return match.group(1)
    return None


def variables_in(operand) -> set[str]:
    """Every variable an operand reads."""
    name = variable(operand)
    if name:
        return {name}
    found = set()
    if isinstance(operand, dict):
        for value in operand.values():
            found |= variables_in(value)
    elif isinstance(operand, list):
        for value in operand:
            found |= variables_in(value)
    return found


def needs_as_of(operand) -> bool:
    """True when the operand's value depends on the evaluation date."""
    if isinstance(operand, dict):
        return any(k.endswith("_as_of") for k in operand) or any(needs_as_of(v) for v in operand.values())
    if isinstance(operand, list):
        return any(needs_as_of(v) for v in operand)
    return False


def add_months(day: datetime.date, months: int) -> datetime.date:
    """*day* moved by *months*, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + int(months)
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Unbound(Exception):
    """An operand used a variable that no condition bound."""


def _evaluation_date(as_of: datetime.date | None, form: str) -> datetime.date:
    if as_of is None:
        raise TypeError(f"{form} needs the evaluation date")
    return as_of


def value(operand, bindings: dict, as_of: datetime.date | None):
    """The value of *operand* given the bound variables and the evaluation date."""
    name = variable(operand)
    if name:
        if name not in bindings:
            raise Unbound(name)
        return bindings[name]
    if isinstance(operand, dict) and len(operand) == 1:
        ((form, arg),) = operand.items()
        if form == "months_from_as_of":
            return add_months(_evaluation_date(as_of, form), _number(value(arg, bindings, as_of)))
        if form == "days_from_as_of":
            return _evaluation_date(as_of, form) + datetime.timedelta(days=_number(value(arg, bindings, as_of)))
        if form in ("months_before", "months_after", "days_before", "days_after"):
            start, amount = (value(a, bindings, as_of) for a in arg)
            start = _as_date(start)
            if start is None or amount is None:
                return None
            amount = _number(amount) * (-1 if form.endswith("before") else 1)
            if form.startswith("months"):
                return add_months(start, amount)
            return start + datetime.timedelta(days=amount)
    if isinstance(operand, list):
        return tuple(value(v, bindings, as_of) for v in operand)
    if isinstance(operand, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", operand):
        return _as_date(operand)
    return operand


def _number(amount):
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise TypeError(f"a number of months or days is needed, not {amount!r}")
    return int(amount)


def _as_date(item):
    if isinstance(item, str):
        try:
            return datetime.date.fromisoformat(item)
        except ValueError:
            return item
    return item


def passes(actual, ops: dict, bindings: dict, as_of) -> bool:
    """Whether *actual* passes every operator in *ops* (a missing value passes only `exists: false`)."""
    for op, operand in ops.items():
        if op == "bind":
            continue
        if op == "exists":
            if (actual is not None) != bool(operand):
                return False
            continue
        if actual is None:
            return False
        expected = value(operand, bindings, as_of)
        if expected is None:
            return False
        try:
            if not COMPARE[op](actual, expected):
                return False
        except TypeError:
            return False
    return True


def fill(template: str, bindings: dict) -> str:
    """Replace each `{name}` with its bound value; other braces stay as written."""

    def replace(match):
        name = match.group(1)
        if name not in bindings:
            return match.group(0)
        return text(bindings[name])

    return PLACEHOLDER.sub(replace, template)


def text(item) -> str:
    """How a bound value reads in a sentence."""
    if isinstance(item, (list, tuple, frozenset)):
        return ", ".join(text(i) for i in item)
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, datetime.date):
        return item.isoformat()
    if item is None:
        return "(none)"
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    return str(item)


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))
