"""The firing order computed from the rules: a dependency graph over fact kinds, cut into strata.

A rule that reads a kind under `not` or `exists`, or in a group, must fire only after every
rule that can derive that kind has fired, or its answer would depend on the order rules
happen to fire in. Each rule gets a stratum: at least that of the rules deriving what it
reads, and one more than that of the rules deriving what it waits for. The engine fires every activation of a lower stratum
before any of a higher one; `salience` orders rules only within a stratum. A cycle through
a negation has no such order, and the packs are refused with the rules that form it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipexpert._errors import InvalidRulePackError
from ipexpert._knowledge import conditions as _conditions


@dataclass(frozen=True)
class Read:
    """One fact pattern in a rule's conditions: the kind, whether it is negated or grouped, where it is written."""

    kind: str
    negated: bool  # under `not` or `exists`, or in a group: the rule must wait for every fact of the kind
    path: tuple  # within the rule, e.g. ("when", 0, "not", "covered")

    @property
    def how(self) -> str:
        if "group" in self.path:
            return "in a group"
        return "under `not`" if "not" in self.path else "under `exists`"


def reads(rule):
    """Every fact pattern in *rule*'s conditions, nested ones and groups included."""
    waiting = {id(pattern) for pattern in _conditions.waits(rule.conditions)}
    for pattern, _, _ in _conditions.patterns(rule.conditions):
        yield Read(pattern.kind, id(pattern) in waiting, pattern.path)


def derived_kind(rule) -> str | None:
    derive = rule.data.get("derive")
    return next(iter(derive)) if derive else None


def strata(rules) -> list[int]:
    """The stratum of each rule (0 first); InvalidRulePackError naming the rules of any cycle through `not`."""
    rules = list(rules)
    producers: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        kind = derived_kind(rule)
        if kind:
            producers.setdefault(kind, []).append(i)
    # edges[r] = [(p, strict, read)]: rule r must fire after (strict) or with (not strict) rule p.
    edges: list[list[tuple]] = [[] for _ in rules]
    for r, rule in enumerate(rules):
        for read in reads(rule):
            for p in producers.get(read.kind, ()):
                edges[r].append((p, read.negated, read))
    components = _components(len(rules), [[p for p, _, _ in out] for out in edges])
    component_of = {r: c for c, members in enumerate(components) for r in members}
    problems = []
    for members in components:
        inside = set(members)
        for r in members:
            for p, strict, read in edges[r]:
                if strict and p in inside:
                    problems.append(_cycle_problem(rules, edges, inside, r, p, read))
                    break
            else:
                continue
            break
    if problems:
        raise InvalidRulePackError(problems)
    # Components come out of Tarjan's algorithm dependencies first.
    level = [0] * len(components)
    for c, members in enumerate(components):
        for r in members:
            for p, strict, _ in edges[r]:
                d = component_of[p]
                if d != c:
                    level[c] = max(level[c], level[d] + (1 if strict else 0))
    return [level[component_of[r]] for r in range(len(rules))]


def looping(rules) -> set[str]:
    """Keys of the rules on a cycle of derivations (each reads what another derives): only these can fire without end."""
    rules = list(rules)
    producers: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        kind = derived_kind(rule)
        if kind:
            producers.setdefault(kind, []).append(i)
    successors = [sorted({p for read in reads(rule) for p in producers.get(read.kind, ())}) for rule in rules]
    keys: set[str] = set()
    for members in _components(len(rules), successors):
        if len(members) > 1 or members[0] in successors[members[0]]:
            keys.update(rules[r].key for r in members)
    return keys


def _cycle_problem(rules, edges, inside, start, producer, read):
    """The cycle from *start* (which negates what *producer* derives) back to *start*, as one Problem."""
    # Walk from the producer back to start through the component: producer reads ... derived by start.
    path = _path(edges, inside, producer, start)
    names = [rules[start].key] + [rules[i].key for i in path]
    steps = [f"{rules[start].key} reads `{read.kind}` {read.how}, which {rules[producer].key} derives"]
    for a, b in zip(path, path[1:]):
        kind = derived_kind(rules[b])
        steps.append(f"{rules[a].key} reads `{kind}`, which {rules[b].key} derives")
    unique = list(dict.fromkeys(names))
    rule = rules[start]
    who = (
        f"rule {unique[0]} reads {read.how} the kind it derives"
        if len(unique) == 1
        else f"rules {', '.join(unique)} form a cycle through negation"
    )
    message = (
        f"{who} ({'; '.join(steps)}): no order of firing gives it one meaning; negate a fact that none of these rules derives"
    )
    return rule.doc.problem(rule.path + read.path, message, key=True)


def _path(edges, inside, source, target) -> list[int]:
    """Rules from *source* to *target* following "reads what the next derives" edges, inside one component."""
    previous = {source: None}
    queue = [source]
    for node in queue:
        if node == target:
            break
        for p, _, _ in edges[node]:
            if p in inside and p not in previous:
                previous[p] = node
                queue.append(p)
    if target not in previous:
        return [source]
    out = [target]
    while out[-1] != source:
        out.append(previous[out[-1]])
    return list(reversed(out))


def _components(count, successors) -> list[list[int]]:
    """Tarjan's strongly connected components, each sorted; a component comes after those it points to."""
    index = {}
    low = {}
    stack, on_stack = [], set()
    out = []
    counter = 0
    for root in range(count):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(successors[node])):
                nxt = successors[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                out.append(sorted(members))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
