"""The one reader of a rule's `when:`: conditions parsed once into a typed tree.

The compiler builds the Rete network from it, `rules check` and `rules show` read their
kinds and variables from it, `_order` its dependencies, and explanations and groups match
facts with `Pattern.match`, so each form of condition has one meaning everywhere.

    Pattern  {market: {code: $m, status: active}}     a fact of a kind, tests on its fields
    Not      {not: ...}                              no fact (or combination) matches
    Exists   {exists: ...}                           at least one does (fires once)
    Test     {test: {value: $launch, before: ...}}   a test on bound values
    Group    {group: {match: ..., collect: ...}}     every match of one pattern, collected
"""

from __future__ import annotations

from dataclasses import dataclass

from ipexpert._knowledge import expressions as _expressions


@dataclass(frozen=True)
class Pattern:
    """A fact of *kind* whose fields pass the tests in *fields* (as written)."""

    kind: str
    fields: dict
    path: tuple  # in the rule, e.g. ("when", 2, "not", "covered")

    def binds(self) -> set:
        """The variables this pattern binds where they are not bound yet (`field: $v`, `bind: $v`)."""
        out = set()
        for spec in self.fields.values():
            var = _expressions.variable(spec) or (isinstance(spec, dict) and _expressions.variable(spec.get("bind")))
            if var:
                out.add(var)
        return out

    def reads(self) -> set:
        """The variables its operators read (they must be bound before it)."""
        out = set()
        for spec in self.fields.values():
            if isinstance(spec, dict):
                out |= _expressions.variables_in({k: v for k, v in spec.items() if k != "bind"})
        return out

    def variables(self) -> set:
        return self.binds() | self.reads()

    def match(self, values, bindings: dict, as_of):
        """(the bindings extended by this fact, None) when *values* match, else (None, (field, needed, actual)).

        The meaning is the compiled rule's: a variable binds a present value or must equal
        the one bound; a literal is equality; a `bind` under operators needs a present value
        unless `exists` is tested. The operators run last, as the compiled tests do, so
        they may read a variable another field of the same pattern binds.
        """
        new = dict(bindings)
        operators = []
        for name, spec in self.fields.items():
            actual = values.get(name)
            var = _expressions.variable(spec)
            if var:
                if actual is None or (var in new and new[var] != actual):
                    return None, (name, new.get(var, spec), actual)
                new[var] = actual
                continue
            if not isinstance(spec, dict):
                if actual != spec and not (isinstance(actual, tuple) and isinstance(spec, list) and list(actual) == spec):
                    return None, (name, spec, actual)
                continue
            ops = dict(spec)
            bind = _expressions.variable(ops.pop("bind", None))
            if bind:
                if (actual is None and "exists" not in ops) or (bind in new and new[bind] != actual):
                    return None, (name, spec, actual)
                new[bind] = actual
            if ops:
                operators.append((name, spec, actual, ops))
        for name, spec, actual, ops in operators:
            if not _passes(actual, ops, new, as_of):
                return None, (name, spec, actual)
        return new, None


def _passes(actual, ops: dict, bindings: dict, as_of) -> bool:
    try:
        return _expressions.passes(actual, ops, bindings, as_of)
    except (_expressions.Unbound, TypeError, ValueError, OverflowError):
        return False


@dataclass(frozen=True)
class Not:
    children: tuple
    path: tuple


@dataclass(frozen=True)
class Exists:
    children: tuple
    path: tuple


@dataclass(frozen=True)
class Test:
    value: object
    ops: dict
    path: tuple

    def reads(self) -> set:
        return _expressions.variables_in(self.value) | _expressions.variables_in(self.ops)


@dataclass(frozen=True)
class Group:
    """Every match of *pattern*, collected: `collect`, `least` (min) and `most` (max) map new variables to pattern ones."""

    pattern: Pattern
    collect: dict
    count: str | None
    least: dict
    most: dict
    path: tuple

    def outputs(self) -> set:
        return set(self.collect) | set(self.least) | set(self.most) | ({self.count} if self.count else set())


def parse(conditions, path=("when",)) -> tuple:
    """The typed tree of a list of conditions (as checked by the rule-pack schema)."""
    return tuple(_parse(condition, path + (i,)) for i, condition in enumerate(conditions))


def _parse(condition, path):
    for word, cls in (("not", Not), ("exists", Exists)):
        if word in condition:
            inner = condition[word]
            if isinstance(inner, list):
                return cls(parse(inner, path + (word,)), path)
            return cls((_one(inner, path + (word,)),), path)
    if "test" in condition:
        ops = dict(condition["test"])
        return Test(ops.pop("value"), ops, path)
    if "group" in condition:
        spec = condition["group"]
        ((kind, fields),) = spec["match"].items()
        names = lambda m: {key: _expressions.variable(value) for key, value in (m or {}).items()}  # noqa: E731
        return Group(
            Pattern(kind, fields or {}, path + ("group", "match", kind)),
            names(spec.get("collect")),
            _expressions.variable(spec.get("count")),
            names(spec.get("min")),
            names(spec.get("max")),
            path,
        )
    ((kind, fields),) = condition.items()
    return Pattern(kind, fields or {}, path + (kind,))


def _one(condition, path):
    """A condition written alone under `not`/`exists` (no list): its path has no index."""
    if "test" in condition or "not" in condition or "exists" in condition or "group" in condition:
        return _parse(condition, path)
    ((kind, fields),) = condition.items()
    return Pattern(kind, fields or {}, path + (kind,))


