"""Matching and agenda for the engine: a faster Rete matcher, and an agenda that removes what it should.

This module is adapted from experta's `ReteMatcher` and `DepthStrategy` (experta 1.9.4,
Copyright Roberto Abdelkader Martínez Pérez) and, like them, is licensed under the GNU LGPL 3.0
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

from ipexpert._engine.experta import experta  # noqa: F401 - experta must be imported through ipexpert._experta

import bisect  # noqa: E402
from collections.abc import Mapping  # noqa: E402

from ipexpert._vendor.experta.fieldconstraint import ANDFC, FieldConstraint, L, P, W  # noqa: E402
from ipexpert._vendor.experta.matchers.rete import ReteMatcher  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.check import FactCapture, FeatureCheck, TypeCheck  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.nodes import (  # noqa: E402
    BusNode,
    FeatureTesterNode,
    NotNode,
    OrdinaryMatchNode,
    WhereNode,
)
from ipexpert._vendor.experta.matchers.rete.token import Token  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.mixins import ChildNode  # noqa: E402
from ipexpert._vendor.experta.activation import Activation  # noqa: E402
from ipexpert._vendor.experta.strategies import DepthStrategy  # noqa: E402

VALID = Token.TagType.VALID
INVALID = Token.TagType.INVALID
_new = tuple.__new__


def _token(tag, data, context):
    """A Token without Token.__new__'s type assertions (the data are facts already)."""
    return _new(Token, (tag, data, context))


class MatchLimitExceeded(Exception):
    """A rule (or all rules together) holds more partial matches than the evaluation allows."""

    def __init__(self, rule, count, limit, total):
        super().__init__(f"{count} partial matches")
        self.rule = rule  # the experta Rule whose join went over
        self.count = count
        self.limit = limit
        self.total = total  # True when the limit crossed is the one on all rules together


class MatchBudget:
    """The partial matches (join results) held now, per rule and in all; the limits they may reach.

    A rule whose conditions share no variables joins every fact with every other: five
    conditions over 15 facts hold 15**5 partial matches, minutes and gigabytes before any
    rule fires. Counting what each join holds stops that at a set size instead.
    """

    def __init__(self):
        self.total = [0]
        self.per_rule = 10**12
        self.all_rules = 10**12


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


# ---------------------------------------------------------------- which variables a join compares


class _KeyAnalysis:
    """The context keys every token leaving a node carries, to choose what a join hashes on.

    A node's answer is (keys, exact): the keys every token carries, and whether tokens
    carry no other key. A check this module does not know answers (nothing, not exact),
    which makes its joins compare with experta's own check: slower, never wrong.
    """

    def __init__(self, parents):
        self.parents = parents
        self.memo = {}

    def join(self, left, right):
        """(names the join hashes on, whether equal values on them decide the match alone)."""
        left_keys, left_exact = self.keys(left)
        right_keys, right_exact = self.keys(right)
        names = tuple(sorted(k for k in left_keys & right_keys if isinstance(k, str)))
        exact = left_exact and right_exact and all(isinstance(k, str) for k in left_keys | right_keys)
        return names, exact

    def keys(self, node):
        found = self.memo.get(id(node))
        if found is None:
            found = self.memo[id(node)] = self._keys(node)
        return found

    def _keys(self, node):
        if isinstance(node, BusNode):
            return frozenset(), True
        if isinstance(node, (OrdinaryMatchNode, NotNode)):
            sides = self.parents[id(node)]
            left_keys, left_exact = self.keys(sides["left"])
            if isinstance(node, NotNode):
                return left_keys, left_exact
            right_keys, right_exact = self.keys(sides["right"])
            keys = frozenset(k for k in left_keys | right_keys if isinstance(k, str))
            return keys, left_exact and right_exact
        parent = self._parent(node)
        if parent is None:
            return frozenset(), False
        parent_keys, parent_exact = self.keys(parent)
        if isinstance(node, FeatureTesterNode):
            added, exact = _check_keys(node.matcher)
            return parent_keys | added, parent_exact and exact
        if isinstance(node, WhereNode):
            return parent_keys, parent_exact
        return frozenset(), False

    def _parent(self, node):
        return self.parents.get(("one", id(node)))


