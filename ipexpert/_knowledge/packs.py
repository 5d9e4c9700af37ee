"""Reading rule packs: YAML files checked against the rule-pack schema, then layered.

Packs load in order (the bundled ones first, then each `--rules` folder); a later pack
may `disable` or `override` an earlier pack's rules by `pack/id`. The result is the
effective list of rules, each remembering the file and line it was written at.
"""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ipexpert._common import resources as _resources
from ipexpert._errors import InvalidRulePackError, IPExpertError, Problem
from ipexpert._knowledge import cache as _cache
from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import syntax as _syntax
from ipexpert._reading import codes as _codes
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile
from ipexpert._reading import schemas as _schemas


@dataclass
class RuleSpec:
    """One rule as written, with where it lives and any override applied."""

    pack: str
    data: dict
    doc: _document.Document
    path: tuple
    overridden_by: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.data["id"]

    @functools.cached_property
    def conditions(self) -> tuple:
        """The rule's `when:` as the typed tree of `_conditions` (overrides never change it)."""
        return _conditions.parse(self.data["when"])

    @functools.cached_property
    def code_variables(self) -> frozenset:
        """The variables holding market or jurisdiction codes, so a translated text can name those markets."""
        out: set = set()
        for pattern, _, holder in _conditions.patterns(self.conditions):
            for name, spec in pattern.fields.items():
                if name in _codes.TEXT_CODE_FIELDS:  # `code: $m`, or `code: {in: [...], bind: $m}`
                    out.add(_expressions.variable(spec) or (isinstance(spec, dict) and _expressions.variable(spec.get("bind"))))
            if isinstance(holder, _conditions.Group):
                out |= {new for new, old in holder.collect.items() if old in out}
        return frozenset(out - {None, False})

    @property
    def key(self) -> str:
        return f"{self.pack}/{self.id}"

    @property
    def file(self) -> str:
        return self.doc.source

    @property
    def line(self) -> int | None:
        return self.doc.position(self.path)[0]

    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def __repr__(self) -> str:  # the rule and where it is written, not the whole pack's document
        return f"<RuleSpec {self.key} at {self.location()}: {self.data.get('title', '')!r}>"


@dataclass
class StaticFact:
    """A fact a pack declares in every evaluation (reference data)."""

    kind: str
    fields: dict
    pack: str
    doc: _document.Document
    path: tuple


@dataclass
class Pack:
    """One rule pack file."""

    name: str
    version: str
    title: str
    doc: _document.Document
    rules: list = field(default_factory=list)
    facts: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # Problems that do not stop the pack loading

    @property
    def file(self) -> str:
        return self.doc.source


def pack_files(paths) -> list[Path]:
    """The YAML files in *paths* (folders are read one level deep, sorted by name)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise InvalidRulePackError(Problem(str(path), None, None, "$", "no such file or folder"))
    return files


def read_pack(path: Path) -> tuple[_document.Document | None, list[Problem]]:
    """Parse one pack file and check it against the schema."""
    return parse_pack(_profile.read_file(path, InvalidRulePackError), _display(path))


def parse_pack(raw: bytes, name: str) -> tuple[_document.Document | None, list[Problem]]:
    """Parse one pack's text, named *name* in messages and outlines, and check it against the schema.

    A pack that passed before is read from the cache of checked packs (`_knowledge.cache`).
    """
    cached = _cache.read(raw, name)
    if cached is not None:
        return cached, []
    doc, found = _checked(raw, name)
    if doc is not None and not found:
        _cache.write(raw, doc)
    return doc, found


def _checked(raw: bytes, name: str) -> tuple[_document.Document | None, list[Problem]]:
    try:
        doc = _document.load(raw, name)
    except _document.YAMLInputError as exc:
        return None, [exc.problem]
    if not isinstance(doc.data, dict):
        return doc, [doc.problem((), "a rule pack is a mapping with pack, version and rules")]
    found = _schemas.check(doc, "rule-pack")
    return doc, found or _codes.pack_problems(doc) + _condition_code_problems(doc)


def _condition_code_problems(doc) -> list[Problem]:
    """Codes in the rules' conditions that are not valid codes: every pattern of the condition tree, at its own place."""
    found = []
    for i, rule in enumerate(doc.data.get("rules", []) or []):
        for pattern, _, _ in _conditions.patterns(_conditions.parse(rule["when"])):
            found += _codes.field_problems(doc, ("rules", i) + pattern.path, pattern.fields)
    return found


def _display(path: Path) -> str:
    """A short name for messages and outlines: `<bundled>/...` for a bundled pack wherever the
    command runs (so outlines do not depend on the working folder), else relative to the
    working folder when inside it."""
    for base, prefix in ((_resources.rules_dir(), "<bundled>/rules/"), (Path.cwd(), "")):
        try:
            return prefix + path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return str(path)


def load(paths=(), defaults: bool = True) -> list[Pack]:
    """Every pack from the bundled folder (if *defaults*) and *paths*, overrides applied.

    Raises InvalidRulePackError listing every problem found.
    """
    files = pack_files(([_resources.rules_dir()] if defaults else []) + list(paths))
    return _layered(read_pack(path) for path in files)


