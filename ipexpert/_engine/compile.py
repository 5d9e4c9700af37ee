"""Rule specs become experta rules (the engine class that holds them is built in `_engine`).

Equality on a literal becomes an experta literal (shared in the Rete alpha network);
operators with constant operands become one predicate per field; operators that read
a variable or the evaluation date become a TEST placed right after the pattern that
binds the value. Each positive pattern is captured (`_f0`, `_f1`, ...) so a firing
knows the facts it matched. The action only records the firing and declares derived
facts; building the outline happens afterwards.
"""

from __future__ import annotations

import inspect
import itertools

from ipexpert._engine.experta import MATCH, NOT, TEST, Fact, P, Rule
from ipexpert._errors import InvalidRulePackError
from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions

AS_OF = "_as_of"


class FactTypes(dict):
    """One experta Fact subclass per fact kind, created on first use."""

    def __missing__(self, kind: str):
        cls = type(f"{kind.title().replace('_', '')}Fact", (Fact,), {"kind": kind})
        self[kind] = cls
        return cls


class _Test:
    """A TEST callable whose signature names exactly the variables it reads (experta passes them by name)."""

    def __init__(self, value_operand, ops: dict, names: set, value_var: str | None = None):
        self.value_operand = value_operand
        self.value_var = value_var
        self.ops = ops
        self.__signature__ = inspect.Signature([inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in sorted(names)])

    def __call__(self, **bindings):
        try:
            if self.value_var is not None:
                actual = bindings[self.value_var]
            else:
                actual = _expressions.value(self.value_operand, bindings, bindings.get(AS_OF))
            return _expressions.passes(actual, self.ops, bindings, bindings.get(AS_OF))
        except (_expressions.Unbound, TypeError, ValueError, OverflowError):
            return False


def _present(value) -> bool:
    return value is not None


def _constant_predicate(ops: dict):
    def predicate(actual):
        try:
            return _expressions.passes(actual, ops, {}, None)
        except (TypeError, ValueError, OverflowError):
            return False

    return predicate


class _Compiler:
    """Compiles the conditions of one rule; collects the variables it binds."""

    def __init__(self, rule, types: FactTypes, predicates: dict):
        self.rule = rule
        self.types = types
        self.predicates = predicates
        self.hidden = itertools.count()
        self.captures: list[str] = []  # names of captured positive patterns, in order
        self.uses_as_of = False
        # Group conditions, computed when the rule fires, each with the variables bound before it
        # (those it may read: a variable a later condition binds is its own).
        self.groups: list = []
        self.deferred: list = []  # tests reading what a group binds, checked when the rule fires
        self.group_vars: set[str] = set()
        self.nested: list = []  # `not`/`exists` conditions checked when the rule fires, likewise

    def fail(self, path, message):
        raise InvalidRulePackError(self.rule.doc.problem(self.rule.path + tuple(path), message))

    def conditions(self, nodes, bound: set, positive=True):
        elements = []
        for node in nodes:
            elements.extend(self.condition(node, bound, positive))
        return elements

    def condition(self, node, bound: set, positive):
        if isinstance(node, _conditions.Group):
            return self.group(node, bound)
        if isinstance(node, (_conditions.Not, _conditions.Exists)):
            outer, self.nested = self.nested, []  # what is nested inside is checked with this condition
            elements = self.conditions(node.children, set(bound), positive=False)
            self.nested = outer
            if isinstance(node, _conditions.Not) and _in_network(node, bound):
                return [NOT(elements[0])]
            self.nested.append((node, frozenset(bound)))
            return []
        if isinstance(node, _conditions.Test):
            test = self.test(node.value, node.ops, bound, node.path + ("test",))
            return test if isinstance(test, list) else [test]
        return self.pattern(node.kind, node.fields, bound, node.path, positive)

    def group(self, node, bound: set):
        """Nothing in the network: the group is computed when the rule fires (its mistakes are `binding_problems`)."""
        if any(_expressions.needs_as_of(spec) for spec in node.pattern.fields.values()):
            self.uses_as_of = True
        self.groups.append((node, frozenset(bound)))
        bound |= node.outputs()
        self.group_vars |= node.outputs()
        return []

    def predicate(self, ops: dict):
        """One predicate function per distinct set of constant operators in the rule base.

        experta shares an alpha node only between tests with the same function, so rules
        that test a field the same way now share the test instead of each running its own.
        The key is the operators' repr, which tells apart 1, 1.0, True, "1" and dates.
        """
        key = repr(ops)
        found = self.predicates.get(key)
        if found is None:
            found = self.predicates[key] = _constant_predicate(ops)
        return found

    def test(self, operand, ops, bound, path, value_var=None):
        names = _expressions.variables_in(operand) | _expressions.variables_in({k: v for k, v in ops.items() if k != "bind"})
        if value_var is not None:
            names.add(value_var)
        if _expressions.needs_as_of(operand) or _expressions.needs_as_of(ops):
            names.add(AS_OF)
            self.uses_as_of = True
        if names & self.group_vars:
            self.deferred.append(_Test(operand, ops, names, value_var))
            return []
        return TEST(_Test(operand, ops, names, value_var))

    def pattern(self, kind, fields, bound, path, positive):
        constraints = {}
        tests = []
        for name, spec in fields.items():
            var = _expressions.variable(spec)
            if var:
                # `field: ?v` means "has a value, call it v": a missing value does not bind.
                constraints[name] = MATCH.__getattr__(var) & P(_present)
                bound.add(var)
                continue
            if not isinstance(spec, dict):
                constraints[name] = spec
                continue
            ops = dict(spec)
            bind = _expressions.variable(ops.pop("bind", None))
            constant = {k: v for k, v in ops.items() if not _expressions.variables_in(v) and not _expressions.needs_as_of(v)}
            dynamic = {k: v for k, v in ops.items() if k not in constant}
            constraint = P(self.predicate(constant)) if constant else None
            if dynamic and not bind:
                bind = f"_v{next(self.hidden)}"
            if bind:
                bound.add(bind)
                capture = MATCH.__getattr__(bind)
                if "exists" not in ops:
                    capture = capture & P(_present)
                constraint = capture & constraint if constraint is not None else capture
            constraints[name] = constraint
            if dynamic:
                tests.append((bind, dynamic, path + (name,)))
        fact = self.types[kind](**constraints)
        if positive:
            capture = f"_f{len(self.captures)}"
            self.captures.append(capture)
            fact = capture << fact
        return [fact] + [self.test(None, ops, bound, where, value_var=var) for var, ops, where in tests]


