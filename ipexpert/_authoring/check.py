"""Static checks of rule packs: the mistakes the rule-pack schema cannot see, each with its place.

`rules check` reads every pack (the bundled ones first, then the consultant's), checks
each against the schema, then looks across packs: conditions on fact kinds or fields
that nothing provides, values a field can never hold, variables used but never bound,
rule ids used twice, derived facts nobody uses, rules without a source, and overrides
of rules that do not exist. Each finding is a Problem with file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipexpert._common import resources as _resources
from ipexpert._engine import rulebase as _rulebase
from ipexpert._engine.compile import strings_in as _strings
from ipexpert._errors import InvalidRulePackError, Problem
from ipexpert._knowledge import conclusions as _conclusions
from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import i18n as _i18n
from ipexpert._knowledge import packs as _packs
from ipexpert._reading import facts as _facts
from ipexpert._reading import schemas as _schemas

# The `stage` fact: declared in the profile (firm.stage) or derived by a rule.
BUILTIN_KINDS = {"stage": ("value", "declared")}
# More reference facts of one kind than a group should read (it looks at each, every time it is computed).
WIDE_GROUP = 1_000
# Kinds an evaluation has at most one fact of.
SINGLE_KINDS = frozenset({"firm", "confidentiality", "management", "history", "evaluation", "stage"})


@dataclass
class Catalog:
    """Every fact kind the loaded packs can match, with its fields and (where known) its possible values."""

    fields: dict = field(default_factory=dict)  # kind -> set of field names
    producers: dict = field(default_factory=dict)  # kind -> ["profile"] or [rule keys / pack names]
    values: dict = field(default_factory=dict)  # (kind, field) -> set of literal values, or None (any)
    reference: dict = field(default_factory=dict)  # kind -> how many facts the packs declare

    def add(self, kind, names, producer):
        self.fields.setdefault(kind, set()).update(names)
        self.producers.setdefault(kind, []).append(producer)

    def add_values(self, kind, name, value):
        key = (kind, name)
        if key in self.values and self.values[key] is None:
            return
        if _is_literal(value):
            self.values.setdefault(key, set()).add(_freeze(value))
        else:
            self.values[key] = None


def _is_literal(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v) for v in value)
    return not isinstance(value, dict) and _expressions.variable(value) is None


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def catalog(packs) -> Catalog:
    """The fact kinds and fields the profile, the packs' reference data and the packs' rules provide."""
    cat = Catalog()
    for kind, names in list(_facts.KINDS.items()) + list(BUILTIN_KINDS.items()):
        cat.add(kind, set(names) | {"path"}, "profile")
    for pack in packs:
        for fact in pack.facts:
            cat.add(fact.kind, set(fact.fields) | {"path"}, pack.name)
            cat.reference[fact.kind] = cat.reference.get(fact.kind, 0) + 1
            for name, value in fact.fields.items():
                cat.add_values(fact.kind, name, value)
        for rule in pack.rules:
            derive = rule.data.get("derive")
            if derive:
                ((kind, values),) = derive.items()
                cat.add(kind, set(values) | {"path"}, rule.key)
                for name, value in values.items():
                    cat.add_values(kind, name, value)
    return cat


def patterns(rule):
    """Every fact pattern of *rule* (nested and grouped ones included): (path, kind, fields, negated)."""
    for pattern, negated, _ in _conditions.patterns(rule.conditions):
        yield pattern.path, pattern.kind, pattern.fields, negated


def _variable_strings(item, path):
    """Every `$name` inside *item*: (path, name)."""
    name = _expressions.variable(item)
    if name:
        yield path, name
    elif isinstance(item, dict):
        for key, value in item.items():
            yield from _variable_strings(value, path + (key,))
    elif isinstance(item, list):
        for index, value in enumerate(item):
            yield from _variable_strings(value, path + (index,))


class _RuleChecker:
    """The checks of one rule against the catalog of what the loaded packs provide."""

    def __init__(self, rule, cat: Catalog):
        self.rule = rule
        self.cat = cat
        self.problems: list[Problem] = []

    def problem(self, path, message, key=False, severity="error"):
        self.problems.append(self.rule.doc.problem(self.rule.path + tuple(path), message, key=key, severity=severity))

    def check(self) -> set:
        data = self.rule.data
        bound = self.bindings()
        for path, kind, fields, _ in patterns(self.rule):
            self.check_pattern(path, kind, fields)
        self.check_cross_joins(self.rule.conditions)
        self.check_wide_groups(self.rule.conditions)
        self.check_conclusions(bound | {"as_of"})
        if not data.get("source"):
            self.problem(
                ("id",), f"rule {self.rule.key} has no source: add the paper section or URL it rests on", severity="warning"
            )
        return bound

    def check_cross_joins(self, conditions):
        """Warn about a condition that shares no variable with the rest of its rule, beside another such one.

        Two conditions joined on nothing pair every fact of one with every fact of the other:
        five of them over 15 facts hold 15**5 partial matches. A condition on a kind the
        profile has once (firm, history...), or on reference data declared once, or with a
        literal test (`code: EU`) picks few facts, and is not counted.
        """
        loose = []
        variables = [_conditions.variables(node) for node in conditions]
        for i, node in enumerate(conditions):
            if not isinstance(node, _conditions.Pattern):
                continue
            kind = node.kind
            if self.few(kind, node.fields):
                continue
            rest = set().union(*(v for j, v in enumerate(variables) if j != i))
            if not variables[i] & rest:
                loose.append((i, kind))
        if len(loose) < 2:
            return
        names = ", ".join(f"{i + 1} ({kind})" for i, kind in loose)
        for i, kind in loose:
            self.problem(
                ("when", i, kind),
                f"condition {i + 1} shares no variable with the rest of rule {self.rule.key}: "
                f"conditions {names} join every fact with every other (a cross join); "
                "join them on a variable, or narrow them with a literal test",
                key=True,
                severity="warning",
            )

    def check_wide_groups(self, conditions):
        """Warn about a group over more than WIDE_GROUP reference facts of the packs.

        A group looks at every fact of its kind each time the conditions before it match: a
        group over 3,000 facts after a condition matching 3,000 facts looks at 9,000,000, and
        the evaluation stops at its limit on facts looked at.
        """
        for i, node in enumerate(conditions):
            if not isinstance(node, _conditions.Group):
                continue
            kind = node.pattern.kind
            count = self.cat.reference.get(kind, 0)
            if count > WIDE_GROUP:
                self.problem(
                    ("when", i, "group"),
                    f"the group in condition {i + 1} of rule {self.rule.key} looks at all {count:,} `{kind}` facts "
                    "of the packs each time the conditions before it match; an evaluation stops past its limit "
                    f"on facts looked at: match `{kind}` with a condition joined on a variable, or keep it to "
                    f"{WIDE_GROUP:,} facts or fewer",
                    key=True,
                    severity="warning",
                )

    def single(self, kind) -> bool:
        """Whether an evaluation has at most one fact of *kind*: a profile kind there is one of, or reference data declared once."""
        producers = self.cat.producers.get(kind, [])
        return kind in SINGLE_KINDS or (len(producers) == 1 and producers[0] != "profile" and "/" not in producers[0])

    def few(self, kind, fields) -> bool:
        """Whether a pattern picks few facts: a kind there is one of, or a literal test on a field."""
        producers = self.cat.producers.get(kind, [])
        if kind in SINGLE_KINDS or (len(producers) == 1 and producers[0] != "profile" and "/" not in producers[0]):
            return True
        for spec in fields.values():
            if not isinstance(spec, dict):
                if _expressions.variable(spec) is None:
                    return True
            elif any(op in spec and _is_literal(spec[op]) for op in ("eq", "in")):
                return True
        return False

    def bindings(self) -> set:
        """The variables the conditions bind, reporting each read of a variable no earlier condition binds."""
        bound, problems = _conditions.binding_problems(self.rule.conditions)
        for path, message in problems:
            self.problem(path, message)
        return bound

    def check_pattern(self, path, kind, fields):
        cat = self.cat
        if kind not in cat.fields:
            self.problem(
                path,
                f"nothing produces {kind!r} facts: it is not a profile fact kind, and no loaded "
                f"rule derives it nor pack declares it{_schemas.suggest(kind, cat.fields)}",
                key=True,
            )
            return
        known = cat.fields[kind]
        for name, spec in fields.items():
            if name not in known:
                if cat.producers[kind] == ["profile"]:
                    message = f"{kind} facts have no field {name!r}{_schemas.suggest(name, known - {'path'})}"
                else:
                    message = (
                        f"no pack or rule produces {kind} facts with a field {name!r} "
                        f"(produced fields: {', '.join(sorted(known - {'path'}))}){_schemas.suggest(name, known)}"
                    )
                self.problem(path + (name,), message, key=True)
                continue
            self.check_values(path + (name,), kind, name, spec)

    def check_values(self, path, kind, name, spec):
        """Report a literal the field can never equal (an enum value or type the schema rules out)."""
        allowed, label = possible_values(self.cat, kind, name)
        if allowed is None:
            return
        if not isinstance(spec, dict):
            checks: list[tuple[tuple, str, object]] = [((), "eq", spec)]
        else:
            checks = [((op,), op, operand) for op, operand in spec.items() if op in ("eq", "in", "contains")]
        for where, op, operand in checks:
            if not _is_literal(operand):
                continue
            if op == "in" and isinstance(operand, list):
                items: list[tuple[tuple, object]] = [(where + (i,), v) for i, v in enumerate(operand)]
            else:
                items = [(where, operand)]
            for at, value in items:
                if not _can_be(value, allowed):
                    self.problem(
                        path + at,
                        f"this condition can never be true: {kind}.{name} is never "
                        f"{_show(value)} ({label}){_schemas.suggest(str(value), _names(allowed))}",
                    )

    def check_conclusions(self, bound):
        data = self.rule.data
        for section in ("derive", "recommend", "risk", "source"):
            if section in data:
                for where, name in _variable_strings(data[section], (section,)):
                    if name not in bound:
                        self.problem(where, f"${name} is used but no condition binds it")
        for section in ("title", "because", "recommend", "risk"):
            for where, text in _strings(data.get(section), (section,)):
                for name in sorted(_expressions.placeholders(text) - bound):
                    self.problem(where, f"{{{name}}} is used but no condition binds ${name}")
        for conclusion in _conclusions.conclusions(data):
            fixed = fixed_by(self.rule.conditions, conclusion.subject_variables, self.single)
            for name, where in conclusion.unfixed():
                if name in bound and name not in fixed:
                    self.problem(
                        where,
                        f"the words of this {conclusion.section} use ${name}, but its items are told apart only by "
                        f"{'/'.join(field for field in _conclusions.SUBJECT_FIELDS if data[conclusion.section].get(field))}: "
                        f"firings with another ${name} merge into one item that shows one of them; "
                        f"name ${name} in markets, assets or products, or leave it out of the words",
                        severity="warning",
                    )


# Fields that pick out one fact of a profile kind (the profile's own checks keep market codes,
# asset and product names apart); the kinds in SINGLE_KINDS need none.
KEYS = {
    "market": ("code",),
    "asset": ("name",),
    "product": ("name",),
    "registration": ("asset", "jurisdiction"),
    "sale": ("product", "market"),
    "conflict": ("asset", "market"),
}


def fixed_by(tree, subject, single=SINGLE_KINDS.__contains__) -> set:
    """The variables whose value the *subject* variables fix: those of a fact the subject picks out, and so on.

    A pattern whose key fields (KEYS) are literals or fixed variables matches one fact, so
    every variable it binds is fixed too; a kind there is one of is fixed outright; a derived
    kind or reference data is taken as picked out by any literal or fixed field. A group's values are fixed when
    what it reads from earlier conditions is.
    """
    fixed = set(subject) | {"as_of"}
    bound_outside = set().union(*(node.binds() for node in tree if isinstance(node, _conditions.Pattern)))
    changed = True
    while changed:
        changed = False
        for node in tree:
            if isinstance(node, _conditions.Pattern):
                new = node.binds() - fixed
                picked = single(node.kind) or _picks_one(node, fixed) or _earliest_or_latest(node, tree, fixed)
            elif isinstance(node, _conditions.Group):
                new, picked = node.outputs() - fixed, node.pattern.variables() & bound_outside <= fixed
            else:
                continue
            if new and picked:
                fixed |= new
                changed = True
    return fixed


def _earliest_or_latest(pattern, tree, fixed) -> bool:
    """Whether a `not` leaves *pattern* only the earliest (or latest) of the facts it could match, ties aside.

    `registration: {asset: $brand, filed: {bind: $filed}}` with `not: {registration: {asset: $brand,
    filed: {before: $filed}}}` keeps the brand's first filing: one fact once $brand is fixed.
    """
    order = {"before", "after", "lt", "gt"}
    for node in tree:
        if not (
            isinstance(node, _conditions.Not) and len(node.children) == 1 and isinstance(node.children[0], _conditions.Pattern)
        ):
            continue
        other = node.children[0]
        if other.kind != pattern.kind:
            continue
        for name, spec in other.fields.items():
            ops = set(spec) & order if isinstance(spec, dict) else set()
            own = pattern.fields.get(name)
            own_var = _expressions.variable(own) or (isinstance(own, dict) and _expressions.variable(own.get("bind")))
            if len(ops) != 1 or not own_var or _expressions.variable(spec[ops.pop()]) != own_var:
                continue
            rest = [value for key, value in other.fields.items() if key != name]
            if rest and all(_expressions.variable(value) in fixed for value in rest if _expressions.variable(value)):
                if any(_expressions.variable(value) in fixed for value in rest):
                    return True
    return False


def _picks_one(pattern, fixed) -> bool:
    def pinned(spec):
        var = _expressions.variable(spec)
        return var in fixed if var else not isinstance(spec, dict)

    if pattern.kind in KEYS:
        return all(name in pattern.fields and pinned(pattern.fields[name]) for name in KEYS[pattern.kind])
    return any(pinned(spec) for spec in pattern.fields.values())


def possible_values(cat: Catalog, kind, name):
    """(the set of values *kind.name* can hold, a description) or (None, "") when any value may occur."""
    if cat.producers.get(kind, []) and cat.producers[kind][0] == "profile":
        schema_at = _facts.schema_path(kind, name)
        node = _schemas.field_schema(schema_at) if schema_at else None
        if node is None:
            return None, ""
        if "enum" in node:
            if (kind, name) in cat.values and cat.values[kind, name] is None:
                return None, ""  # a rule derives this kind with a computed value
            allowed = set(node["enum"]) | cat.values.get((kind, name), set())
            return allowed, "one of " + ", ".join(_names(allowed))
        if node.get("type") == "boolean":
            return {True, False}, "true or false"
        return None, ""
    allowed = cat.values.get((kind, name))
    if not allowed:
        return None, ""
    return allowed, "the values produced are " + ", ".join(_names(allowed))


def _can_be(value, allowed) -> bool:
    if isinstance(value, bool) or any(isinstance(a, bool) for a in allowed):
        return any(type(value) is type(a) and value == a for a in allowed)
    return any(value == a or (isinstance(a, tuple) and value in a) for a in allowed)


def _names(values):
    return sorted(_expressions.text(v) if not isinstance(v, bool) else str(v).lower() for v in values)


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else _expressions.text(value)


def default_paths(paths, defaults: bool) -> list:
    """The files `rules check` reads: the bundled packs (unless not *defaults*), then *paths*."""
    return _packs.pack_files(([_resources.rules_dir()] if defaults else []) + list(paths))


def check(paths=(), defaults: bool = True) -> list[Problem]:
    """Every problem (errors and warnings) in the packs at *paths*, checked together with the bundled ones."""
    files = default_paths(paths, defaults)
    problems: list[Problem] = []
    packs = []
    for path in files:
        doc, found = _packs.read_pack(path)
        problems.extend(found)
        if not found and doc is not None:
            pack = _packs.build(doc)
            problems.extend(pack.warnings)
            packs.append(pack)
    order = {str(f.source): i for i, f in enumerate(p.doc for p in packs)}
    problems.extend(_across(packs))
    problems.extend(_i18n.check_translations(packs))
    if not any(p.severity == "error" for p in problems) and packs:
        try:
            _rulebase.RuleBase(packs)
        except InvalidRulePackError as exc:
            problems.extend(exc.problems)
    return sorted(_unique(problems), key=lambda p: (order.get(p.file, -1), p.file, p.line or 0, p.column or 0, p.message))


def _unique(problems):
    seen, out = set(), []
    for problem in problems:
        key = (problem.file, problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _across(packs) -> list[Problem]:
    cat = catalog(packs)
    problems = []
    disabled = {key for pack in packs for key in pack.doc.data.get("disable", [])}
    bound = {}
    consumed = set()
    first_pack: dict = {}
    first_id: dict = {}
    for pack in packs:
        if pack.name in first_pack:
            problems.append(pack.doc.problem(("pack",), f"pack name {pack.name!r} is also used by {first_pack[pack.name]}"))
        first_pack.setdefault(pack.name, pack.file)
        for rule in pack.rules:
            checker = _RuleChecker(rule, cat)
            bound[rule.key] = checker.check()
            problems.extend(checker.problems)
            consumed |= {kind for _, kind, _, _ in patterns(rule)}
            if rule.key in disabled:
                continue
            if rule.id in first_id:
                other = first_id[rule.id]
                where = "in this pack" if other.pack == rule.pack else f"by {other.key}"
                problems.append(
                    rule.doc.problem(
                        rule.path + ("id",),
                        f"rule id {rule.id!r} is already used {where} "
                        f"({other.location()}); give it another id, or override that rule instead",
                    )
                )
                continue
            first_id[rule.id] = rule
    for pack in packs:
        for rule in pack.rules:
            derive = rule.data.get("derive")
            if derive:
                ((kind, _),) = derive.items()
                if kind not in consumed and kind not in _facts.KINDS and kind not in BUILTIN_KINDS:
                    problems.append(
                        rule.doc.problem(
                            rule.path + ("derive", kind),
                            f"no rule has a condition on the {kind!r} facts this rule derives",
                            key=True,
                            severity="warning",
                        )
                    )
    problems.extend(_overrides(packs, bound))
    return problems


def _overrides(packs, bound) -> list[Problem]:
    """Overrides and disables that name no rule, and override texts that use variables the rule never binds."""
    problems = _packs.apply_layers(packs, [p.doc for p in packs])
    for pack in packs:
        for i, override in enumerate(pack.doc.data.get("overrides", [])):
            names = bound.get(override["rule"])
            if names is None:
                continue
            for where, text in _strings({k: v for k, v in override.items() if k in ("title", "because", "actions")}, ()):
                for name in sorted(_expressions.placeholders(text) - names - {"as_of"}):
                    problems.append(
                        pack.doc.problem(("overrides", i) + where, f"{{{name}}} is used but {override['rule']} binds no ?{name}")
                    )
    return problems


def summary(problems, files: int) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return f"{files} file(s) checked: {errors} error(s), {warnings} warning(s)"
