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

from ipexpert._knowledge import expressions as _expressions


def evaluate(group, facts, bindings: dict, as_of):
    """(the values `_conditions.Group` *group* binds, the facts it matched) or None when nothing matches."""
    matched, rows = [], []
    for fact in facts:
        found, _ = group.pattern.match(fact, bindings, as_of)
        if found is not None:
            matched.append(fact)
            rows.append(found)
    if not matched:
        return None
    values: dict = {}
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
    return (2, 0, _expressions.text(value))
