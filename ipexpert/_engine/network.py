"""The Rete network's runtime: experta builds the network, `ChangedNodesMatcher` runs it faster.

This module (with joins.py and agenda.py) is adapted from experta's `ReteMatcher` and `DepthStrategy`
(experta 1.9.4, Copyright Roberto Abdelkader Martínez Pérez) and, like them, is licensed under the GNU LGPL 3.0
(`ipexpert/_vendor/experta/COPYING.LESSER`); the rest of ipexpert is MIT.

experta's ReteMatcher builds a good network and runs it slowly: it asks every rule's
conflict-set node for activations after each declared fact and each firing, joins
by scanning lists, copies a token at every node, and offers every fact to every
type test. `ChangedNodesMatcher` lets experta build the network, then runs the same
network faster:

- it asks only the conflict-set nodes that received a token since they were last
  asked, in the network's order;
- a fact goes only to the alpha branches that test its type, and a test copies the
  token only when it adds bindings;
- each join keeps its memories in buckets keyed by the values of the variables both
  sides bind, so a join on `?m` is a dict lookup, not a scan of the other side;
- a join whose left side is still empty is not told about right-side facts at all:
  the alpha branch keeps them and the join reads them when its first left token
  arrives (right unlinking), so a rule whose first condition matched nothing costs
  nothing when later facts arrive;
- reset empties only the memories that received something, and tokens carry
  frozensets of facts, so memories and conflict sets key them without building
  experta's TokenInfo or hashing Activation objects (whose hash hashes the rule).

Every join finds the same partners as experta's SameContextCheck (the bucket only
narrows the candidates; values are compared with `!=` as experta does), and every
conflict-set node ends each change with the same tokens, so the activations, their
order, and therefore the firings are exactly those of ReteMatcher.

experta's DepthStrategy, removing an activation a later fact blocks (a `not`
condition), looks for it only in the first two places holding activations of the
same salience and facts; when more rules than that match the same facts, the
activation stays and the rule fires although its `not` condition fails.
`ExactDepthStrategy` searches every place with that salience and facts, and is
otherwise DepthStrategy: same keys, same order (it bisects a list of the keys kept
beside the agenda, instead of comparing activations through Activation.__lt__).
"""

from __future__ import annotations

from collections.abc import Mapping

from ipexpert._engine.experta import (
    ANDFC,
    ChildNode,
    FactCapture,
    FeatureCheck,
    FeatureTesterNode,
    L,
    NotNode,
    OrdinaryMatchNode,
    P,
    ReteMatcher,
    Token,
    TypeCheck,
    W,
    WhereNode,
)
from ipexpert._engine.joins import (
    INVALID,
    VALID,
    MatchBudget,
    _ConflictSet,
    _Join,
    _JoinBase,
    _KeyAnalysis,
    _new,
    _Not,
    _token,
)


