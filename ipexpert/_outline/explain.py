"""Explanations of one evaluation: how a conclusion was reached, or why a rule did not fire.

How: the chain from the profile's lines through derived facts and the rules that made them.
Why not: the rule's conditions (the typed tree of `_conditions`) are matched again, one by one,
against the run's facts with `Pattern.match`; a missing derived fact leads to the rules that
would derive it, matched in turn with the values it needs;
the deepest partial matches show which condition failed for which facts, and each
candidate change to the profile is tried (the profile is evaluated again with it), so
"would fire if ..." is only said when it is true.
"""

from __future__ import annotations

import copy
import datetime

from ipexpert._engine import groups as _groups
from ipexpert._errors import IPExpertError, Problem
from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import packs as _packs
from ipexpert._outline import assemble as _assemble
from ipexpert._reading import document as _document
from ipexpert._reading import facts as _facts

MAX_GROUPS = 10  # partial matches reported
MAX_TRIES = 12  # profile changes tried
MAX_DEPTH = 3  # derived facts followed back to the rules that would derive them
MAX_MAKERS = 4  # deriving rules explained per missing fact


def explain(outline, run, doc, rules, target: str, evaluate) -> dict:
    """How *target* (a recommendation/risk id or a rule) was concluded in this run, or why it was not, as plain data.

    *evaluate(doc, rules, as_of)* gives (outline, run, doc) for a changed profile: why-not tries changes with it.
    """
    ctx = _Context(outline, run, doc, rules, evaluate)
    item = outline.recommendation(target) or next((r for r in outline.risks if r.id == target), None)
    if item is not None:
        firings = [f for f in run.firings if ctx.concludes(f, item)]
        return ctx.how(target, firings, item)
    rule = _find_rule(rules, target)
    firings = [f for f in run.firings if f.rule is rule]
    if firings and (target in (rule.key, rule.id)):
        return ctx.how(target, firings, None)
    return _WhyNot(ctx, rule).report(target)


def _find_rule(rules, target):
    name = target[len("risk:") :] if target.startswith("risk:") else target
    name = name.split(":", 1)[0]
    try:
        return _packs.find_rule(rules.packs, name)
    except IPExpertError:
        choices = [r.key for r in rules.rules]
        raise IPExpertError(
            Problem(
                "explain",
                None,
                None,
                "$",
                f"{target!r} is neither a recommendation or risk of this outline nor a loaded rule{_suggest(name, choices)}",
            )
        ) from None


def _suggest(word, choices):
    from ipexpert._reading.schemas import suggest

    return suggest(word, choices)