def _check_keys(check):
    """(keys a passing alpha check adds to the context, whether it adds no others)."""
    if isinstance(check, TypeCheck):
        return frozenset(), True
    if isinstance(check, FactCapture):
        return frozenset([check.bind]), True
    if isinstance(check, FeatureCheck):
        return _constraint_keys(check.how)
    return frozenset(), False


def _constraint_keys(how):
    if not isinstance(how, FieldConstraint):
        how = L(how)
    if isinstance(how, (L, P, W)):
        return (frozenset() if how.__bind__ is None else frozenset([how.__bind__])), True
    if isinstance(how, ANDFC):
        keys, exact = frozenset(), True
        for part in how:
            part_keys, part_exact = _constraint_keys(part)
            keys |= part_keys
            exact = exact and part_exact
        return keys, exact
    return frozenset(), False  # `|` and `~` constraints: keys vary from fact to fact


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


# ---------------------------------------------------------------- joins


class _Bucketed:
    """Entries kept in buckets keyed by the values of a join's variables, in arrival order."""

    __slots__ = ("buckets", "loose", "size")

    def __init__(self):
        self.buckets = {}
        self.loose = []  # entries whose key could not be made (a missing or unhashable value)
        self.size = 0

    def add(self, key, entry):
        self.size += 1
        if key is not _NO_KEY:
            try:
                bucket = self.buckets.get(key)
                if bucket is None:
                    self.buckets[key] = [entry]
                else:
                    bucket.append(entry)
                return
            except TypeError:
                pass
        self.loose.append(entry)

    def discard(self, key, data, context):
        """Remove the first entry for the token (*data*, *context*); False if there was none."""
        places = [self.loose]
        if key is not _NO_KEY:
            try:
                bucket = self.buckets.get(key)
            except TypeError:
                bucket = None
            if bucket is not None:
                places.insert(0, bucket)
        for place in places:
            for index, entry in enumerate(place):
                if entry[0] == data and entry[1] == context:
                    del place[index]
                    self.size -= 1
                    if not place and place is not self.loose:
                        del self.buckets[key]
                    return True
        return False

    def candidates(self, key):
        """The entries that can match a token with *key*: its bucket and the loose ones."""
        if key is _NO_KEY:
            found = [entry for bucket in self.buckets.values() for entry in bucket]
            found.extend(self.loose)
            return found
        try:
            bucket = self.buckets.get(key)
        except TypeError:
            return [entry for bucket in self.buckets.values() for entry in bucket] + self.loose
        if not self.loose:
            return bucket or ()
        return (bucket or []) + self.loose


_NO_KEY = object()


class _JoinBase:
    """What both join kinds share: the key, the memories, linking to the right-hand alpha memory."""

    def __init__(self, node, names, exact, source):
        self.node = node
        self.matcher = node.matcher
        self.names = names
        self.exact = exact
        self.source = source
        self.children = node.children
        self.callbacks = ()
        self.rule = self.cell = self.budget = None
        self.held = 0  # partial matches this join passed on and still holds
        self._reset()

    def link(self):
        self.callbacks = tuple(child.callback for child in self.children)
        if self.cell is None:  # a join no rule reaches: count it on its own
            self.cell, self.budget = [0], MatchBudget()

    def _reset(self):
        self.left = {} if isinstance(self, _Not) else _Bucketed()
        self.right = _Bucketed()
        self.linked = self.source is None
        self.dirty = False
        if self.held:
            self.cell[0] -= self.held
            self.budget.total[0] -= self.held
            self.held = 0

    def touch(self):
        self.dirty = True
        self.touched.append(self)

    def __str__(self):  # pragma: no cover
        return str(self.node)

    def key(self, context):
        names = self.names
        try:
            if len(names) == 1:
                return context[names[0]]
            return tuple(context[name] for name in names)
        except KeyError:
            return _NO_KEY

    def matches(self, left_context, right_context, same_key):
        """experta's SameContextCheck, skipped where the bucket already decided it."""
        if self.exact and same_key:
            try:
                for name in self.names:
                    if left_context[name] != right_context[name]:
                        return False
                return True
            except KeyError:
                pass
        return self.matcher(left_context, right_context)

    def _link(self):
        """Take the right-hand tokens the alpha memory kept, and receive the next ones directly."""
        self.linked = True
        if not self.source.dirty:
            self.source.touch()
        for token in self.source.tokens:
            self._store_right(token)
        self.source.linked.append(self.activate_right)

    def _store_right(self, token):
        context = token[2]
        self.right.add(self.key(context), (token[1], context))


