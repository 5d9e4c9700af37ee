"""The rule base: packs compiled once into an engine class, run on the facts of one profile.

The engine class (experta's KnowledgeEngine with its deffacts found once and a quiet run
loop), the agenda strategy (strata, then salience, then pack order) and the limits on
firings and partial matches live here; `_compile` only turns one rule into an experta Rule.

experta engines are not thread-safe, so each thread keeps its own engine instance
(built on first use, then reused with `reset()`); the compiled class and the packs are
shared and never change, which makes a RuleBase safe to share between threads.
While rules fire, each firing is recorded with the facts it matched and its bindings,
and each derived fact remembers the firing that made it: that is what justifies the
outline.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import threading
from dataclasses import dataclass, field

from ipexpert._engine import compile as _compile
from ipexpert._engine import groups as _groups
from ipexpert._engine.agenda import ExactDepthStrategy
from ipexpert._engine.experta import KnowledgeEngine, experta, frozen_fields, new_fact
from ipexpert._engine.joins import MatchLimitExceeded
from ipexpert._engine.network import ChangedNodesMatcher
from ipexpert._errors import EvaluationError, Problem, ProfileTooLargeError
from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import order as _order
from ipexpert._reading import facts as _facts

FIRING_LIMIT_BASE = 10_000
FIRINGS_PER_FACT = 100
# Partial matches (join results) one rule may hold, and all rules together. The bundled
# packs hold at most a few per fact per rule; a cross join of five conditions over 15 facts
# would hold 759,375.
MATCH_LIMIT_BASE = 50_000
MATCHES_PER_FACT = 100
TOTAL_MATCH_FACTOR = 5


@dataclass
class Firing:
    """One rule firing: the rule, the facts it matched, the variables it bound."""

    rule: object  # RuleSpec
    facts: tuple  # experta facts, in condition order
    bindings: dict
    derived: object = None  # the experta fact it declared, if new


@dataclass
class Origin:
    """Where an engine fact came from: the profile, a pack's reference data, or a firing."""

    kind: str
    fields: dict
    spec: object = None  # FactSpec or StaticFact
    firing: Firing | None = None


@dataclass
class Run:
    """What one evaluation produced."""

    firings: list = field(default_factory=list)
    origins: dict = field(default_factory=dict)  # experta fact id -> Origin
    as_of: object = None

    def origin(self, fact) -> Origin:
        return self.origins[fact["__factid__"]] if "__factid__" in fact else self.origins[fact.__factid__]


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for one evaluation.

    An evaluation allocates many small containers and frees none until it ends; the
    collector would walk them all again and again, and time grew with the square of the
    profile's size. Reference counting still frees everything. A thread that finds the
    collector paused leaves it as it found it.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class PackOrderStrategy(ExactDepthStrategy):
    """experta's depth strategy within a stratum, with ties broken by the rule's place in the packs.

    Every activation of a lower stratum (see `_order`) fires before any of a higher one, so
    a rule reading a kind under `not` sees every fact of that kind that can be derived.
    Within a stratum, experta orders activations by salience and fact recency only; two
    rules with the same salience matching the same facts would otherwise fire in an order
    that depends on object ids, and the outline would not be the same from one process to
    the next.
    """

    def get_key(self, activation):
        salience, facts = super().get_key(activation)
        # experta rebuilds each rule before wiring it and keeps only its function: the order is read there.
        wrapped = activation.rule._wrapped
        return (-getattr(wrapped, "ipexpert_stratum", 0), salience, facts, -getattr(wrapped, "ipexpert_order", 0))


watchers = experta.watchers
DefFacts = experta.DefFacts


class _Engine(KnowledgeEngine):
    """KnowledgeEngine that finds its deffacts once, and builds its log line only when the log is on.

    experta's reset() looks for deffacts with inspect.getmembers, which reads every rule
    of the class each time (12 ms per evaluation at 7,400 rules); the names are now found
    once per class. Its run loop formats every firing's facts for a `FIRE` debug line even
    when nobody listens; the loop is otherwise experta's own.
    """

    def get_deffacts(self):
        cls = type(self)
        names = cls.__dict__.get("_ipexpert_deffacts")
        if names is None:
            names = tuple(name for name, value in inspect.getmembers(self) if isinstance(value, DefFacts))
            cls._ipexpert_deffacts = names
        found = []
        for name in names:
            deffacts = getattr(self, name)
            deffacts.ke = self
            found.append(deffacts)
        return sorted(found, key=lambda d: d.order)

    def run(self, steps=float("inf")):
        self.running = True
        execution = 0
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            execution += 1
            if watchers.worth("RULES", "INFO"):
                watchers.RULES.info(
                    "FIRE %s %s: %s", execution, activation.rule.__name__, ", ".join(str(f) for f in activation.facts)
                )
            activation.rule(self, **{k: v for k, v in activation.context.items() if not k.startswith("__")})
        self.running = False


