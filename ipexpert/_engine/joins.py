"""The joins of the Rete network and its conflict-set nodes: memories bucketed by the variables both sides bind.

This module is adapted from experta's Rete matcher (experta 1.9.4, Copyright Roberto Abdelkader
Martínez Pérez) and, like it, is licensed under the GNU LGPL 3.0 (`ipexpert/_vendor/experta/COPYING.LESSER`);
the rest of ipexpert is MIT.
"""

from __future__ import annotations

from ipexpert._engine.experta import (
    ANDFC,
    Activation,
    BusNode,
    FactCapture,
    FeatureCheck,
    FeatureTesterNode,
    FieldConstraint,
    L,
    NotNode,
    OrdinaryMatchNode,
    P,
    Token,
    TypeCheck,
    W,
    WhereNode,
)

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