class _Join(_JoinBase):
    """OrdinaryMatchNode with hashed memories: the same tokens, found by lookup."""

    def activate_left(self, token):
        if not self.dirty:
            self.touch()
        if not self.linked:
            self._link()
        context = token[2]
        key = self.key(context)
        if token[0] is VALID:
            self.left.add(key, (token[1], context))
        else:
            self.left.discard(key, token[1], context)
        if self.right.size:
            self._emit(token, key, self.right, incoming_is_left=True)

    def activate_right(self, token):
        if not self.dirty:
            self.touch()
        context = token[2]
        key = self.key(context)
        if token[0] is VALID:
            self.right.add(key, (token[1], context))
        else:
            self.right.discard(key, token[1], context)
        if self.left.size:
            self._emit(token, key, self.left, incoming_is_left=False)

    def _emit(self, token, key, memory, incoming_is_left):
        """Pass on the incoming token joined with each token of the other side's *memory* it matches."""
        context = token[2]
        same_key = key is not _NO_KEY
        tag, data = token[0], token[1]
        base = None
        passed = 0
        for other_data, other_context in memory.candidates(key):
            left, right = (context, other_context) if incoming_is_left else (other_context, context)
            if not self.matches(left, right, same_key):
                continue
            if base is None:
                base = {k: v for k, v in context.items() if isinstance(k, str)}
            new_context = dict(base)
            for k, v in other_context.items():
                if not isinstance(k, tuple):
                    new_context[k] = v
            new_token = _new(Token, (tag, data | other_data, new_context))
            passed += 1
            for callback in self.callbacks:
                callback(new_token)
        if passed:
            self._count(passed if tag is VALID else -passed)

    def _count(self, change):
        """Note *change* partial matches held; over a limit, stop the evaluation (the counts stay for reset)."""
        self.held += change
        cell = self.cell
        cell[0] += change
        budget = self.budget
        total = budget.total
        total[0] += change
        if change > 0 and (cell[0] > budget.per_rule or total[0] > budget.all_rules):
            over_rule = cell[0] > budget.per_rule
            raise MatchLimitExceeded(
                self.rule, cell[0] if over_rule else total[0], budget.per_rule if over_rule else budget.all_rules, not over_rule
            )


class _Not(_JoinBase):
    """NotNode with hashed memories: a left token passes while no right token matches it.

    The left memory maps each key to {(facts, frozen context): [count of matching right tokens, context, facts]}.
    """

    def activate_left(self, token):
        if not self.dirty:
            self.touch()
        if not self.linked:
            self._link()
        context = token[2]
        key = self.key(context)
        info = (token[1], frozenset(context.items()))
        same_key = key is not _NO_KEY
        if token[0] is VALID:
            count = 0
            if self.right.size:
                for _, right_context in self.right.candidates(key):
                    if self.matches(context, right_context, same_key):
                        count += 1
            bucket = self._left_bucket(key)
            bucket[info] = [count, context, token[1]]
            if count == 0:
                for callback in self.callbacks:
                    callback(token)
        else:
            count = 0
            if self.right.size:
                for _, right_context in self.right.candidates(key):
                    if self.matches(context, right_context, same_key):
                        count = 1
                        break
            if count == 0:
                for callback in self.callbacks:
                    callback(token)
            bucket = self._left_bucket(key)
            del bucket[info]

    def _left_bucket(self, key):
        try:
            bucket = self.left.get(key)
            if bucket is None:
                bucket = self.left[key] = {}
        except TypeError:
            bucket = self.left.setdefault(_NO_KEY, {})
        return bucket

    def _left_candidates(self, key):
        left = self.left
        if key is _NO_KEY:
            return [item for bucket in left.values() for item in bucket.items()]
        try:
            bucket = left.get(key)
        except TypeError:
            return [item for bucket in left.values() for item in bucket.items()]
        loose = left.get(_NO_KEY)
        if loose is None:
            return list(bucket.items()) if bucket else ()
        return (list(bucket.items()) if bucket else []) + list(loose.items())

    def activate_right(self, token):
        if not self.dirty:
            self.touch()
        context = token[2]
        key = self.key(context)
        if token[0] is VALID:
            self.right.add(key, (token[1], context))
            step = 1
        else:
            if not self.right.discard(key, token[1], context):
                raise ValueError("list.remove(x): x not in list")
            step = -1
        if not self.left:
            return
        same_key = key is not _NO_KEY
        for _, entry in self._left_candidates(key):
            if not self.matches(entry[1], context, same_key):
                continue
            entry[0] += step
            count = entry[0]
            if step == -1 and count == 0:
                new_token = _new(Token, (VALID, entry[2], entry[1]))
            elif step == 1 and count == 1:
                new_token = _new(Token, (INVALID, entry[2], entry[1]))
            else:
                continue
            for callback in self.callbacks:
                callback(new_token)