def flow(item) -> str:
    """A value written as YAML flow text: {market: {code: ?market}}."""
    if isinstance(item, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in item.items()) + "}"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in item) + "]"
    if isinstance(item, bool):
        return str(item).lower()
    if item is None:
        return "null"
    if isinstance(item, datetime.date):
        return item.isoformat()
    return str(item)


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class _Context:
    """One evaluation and how to describe its facts."""

    def __init__(self, outline, run, doc, rules, evaluate):
        self.outline, self.run, self.doc, self.rules, self.evaluate = outline, run, doc, rules, evaluate
        self.facts = [(fid, origin) for fid, origin in sorted(run.origins.items())]

    def concludes(self, firing, item) -> bool:
        """Whether *firing* concluded *item*: the same rule, markets, assets and products (and words, where it names none)."""
        if firing.rule.key != item.rule:
            return False
        section = "recommend" if not item.id.startswith("risk:") else "risk"
        spec = firing.rule.data[section]
        bindings = dict(firing.bindings, as_of=self.run.as_of)
        names = [_assemble.names(spec.get(k), bindings, self.run.as_of) for k in ("markets", "assets", "products")]
        return (
            names == [item.markets, item.assets, item.products] and _assemble.words(firing.rule, section, bindings) == item.words
        )

    def where(self, origin) -> dict:
        """Where a fact came from: the profile (path, file, line), a pack's reference data, or a rule."""
        spec = origin.spec
        if origin.firing is not None:
            rule = origin.firing.rule
            return {"derived_by": rule.key, "file": rule.file, "line": rule.line}
        if hasattr(spec, "pack"):
            return {
                "path": f"{spec.pack}:facts[{spec.path[1]}]",
                "file": spec.doc.source,
                "line": spec.doc.position(spec.path)[0],
            }
        if origin.kind == "evaluation":
            return {"path": "--as-of", "file": None, "line": None}
        return {"path": spec.json_path, "file": self.doc.source, "line": self.doc.position(spec.path)[0]}

    def fact(self, origin, names=None, depth=0) -> dict:
        """A fact, with where it came from; a derived fact also with the firing that made it."""
        fields = origin.fields
        shown = {k: _plain(fields.get(k)) for k in (names if names else sorted(fields))}
        out = {"kind": origin.kind, "values": shown, **self.where(origin)}
        firing = origin.firing
        if firing is not None and depth < 8:
            out["because"] = _expressions.fill(firing.rule.data["because"], dict(firing.bindings, as_of=self.run.as_of))
            out["from"] = self.matched(firing, depth + 1)
        return out

    def matched(self, firing, depth=0) -> list:
        """The facts a firing matched: one per positive pattern, then those its groups collected."""
        tree = firing.rule.conditions
        patterns = [node for node in tree if isinstance(node, _conditions.Pattern)]
        grouped = [node.pattern for node in tree if isinstance(node, _conditions.Group)]
        out = []
        for i, fact in enumerate(firing.facts):
            origin = self.run.origin(fact)
            pattern = patterns[i] if i < len(patterns) else next((g for g in grouped if g.kind == origin.kind), None)
            fields = pattern.fields if pattern is not None else {}
            names = None if origin.firing is not None else ([n for n in fields if n != "path"] or None)
            out.append(self.fact(origin, names, depth))
        return out

    def how(self, target, firings, item) -> dict:
        out = {"explain": "how", "target": target, "profile": self.doc.source, "as_of": self.run.as_of.isoformat(), "firings": []}
        if item is not None:
            level = getattr(item, "priority", None) or getattr(item, "severity", None)
            out["conclusion"] = {
                "id": item.id,
                "type": "risk" if item.id.startswith("risk:") else "recommendation",
                "title": item.title,
                "level": level,
            }
        for firing in firings:
            rule = firing.rule
            bindings = dict(firing.bindings, as_of=self.run.as_of)
            absent = [flow(_fill_condition(c["not"], bindings)) for c in rule.data["when"] if "not" in c]
            present = [flow(_fill_condition(c["exists"], bindings)) for c in rule.data["when"] if "exists" in c]
            out["firings"].append(
                {
                    "rule": rule.key,
                    "file": rule.file,
                    "line": rule.line,
                    "bindings": {k: _plain(v) for k, v in sorted(firing.bindings.items())},
                    "because": _expressions.fill(rule.data["because"], bindings),
                    "matched": self.matched(firing),
                    "absent": absent,
                    "present": present,
                }
            )
        return out


def _fill_condition(item, bindings):
    name = _expressions.variable(item)
    if name and name in bindings:
        return _plain(bindings[name])
    if isinstance(item, dict):
        return {k: _fill_condition(v, bindings) for k, v in item.items()}
    if isinstance(item, list):
        return [_fill_condition(v, bindings) for v in item]
    return item


