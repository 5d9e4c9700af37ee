"""Assembling the outline from a run: recommendations, risks, timeline, each justified.

Everything here is sorted by explicit keys, so the same profile, rules and date give
the same outline byte for byte.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field

from ipexpert._common import jsontext as _jsontext
from ipexpert._knowledge import conclusions as _conclusions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import i18n as _i18n

LEVELS = ("critical", "high", "medium", "low")
CATEGORIES = (
    "strategy",
    "trade_secret",
    "trademark",
    "patent",
    "design",
    "copyright",
    "freedom_to_operate",
    "enforcement",
    "management_system",
    "organization",
)


@dataclass(frozen=True)
class Source:
    ref: str
    url: str | None = None

    def to_dict(self):
        return {"ref": self.ref, "url": self.url}


@dataclass
class Justification:
    because: str
    facts: list  # [{"kind", "path", "file", "line"}]
    chain: list  # [{"fact", "values", "rule", "because"}]
    sources: list  # [Source]

    def to_dict(self):
        return {
            "because": self.because,
            "facts": self.facts,
            "chain": self.chain,
            "sources": [s.to_dict() for s in self.sources],
        }


@dataclass
class Recommendation:
    id: str
    rule: str
    category: str
    priority: str
    title: str
    actions: list
    markets: list
    assets: list
    products: list
    due: str | None
    justification: Justification
    words: tuple = field(default=(), compare=False, repr=False)  # see `words`: not shown, tells firings apart

    def to_dict(self):
        return {
            "id": self.id,
            "rule": self.rule,
            "category": self.category,
            "priority": self.priority,
            "title": self.title,
            "actions": self.actions,
            "markets": self.markets,
            "assets": self.assets,
            "products": self.products,
            "due": self.due,
            "justification": self.justification.to_dict(),
        }


@dataclass
class Risk:
    id: str
    rule: str
    kind: str
    severity: str
    title: str
    markets: list
    assets: list
    products: list
    because: str
    justification: Justification
    words: tuple = field(default=(), compare=False, repr=False)  # see `words`: not shown, tells firings apart

    def to_dict(self):
        return {
            "id": self.id,
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "markets": self.markets,
            "assets": self.assets,
            "products": self.products,
            "because": self.because,
            "justification": self.justification.to_dict(),
        }


@dataclass
class TimelineEntry:
    date: str
    action: str
    recommendation: str

    def to_dict(self):
        return {"date": self.date, "action": self.action, "recommendation": self.recommendation}


@dataclass
class Stage:
    value: str | None
    declared: bool
    because: str
    rule: str | None = None  # pack/id of the rule that inferred it, for whoever checks the outline

    def to_dict(self):
        return {"value": self.value, "declared": self.declared, "because": self.because, "rule": self.rule}


@dataclass
class Outline:
    """A justified IP-protection strategy outline for one firm."""

    ipexpert_version: str
    as_of: str
    firm: dict
    stage: Stage
    rule_packs: list
    recommendations: list = field(default_factory=list)
    risks: list = field(default_factory=list)
    timeline: list = field(default_factory=list)
    source: str = ""
    language: str = "en"
    untranslated: list = field(default_factory=list)  # rules shown in English for want of a translation
    fired: tuple = ()  # every rule (pack/id) that fired, derivations included; not part of the JSON

    def to_dict(self) -> dict:
        """The JSON contract (schemas/outline.schema.json) as plain data."""
        return {
            "ipexpert_version": self.ipexpert_version,
            "as_of": self.as_of,
            "language": self.language,
            "untranslated": self.untranslated,
            "firm": self.firm,
            "stage": self.stage.to_dict(),
            "rule_packs": self.rule_packs,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "risks": [r.to_dict() for r in self.risks],
            "timeline": [t.to_dict() for t in self.timeline],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The outline as JSON text, byte-identical for identical inputs."""
        if indent is None:
            return json.dumps(self.to_dict(), ensure_ascii=False) + "\n"
        return _jsontext.dumps(self.to_dict(), indent) + "\n"

    def recommendation(self, rec_id: str):
        return next((r for r in self.recommendations if r.id == rec_id), None)


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _plain(values: dict) -> dict:
    out = {}
    for key in sorted(values):
        value = values[key]
        if isinstance(value, tuple):
            value = [_iso(v) for v in value]
        out[key] = _iso(value)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)*")


