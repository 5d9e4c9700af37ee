"""The interview's question engine: which profile question to ask next, and why.

It walks the profile schema over the answers so far and keeps only the questions whose
answer can still change the outline: a field no rule reads is never asked, and a field
rules do read is asked only if trying its possible values on the current answers changes
the outline (so a reseller with no own designs gets no design question). The most
decisive question (the one whose answer changes the most advice) comes first. No UI here:
the web and terminal interviews both drive this module.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import json
import threading
from dataclasses import dataclass, field

import cachetools

from ipexpert import _api

# Re-exported: the faces (web, terminal, service) reach the state and the answer reader through the question engine.
from ipexpert._interview.answers import _ABSENT, _convert, _problems_at  # noqa: F401
from ipexpert._interview.reading import _feeds, _title, fields_read_by_rules, literals_read_by_rules  # noqa: F401
from ipexpert._interview.state import (  # noqa: F401
    MAX_ITEMS,
    MAX_NESTING,
    State,
    _delete,
    _put,
    asked_fields,
    from_document,
    has_items,
    read_partial,
    registration_places,
    resume,
    trusted,
    with_step,
)
from ipexpert._knowledge import i18n as _i18n
from ipexpert._reading import document as _document
from ipexpert._reading import facts as _facts
from ipexpert._reading import schemas as _schemas


@dataclass(frozen=True)
class Reason:
    """A piece of advice that depends on a question's answer: the rule that gives it, and how.

    Kept as the rule and its bindings, not as text, so each interview shows it in its own
    language; `english` is the title in English (and what two reasons are compared by).
    """

    rule_key: str  # "" for the development stage itself
    english: str
    bindings: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return self.english


def known_values(question: Question, profile: dict) -> dict:
    """The values a reason can name before the outline is made: the firm's home, and the product or right asked about."""
    known = {}
    home = (profile.get("firm") or {}).get("home_country")
    if isinstance(home, str) and home:
        known["home"] = home
    section, index = (question.path + (None, None))[:2]
    items = profile.get(section) if section in ("products", "ip_assets") else None
    if isinstance(index, int) and isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
        item = items[index]
        name = item.get("name")
        if isinstance(name, str) and name:
            if section == "products":
                known["product"] = name
            else:
                known["asset"] = name
                if item.get("type") == "trademark":
                    known["brand"] = name
    return known


GRANTED = ("registered", "expired")  # statuses of a right that was granted, so has a grant date and an end
INVENTIONS = ("patent", "utility_model")  # the rights that protect an invention, made in some country

STAGE_REASON = Reason("", "the development stage the advice is set for")


@dataclass(frozen=True)
class Question:
    """One question: a field to fill (`kind="field"`) or an item to add to a list (`kind="item"`)."""

    id: str  # the profile path it fills, as `markets[0].launch_date`; `markets[+]` adds an item
    kind: str
    path: tuple  # the path in the profile (for an item: the list's path)
    schema_path: str  # the schema's place, as `markets[].launch_date` (keys the UI texts)
    schema: dict
    required: bool
    choices: tuple = ()  # allowed values, when they are a closed list
    multiple: bool = False  # a list of values
    fields: tuple = ()  # for an item: its required fields, as Questions
    why: tuple = ()  # Reasons: the advice that depends on the answer
    score: int = 0
    about: str = ""  # the item it concerns (a product's or asset's name), for the question text

    @property
    def type(self) -> str:
        if self.multiple:
            return "list"
        if "enum" in self.schema or self.choices:
            return "choice"
        if self.schema.get("format") == "date":
            return "date"
        return self.schema.get("type", "string")


CACHE_BYTES = 16 * 1024 * 1024  # what one Engine keeps of the outlines and firings it computed, about


_CACHE_LOCK = threading.Lock()


def _second(entry) -> int:
    return entry[1]


def _remember(cache, key, make, size):
    """make(), kept in *cache* under *key* with its size in bytes (the key's, plus size(value)) until crowded out."""
    with _CACHE_LOCK:  # the interview alone answers in threads
        found = cache.get(key)
    if found is not None:
        return found[0]
    value = make()
    with _CACHE_LOCK, contextlib.suppress(ValueError):  # one entry larger than the whole cache is not kept
        cache[key] = (value, len(repr(key)) + size(value) + 100)
    return value