class _ConflictSet:
    """ConflictSetNode that notes in *pending* that it received a token, and keeps its changes by token.

    experta keeps the changes in sets of Activation objects, whose hash hashes the whole
    rule each time; here they are kept by (facts, bindings), which identify an
    activation of one rule just as well, and an Activation is built only when it is new.
    """

    def __init__(self, node, index, pending):
        self.node = node
        self.rule = node.rule
        self.index = index
        self.pending = pending
        self.children = node.children
        self._reset()
        self.added = {}
        self.removed = {}

    def _reset(self):
        self.memory = set()
        self.dirty = False

    def touch(self):
        self.dirty = True
        self.touched.append(self)

    def activate(self, token):
        self.pending.add(self.index)
        if not self.dirty:
            self.touch()
        data = token[1]
        info = (data, frozenset(token[2].items()))
        if token[0] is VALID:
            if info in self.memory:
                return
            self.memory.add(info)
        else:
            self.memory.remove(info)
        context = {k: v for k, v in info[1] if isinstance(k, str)}
        identity = info if len(context) == len(token[2]) else (data, frozenset(context.items()))
        if token[0] is VALID:
            if identity in self.removed:
                del self.removed[identity]
            else:
                self.added[identity] = Activation(self.rule, data, context)
        else:
            if identity in self.added:
                del self.added[identity]
            else:
                self.removed[identity] = Activation(self.rule, data, context)

    def get_activations(self):
        """The activations added and removed since the last call."""
        changes = (self.added.values(), self.removed.values())
        self.added = {}
        self.removed = {}
        return changes

    def __str__(self):  # pragma: no cover
        return str(self.node)


class ExactDepthStrategy(DepthStrategy):
    """DepthStrategy whose removal finds the activation among all those with the same key."""

    def get_key(self, activation):
        """DepthStrategy's key (salience, then the newest facts first), without its small shared cache."""
        return (activation.rule.salience, sorted((f["__factid__"] for f in activation.facts), reverse=True))

    def _update_agenda(self, agenda, added, removed):
        # The keys are kept in a list beside the activations, so bisect compares them in C
        # instead of through Activation.__lt__; the engine only ever pops the last activation.
        activations = agenda.activations
        keys = agenda.__dict__.get("ipexpert_keys")
        if keys is None or len(keys) < len(activations):
            keys = agenda.ipexpert_keys = [activation.key for activation in activations]
        elif len(keys) > len(activations):
            del keys[len(activations) :]
        for activation in removed:
            key = activation.key = self.get_key(activation)
            low = bisect.bisect_left(keys, key)
            high = bisect.bisect_right(keys, key, low)
            rule = activation.rule
            for index in range(low, high):
                other = activations[index]
                # Equal rules are one object in a network, so `is` only skips the slow comparison.
                if other.rule is rule and other == activation:
                    del activations[index]
                    del keys[index]
                    break
        for activation in added:
            key = activation.key = self.get_key(activation)
            index = bisect.bisect_right(keys, key)
            keys.insert(index, key)
            activations.insert(index, activation)