def _digest(text: str) -> str:
    """Eight hex digits of SHA-256: the same in every process and Python version (unlike hash())."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def id_part(text: str) -> str:
    """A subject's name in an id: its slug when the name is ASCII words, else the slug plus a digest of the name.

    `Tri-spinner` stays `tri-spinner`; `A.C.M.E` becomes `a-c-m-e-` and a digest, so it
    never meets `A-C-M-E`; names with no ASCII letter or digit (旋转, 品牌) are their digest.
    """
    slug = _slug(text)
    if _PLAIN_NAME.fullmatch(text):
        return slug
    return f"{slug}-{_digest(text)}" if slug else _digest(text)


def _fact_order(fact: dict) -> tuple:
    """The profile's facts first, in the order of its lines; then the rule packs' reference data."""
    return (not fact["path"].startswith("$"), fact["file"] or "", fact["line"] or 0, fact["path"])


class _Justifier:
    """Turns the matched facts of a firing into profile references and a chain of derived facts."""

    def __init__(self, run, doc, tr):
        self.run = run
        self.doc = doc
        self.tr = tr

    def fact_ref(self, origin) -> dict | None:
        spec = origin.spec
        if spec is None:
            return None
        if hasattr(spec, "pack"):  # reference data from a rule pack
            return {
                "kind": origin.kind,
                "path": f"{spec.pack}:facts[{spec.path[1]}]",
                "file": spec.doc.source,
                "line": spec.doc.position(spec.path)[0],
            }
        if origin.kind == "evaluation":
            return {"kind": "evaluation", "path": "--as-of", "file": None, "line": None}
        line = self.doc.position(spec.path)[0] if self.doc is not None else None
        return {"kind": origin.kind, "path": spec.json_path, "file": self.doc.source if self.doc else None, "line": line}

    def justify(self, firing, because: str, sources) -> Justification:
        facts: list = []
        chain: list = []
        seen_facts: set = set()
        seen_chain: set = set()
        self._walk(firing, facts, chain, seen_facts, seen_chain, top=True)
        facts.sort(key=_fact_order)
        return Justification(because, facts, chain, sources)

    def _walk(self, firing, facts, chain, seen_facts, seen_chain, top=False):
        """Add what *firing* matched: profile and pack facts to *facts*, derived ones to *chain*, each after what it came from.

        Depth first, with a stack of its own rather than recursion, so that a chain of
        derivations thousands deep is walked like a short one.
        """
        # Each entry: the facts of a firing still to visit, and the derived fact to add to the chain when they are done.
        stack: list = [(iter(firing.facts), None)]
        while stack:
            pending, derived = stack[-1]
            fact = next(pending, None)
            if fact is None:
                stack.pop()
                if derived is not None:
                    chain.append(self._link(derived))
                continue
            origin = self.run.origin(fact)
            if origin.firing is not None:
                # list values (designations, products) are not hashable: key on the JSON text
                key = (origin.kind, json.dumps(_plain(origin.fields), sort_keys=True, default=str))
                if key in seen_chain:
                    continue
                seen_chain.add(key)
                stack.append((iter(origin.firing.facts), origin))
            else:
                ref = self.fact_ref(origin)
                if ref is not None and ref["path"] not in seen_facts:
                    seen_facts.add(ref["path"])
                    facts.append(ref)

    def _link(self, origin) -> dict:
        """One step of the chain: the derived fact, the rule that derived it, and why."""
        rule = origin.firing.rule
        return {
            "fact": origin.kind,
            "values": _plain(origin.fields),
            "rule": rule.key,
            "because": self.tr.fill(rule, "because", rule.data["because"], _with_as_of(origin.firing.bindings, self.run.as_of)),
        }


def _with_as_of(bindings, as_of):
    return dict(bindings, as_of=as_of)


def _level(spec, bindings, as_of, default):
    if spec is None:
        return default
    if isinstance(spec, str):
        return spec
    ops = dict(spec["if"])
    actual = _expressions.value(ops.pop("value"), bindings, as_of)
    chosen = spec["then"] if _expressions.passes(actual, ops, bindings, as_of) else spec["else"]
    return _level(chosen, bindings, as_of, default)


def names(items, bindings, as_of) -> list:
    """The sorted, distinct names a conclusion's `markets`, `assets` or `products` give with these bindings."""
    out = []
    for item in items or ():
        value = _expressions.value(item, bindings, as_of)
        for v in value if isinstance(value, (tuple, list)) else (value,):
            text = _expressions.text(v)
            if text not in out:
                out.append(text)
    return sorted(out)