def compile_rule(rule, types: FactTypes, action, predicates: dict | None = None) -> Rule:
    """The experta Rule for *rule*; *action(rule, captures, context, engine)* runs when it fires.

    *predicates* is shared by the rules of one engine class, so equal constant tests share a function.
    """
    compiler = _Compiler(rule, types, {} if predicates is None else predicates)
    _, problems = _conditions.binding_problems(rule.conditions)
    if problems:
        compiler.fail(*problems[0])
    bound: set = set()
    elements = compiler.conditions(rule.conditions, bound)
    _check_conclusion_variables(rule, bound | {"as_of"}, compiler)
    if compiler.uses_as_of:
        elements.insert(0, types["evaluation"](as_of=MATCH.__getattr__(AS_OF)))
    captures = tuple(compiler.captures)
    late = None
    if compiler.groups or compiler.nested:
        late = (tuple(compiler.nested), tuple(compiler.groups), tuple(compiler.deferred))

    def fire(engine, **context):
        action(rule, captures, context, engine, late)

    return Rule(*elements, salience=rule.data.get("salience", 0))(fire)


def _in_network(node, bound: set) -> bool:
    """Whether experta's network can decide `not` *node* by itself: one pattern of literals, variables and constant operators.

    Its not-node joins the pattern's fact with the rule's earlier matches on the variables
    both bind, which is the meaning of `not`. Anything else under `not` (several patterns,
    tests, operators that read variables or the date, a variable the pattern names twice)
    and every `exists` are checked when the rule fires instead, with `_conditions.holds`;
    the rule's stratum guarantees that every fact they can read is there by then.
    """
    if len(node.children) != 1 or not isinstance(node.children[0], _conditions.Pattern):
        return False
    seen: set = set()
    for spec in node.children[0].fields.values():
        var = _expressions.variable(spec)
        if var:
            if var in seen and var not in bound:
                return False
            seen.add(var)
        elif isinstance(spec, dict) and ("bind" in spec or _expressions.variables_in(spec) or _expressions.needs_as_of(spec)):
            return False
    return True


def _check_conclusion_variables(rule, bound, compiler):
    data = rule.data
    for section in ("derive", "recommend", "risk"):
        if section in data:
            missing = sorted(_expressions.variables_in(data[section]) - bound)
            if missing:
                compiler.fail((section,), f"${missing[0]} is used but no condition binds it")
    for path, text in strings_in(data, ()):
        missing = sorted(_expressions.placeholders(text) - bound)
        if missing and path[0] in ("title", "because", "recommend", "risk"):
            compiler.fail(path, f"{{{missing[0]}}} is used but no condition binds ${missing[0]}")


def strings_in(item, path):
    """Every string inside *item*, with its path."""
    if isinstance(item, str):
        yield path, item
    elif isinstance(item, dict):
        for key, value in item.items():
            yield from strings_in(value, path + (key,))
    elif isinstance(item, list):
        for index, value in enumerate(item):
            yield from strings_in(value, path + (index,))