class ChangedNodesMatcher(ReteMatcher):
    """ReteMatcher's network, run with hashed joins, right unlinking, and only the changed rules asked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending = set()
        self._nodes = tuple(_ConflictSet(node, index, self._pending) for index, node in enumerate(self._get_conflict_set_nodes()))
        self.budget = MatchBudget()
        self._rewire({id(terminal.node): terminal for terminal in self._nodes})
        self._routes = {}

    def limit_matches(self, per_rule: int, all_rules: int) -> None:
        """Stop matching (MatchLimitExceeded) when one rule, or all together, hold more partial matches than this."""
        self.budget.per_rule = per_rule
        self.budget.all_rules = all_rules

    def _rewire(self, terminals):
        """Replace experta's joins and conflict-set nodes with faster ones; give every edge a fast callback."""
        nodes = _unique_nodes(self.root_node)
        parents = {}  # id(join) -> {"left": node, "right": node}
        for node in nodes:
            for child in node.children:
                if isinstance(child.node, (OrdinaryMatchNode, NotNode)):
                    side = "left" if child.callback == child.node.activate_left else "right"
                    parents.setdefault(id(child.node), {})[side] = node
                else:
                    parents[("one", id(child.node))] = node
        keys = _KeyAnalysis(parents)
        memories = {}  # id(alpha node) -> _AlphaMemory
        joins = {}  # id(old join) -> new join
        for node in nodes:
            if isinstance(node, (OrdinaryMatchNode, NotNode)):
                left, right = parents[id(node)]["left"], parents[id(node)]["right"]
                names, exact = keys.join(left, right)
                source = None
                if isinstance(right, FeatureTesterNode) and right is not left:
                    source = memories.get(id(right))
                    if source is None:
                        source = memories[id(right)] = _AlphaMemory()
                cls = _Join if isinstance(node, OrdinaryMatchNode) else _Not
                joins[id(node)] = cls(node, names, exact, source)
        callbacks = {}
        for node in nodes:
            if isinstance(node, FeatureTesterNode):
                callbacks[id(node)] = _FeatureTester(node, memories.get(id(node)))
            elif isinstance(node, WhereNode):
                callbacks[id(node)] = _Where(node)

        def edge(child):
            target = child.node
            new = joins.get(id(target))
            if new is not None:
                if child.callback == target.activate_left:
                    return ChildNode(new, new.activate_left)
                return ChildNode(new, new.activate_right)
            if id(target) in callbacks:
                return ChildNode(target, callbacks[id(target)].activate)
            if id(target) in terminals:
                return ChildNode(terminals[id(target)], terminals[id(target)].activate)
            return child

        for node in nodes:
            node.children[:] = [edge(child) for child in node.children]
        self._attribute(joins, parents)
        for holder in list(callbacks.values()) + list(joins.values()):
            holder.link()
        self._touched = []
        for holder in list(joins.values()) + list(memories.values()) + list(self._nodes):
            holder.touched = self._touched

    def _attribute(self, joins, parents):
        """Give each join the rule it serves (the first, where rules share it) and that rule's count of matches."""
        for terminal in self._nodes:
            cell = [0]
            node = parents.get(("one", id(terminal.node)))
            while node is not None:
                join = joins.get(id(node))
                if join is not None:
                    if join.cell is not None:
                        break  # shared with an earlier rule, and so is everything above it
                    join.rule, join.cell, join.budget = terminal.rule, cell, self.budget
                    node = parents[id(node)]["left"]
                else:
                    node = parents.get(("one", id(node)))

    def reset(self):
        """Empty the memories that received something since the last reset.

        experta's reset visits every node, a shared node once per parent. Activations a
        failed run left uncollected are dropped too, so they cannot reach the next run's agenda.
        """
        for node in self._touched:
            node._reset()
        self._touched.clear()
        for index in self._pending:
            self._nodes[index].get_activations()
        self._pending.clear()

    def _route(self, fact_type):
        """The callbacks a fact of *fact_type* goes to, in the root's order.

        A child that tests the fact's type rejects every other type, so it is skipped
        rather than asked; one that accepts it passes the token on unchanged, so the
        fact goes straight to its children. The facts reach the same nodes in the same order.
        """
        route = self._routes.get(fact_type)
        if route is None:
            callbacks = []
            for child in self.root_node.children:
                matcher = getattr(child.node, "matcher", None)
                if not isinstance(matcher, TypeCheck):
                    callbacks.append(child.callback)
                elif matcher.fact_type == fact_type:
                    callbacks.extend(grandchild.callback for grandchild in child.node.children)
            route = self._routes[fact_type] = tuple(callbacks)
        return route

    def changes(self, adding=None, deleting=None):
        """Pass the changes through the network; collect activations from the touched rules."""
        if deleting is not None:
            for fact in deleting:
                token = _token(INVALID, frozenset((fact,)), {})
                for callback in self._route(type(fact)):
                    callback(token)
        if adding is not None:
            for fact in adding:
                token = _token(VALID, frozenset((fact,)), {})
                for callback in self._route(type(fact)):
                    callback(token)
        added = []
        removed = []
        if self._pending:
            nodes = self._nodes
            for index in sorted(self._pending):
                node_added, node_removed = nodes[index].get_activations()
                added.extend(node_added)
                removed.extend(node_removed)
            self._pending.clear()
        return added, removed


def _unique_nodes(root) -> tuple:
    """Every node of the network, each once, parents before children."""
    seen = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(child.node for child in reversed(node.children))
    return tuple(seen.values())


# ---------------------------------------------------------------- alpha nodes