class _WhyNot:
    """Matches one rule's conditions against the run's facts, keeping the deepest failures."""

    def __init__(self, ctx: _Context, rule, depth=0):
        self.ctx, self.rule, self.depth = ctx, rule, depth
        self.failures: list = []  # (depth, bindings, trail)
        self.by_kind: dict = {}
        for _fid, origin in ctx.facts:
            self.by_kind.setdefault(origin.kind, []).append(origin)
        self.fields_by_kind = {kind: [origin.fields for origin in origins] for kind, origins in self.by_kind.items()}

    def facts_of(self, kind) -> list:
        return self.fields_by_kind.get(kind, [])

    # -- matching, mirroring the compiled rule ----------------------------------------------------
    def search(self, conditions, i, bindings, trail, record=True):
        if i == len(conditions):
            yield bindings
            return
        progressed = False
        for new in self.step(conditions[i], bindings):
            if record and not self.consistent(new[0]):
                continue
            progressed = True
            yield from self.search(conditions, i + 1, new[0], trail + [new[1]], record)
        if not progressed and record:
            self.failures.append((i, bindings, trail))

    def consistent(self, bindings) -> bool:
        """Whether *bindings* can still give the asked-for item (its markets, assets and products)."""
        for name in self.subject_vars:
            value = bindings.get(name)
            if isinstance(value, (str, int, float)) and _assemble.id_part(_expressions.text(value)) not in self.subjects:
                return False
        return True

    def step(self, node, bindings):
        as_of = self.ctx.run.as_of
        if isinstance(node, (_conditions.Not, _conditions.Exists)):
            if _conditions.holds(node, self.facts_of, bindings, as_of):
                yield bindings, None
            return
        if isinstance(node, _conditions.Test):
            try:
                ok = _expressions.passes(_expressions.value(node.value, bindings, as_of), node.ops, bindings, as_of)
            except (_expressions.Unbound, TypeError, ValueError, OverflowError):
                ok = False
            if ok:
                yield bindings, None
            return
        if isinstance(node, _conditions.Group):
            facts = [origin.fields for origin in self.by_kind.get(node.pattern.kind, [])]
            found = _groups.evaluate(node, facts, bindings, as_of)
            if found is not None:
                yield dict(bindings, **found[0]), None
            return
        for origin in self.by_kind.get(node.kind, []):
            new, _ = node.match(origin.fields, bindings, as_of)
            if new is not None:
                yield new, origin

    # -- reporting -------------------------------------------------------------------------------
    def report(self, target) -> dict:
        rule, ctx = self.rule, self.ctx
        self.target = target
        plain = target.split("~", 1)[0]  # a digest added to tell apart subjects whose readable ids meet
        parts = plain[len("risk:") :].split(":") if plain.startswith("risk:") else plain.split(":")
        self.subjects = set(parts[1:])
        spec = rule.data.get("risk" if target.startswith("risk:") else "recommend") or {}
        self.subject_vars = sorted(_expressions.variables_in([spec.get(k) for k in ("markets", "assets", "products")]))
        if not self.subjects:
            self.subject_vars = []
        conditions = rule.data["when"]
        complete = list(self.search(rule.conditions, 0, {}, []))
        fired = sorted({i.id for i in ctx.outline.recommendations + ctx.outline.risks if i.rule == rule.key})
        out = {
            "explain": "why-not",
            "target": target,
            "profile": ctx.doc.source,
            "as_of": ctx.run.as_of.isoformat(),
            "rule": rule.key,
            "file": rule.file,
            "line": rule.line,
            "title": rule.data["title"],
            "conditions": [flow(c) for c in conditions],
            "fired_for": fired,
            "failures": [],
            "changes": [],
        }
        if complete and not fired and not any(f.rule is rule for f in ctx.run.firings):
            out["note"] = "every condition holds on the final facts; the rule was blocked while the engine ran"
        deepest = max((d for d, _, _ in self.failures), default=0)
        groups = [(b, t) for d, b, t in self.failures if d == deepest]
        seen = []
        for bindings, trail in groups:
            key = flow({k: _plain(v) for k, v in sorted(bindings.items())})
            if key in seen:
                continue
            seen.append(key)
            if len(seen) > MAX_GROUPS:
                out["more"] = True
                break
            out["failures"].append(self.failure(conditions, deepest, bindings, trail))
        if self.failures:
            out["changes"] = self.changes(out["failures"])
        for candidate in _all_candidates(out["failures"]):
            for key in ("set", "remove"):
                if key in candidate:
                    candidate[key] = _document.json_path(candidate[key])
        return out

    def failure(self, conditions, index, bindings, trail) -> dict:
        condition = conditions[index]
        node = self.rule.conditions[index]
        as_of = self.ctx.run.as_of
        out = {
            "condition": index + 1,
            "text": flow(condition),
            "bindings": {k: _plain(v) for k, v in sorted(bindings.items())},
            "held": [self.ctx.fact(o, _pattern_fields(conditions[j], o)) for j, o in enumerate(trail) if o is not None],
            "reasons": [],
            "candidates": [],
        }
        if "not" in condition:
            inner = condition["not"] if isinstance(condition["not"], list) else [condition["not"]]
            shown = inner[0] if len(inner) == 1 else inner
            out["reasons"].append("blocked: a fact matching " + flow(_fill_condition(shown, bindings)) + " exists")
            for pattern in (child for child in node.children if isinstance(child, _conditions.Pattern)):
                for origin in self.by_kind.get(pattern.kind, []):
                    if pattern.match(origin.fields, bindings, as_of)[0] is not None:
                        out["blocked_by"] = self.ctx.fact(origin)
                        out["candidates"] += [{"remove": path} for path in _removable(origin, self.ctx.run)]
                        break
            return out
        if "exists" in condition:
            out["reasons"].append("no fact matches " + flow(_fill_condition(condition["exists"], bindings)))
            return out
        if "test" in condition:
            out["reasons"].append("the test " + flow(_fill_condition(condition["test"], bindings)) + " is false")
            return out
        if isinstance(node, _conditions.Group):
            out["reasons"].append("no fact matches " + flow(_fill_condition(condition["group"]["match"], bindings)))
            return out
        kind, fields = node.kind, node.fields
        origins = self.by_kind.get(kind, [])
        if not origins:
            makers = [r.key for r in self.ctx.rules.rules if "derive" in r.data and kind in r.data["derive"]]
            text = f"no {kind} fact exists"
            if makers:
                text += f"; it is derived by {', '.join(makers)}, which did not derive one here"
            out["reasons"].append(text)
            if kind == "stage" and not isinstance(fields.get("value"), dict) and fields.get("value") is not None:
                out["candidates"].append({"set": ("firm", "stage"), "value": fields["value"]})
            out["via"] = self.derivations(node, bindings)
            return out
        for origin in origins:
            new, why = node.match(origin.fields, bindings, as_of)
            if why is None:  # it matches, but for other markets, assets or products than those asked about
                continue
            name, needed, actual = why
            fact = self.ctx.fact(origin, [name] if origin.firing is None else None, depth=8)
            fact["field"] = name
            fact["actual"] = _plain(actual)
            fact["needs"] = flow(_fill_condition(needed, bindings)) if isinstance(needed, dict) else flow(needed)
            out["reasons"].append(None)
            out["candidates"].append(fact)
            value = _wanted(needed, actual, bindings, self.ctx.run.as_of)
            path = _profile_path(origin, name)
            if value is not _NONE and path is not None:
                fact["set"], fact["value"] = path, value
        out["reasons"] = [r for r in out["reasons"] if r]
        if not out["candidates"]:
            makers = [r.key for r in self.ctx.rules.rules if "derive" in r.data and kind in r.data["derive"]]
            text = (
                f"no {kind} fact matches for {', '.join(sorted(self.subjects))}" if self.subjects else f"no {kind} fact matches"
            )
            out["reasons"].append(text + (f"; {kind} facts are derived by {', '.join(makers)}" if makers else ""))
            out["via"] = self.derivations(node, bindings)
        return out

    def derivations(self, pattern, bindings) -> list:
        """Why the rules that could derive the missing fact did not: their own failing conditions, in turn.

        Each deriving rule is matched again with the values the missing fact must have
        (its fields, as the pattern and the bindings fix them), so the profile values that
        stop it are named, and their changes are tried like those of the rule asked about.
        """
        if self.depth >= MAX_DEPTH:
            return []
        out = []
        for maker in self.ctx.rules.rules:
            derive = maker.data.get("derive") or {}
            if pattern.kind not in derive:
                continue
            start = _start_bindings(pattern, derive[pattern.kind], bindings)
            if start is None:
                continue  # it derives facts of this kind, but never with the values needed here
            nested = _WhyNot(self.ctx, maker, self.depth + 1)
            nested.target, nested.subjects, nested.subject_vars = self.target, set(), []
            if next(nested.search(maker.conditions, 0, start, []), None) is not None:
                continue  # it would derive the fact from the final facts: blocked while the engine ran
            deepest = max((d for d, _, _ in nested.failures), default=0)
            failures = []
            for _, found, trail in [f for f in nested.failures if f[0] == deepest][:2]:
                failures.append(nested.failure(maker.data["when"], deepest, found, trail))
            out.append(
                {
                    "rule": maker.key,
                    "file": maker.file,
                    "line": maker.line,
                    "bindings": {k: _plain(v) for k, v in sorted(start.items())},
                    "failures": failures,
                }
            )
            if len(out) >= MAX_MAKERS:
                break
        return out

    def changes(self, failures) -> list:
        """The single profile changes that make the rule fire, each verified by evaluating again."""
        tries, found = 0, []  # type: int, list
        for failure in failures:
            for candidate in _all_candidates([failure]):
                if "set" not in candidate and "remove" not in candidate:
                    continue
                if tries >= MAX_TRIES:
                    return found
                tries += 1
                text = _change_text(candidate)
                if text in found:
                    continue
                if self.fires_with(candidate):
                    found.append(text)
                    candidate["would_fire"] = True
        return found

    def fires_with(self, candidate) -> bool:
        doc = self.ctx.doc
        data = copy.deepcopy(doc.data)
        try:
            if "remove" in candidate:
                *parent, last = candidate["remove"]
                del _walk(data, parent)[last]
            else:
                *parent, last = candidate["set"]
                _walk(data, parent, create=True)[last] = candidate["value"]
            changed = _document.Document(data, doc.source, dict(doc.positions), dict(doc.key_positions))
            outline, run, _ = self.ctx.evaluate(changed, self.ctx.rules, self.ctx.run.as_of)
        except (IPExpertError, KeyError, IndexError, TypeError):
            return False
        if ":" in self.target:  # a recommendation or risk id: that very item must appear
            return any(i.id == self.target for i in outline.recommendations + outline.risks)
        return any(f.rule.key == self.rule.key for f in run.firings)