def _sources(rule, bindings, as_of) -> list:
    out = []
    for item in rule.data.get("source", []):
        if isinstance(item, dict):
            ref, url = item["ref"], item.get("url")
        else:
            ref = _expressions.text(_expressions.value(item, bindings, as_of)) if _expressions.variable(item) else item
            url = None
        if isinstance(ref, str) and ref.startswith(("http://", "https://")) and url is None:
            url = ref
        source = Source(ref, url)
        if source not in out:
            out.append(source)
    return out


def assemble(run, rule_base, doc, version: str, lang: str | None = None) -> Outline:
    """The outline of one run in *lang* (default English); *doc* is the profile Document (for names and lines)."""
    as_of = run.as_of
    tr = _i18n.Translation(lang)
    justifier = _Justifier(run, doc, tr)
    recommendations: dict[tuple, Recommendation] = {}
    risks: dict[tuple, Risk] = {}
    timeline = []  # (date, action, subject of the recommendation)
    for firing in run.firings:
        rule = firing.rule
        data = rule.data
        bindings = _with_as_of(firing.bindings, as_of)
        because = tr.fill(rule, "because", data["because"], bindings)
        sources = _sources(rule, bindings, as_of)
        if "recommend" in data:
            rec = _recommendation(rule, firing, bindings, because, sources, justifier, as_of, tr)
            subject = identity(rule, "recommend", rec, bindings)
            rec.words = subject[-1]
            if subject not in recommendations:
                recommendations[subject] = rec
                for when, action in _timeline(rule, rec, bindings, as_of, tr):
                    timeline.append((when, action, subject))
            else:
                _merge(recommendations[subject].justification, rec.justification)
        if "risk" in data:
            risk = _risk(rule, firing, bindings, because, sources, justifier, as_of, tr)
            subject = identity(rule, "risk", risk, bindings)
            risk.words = subject[-1]
            if subject not in risks:
                risks[subject] = risk
            else:
                _merge(risks[subject].justification, risk.justification)
    _assign_ids(recommendations)
    _assign_ids(risks, "risk:")
    entries = [TimelineEntry(when, action, recommendations[subject].id) for when, action, subject in timeline]
    order = {level: i for i, level in enumerate(LEVELS)}
    category = {name: i for i, name in enumerate(CATEGORIES)}
    recs = sorted(
        recommendations.values(),
        key=lambda r: (order[r.priority], r.due or "9999-12-31", category.get(r.category, 99), r.id),
    )
    risk_list = sorted(risks.values(), key=lambda r: (order[r.severity], r.kind, r.id))
    entries.sort(key=lambda t: (t.date, t.recommendation, t.action))
    stage = _stage(run, justifier, doc, tr)
    return Outline(
        ipexpert_version=version,
        as_of=as_of.isoformat(),
        firm={"name": doc.data["firm"]["name"], "home_country": doc.data["firm"]["home_country"]},
        stage=stage,
        rule_packs=[{"name": p.name, "version": p.version} for p in rule_base.packs],
        recommendations=recs,
        risks=risk_list,
        timeline=entries,
        source=doc.source,
        language=tr.lang,
        untranslated=sorted(tr.fallbacks),
        fired=tuple(sorted({f.rule.key for f in run.firings})),
    )


def identity(rule, section, item, bindings) -> tuple:
    """What a conclusion is: its rule, its subjects' exact names, and, when it names no subject, the values its words use.

    Firings with one identity make one item (their justifications merged). A conclusion
    that names markets, assets or products merges its firings by subject; one that names
    none keeps apart every firing whose words differ (see `_knowledge.conclusions`).
    """
    return (rule.id, tuple(item.assets), tuple(item.products), tuple(item.markets), words(rule, section, bindings))


def words(rule, section, bindings) -> tuple:
    """The values the words of a conclusion without a subject use (empty for one with a subject: it merges by subject)."""
    found = _conclusions.conclusion(rule.data, section)
    return () if found.has_subject else tuple(_expressions.text(bindings.get(name)) for name in found.word_variables())


def _subject_id(subject) -> str:
    rule_id, assets, products, markets, words = subject
    return ":".join([rule_id] + [id_part(x) for x in assets + products + markets])