def patterns(tree, negated=False):
    """Every Pattern in *tree*, nested ones included: (pattern, whether under `not`, the condition holding it)."""
    for node in tree:
        if isinstance(node, Pattern):
            yield node, negated, node
        elif isinstance(node, Group):
            yield node.pattern, negated, node
        elif isinstance(node, (Not, Exists)):
            for pattern, inner_negated, _ in patterns(node.children, negated or isinstance(node, Not)):
                yield pattern, inner_negated, node


def waits(tree) -> list:
    """The patterns whose every fact must be known before the rule can fire: those under `not` or `exists`, or in a group."""
    return [pattern for pattern, negated, holder in patterns(tree) if negated or not isinstance(holder, Pattern)]


def solutions(tree, facts_of, bindings: dict, as_of):
    """Every extension of *bindings* under which the conditions *tree* hold, in nested loops over `facts_of(kind)`.

    One per combination of facts the positive patterns match; `not` and `exists` read the
    variables bound before them and bind nothing outside. This is how the engine decides
    the `not` and `exists` conditions it checks when a rule fires, and how explanations decide them.
    """
    if not tree:
        yield bindings
        return
    node, rest = tree[0], tree[1:]
    if isinstance(node, Pattern):
        for values in facts_of(node.kind):
            extended, _ = node.match(values, bindings, as_of)
            if extended is not None:
                yield from solutions(rest, facts_of, extended, as_of)
    elif isinstance(node, Test):
        try:
            ok = _expressions.passes(_expressions.value(node.value, bindings, as_of), node.ops, bindings, as_of)
        except (_expressions.Unbound, TypeError, ValueError, OverflowError):
            ok = False
        if ok:
            yield from solutions(rest, facts_of, bindings, as_of)
    elif isinstance(node, (Not, Exists)):
        if holds(node, facts_of, bindings, as_of):
            yield from solutions(rest, facts_of, bindings, as_of)
    else:
        raise TypeError(f"a {type(node).__name__} condition is matched by the engine's groups, not here")


def holds(node, facts_of, bindings: dict, as_of) -> bool:
    """Whether the `not` or `exists` condition *node* holds under *bindings*."""
    found = next(solutions(node.children, facts_of, bindings, as_of), None) is not None
    return found == isinstance(node, Exists)


def variables(node) -> set:
    """Every variable a condition names (bound or read)."""
    if isinstance(node, Pattern):
        return node.variables()
    if isinstance(node, Test):
        return node.reads()
    if isinstance(node, Group):
        return node.pattern.variables() | node.outputs()
    return set().union(*(variables(child) for child in node.children)) if node.children else set()


def binding_problems(tree) -> tuple[set, list]:
    """The variables the conditions bind, and (path, message) for every variable read before it is bound.

    The one binding analysis: the compiler refuses a rule with the first problem, and
    `rules check` reports them all. A pattern's own `$v` and `bind:` count before its
    operators run; `not` and `exists` read what is bound before them and bind nothing
    outside; a group's pattern binds for itself, and only `test:` conditions and the
    conclusion may read what the group binds.
    """
    problems: list = []
    bound = _bindings(tree, set(), set(), problems, inside=False)
    return bound, problems


def _bindings(tree, bound: set, grouped: set, problems: list, inside: bool) -> set:
    for node in tree:
        if isinstance(node, Test):
            _reads({"value": node.value, **node.ops}, bound, node.path + ("test",), problems)
            continue
        late = sorted(variables(node) & grouped)
        if late and not isinstance(node, Group):
            problems.append(
                (node.path, f"${late[0]} is bound by a group; only `test:` conditions and the conclusion can read it")
            )
            continue
        if isinstance(node, (Not, Exists)):
            _bindings(node.children, set(bound), grouped, problems, inside=True)
        elif isinstance(node, Group):
            _group_bindings(node, bound, grouped, problems, inside)
        else:
            bound |= node.binds()
            for name, spec in node.fields.items():
                if isinstance(spec, dict):
                    _reads({k: v for k, v in spec.items() if k != "bind"}, bound, node.path + (name,), problems)
    return bound


def _group_bindings(node, bound: set, grouped: set, problems: list, inside: bool):
    path = node.path + ("group",)
    if inside:
        problems.append((path, "a group cannot be inside not or exists"))
        return
    pattern = node.pattern
    late = sorted(pattern.variables() & grouped)
    if late:
        problems.append((pattern.path, f"${late[0]} is bound by another group; a group's pattern cannot read it"))
        return
    local = set(bound) | pattern.binds()
    for name, spec in pattern.fields.items():
        if isinstance(spec, dict):
            _reads({k: v for k, v in spec.items() if k != "bind"}, local, pattern.path + (name,), problems)
    for section, names in (("collect", node.collect), ("min", node.least), ("max", node.most)):
        for new, var in names.items():
            if var is None or var not in local - bound:
                shown = f"${var}" if var else "a value that is no variable"
                problems.append((path + (section, new), f"{section} reads {shown}, which the group's pattern does not bind"))
    for new in sorted(node.outputs() & bound):
        problems.append((path, f"${new} is already bound by an earlier condition"))
    bound |= node.outputs()
    grouped |= node.outputs()


def _reads(item, bound: set, path: tuple, problems: list):
    """A problem for each `$name` in *item* (at its own path) that is not in *bound*."""
    name = _expressions.variable(item)
    if name:
        if name not in bound:
            problems.append((path, f"${name} is read here but no earlier condition binds it"))
    elif isinstance(item, dict):
        for key, value in item.items():
            _reads(value, bound, path + (key,), problems)
    elif isinstance(item, list):
        for i, value in enumerate(item):
            _reads(value, bound, path + (i,), problems)
