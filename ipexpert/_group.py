"""Group conditions: every match of one pattern, collected into values a rule can conclude over once.

    - group:
        match: {gap: {asset: $brand, market: $market, launch: $launch}}
        collect: {markets: $market}     # $markets: the distinct values of $market, sorted
        count: $n                       # $n: how many facts matched
        min: {first_launch: $launch}    # $first_launch: the earliest $launch (max: the latest)

The pattern may read variables bound by the conditions before the group ($brand) and binds
its own ($market), which are seen only inside the group. The group holds when at least one
fact matches. The rule's stratum comes after every rule deriving the pattern's kind, so when
it fires every such fact is there; the group is computed then, from the engine's facts, and
the `test:` conditions that read its values are checked with it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from . import _expr

MISSING = object()


@dataclass
class Group:
    """One group condition of a compiled rule."""

    kind: str
    fields: dict
    collect: dict  # new variable -> pattern variable
    count: str | None
    least: dict  # new variable -> pattern variable (min)
    most: dict  # new variable -> pattern variable (max)

    def outputs(self) -> set:
        return set(self.collect) | set(self.least) | set(self.most) | ({self.count} if self.count else set())


def parse(spec: dict):
    """A Group from the `group:` mapping (already checked against the schema)."""
    (kind, fields), = spec["match"].items()
    names = lambda m: {key: _expr.variable(value) for key, value in (m or {}).items()}  # noqa: E731
    return Group(kind, fields or {}, names(spec.get("collect")), _expr.variable(spec.get("count")),
                 names(spec.get("min")), names(spec.get("max")))


def match_fields(fields: dict, fact, bindings: dict, as_of):
    """The bindings after matching *fact* against *fields*, or None when it does not match."""
    new = dict(bindings)
    for name, spec in fields.items():
        actual = fact.get(name)
        var = _expr.variable(spec)
        if var:
            if actual is None or (var in new and new[var] != actual):
                return None
            new[var] = actual
        elif isinstance(spec, dict):
            ops = dict(spec)
            bind = _expr.variable(ops.pop("bind", None))
            try:
                if not _expr.passes(actual, ops, new, as_of):
                    return None
            except (_expr.Unbound, TypeError, ValueError, OverflowError):
                return None
            if bind:
                if actual is None and "exists" not in ops:
                    return None
                if bind in new and new[bind] != actual:
                    return None
                new[bind] = actual
        elif actual != spec and not (isinstance(actual, tuple) and isinstance(spec, list) and list(actual) == spec):
            return None
    return new


def evaluate(group: Group, facts, bindings: dict, as_of):
    """(the values the group binds, the facts it matched) or None when nothing matches."""
    matched, rows = [], []
    for fact in facts:
        found = match_fields(group.fields, fact, bindings, as_of)
        if found is not None:
            matched.append(fact)
            rows.append(found)
    if not matched:
        return None
    values = {}
    for new, var in group.collect.items():
        values[new] = tuple(sorted({row[var] for row in rows if row.get(var) is not None}, key=_order))
    for new, var in group.least.items():
        present = [row[var] for row in rows if row.get(var) is not None]
        values[new] = min(present, key=_order) if present else None
    for new, var in group.most.items():
        present = [row[var] for row in rows if row.get(var) is not None]
        values[new] = max(present, key=_order) if present else None
    if group.count:
        values[group.count] = len(matched)
    return values, matched


def _order(value):
    """A sort key that orders dates, numbers and text among themselves and never compares across kinds."""
    if isinstance(value, datetime.date):
        return (0, value.toordinal(), "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, _expr.text(value))