def _assign_ids(items: dict, prefix: str = "") -> None:
    """Give each conclusion (keyed by subject) its id; subjects whose readable ids meet get a digest each.

    Readable parts lose case and punctuation (`Fidget Cube`, `FIDGET-CUBE`), so two distinct
    subjects of one outline can meet; they are then told apart by a digest of the whole subject.
    """
    by_id: dict[str, list] = {}
    for subject in items:
        by_id.setdefault(prefix + _subject_id(subject), []).append(subject)
    for base, subjects in by_id.items():
        if len(subjects) == 1:
            items[subjects[0]].id = base
            continue
        # Conclusions that name no subject are told apart by the values their words use, where those read apart.
        readable = [f"{base}:{':'.join(id_part(w) for w in subject[-1])}" if subject[-1] else None for subject in subjects]
        for subject, name in zip(subjects, readable):
            if name is not None and readable.count(name) == 1:
                items[subject].id = name
            else:
                key = subject if subject[-1] else subject[:-1]  # the digest conclusions with a subject always had
                items[subject].id = f"{base}~{_digest(json.dumps(key, ensure_ascii=False))}"


def _recommendation(rule, firing, bindings, because, sources, justifier, as_of, tr) -> Recommendation:
    spec = rule.data["recommend"]
    markets = names(spec.get("markets"), bindings, as_of)
    assets = names(spec.get("assets"), bindings, as_of)
    products = names(spec.get("products"), bindings, as_of)
    due = _expressions.value(spec["due"], bindings, as_of) if spec.get("due") is not None else None
    if isinstance(due, datetime.date) and due < as_of:
        due = as_of  # overdue: it is due now
    return Recommendation(
        id="",  # given once every recommendation is known (_assign_ids)
        rule=rule.key,
        category=rule.data.get("category", "strategy"),
        priority=_level(spec.get("priority"), bindings, as_of, "medium"),
        title=_title(rule, "recommend", bindings, tr),
        actions=[tr.fill(rule, "recommend.actions", a, bindings) for a in spec.get("actions", [])],
        markets=markets,
        assets=assets,
        products=products,
        due=_iso(due) if isinstance(due, datetime.date) else None,
        justification=justifier.justify(firing, because, sources),
    )


def _title(rule, section, bindings, tr) -> str:
    spec = rule.data[section]
    if "title" in spec:
        return tr.fill(rule, section + ".title", spec["title"], bindings)
    return tr.fill(rule, "title", rule.data["title"], bindings)


def _risk(rule, firing, bindings, because, sources, justifier, as_of, tr) -> Risk:
    spec = rule.data["risk"]
    markets = names(spec.get("markets"), bindings, as_of)
    assets = names(spec.get("assets"), bindings, as_of)
    products = names(spec.get("products"), bindings, as_of)
    return Risk(
        id="",  # given once every risk is known (_assign_ids)
        rule=rule.key,
        kind=spec["kind"],
        severity=_level(spec.get("severity"), bindings, as_of, "medium"),
        title=_title(rule, "risk", bindings, tr),
        markets=markets,
        assets=assets,
        products=products,
        because=because,
        justification=justifier.justify(firing, because, sources),
    )


def _timeline(rule, rec, bindings, as_of, tr):
    entries = rule.data["recommend"].get("timeline")
    if entries is None:
        return [(rec.due, rec.title)] if rec.due else []
    out = []
    for entry in entries:
        when = _expressions.value(entry["date"], bindings, as_of)
        if isinstance(when, datetime.date):
            out.append((max(when, as_of).isoformat(), tr.fill(rule, "recommend.timeline", entry["action"], bindings)))
    return out


def _merge(target: Justification, other: Justification):
    paths = {f["path"] for f in target.facts}
    for fact in other.facts:
        if fact["path"] not in paths:
            target.facts.append(fact)
            paths.add(fact["path"])
    target.facts.sort(key=_fact_order)
    for link in other.chain:
        if link not in target.chain:
            target.chain.append(link)


def _stage(run, justifier, doc, tr) -> Stage:
    for origin in sorted(run.origins.values(), key=lambda o: 0 if o.spec is not None else 1):
        if origin.kind != "stage":
            continue
        if origin.firing is None:
            line = doc.position(("firm", "stage"))[0]
            where = tr.label("stage_declared_line", line=line) if line else ""
            return Stage(origin.fields["value"], True, tr.label("stage_declared", where=where))
        firing = origin.firing
        because = tr.fill(firing.rule, "because", firing.rule.data["because"], _with_as_of(firing.bindings, run.as_of))
        return Stage(origin.fields["value"], False, tr.label("stage_inferred", because=because), firing.rule.key)
    return Stage(None, False, tr.label("stage_unknown"))