def engine_class(rules, types: _compile.FactTypes, action, matcher=None) -> type:
    """One KnowledgeEngine subclass holding every rule (the Rete network is built per instance)."""
    namespace = {}
    predicates: dict = {}
    levels = _order.strata(rules)
    for i, rule in enumerate(rules):
        compiled = _compile.compile_rule(rule, types, action, predicates)
        compiled.ipexpert_order = compiled._wrapped.ipexpert_order = i
        compiled.ipexpert_stratum = compiled._wrapped.ipexpert_stratum = levels[i]
        compiled._wrapped.ipexpert_spec = rule
        namespace[f"rule_{i:06d}"] = compiled
    namespace["_ipexpert_types"] = types
    namespace["__strategy__"] = PackOrderStrategy
    namespace["__matcher__"] = matcher if matcher is not None else ChangedNodesMatcher
    return type("IPExpertEngine", (_Engine,), namespace)


class _Runaway(Exception):
    def __init__(self, rule):
        self.rule = rule


class _GroupRunaway(Exception):
    def __init__(self, rule, group, count, limit, total):
        self.rule, self.group, self.count, self.limit, self.total = rule, group, count, limit, total


class RuleBase:
    """Compiled rule packs: immutable, reusable, safe to share between threads."""

    def __init__(self, packs, matcher=None):
        self.packs = tuple(packs)
        self.rules = tuple(rule for pack in self.packs for rule in pack.rules)
        self.static_facts = tuple(fact for pack in self.packs for fact in pack.facts)
        self._by_key: dict = {}
        for rule in self.rules:
            self._by_key.setdefault(rule.key, rule)  # the first, as a search in order finds
        self._static_paths = tuple((fact, f"{fact.pack}:facts[{fact.path[1]}]") for fact in self.static_facts)
        # The packs' facts are the same in every evaluation: their values are frozen once.
        self._static_fields = tuple(
            (static.kind, frozen_fields(dict(static.fields, path=static_path))) for static, static_path in self._static_paths
        )
        self._types = _compile.FactTypes()
        for kind in _facts.KINDS:
            self._types[kind]  # noqa: B018 - create the classes up front, in a fixed order
        self._engine_class = engine_class(self.rules, self._types, _record, matcher)
        self._local = threading.local()
        # Only a rule on a cycle of derivations can fire without end; past the firing limit,
        # any other rule means the profile is too large, not that the rules loop.
        self._looping = frozenset(_order.looping(self.rules))
        # Kinds only the packs' own facts have: a group over one costs the same on every profile.
        self._static_only = frozenset(
            {fact.kind for fact in self.static_facts} - set(_facts.KINDS) - {_order.derived_kind(rule) for rule in self.rules}
        )

    def __repr__(self):
        packs = ", ".join(f"{p.name} {p.version}" for p in self.packs)
        return f"<RuleBase {len(self.rules)} rules: {packs}>"

    def rule(self, key: str):
        """The rule called `pack/id`, or None."""
        return self._by_key.get(key)

    def _engine(self):
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = self._engine_class()
        return engine

    def run(self, specs, as_of) -> Run:
        """Run every rule on the facts *specs* (from `_facts.build`) and return the record."""
        engine = self._engine()
        run = Run(as_of=as_of)
        with collector_paused():
            return self._run(engine, run, specs)

    def _run(self, engine, run, specs) -> Run:
        engine.reset()
        engine._ipexpert_run = run
        facts_count = len(specs) + len(self.static_facts)
        engine._ipexpert_limit = FIRING_LIMIT_BASE + FIRINGS_PER_FACT * facts_count
        per_rule = MATCH_LIMIT_BASE + MATCHES_PER_FACT * facts_count
        limit_matches = getattr(engine.matcher, "limit_matches", None)
        if limit_matches is not None:
            limit_matches(per_rule, TOTAL_MATCH_FACTOR * per_rule)
        # A group looks at every fact of its kind each time the rule's other conditions match:
        # the facts it looks at are bounded like the partial matches a join holds.
        engine._ipexpert_scan_limits = (per_rule, TOTAL_MATCH_FACTOR * per_rule)
        engine._ipexpert_scans = {}
        engine._ipexpert_counts = {}
        engine._ipexpert_total = 0
        engine._ipexpert_facts_of = _FactsByKind(engine)
        types = self._types
        facts = [new_fact(types[spec.kind], dict(spec.fields, path=spec.json_path)) for spec in specs]
        facts += [new_fact(types[kind], fields, frozen=True) for kind, fields in self._static_fields]
        # One declaration for all of them: the facts get the same ids in the same order and
        # the agenda ends with the same activations as declaring them one by one, but the
        # network is asked for its changes once, not once per fact. A fact equal to one
        # declared before it gets no id and no origin, as before.
        try:
            engine.declare(*facts)
            sources = list(specs) + [static for static, _ in self._static_paths]
            for fact, source in zip(facts, sources):
                if fact.__factid__ is not None:
                    run.origins[fact.__factid__] = Origin(source.kind, source.fields, spec=source)
            engine.run()
        except MatchLimitExceeded as exc:
            engine.running = False
            # Free the partial matches now, while the collector is paused, instead of keeping
            # them (and making the collector walk them) until the next evaluation.
            engine.reset()
            raise EvaluationError(_match_problem(exc)) from None
        except _GroupRunaway as exc:
            engine.running = False
            engine.reset()
            if exc.group.pattern.kind not in self._static_only:
                raise _too_large(specs, len(self.static_facts), engine, exc.rule, exc) from None
            raise EvaluationError(_group_problem(exc)) from None
        except _Runaway as exc:
            engine.running = False
            rule = _loop_behind(self, exc.rule, engine, len(facts))
            if rule is None:
                raise _too_large(specs, len(self.static_facts), engine, exc.rule) from None
            if rule is exc.rule:
                fired = f"fired more than {engine._ipexpert_limit:,} times in one evaluation"
            else:
                fired = (
                    f"fired {engine._ipexpert_counts[rule.key]:,} times in one evaluation, driving rule {exc.rule.key} "
                    f"past the limit of {engine._ipexpert_limit:,} firings"
                )
            raise EvaluationError(
                rule.doc.problem(rule.path, f"rule {rule.key} {fired}; it keeps deriving new facts (a loop?)")
            ) from None
        except Exception as exc:  # a rule failing while firing must not leave a half-run engine
            engine.running = False
            raise EvaluationError(Problem("<rules>", None, None, "$", f"rule evaluation failed: {exc}")) from None
        finally:
            engine._ipexpert_run = None
        return run


