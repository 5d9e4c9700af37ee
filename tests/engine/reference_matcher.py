"""What a rule pack means, stated slowly and plainly, to check the engine and explain against.

No Rete, no agenda, no shared code with the engine's matching: every condition is tried
against every fact in nested loops. The rules are run stratum by stratum (a rule waits for
every rule deriving a kind it reads under `not`, `exists` or in a group), each stratum until
it derives nothing new; a rule's firings are then every way its conditions hold on the
final facts, one per combination of facts its positive patterns match.

Only the value operators (`expressions.passes`, `expressions.value`) are borrowed: what `before` or
`months_from_as_of` means is not what is checked here; which facts and bindings go
together is.
"""

from __future__ import annotations

import datetime
from collections import Counter

from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions


def firings(rules, facts, as_of) -> Counter:
    """(rule key, sorted bindings) -> how many times it fires, for *rules* over plain *facts* [(kind, fields)]."""
    known = [(kind, dict(fields)) for kind, fields in facts]
    seen = {_identity(kind, fields) for kind, fields in known}
    levels = strata(rules)
    for level in sorted(set(levels)):
        stratum = [rule for rule, at in zip(rules, levels) if at == level]
        grew = True
        while grew:
            grew = False
            for rule in stratum:
                derive = rule.data.get("derive")
                if not derive:
                    continue
                ((kind, template),) = derive.items()
                for bindings in list(solutions(rule.conditions, known, {}, as_of)):
                    fields = {name: _tuples(_expressions.value(operand, bindings, as_of)) for name, operand in template.items()}
                    if _identity(kind, fields) not in seen:
                        seen.add(_identity(kind, fields))
                        known.append((kind, fields))
                        grew = True
    out: Counter = Counter()
    for rule in rules:
        for bindings in solutions(rule.conditions, known, {}, as_of):
            out[(rule.key, frozen(bindings))] += 1
    return out


def frozen(bindings: dict) -> tuple:
    return tuple(sorted(bindings.items()))


def strata(rules) -> list[int]:
    """Each rule's stratum: at least that of every rule deriving a kind it reads, one more where it waits for them."""
    makers = {}
    for i, rule in enumerate(rules):
        for kind in rule.data.get("derive") or {}:
            makers.setdefault(kind, []).append(i)
    needs = [list(_reads(rule.conditions, waits=False)) for rule in rules]
    level = [0] * len(rules)
    for _ in range(len(rules) + 1):
        changed = False
        for i, reads in enumerate(needs):
            for kind, waits in reads:
                for maker in makers.get(kind, ()):
                    wanted = level[maker] + (1 if waits else 0)
                    if wanted > level[i]:
                        level[i], changed = wanted, True
        if not changed:
            return level
    raise AssertionError("the rules form a cycle through negation")


def _reads(tree, waits):
    for node in tree:
        if isinstance(node, _conditions.Pattern):
            yield node.kind, waits
        elif isinstance(node, _conditions.Group):
            yield node.pattern.kind, True
        elif isinstance(node, (_conditions.Not, _conditions.Exists)):
            yield from _reads(node.children, True)


def solutions(conditions, facts, bindings: dict, as_of):
    """Every extension of *bindings* under which *conditions* hold, once per combination of positive facts."""
    if not conditions:
        yield bindings
        return
    first, rest = conditions[0], conditions[1:]
    for extended in _one(first, facts, bindings, as_of):
        yield from solutions(rest, facts, extended, as_of)


def _one(node, facts, bindings, as_of):
    if isinstance(node, _conditions.Pattern):
        for kind, fields in facts:
            if kind == node.kind:
                extended = match(node, fields, bindings, as_of)
                if extended is not None:
                    yield extended
    elif isinstance(node, _conditions.Not):
        if not any(True for _ in solutions(node.children, facts, bindings, as_of)):
            yield bindings
    elif isinstance(node, _conditions.Exists):
        if any(True for _ in solutions(node.children, facts, bindings, as_of)):
            yield bindings
    elif isinstance(node, _conditions.Test):
        if _passes(lambda: _expressions.value(node.value, bindings, as_of), node.ops, bindings, as_of):
            yield bindings
    elif isinstance(node, _conditions.Group):
        rows = []
        for kind, fields in facts:
            if kind == node.pattern.kind:
                found = match(node.pattern, fields, bindings, as_of)
                if found is not None:
                    rows.append(found)
        if rows:
            yield {**bindings, **_collected(node, rows)}
    else:  # pragma: no cover
        raise AssertionError(f"unknown condition {node!r}")


def match(pattern, fields: dict, bindings: dict, as_of):
    """*bindings* extended by one fact, or None: first every `$v` and `bind:` binds or must agree, then the operators run."""
    new = dict(bindings)
    operators = []
    for name, spec in pattern.fields.items():
        actual = fields.get(name)
        var = _expressions.variable(spec)
        if var is not None:
            spec = {"bind": spec}
        if not isinstance(spec, dict):
            if _tuples(spec) != actual:
                return None
            continue
        ops = {op: operand for op, operand in spec.items() if op != "bind"}
        var = _expressions.variable(spec.get("bind"))
        if var is not None:
            if actual is None and "exists" not in ops:
                return None
            if var in new and new[var] != actual:
                return None
            new[var] = actual
        if ops:
            operators.append((actual, ops))
    for actual, ops in operators:
        if not _passes(lambda actual=actual: actual, ops, new, as_of):
            return None
    return new


def _passes(actual, ops, bindings, as_of) -> bool:
    try:
        return _expressions.passes(actual(), ops, bindings, as_of)
    except (_expressions.Unbound, TypeError, ValueError, OverflowError):
        return False


def _collected(group, rows) -> dict:
    out = {}
    for new, var in group.collect.items():
        out[new] = tuple(sorted({row[var] for row in rows if row.get(var) is not None}, key=_sort_key))
    for new, var in group.least.items():
        present = [row[var] for row in rows if row.get(var) is not None]
        out[new] = min(present, key=_sort_key) if present else None
    for new, var in group.most.items():
        present = [row[var] for row in rows if row.get(var) is not None]
        out[new] = max(present, key=_sort_key) if present else None
    if group.count:
        out[group.count] = len(rows)
    return out


def _sort_key(value):
    if isinstance(value, datetime.date):
        return (0, value.toordinal(), "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def _tuples(value):
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def _identity(kind, fields):
    return kind, tuple(sorted((name, repr(value)) for name, value in fields.items()))