_NONE = object()


def _start_bindings(pattern, template: dict, bindings: dict):
    """The variables of a deriving rule fixed by the fact *pattern* needs, or None if its template cannot give it."""
    start: dict = {}
    for name, spec in pattern.fields.items():
        var = _expressions.variable(spec)
        if var:
            if var not in bindings:
                continue
            needed = bindings[var]
        elif isinstance(spec, dict):
            continue
        else:
            needed = spec
        operand = template.get(name)
        made = _expressions.variable(operand)
        if made:
            if made in start and start[made] != needed:
                return None
            start[made] = needed
        elif operand is not None and not isinstance(operand, (dict, list)) and operand != needed:
            return None
    return start


def _all_candidates(failures):
    """The candidates of *failures*, then those of the deriving rules they lead to."""
    for failure in failures:
        yield from failure["candidates"]
        for via in failure.get("via", []):
            yield from _all_candidates(via["failures"])


def _pattern_fields(condition, origin):
    """The fields a pattern names (to show a profile fact briefly), or None for every field."""
    if origin.firing is not None or len(condition) != 1:
        return None
    ((kind, fields),) = condition.items()
    return [name for name in (fields or {}) if name != "path"] or None


def _removable(origin, run, depth=0):
    """The profile list items whose removal could take away *origin* (itself, or what its derivation matched)."""
    spec = origin.spec
    if origin.firing is None:
        if spec is not None and hasattr(spec, "json_path") and spec.path and isinstance(spec.path[-1], int):
            return [spec.path]
        return []
    out = []
    for fact in origin.firing.facts if depth < 8 else ():
        for path in _removable(run.origin(fact), run, depth + 1):
            if path not in out:
                out.append(path)
    return out