def _loop_behind(rules, tripped, engine, fact_count: int):
    """The rule on a cycle of derivations that drove the run past its limit, or None when none did.

    The rule that reached the limit may be one that only reads what a loop keeps deriving (a rule
    over markets, under a rule that derives a market from a market): the loop is the rule on a
    cycle that fired more often than there are facts, which no rule does once per fact.
    """
    if tripped.key in rules._looping:
        return tripped
    counts = engine._ipexpert_counts
    busy = [key for key in rules._looping if counts.get(key, 0) > fact_count]
    if not busy:
        return None
    return rules._by_key[max(busy, key=lambda key: (counts[key], key))]


def _too_large(specs, static_count, engine, rule, scans=None) -> ProfileTooLargeError:
    """The one line for a profile whose lists multiply past the firing limit: its largest lists, and the rule that fired most."""
    sizes: dict[str, int] = {}
    for spec in specs:
        if len(spec.path) > 1 and isinstance(spec.path[1], int):  # an item of a top-level list
            sizes[spec.path[0]] = sizes.get(spec.path[0], 0) + 1
    largest = sorted(sizes, key=lambda name: (-sizes[name], name))[:3]
    named = [f"{sizes[name]:,} {name}" for name in largest]
    lists = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else "".join(named) or f"{len(specs):,} facts"
    if scans is None:
        work = f"more than {engine._ipexpert_limit:,} rule firings"
        most = f"rule {rule.key} fired {engine._ipexpert_counts[rule.key]:,} times"
    else:
        work = f"groups that look at more than {scans.limit:,} facts"
        most = f"rule {rule.key}'s group over `{scans.group.pattern.kind}` looked at {scans.count:,}"
    message = (
        f"the profile is too large to evaluate at once: its {lists} need {work}, "
        f"the limit for {len(specs) + static_count:,} facts ({most}); "
        "split it into smaller profiles, for example by market"
    )
    path = (largest[0],) if largest else ()
    return ProfileTooLargeError(Problem("<profile>", None, None, "$." + path[0] if path else "$", message))


def _group_problem(exc) -> Problem:
    """The one line for a group over the packs' own facts that is computed too often: the rule, the group, the cause."""
    rule, group = exc.rule, exc.group
    which = "all groups together looked" if exc.total else "it looked"
    return rule.doc.problem(
        rule.path + group.path,
        f"rule {rule.id} of pack {rule.pack} stopped the evaluation: {which} at more than {exc.limit:,} facts "
        f"(its group reads every `{group.pattern.kind}` fact of the packs each time the conditions before it match; "
        "`rules check` warns where)",
    )


