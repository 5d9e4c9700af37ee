"""Matching and agenda for the engine: a faster Rete matcher, and an agenda that removes what it should.

experta's ReteMatcher asks every rule's conflict-set node for new and removed
activations after each declared fact and each firing, so an evaluation costs
rules × (facts + firings) calls even when almost no rule is touched. This matcher
builds the same network, remembers which conflict-set nodes received a token since
they were last asked, and asks only those, in the network's own order. A node that
received no token has nothing to report, so the activations, their order, and
therefore the firings are exactly those of ReteMatcher.

experta's DepthStrategy, removing an activation a later fact blocks (a `not`
condition), looks for it only in the first two places holding activations of the
same salience and facts; when more rules than that match the same facts, the
activation stays and the rule fires although its `not` condition fails.
`ExactDepthStrategy` searches every place with that salience and facts, and is
otherwise DepthStrategy: same keys, same order.
"""

from __future__ import annotations

from ._experta import experta  # noqa: F401 - experta must be imported through ipexpert._experta

import bisect  # noqa: E402
from collections.abc import Mapping  # noqa: E402

from experta.matchers.rete import ReteMatcher  # noqa: E402
from experta.matchers.rete.check import TypeCheck  # noqa: E402
from experta.matchers.rete.mixins import NoMemory  # noqa: E402
from experta.matchers.rete.nodes import FeatureTesterNode  # noqa: E402
from experta.matchers.rete.token import Token  # noqa: E402
from experta.strategies import DepthStrategy  # noqa: E402


class ChangedNodesMatcher(ReteMatcher):
    """ReteMatcher that visits only the conflict-set nodes with pending changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nodes = self._get_conflict_set_nodes()
        self._pending = set()
        for index, node in enumerate(self._nodes):
            _watch(node, index, self._pending)
        self._routes = {}
        nodes = _unique_nodes(self.root_node)
        self._memories = tuple(n for n in nodes if type(n)._reset is not NoMemory._reset)
        for node in nodes:
            node.children[:] = [
                child._replace(callback=_feature_tester(child.node)) if type(child.node) is FeatureTesterNode else child
                for child in node.children
            ]

    def reset(self):
        """Empty every node's memory once (experta's reset visits a shared node once per parent)."""
        for node in self._memories:
            node._reset()

    def _route(self, fact_type):
        """The root's children that can accept a fact of *fact_type*, in the root's order.

        A child that tests the fact's type rejects every other type, so it is skipped
        rather than asked; the facts reach the same nodes in the same order.
        """
        route = self._routes.get(fact_type)
        if route is None:
            route = self._routes[fact_type] = tuple(
                child.callback for child in self.root_node.children
                if not isinstance(getattr(child.node, "matcher", None), TypeCheck) or child.node.matcher.fact_type == fact_type
            )
        return route

    def changes(self, adding=None, deleting=None):
        """Pass the changes through the network; collect activations from the touched rules."""
        if deleting is not None:
            for fact in deleting:
                token = Token.invalid(fact)
                for callback in self._route(type(fact)):
                    callback(token)
        if adding is not None:
            for fact in adding:
                token = Token.valid(fact)
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


def _feature_tester(node):
    """FeatureTesterNode.activate that copies the token only when the test adds bindings to it.

    experta copies every token at every node; a test that only passes or fails leaves the
    token as it was, and every node below copies it before changing it.
    """
    matcher = node.matcher
    children = node.children

    def activate(token):
        match = matcher(next(iter(token.data)))
        if not match:
            return
        if isinstance(match, Mapping):
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
            token = token.copy()
            token.context.update(match)
        for child in children:
            child.callback(token)

    return activate


def _watch(node, index, pending):
    """Make *node* note its index in *pending* whenever a token reaches it."""
    activate = node._activate

    def _activate(token):
        pending.add(index)
        return activate(token)

    node._activate = _activate


class ExactDepthStrategy(DepthStrategy):
    """DepthStrategy whose removal finds the activation among all those with the same key."""

    def get_key(self, activation):
        """DepthStrategy's key (salience, then the newest facts first), without its small shared cache."""
        return (activation.rule.salience, sorted((f["__factid__"] for f in activation.facts), reverse=True))

    def _update_agenda(self, agenda, added, removed):
        activations = agenda.activations
        for activation in removed:
            activation.key = self.get_key(activation)
            low = bisect.bisect_left(activations, activation)
            high = bisect.bisect_right(activations, activation, low)
            rule = activation.rule
            for index in range(low, high):
                other = activations[index]
                # Equal rules are one object in a network, so `is` only skips the slow comparison.
                if other.rule is rule and other == activation:
                    del activations[index]
                    break
        for activation in added:
            activation.key = self.get_key(activation)
            bisect.insort(activations, activation)