def sources(paths=(), defaults: bool = True) -> list[tuple[str, bytes]]:
    """(name, text) of every pack `load` would read, so another process can compile the same rules."""
    files = pack_files(([_resources.rules_dir()] if defaults else []) + list(paths))
    return [(_display(path), _profile.read_file(path, InvalidRulePackError)) for path in files]


def load_sources(texts) -> list[Pack]:
    """The packs from (name, text) pairs made by `sources`, exactly as `load` gives them."""
    return _layered(parse_pack(raw, name) for name, raw in texts)


def _layered(parsed) -> list[Pack]:
    problems = []
    packs = []
    layers = []
    for doc, found in parsed:
        problems.extend(found)
        if found or doc is None:
            continue
        pack = build(doc)
        for problem in pack.warnings:
            warnings.warn(PackWarning(problem), stacklevel=2)
        packs.append(pack)
        layers.append(doc)
    names: dict = {}
    for pack in packs:
        if pack.name in names:
            problems.append(pack.doc.problem(("pack",), f"pack name {pack.name!r} is also used by {names[pack.name]}"))
        names.setdefault(pack.name, pack.file)
        ids: dict = {}
        for rule in pack.rules:
            if rule.id in ids:
                problems.append(
                    rule.doc.problem(
                        rule.path + ("id",),
                        f"rule id {rule.id!r} is used twice in pack {pack.name} (first at line {ids[rule.id]})",
                    )
                )
            ids.setdefault(rule.id, rule.line)
    if not problems:
        problems.extend(apply_layers(packs, layers))
    if problems:
        raise InvalidRulePackError(problems)
    return packs


class PackWarning(UserWarning):
    """A pack loads, but something in it should change (e.g. `?name` variables); `problem` says what and where."""

    def __init__(self, problem: Problem):
        super().__init__(problem.format())
        self.problem = problem


def build(doc: _document.Document) -> Pack:
    """The Pack of one schema-checked pack Document; `?name` variables are read as `$name`, with a warning."""
    data, old = _syntax.modernize(doc.data)
    pack = Pack(data["pack"], data["version"], data.get("title", ""), doc)
    if old:
        pack.warnings.append(_syntax.warning(doc, old))
    pack.rules = [RuleSpec(pack.name, rule, doc, ("rules", i)) for i, rule in enumerate(data.get("rules", []))]
    for i, item in enumerate(data.get("facts", [])):
        ((kind, fields),) = item.items()
        pack.facts.append(StaticFact(kind, dict(fields), pack.name, doc, ("facts", i)))
    return pack


def apply_layers(packs: list[Pack], docs) -> list[Problem]:
    """Apply each pack's `disable` and `overrides` to the rules of the other packs."""
    index = {rule.key: (pack, rule) for pack in packs for rule in pack.rules}
    problems = []
    disabled = set()
    for pack in packs:
        data = pack.doc.data
        for i, key in enumerate(data.get("disable", [])):
            if key not in index:
                problems.append(
                    pack.doc.problem(("disable", i), f"cannot disable {key}: no such rule{_schemas.suggest(key, index)}")
                )
            disabled.add(key)
        for i, override in enumerate(data.get("overrides", [])):
            key = override["rule"]
            if key not in index:
                problems.append(
                    pack.doc.problem(
                        ("overrides", i, "rule"), f"cannot override {key}: no such rule{_schemas.suggest(key, index)}"
                    )
                )
                continue
            _, rule = index[key]
            problems.extend(_override(rule, override, pack, ("overrides", i)))
    for pack in packs:
        pack.rules = [rule for rule in pack.rules if rule.key not in disabled]
    return problems


def _override(rule: RuleSpec, override: dict, pack: Pack, where: tuple) -> list[Problem]:
    data = copy.deepcopy(rule.data)
    problems = []
    for name, new in override.items():
        if name == "rule":
            continue
        if name in ("title", "because", "salience"):
            data[name] = new
        elif name in ("priority", "actions"):
            if "recommend" not in data:
                problems.append(pack.doc.problem(where + (name,), f"{rule.key} makes no recommendation, so it has no {name}"))
                continue
            data["recommend"][name] = new
        elif name == "severity":
            if "risk" not in data:
                problems.append(pack.doc.problem(where + (name,), f"{rule.key} names no risk, so it has no severity"))
                continue
            data["risk"]["severity"] = new
    rule.data = data
    rule.overridden_by.append(f"{pack.file}:{pack.doc.position(where)[0]}")
    return problems


def find_rule(packs, name: str):
    """The rule called `pack/id` (or a bare id, when only one pack has it); IPExpertError if none or several."""
    rules = [rule for pack in packs for rule in pack.rules]
    hits = [r for r in rules if r.key == name] or [r for r in rules if r.id == name]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise IPExpertError(f"{name!r} names several rules: {', '.join(r.key for r in hits)}; write pack/id")
    raise IPExpertError(f"no rule {name!r} is loaded{_schemas.suggest(name, [r.key for r in rules] + [r.id for r in rules])}")