def _match_problem(exc: MatchLimitExceeded) -> Problem:
    """The one line for a runaway join: the pack, the rule, its FILE:LINE, and the likely cause."""
    rule = getattr(getattr(exc.rule, "_wrapped", None), "ipexpert_spec", None)
    if rule is None:  # pragma: no cover - every compiled rule carries its spec
        return Problem("<rules>", None, None, "$", f"more than {exc.limit:,} partial matches in one evaluation")
    which = "all rules together hold" if exc.total else "it holds"
    return rule.doc.problem(
        rule.path,
        f"rule {rule.id} of pack {rule.pack} stopped the evaluation: {which} more than {exc.limit:,} partial matches "
        "(its conditions share too few variables, so every fact is joined with every other; `rules check` warns where)",
    )


def _record(rule, captures, context, engine, late=None):
    """The action of every compiled rule: compute its groups, record the firing, declare what it derives."""
    grouped = ()
    if late is not None:
        found = _match_groups(late, context, engine, rule)
        if found is None:
            return
        context, grouped = found
    counts = engine._ipexpert_counts
    counts[rule.key] = counts.get(rule.key, 0) + 1
    engine._ipexpert_total += 1
    if engine._ipexpert_total > engine._ipexpert_limit:
        raise _Runaway(_most_fired(engine, counts, rule))
    run = engine._ipexpert_run
    bindings = {k: v for k, v in context.items() if not k.startswith("_")}
    facts = tuple(context[name] for name in captures if name in context) + grouped
    firing = Firing(rule, facts, bindings)
    run.firings.append(firing)
    derive = rule.data.get("derive")
    if derive:
        ((kind, template),) = derive.items()
        values = {name: _thaw(_expressions.value(operand, bindings, run.as_of)) for name, operand in template.items()}
        fact = engine.declare(new_fact(engine._ipexpert_types[kind], values))
        engine._ipexpert_facts_of.changed(kind)
        if fact is not None:
            firing.derived = fact
            run.origins[fact.__factid__] = Origin(kind, values, firing=firing)


def _match_groups(late, context, engine, rule):
    """(the context with what the rule's groups bind, the facts they matched), or None when the rule does not hold.

    The `not` and `exists` conditions the network does not decide are checked first, then
    the groups are computed, then the tests that read them. The rule fires only after every
    rule deriving the kinds they read (its stratum), so the engine holds every fact they can match.
    """
    nested, groups, tests = late
    as_of = engine._ipexpert_run.as_of
    bindings = {k: v for k, v in context.items() if not k.startswith("_")}
    facts_of = engine._ipexpert_facts_of
    for node, visible in nested:
        if not _conditions.holds(node, facts_of, _visible(bindings, visible), as_of):
            return None
    matched = []
    for group, visible in groups:
        _count_scans(engine, rule, group, len(facts_of(group.pattern.kind)))
        found = _groups.evaluate(group, facts_of(group.pattern.kind), _visible(bindings, visible), as_of)
        if found is None:
            return None
        values, hits = found
        bindings.update(values)
        matched.extend(hits)
    for test in tests:
        if not test(**dict(bindings, **{_compile.AS_OF: as_of})):
            return None
    return dict(context, **bindings), tuple(matched)


def _count_scans(engine, rule, group, count: int) -> None:
    """Note that *group* looks at *count* facts; past the rule's or all rules' limit, stop the evaluation."""
    scans = engine._ipexpert_scans
    scans[rule.key] = scans.get(rule.key, 0) + count
    scans[None] = scans.get(None, 0) + count
    per_rule, all_rules = engine._ipexpert_scan_limits
    if scans[rule.key] > per_rule:
        raise _GroupRunaway(rule, group, scans[rule.key], per_rule, total=False)
    if scans[None] > all_rules:
        raise _GroupRunaway(rule, group, scans[None], all_rules, total=True)


def _visible(bindings: dict, names: frozenset) -> dict:
    """The bindings a condition may read: those of the conditions before it (a later one's are not its own)."""
    return {name: value for name, value in bindings.items() if name in names}


class _FactsByKind:
    """The engine's facts of one kind, listed once and listed again only after a fact of that kind is declared."""

    def __init__(self, engine):
        self.engine = engine
        self.lists: dict = {}

    def __call__(self, kind):
        found = self.lists.get(kind)
        if found is None:
            cls = self.engine._ipexpert_types[kind]
            found = self.lists[kind] = [fact for fact in self.engine.facts.values() if type(fact) is cls]
        return found

    def changed(self, kind):
        self.lists.pop(kind, None)


def _most_fired(engine, counts, current):
    """The rule that fired most (the likely loop), as a RuleSpec."""
    key = max(sorted(counts), key=lambda k: counts[k])
    for firing in reversed(engine._ipexpert_run.firings):
        if firing.rule.key == key:
            return firing.rule
    return current


def _thaw(value):
    if isinstance(value, (list, tuple)):
        return tuple(_thaw(v) for v in value)
    return value
