"""YAML test cases for rule packs: a profile, a date, and what the outline must (not) contain.

The same cases run from `ipexpert rules test` and under pytest (one test per case).
An expectation matches an outline item when every key it gives matches: `rule` (pack/id
or just id), `id`, `category`, `priority`/`severity`, `kind`, `due`, and `markets`,
`assets`, `products` (each listed value must be among the item's).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from ipexpert import _api
from ipexpert._common import resources as _resources
from ipexpert._errors import InvalidRulePackError, IPExpertError, Problem
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile
from ipexpert._reading import schemas as _schemas


@dataclass
class Case:
    """One test case, with where it was written."""

    name: str
    data: dict
    doc: _document.Document
    path: tuple

    @property
    def file(self) -> str:
        return self.doc.source

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"

    @property
    def line(self):
        return self.doc.position(self.path)[0]


@dataclass
class Result:
    case: Case
    failures: list = field(default_factory=list)
    fired: set = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures

    def report(self) -> list[str]:
        return [f"{self.case.file}:{line}: {message}" if line else message for line, message in self.failures]


def default_dir() -> Path:
    """The bundled test cases: rules/tests/."""
    return _resources.rules_dir() / "tests"


def collect(paths) -> list[Case]:
    """Every case in the YAML files of *paths* (folders are read one level deep)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    cases, problems = [], []
    for path in files:
        raw = _profile.read_file(path, InvalidRulePackError)
        try:
            doc = _document.load(raw, display_name(path))
        except _document.YAMLInputError as exc:
            problems.append(exc.problem)
            continue
        found = (
            _schemas.check(doc, "test-case")
            if isinstance(doc.data, dict)
            else [doc.problem((), "a test-case file is a mapping with a list of cases")]
        )
        if found:
            problems.extend(found)
            continue
        names = set()
        for i, data in enumerate(doc.data["cases"]):
            if data["name"] in names:
                problems.append(doc.problem(("cases", i, "name"), f"case name {data['name']!r} is used twice in this file"))
            names.add(data["name"])
            cases.append(Case(data["name"], data, doc, ("cases", i)))
    if problems:
        raise InvalidRulePackError(problems)
    return cases


def display_name(path: Path) -> str:
    """*path* relative to the working folder when inside it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _profile_of(case: Case):
    profile = case.data["profile"]
    if isinstance(profile, str):
        return _profile.read(Path(case.file).parent / profile, str(Path(case.file).parent / profile))
    return _document.Document(
        profile,
        case.file,
        {
            k[len(case.path) + 1 :]: v
            for k, v in case.doc.positions.items()
            if k[: len(case.path) + 1] == case.path + ("profile",)
        },
    )


def _rules_of(case: Case, rule_base):
    """*rule_base*, or the bundled packs plus the case's own `rules:` (paths relative to its file)."""
    paths = case.data.get("rules")
    if not paths:
        return rule_base
    return _layered(tuple(str(Path(case.file).parent / p) for p in paths))


@functools.lru_cache(maxsize=8)
def _layered(paths):
    return _api.load_rules(*paths)


def run(case: Case, rule_base) -> Result:
    """Evaluate the case's profile and compare the outline with its expectations."""
    result = Result(case)
    try:
        outline = _api.evaluate(_profile_of(case), _rules_of(case, rule_base), case.data.get("as_of"))
    except IPExpertError as exc:
        result.failures.append((case.line, "the profile could not be evaluated: " + "; ".join(p.format() for p in exc.problems)))
        return result
    result.fired = set(outline.fired)
    expect = case.data.get("expect", {})
    absent = case.data.get("absent", {})
    where = case.path
    if "stage" in expect and outline.stage.value != expect["stage"]:
        result.failures.append(
            (
                case.doc.position(where + ("expect", "stage"))[0],
                f"stage: expected {expect['stage']}, got {outline.stage.value} ({outline.stage.because})",
            )
        )
    if "stage_declared" in expect and outline.stage.declared != expect["stage_declared"]:
        result.failures.append(
            (
                case.doc.position(where + ("expect", "stage_declared"))[0],
                f"stage_declared: expected {expect['stage_declared']}, got {outline.stage.declared}",
            )
        )
    for group in ("recommendations", "risks"):
        items = getattr(outline, group)
        for i, wanted in enumerate(expect.get(group, [])):
            if not any(matches(item, wanted) for item in items):
                line = case.doc.position(where + ("expect", group, i))[0]
                result.failures.append((line, f"missing {group[:-1]} {_show(wanted)}; " + _closest(items, wanted)))
        for i, unwanted in enumerate(absent.get(group, [])):
            hits = [item for item in items if matches(item, unwanted)]
            if hits:
                line = case.doc.position(where + ("absent", group, i))[0]
                result.failures.append(
                    (line, f"unexpected {group[:-1]} {_show(unwanted)}: got {', '.join(_summary(h) for h in hits)}")
                )
    return result


def matches(item, wanted: dict) -> bool:
    """Whether outline item *item* has every property *wanted* gives."""
    for key, value in wanted.items():
        if key == "rule":
            if item.rule != value and item.rule.split("/", 1)[1] != value:
                return False
        elif key in ("markets", "assets", "products"):
            if not set(value) <= set(getattr(item, key)):
                return False
        elif getattr(item, key, None) != value:
            return False
    return True


def _show(wanted: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in wanted.items()) + "}"


def _summary(item) -> str:
    level = getattr(item, "priority", None) or getattr(item, "severity", None)
    subjects = "/".join(item.assets + item.products + item.markets)
    return f"{item.rule}[{subjects}] {level}"


def _closest(items, wanted) -> str:
    """What the outline has instead, for a readable expected-vs-actual diff."""
    rule = wanted.get("rule")
    same = [i for i in items if rule and (i.rule == rule or i.rule.endswith("/" + rule))]
    if same:
        return "actual from that rule: " + ", ".join(_summary(i) for i in same)
    if not items:
        return "the outline has none"
    return "actual: " + ", ".join(_summary(i) for i in items[:8]) + (" ..." if len(items) > 8 else "")


__all__ = ["Case", "Problem", "Result", "collect", "default_dir", "matches", "run"]