def _walk(data, path, create=False):
    for step in path:
        if create and isinstance(step, str) and step not in data:
            data[step] = {}
        data = data[step]
    return data


def _profile_path(origin, name):
    """The concrete place in the profile of field *name* of a profile fact, or None."""
    spec = origin.spec
    if origin.firing is not None or spec is None or not hasattr(spec, "json_path"):
        return None
    where = _facts.schema_path(origin.kind, name)
    if where is None:
        return None
    indexes = [p for p in spec.path if isinstance(p, int)]
    names = [p for p in spec.path if not isinstance(p, int)]
    out = []
    for step in where:
        if step == "[]":
            if not indexes:
                return None
            out.append(indexes.pop(0))
        else:
            out.append(step)
    last = max((i for i, step in enumerate(where) if step == "[]"), default=-1)
    before = [step for step in where[:last] if step != "[]"]
    if before != names[: len(before)]:
        return None
    return tuple(out)


def _wanted(needed, actual, bindings, as_of):
    """A value for the field that passes *needed* (a literal, a bound value or operators), or _NONE."""
    if not isinstance(needed, dict):
        return _plain(needed)
    for op, operand in needed.items():
        if op == "bind":
            continue
        try:
            value = _expressions.value(operand, bindings, as_of)
        except (_expressions.Unbound, TypeError, ValueError):
            return _NONE
        if op == "eq":
            return _plain(value)
        if op == "in" and isinstance(value, (list, tuple)) and value:
            return _plain(value[0])
        if op in ("le", "ge", "on_or_before", "on_or_after"):
            return _plain(value)
        if op in ("lt", "gt") and isinstance(value, int) and not isinstance(value, bool):
            return value - 1 if op == "lt" else value + 1
        if op in ("before", "after") and isinstance(value, datetime.date):
            return (value + datetime.timedelta(days=-1 if op == "before" else 1)).isoformat()
        if op == "contains" and isinstance(actual, (list, tuple)):
            return list(_plain(actual)) + [_plain(value)]
        if op == "exists" and operand is True and isinstance(actual, type(None)):
            return _NONE
    return _NONE


def _change_text(candidate) -> str:
    if "remove" in candidate:
        return f"would fire without {_document.json_path(candidate['remove'])}"
    return f"would fire if {_document.json_path(candidate['set'])} were {flow(candidate['value'])}"