class _AlphaMemory:
    """The tokens that passed an alpha node, kept for the joins not yet linked to it."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self.tokens = []
        self.linked = []  # activate_right of the joins that want every token from now on
        self.dirty = False

    def touch(self):
        self.dirty = True
        self.touched.append(self)

    def remove(self, token):
        for index, kept in enumerate(self.tokens):
            if kept[1] == token[1] and kept[2] == token[2]:
                del self.tokens[index]
                return


class _FeatureTester:
    """FeatureTesterNode.activate that copies the token only when the test adds bindings to it.

    experta copies every token at every node; a test that only passes or fails leaves the
    token as it was, and every node below copies it (or builds a new one) before changing it.
    With an alpha memory, the token is kept there and sent only to the linked joins.
    """

    def __init__(self, node, memory):
        self.node = node
        self.memory = memory
        self.matcher = _fast_check(node.matcher)
        self.children = ()

    def link(self):
        if self.memory is None:
            self.children = tuple(child.callback for child in self.node.children)
        else:
            self.children = tuple(
                child.callback
                for child in self.node.children
                if not (
                    isinstance(child.node, _JoinBase)
                    and child.node.source is self.memory
                    and child.callback == child.node.activate_right
                )
            )

    def activate(self, token):
        match = self.matcher(next(iter(token.data)))
        if not match:
            return
        if match is not True and (type(match) is dict or isinstance(match, Mapping)):
            context = token.context
            for key, value in match.items():
                if isinstance(key, tuple):  # a negated binding
                    if key[1] in context and context[key[1]] == value:
                        return
                else:
                    if context.get(key, value) != value:
                        return
                    if (False, key) in context and context[(False, key)] == value:
                        return
            context = dict(context)
            context.update(match)
            token = _new(Token, (token[0], token[1], context))
        memory = self.memory
        if memory is None:
            for callback in self.children:
                callback(token)
            return
        # Joins linked before this token take it from here; a join that links while the
        # token travels reads it from the memory instead, so each join sees it once.
        linked = tuple(memory.linked)
        if not memory.dirty:
            memory.touch()
        if token[0] is VALID:
            memory.tokens.append(token)
        else:
            memory.remove(token)
        for callback in self.children:
            callback(token)
        for callback in linked:
            callback(token)


def _fast_check(check):
    """The alpha check as a plain function: the same answers as experta's, without its logging."""
    if isinstance(check, TypeCheck):
        fact_type = check.fact_type
        return lambda fact: type(fact) is fact_type
    if isinstance(check, FactCapture):
        bind = check.bind
        return lambda fact: {bind: fact}
    if isinstance(check, FeatureCheck):
        what = check.what
        test = _value_check(check)
        if isinstance(what, str):
            if what.startswith("__") or what.endswith("__"):
                return test
            path = tuple(int(p) if p.isnumeric() else p for p in what.split("__"))
            if len(path) == 1:
                (name,) = path

                def field(fact):
                    try:
                        record = fact[name]
                    except (IndexError, KeyError, TypeError):
                        return False
                    return test(record)

                return field

            def nested(fact):
                record = fact
                try:
                    for part in path:
                        record = record[part]
                except (IndexError, KeyError, TypeError):
                    return False
                return test(record)

            return nested

        def item(fact):
            try:
                record = fact[what]
            except (IndexError, KeyError, TypeError):
                return False
            return test(record)

        return item
    return check


def _value_check(check):
    """FeatureCheck's test of one value (experta's `check(record, expected)`)."""
    how = check.how
    expected = check.expected
    bind = getattr(how, "__bind__", None)
    if type(how) is L:
        value = how.value
        if bind is None:
            return lambda actual: value == actual
        return lambda actual: {bind: actual} if value == actual else False
    if type(how) is P:
        match = how.match
        if bind is None:
            return lambda actual: True if match(actual) else False
        return lambda actual: {bind: actual} if match(actual) else False
    if type(how) is W:
        if bind is None:
            return lambda actual: True
        return lambda actual: {bind: actual}
    if type(how) is ANDFC and all(type(getattr(part, "how", None)) in (L, P, W) for part in expected):
        # `?v & P(present)` and the like: the tests in order, then every binding gets the value.
        tests = []
        for part in expected:
            if type(part.how) is L:
                tests.append(lambda actual, value=part.how.value: value == actual)
            elif type(part.how) is P:
                tests.append(part.how.match)
        tests = tuple(tests)
        names = tuple(part.how.__bind__ for part in expected if part.how.__bind__ is not None)

        def simple_all_of(actual):
            for test in tests:
                if not test(actual):
                    return False
            return {name: actual for name in names} if names else True

        return simple_all_of
    if type(how) is ANDFC:
        parts = tuple(_value_check(part) for part in expected)

        def all_of(actual):
            value = {}
            for part in parts:
                result = part(actual)
                if result is False:
                    return False
                if result is True:
                    continue
                if isinstance(result, Mapping):
                    value.update(result)
                else:
                    raise TypeError("Bad check value.")
            return value if value else True

        return all_of
    check_function = check.check
    return lambda actual: check_function(actual, expected)


class _Where:
    """WhereNode.activate without the token copy (the test only reads the context)."""

    def __init__(self, node):
        self.node = node
        self.test = node.matcher.test
        self.parameters = tuple(node.matcher.parameters)
        self.children = ()

    def link(self):
        self.children = tuple(child.callback for child in self.node.children)

    def activate(self, token):
        context = token[2]
        if self.test(**{k: context.get(k) for k in self.parameters}):
            for callback in self.children:
                callback(token)