def _outline_size(outline) -> int:
    return len(outline.to_json()) if outline is not None else 0


@functools.lru_cache(maxsize=4)
def engine(rule_base=None, as_of=None) -> Engine:
    """The shared Engine for a rule base and date (its outlines are cached, so share it)."""
    return Engine(rule_base, as_of)


class Engine:
    """Questions for one rule base and evaluation date."""

    def __init__(self, rule_base=None, as_of=None):
        self.rules = rule_base if rule_base is not None else _api.default_rules()
        self.as_of = _api.parse_date(as_of)
        self.read = fields_read_by_rules(self.rules)
        self.literals = literals_read_by_rules(self.rules)
        self.schema = _schemas.schema("profile")
        # Keyed by whole profiles, so bounded by bytes (key and value), not by a count of entries.
        self._outlines: cachetools.LRUCache = cachetools.LRUCache(CACHE_BYTES // 2, getsizeof=_second)
        self._valids: cachetools.LRUCache = cachetools.LRUCache(CACHE_BYTES // 8, getsizeof=_second)
        self._firing_sets: cachetools.LRUCache = cachetools.LRUCache(CACHE_BYTES * 3 // 8, getsizeof=_second)
        self._reading: dict[str, tuple[str, ...]] = {}
        self._titles_of: dict[tuple, tuple] = {}

    # ---- what the rules read ----

    def rules_reading(self, schema_path: str) -> list[str]:
        """The rules that read what the profile field *schema_path* feeds (found once per field: every page asks)."""
        found = self._reading.get(schema_path)
        if found is None:
            keys: list[str] = []
            for feed in _feeds(schema_path):
                for key in self.read.get(feed, ()):
                    if key not in keys:
                        keys.append(key)
            found = self._reading[schema_path] = tuple(keys)
        return list(found)

    def channel_choices(self) -> tuple:
        """Channels the rules know: those their packs' facts name (in pack order), then literals."""
        values = [f.fields["channel"] for f in self.rules.static_facts if isinstance(f.fields.get("channel"), str)]
        values += sorted(str(v) for v in self.literals.get(("firm", "channels"), ()))
        return tuple(dict.fromkeys(values)) + ("other",)

    # ---- the outline for a set of answers ----

    def outline(self, profile: dict, lang: str | None = None):
        """The outline of a valid *profile* in *lang* (default English), or None while it is not yet valid."""
        key = json.dumps(profile, sort_keys=True)
        return _remember(self._outlines, (key, lang), lambda: self._outline_of(key, lang), _outline_size)

    def _outline_of(self, key: str, lang: str | None = None):
        profile = json.loads(key)
        return _api.evaluate(profile, self.rules, self.as_of, None, lang) if self.is_valid(profile) else None

    def is_valid(self, profile: dict) -> bool:
        key = json.dumps(profile, sort_keys=True)
        return _remember(self._valids, key, lambda: not _api.validate(json.loads(key)), lambda _: 0)

    def _signature(self, profile: dict):
        """{(rule, bindings): Reason} of every firing for a valid *profile* (None if invalid).

        Only firings the outline shows count: advice, risks and the development stage.
        """
        key = json.dumps(profile, sort_keys=True)
        return _remember(self._firing_sets, key, lambda: self._firings(key), lambda found: len(repr(found)))

    def _firings(self, key: str):
        profile = json.loads(key)
        if not self.is_valid(profile):
            return None
        run = self.rules.run(_facts.build(profile, self.as_of), self.as_of)
        out: dict[tuple, Reason | None] = {}
        for firing in run.firings:
            bindings = tuple(sorted((k, repr(v)) for k, v in firing.bindings.items()))
            concludes = "recommend" in firing.rule.data or "risk" in firing.rule.data
            if concludes:
                english = _title(firing.rule, firing.bindings)
                out[(firing.rule.key, bindings)] = Reason(firing.rule.key, english, dict(firing.bindings))
            elif "stage" in (firing.rule.data.get("derive") or {}):  # the outline shows the stage
                out[(firing.rule.key, bindings)] = None
        return out

    # ---- the questions ----

    def _candidates_of(self, state: State) -> list[Question]:
        """Unanswered, unsettled questions: the required ones alone while any is left, else every
        one some rule reads, those read by the most rules first (schema order among equals)."""
        found = [q for q in self._walk(state.profile, self.schema, (), "", state) if q.id not in state.settled]
        required = [q for q in found if q.required]
        if required:
            return required
        scored = [(len(self.rules_reading(q.schema_path)), order, q) for order, q in enumerate(found)]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [q for score, _, q in scored if score]

    def _relevant(self, state: State, question: Question) -> Question | None:
        """*question* with why it is asked, if its answer can still change the outline; else None."""
        readers = self.rules_reading(question.schema_path)
        if question.required:  # every profile needs it: no rule to name
            return _with(question, why=(), score=len(readers))
        static = _with(question, why=self._titles(readers), score=len(readers))
        if question.kind == "item" or not self.is_valid(state.profile):
            return static
        changed = self._probe(state.profile, question)
        if changed is None:
            return static
        return _with(question, why=tuple(changed[:4]), score=len(readers)) if changed else None

    def questions(self, state: State) -> list[Question]:
        """Every question still worth asking, in the order they would be asked."""
        relevant = [r for q in self._candidates_of(state) if (r := self._relevant(state, q)) is not None]
        return _group_practices(relevant)

    def next_question(self, state: State) -> Question | None:
        """The most decisive question whose answer can still change the outline, or None when done.

        Candidates are tried in order and the first whose answer matters is asked, so a step
        costs a few trial evaluations; a yes/no practice is asked with its section's others.
        """
        candidates = self._candidates_of(state)
        for question in candidates:
            found = self._relevant(state, question)
            if found is None:
                continue
            if _groupable(found):
                siblings = [q for q in candidates if _groupable(q) and q.path[0] == found.path[0] and q is not question]
                members = [found] + [r for q in siblings if (r := self._relevant(state, q)) is not None]
                return _group_practices(members)[0]
            return found
        return None

    def find(self, state: State, question_id: str) -> Question | None:
        """The question called *question_id* if it is still worth asking (a form names the one it answers)."""
        candidates = self._candidates_of(state)
        if question_id.endswith(".*"):
            section = question_id[:-2]
            members = [
                r for q in candidates if _groupable(q) and q.path[0] == section and (r := self._relevant(state, q)) is not None
            ]
            grouped = _group_practices(members)
            return grouped[0] if grouped and grouped[0].id == question_id else None
        question = next((q for q in candidates if q.id == question_id), None)
        found = self._relevant(state, question) if question is not None else None
        if found is not None and _groupable(found):
            others = [
                q
                for q in candidates
                if _groupable(q) and q.path[0] == found.path[0] and q.id != found.id and self._relevant(state, q) is not None
            ]
            if others:
                return None  # asked as part of its section's checklist
        return found

    def _titles(self, keys) -> tuple:
        """The advice these rules give, as Reasons (rules that conclude advice or a risk first)."""
        keys = tuple(keys)
        if keys not in self._titles_of:
            self._titles_of[keys] = self._titles_uncached(keys)
        return self._titles_of[keys]

    def _titles_uncached(self, keys: tuple) -> tuple:
        rules = [r for r in (self.rules.rule(key) for key in keys) if r is not None]
        rules.sort(key=lambda r: not ("recommend" in r.data or "risk" in r.data))
        reasons: list[Reason] = []
        for rule in rules:
            reason = Reason(rule.key, _title(rule, {}))
            if reason not in reasons:
                reasons.append(reason)
        return tuple(reasons[:4])

    def why(self, question: Question, lang: str | None = None, profile: dict | None = None) -> list[str]:
        """Why *question* is asked, in *lang*: the titles of the advice that depends on its answer, with
        the values *profile* already holds (the firm's home, the product or right asked about) filled in."""
        from ipexpert._interview.texts import texts

        translation = _i18n.Translation(lang)
        known = known_values(question, profile or {})
        out = []
        for reason in question.why:
            rule = self.rules.rule(reason.rule_key) if reason.rule_key else None
            if rule is None:
                text = texts(translation.lang).ui("why_stage") if reason == STAGE_REASON else reason.english
            else:
                text = _title(rule, {**known, **reason.bindings}, translation)
            if text not in out:
                out.append(text)
        return out

    def why_sentence(self, question: Question, lang: str | None = None, profile: dict | None = None) -> str:
        """Why *question* is asked, as one sentence quoting the advice its answer decides; for a required one, that it is."""
        from ipexpert._interview.texts import texts

        t = texts(_i18n.check_language(lang))
        reasons = self.why(question, lang, profile)
        if not reasons:
            return t.ui("required_why")
        quoted = [t.ui("why_quote", text=reason) for reason in reasons]
        return t.ui("why_sentence", reasons=_i18n.label(t.lang, "clause_separator").join(quoted))

    def _probe(self, profile: dict, question: Question):
        """The advice that differs between possible answers; None when values cannot be tried."""
        candidates = self._candidates(question, profile)
        if candidates is None:
            return None
        signatures = []
        for value in candidates:
            trial = copy.deepcopy(profile)
            if value is _ABSENT:
                _delete(trial, question.path)
            else:
                _put(trial, question.path, value)
            sig = self._signature(trial)
            if sig is not None:
                signatures.append(sig)
        if len(signatures) < 2:
            return []
        union = {}
        for sig in signatures:
            union.update(sig)
        common = set(signatures[0]).intersection(*signatures[1:])
        changed = [key for key in union if key not in common]
        return self._merge_trials([union[key] for key in changed if union[key]]) or ([STAGE_REASON] if changed else [])

    def _merge_trials(self, reasons: list) -> list:
        """One reason per rule. The values tried for a question (dates either side of today, each
        choice) must not read as the firm's facts, so a binding that differs between trials is blank."""
        by_rule: dict[str, list] = {}
        for reason in reasons:
            by_rule.setdefault(reason.rule_key, []).append(reason)
        out = []
        for key, found in by_rule.items():
            if len({r.english for r in found}) == 1:
                out.append(found[0])
                continue
            same = {
                name: value for name, value in found[0].bindings.items() if all(r.bindings.get(name) == value for r in found[1:])
            }
            rule = self.rules.rule(key)
            out.append(Reason(key, _title(rule, same), same))
        return out

    def _candidates(self, question: Question, profile: dict):
        kind = question.type
        schema = question.schema
        if kind == "boolean":
            return [_ABSENT, True] + ([False] if schema.get("default") is not False else [])
        if kind == "choice":
            return [_ABSENT, *question.choices]
        if kind == "list":
            return [_ABSENT, *[[c] for c in question.choices if c != "other"]]
        if kind == "date":
            return [_ABSENT] + [(self.as_of + datetime.timedelta(days=d)).isoformat() for d in (-400, -100, 120, 500)]
        if kind in ("integer", "number"):
            values: set[int | float] = {0}
            for feed in _feeds(question.schema_path):
                for t in self.literals.get(feed, ()):
                    if isinstance(t, (int, float)):
                        if feed == ("firm", "age_years"):
                            t = self.as_of.year - t
                        values.update({t - 1, t + 1})
            minimum = schema.get("minimum", 0)
            maximum = schema.get("maximum", 10**12)
            return [_ABSENT] + sorted(int(v) for v in values if minimum <= v <= maximum)
        if kind == "string":  # a free text the rules compare with fixed values (invented_in: CN): try those
            words = {t for feed in _feeds(question.schema_path) for t in self.literals.get(feed, ()) if isinstance(t, str)}
            return [_ABSENT, *sorted(words)] if words else None
        return None

    def _walk(self, data, node, path, spath, state):
        """Questions for the missing parts of *data* (an object of schema *node*)."""
        required = set(node.get("required", ()))
        for name, sub in node.get("properties", {}).items():
            if name == "$schema":
                continue
            child_path = path + (name,)
            child_spath = f"{spath}.{name}" if spath else name
            is_required = name in required
            if sub.get("type") == "object":
                yield from self._walk(data.get(name, {}), sub, child_path, child_spath, state)
            elif sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
                items = data.get(name, [])
                for i, item in enumerate(items if isinstance(items, list) else []):
                    if isinstance(item, dict):
                        yield from self._walk(item, sub["items"], child_path + (i,), f"{child_spath}[]", state)
                minimum = sub.get("minItems", 0) if is_required else 0
                yield self._item_question(child_path, f"{child_spath}[]", sub["items"], len(items) < minimum, data, state)
            elif name not in data:
                question = self.field_question(child_path, child_spath, sub, is_required, state)
                if question is not None:
                    yield question

    def _item_question(self, path, spath, item_schema, required, parent, state):
        fields = []
        for name in item_schema.get("required", ()):
            sub = item_schema["properties"][name]
            fields.append(self.field_question(path + (-1, name), f"{spath}.{name}", sub, True, state))
        return Question(
            id=f"{_document.json_path(path)[2:]}[+]",
            kind="item",
            path=path,
            schema_path=spath,
            schema=item_schema,
            required=required,
            fields=tuple(fields),
            about=str(parent.get("name", "")) if isinstance(parent, dict) else "",
        )

    def field_question(self, path, spath, sub, required, state):
        """The question that fills the field at *path*, or None while it cannot be asked (no markets yet)."""
        profile = state.profile
        market_codes = tuple(m.get("code") for m in profile.get("markets", []) if isinstance(m, dict) and m.get("code"))
        about = ""
        if len(path) > 2 and isinstance(path[1], int) and path[1] >= 0:
            parent = profile.get(path[0], [])[path[1]]
            about = str(parent.get("name") or parent.get("code") or "")
            if len(path) > 4 and isinstance(path[3], int) and path[3] >= 0:
                about = f"{about} ({parent[path[2]][path[3]].get('jurisdiction', '')})"
        if spath == "markets[].launch_date":
            item = profile["markets"][path[1]]
            if item.get("status") != "planned":
                return None
        if spath in ("ip_assets[].invented_in", "ip_assets[].security_examination"):
            if profile["ip_assets"][path[1]].get("type") not in ("patent", "utility_model"):
                return None  # only an invention is "invented" somewhere (the profile check says the same)
        if spath == "ip_assets[].registrations[].designations":
            item = profile["ip_assets"][path[1]]["registrations"][path[3]]
            if item.get("jurisdiction") != "WO":
                return None
        if spath in ("ip_assets[].registrations[].registered", "ip_assets[].registrations[].expires"):
            item = profile["ip_assets"][path[1]]["registrations"][path[3]]
            if item.get("status") not in GRANTED:  # an application has no grant date and no end
                return None
        if spath in ("ip_assets[].invented_in", "ip_assets[].security_examination"):
            if profile["ip_assets"][path[1]].get("type") not in INVENTIONS:  # a brand or a design is not invented
                return None
        base = dict(
            id=_document.json_path(path)[2:].replace("[-1]", "[+]"),
            kind="field",
            path=path,
            schema_path=spath,
            schema=sub,
            required=required,
            about=about,
        )
        if sub.get("type") == "array":
            if spath == "channels":
                return Question(**base, choices=self.channel_choices(), multiple=True)
            if spath in ("products[].markets", "ip_assets[].taken_in", "ip_assets[].registrations[].designations"):
                if not market_codes:
                    return None
                return Question(**base, choices=market_codes, multiple=True)
            if spath == "ip_assets[].products":
                names = tuple(p.get("name") for p in profile.get("products", []) if isinstance(p, dict) and p.get("name"))
                if not names:
                    return None
                return Question(**base, choices=names, multiple=True)
            return Question(**base, choices=("other",), multiple=True)
        if spath == "ip_assets[].registrations[].jurisdiction":
            return Question(**base, choices=registration_places(profile))
        if "enum" in sub:
            return Question(**base, choices=tuple(sub["enum"]))
        return Question(**base)

    # ---- answers ----

    def answer(self, state: State, question: Question, raw: dict, lang: str = "en") -> tuple[State, list[str]]:
        """The state with *raw* (form values by field name, as text) applied, or the problems found in *lang*.

        Problems are the messages `validate` gives, for the answered part of the profile.
        """
        new_state, messages = self._answer(state, question, raw)
        return new_state, [_i18n.message(lang, m) for m in messages]

    def _answer(self, state: State, question: Question, raw: dict) -> tuple[State, list[str]]:
        profile = copy.deepcopy(state.profile)
        messages = []
        if question.kind == "group":
            picked = raw.get("value") or []
            picked = picked if isinstance(picked, list) else [picked]
            unknown = [p for p in picked if p not in question.choices]
            if unknown:
                return state, [f"{unknown[0]!r} is not one of {', '.join(question.choices)}"]
            for member in question.fields:
                _put(profile, member.path, member.path[1] in picked)
            return State(profile, list(state.settled), with_step(state, {"put": [list(m.path) for m in question.fields]})), []
        if question.kind == "item":
            item = {}
            for sub in question.fields:
                name = sub.path[-1]
                value, problem = _convert(sub, raw.get(name))
                if problem:
                    messages.append(problem)
                elif value is not _ABSENT:
                    item[name] = value
            target = profile
            for part in question.path[:-1]:
                target = target[part]
            target.setdefault(question.path[-1], []).append(item)
            check_path = question.path + (len(target[question.path[-1]]) - 1,)
            step: dict = {"append": list(question.path)}
        else:
            value, problem = _convert(question, raw.get("value"))
            if problem:
                messages.append(problem)
            elif value is not _ABSENT:
                _put(profile, question.path, value)
            check_path = question.path
            step = {"put": [list(question.path)]}
        if messages:
            return state, messages
        messages = _problems_at(profile, check_path)
        if messages:
            return state, messages
        return State(profile, list(state.settled), with_step(state, step)), []

    def skip(self, state: State, question: Question) -> State:
        """Leave *question* unanswered (an optional field) or stop adding items to its list."""
        if question.required:
            return state
        ids = [m.id for m in question.fields] if question.kind == "group" else [question.id]
        return State(copy.deepcopy(state.profile), [*state.settled, *ids], with_step(state, {"settle": ids}))

    def count_fields(self) -> int:
        """How many fields the profile schema has (each leaf and each list of objects)."""

        def walk(node):
            total = 0
            for name, sub in node.get("properties", {}).items():
                if name == "$schema":
                    continue
                if sub.get("type") == "object":
                    total += walk(sub)
                elif sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
                    total += walk(sub["items"])
                else:
                    total += 1
            return total

        return walk(self.schema)


GROUPED = ("confidentiality", "management", "history")


def _groupable(q: Question) -> bool:
    return q.kind == "field" and q.type == "boolean" and len(q.path) == 2 and q.path[0] in GROUPED


def _group_practices(questions: list[Question]) -> list[Question]:
    """Yes/no questions of one section (practices in place, things seen) become one checklist.

    The checklist stands where its most decisive member stood and lists only the members
    still worth asking.
    """
    members: dict[str, list[Question]] = {}
    for q in questions:
        if q.kind == "field" and q.type == "boolean" and len(q.path) == 2 and q.path[0] in GROUPED:
            members.setdefault(q.path[0], []).append(q)
    out, placed = [], set()
    for q in questions:
        section = q.path[0] if q.kind == "field" and q.type == "boolean" and len(q.path) == 2 else None
        if section not in members or len(members[section]) < 2:
            out.append(q)
        elif section not in placed:
            placed.add(section)
            group = members[section]
            why = []
            for member in group:
                why += [w for w in member.why if w not in why]
            out.append(
                Question(
                    id=f"{section}.*",
                    kind="group",
                    path=(section,),
                    schema_path=section,
                    schema={"type": "object"},
                    required=False,
                    choices=tuple(m.path[1] for m in group),
                    multiple=True,
                    fields=tuple(group),
                    why=tuple(why[:4]),
                    score=max(m.score for m in group),
                )
            )
    return out


def _with(question: Question, **changes) -> Question:
    from dataclasses import replace

    return replace(question, **changes)
