"""Languages: rule texts, labels and dates in the reader's language, read from data beside the packs.

Translations are YAML a translator can review without reading Python: `rules/i18n/labels.yaml`
(headings, labels, the words a value may show) and `rules/i18n/<lang>/<pack>.yaml` (each text
of each bundled rule, keyed by pack, rule id and field, holding the English it translates).
A text with no translation, or whose English has changed since it was translated, is shown
in English and its rule listed as untranslated; `rules check` reports both cases.
"""

from __future__ import annotations

import datetime
import functools
import re
from pathlib import Path

from ipexpert import LANGUAGES  # stated once, in the package
from ipexpert._common import resources as _resources
from ipexpert._errors import IPExpertError, Problem
from ipexpert._knowledge import expressions as _expressions
from ipexpert._reading import codes as _codes
from ipexpert._reading import document as _document

DEFAULT = "en"
# The fields of a rule that are shown to a reader; lists are matched item by item on their English.
RULE_FIELDS = ("title", "because", "recommend.title", "recommend.actions", "recommend.timeline", "risk.title")


def check_language(lang) -> str:
    """*lang* if it is supported (None means the default), else an error naming the choices."""
    if lang is None:
        return DEFAULT
    if lang not in LANGUAGES:
        raise IPExpertError(
            Problem("lang", None, None, "$", f"{lang!r} is not a supported language; use one of: {', '.join(LANGUAGES)}")
        )
    return lang


def i18n_dir() -> Path:
    return _resources.rules_dir() / "i18n"


def _load(path: Path) -> _document.Document:
    return _document.load(path.read_bytes(), str(path))


@functools.lru_cache(maxsize=1)
def _labels() -> dict:
    return _load(i18n_dir() / "labels.yaml").data


class Catalog:
    """One language's translations of rule texts and of the string values rule packs bind."""

    def __init__(self, lang: str, folder: Path | None = None):
        self.lang = lang
        self.rules: dict = {}  # (pack, rule id) -> {field: entry or [entries]}
        self.values: dict = {}  # English value -> translation
        self.docs: dict = {}  # pack -> Document of its translation file
        if lang == DEFAULT or folder is None or not folder.is_dir():
            return
        for path in sorted(folder.glob("*.yaml")):
            self.add_file(path)

    def add_file(self, path: Path, pack: str | None = None) -> None:
        """Add the translations of one pack's file (of pack *pack*, or the one it names)."""
        doc = _load(path)
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("rules") or {}, dict):
            raise IPExpertError(doc.problem((), "a translation file is a mapping with pack, language, rules and values"))
        pack = pack or data["pack"]
        self.docs[pack] = doc
        for rule_id, fields in (data.get("rules") or {}).items():
            self.rules[pack, rule_id] = fields
        for entry in data.get("values") or ():
            if isinstance(entry, dict) and entry.get("en") and entry.get(self.lang):
                self.values[entry["en"]] = entry[self.lang]

    def text(self, pack: str, rule_id: str, where: str, english: str) -> str | None:
        """The translation of *english* at *where* in rule *pack/rule_id*, or None if missing or stale."""
        entry = self.rules.get((pack, rule_id), {}).get(where)
        for item in entry if isinstance(entry, list) else [entry] if entry else []:
            if item.get("en") == english and item.get(self.lang):
                return item[self.lang]
        return None


@functools.cache
def catalog(lang: str, folder: str | None = None) -> Catalog:
    return Catalog(lang, Path(folder) if folder else i18n_dir() / lang)


class Translation:
    """One language for one outline: fills rule texts and labels, remembering rules shown in English."""

    def __init__(self, lang: str | None = None):
        self.lang = check_language(lang)
        self.catalog = catalog(self.lang)
        self.fallbacks: set = set()

    def catalog_of(self, rule) -> Catalog:
        """The catalog translating *rule*: the bundled one, or the file beside its consultant's pack."""
        if self.lang == DEFAULT or _bundled_file(rule.file):
            return self.catalog
        own = pack_catalog(self.lang, rule.file, rule.pack)
        return own if own is not None else self.catalog

    def fill(self, rule, where: str, english: str, bindings: dict) -> str:
        """Rule *rule*'s text at *where* (its English is *english*) with *bindings* filled in."""
        if self.lang == DEFAULT:
            # English keeps values as written, but names a marketplace (Amazon, not amazon)
            shown = {name: self.word("channel", value) if name == "channel" else value for name, value in bindings.items()}
            return _expressions.fill(english, shown)
        own = self.catalog_of(rule)
        template = own.text(rule.pack, rule.id, where, english)
        if template is None:
            self.fallbacks.add(rule.key)
            return _expressions.fill(english, bindings)
        names = _expressions.placeholders(template)
        codes: frozenset = getattr(rule, "code_variables", frozenset())
        if self.lang == "zh-CN":
            template = name_offices(template, {name: bindings[name] for name in names if name in codes and name in bindings})
            # only a code shown as a Chinese name (美国) loses its spaces; an office like INPI keeps them
            template = tighten(template, [name for name in names if name in codes and _named(bindings.get(name))])
        return _expressions.fill(
            template, {name: self.bound(name, bindings[name], name in codes, own) for name in names if name in bindings}
        )

    def bound(self, name: str, value, is_code: bool = False, own: Catalog | None = None) -> str:
        """How a bound value reads in this language (*is_code*: it holds market codes, shown by name;
        *own*: the catalog of the rule's pack, looked up before the bundled one)."""
        if isinstance(value, (list, tuple, frozenset)):
            return ("、" if self.lang == "zh-CN" else ", ").join(self.bound(name, v, is_code, own) for v in value)
        if own is not None and isinstance(value, str) and value in own.values:
            return own.values[value]
        if is_code and isinstance(value, str):
            return market(self.lang, value)
        if isinstance(value, bool):
            return self.word("boolean", "yes" if value else "no")
        if isinstance(value, datetime.date):
            return self.date(value)
        if isinstance(value, str):
            if value in self.catalog.values:
                return self.catalog.values[value]
            words = _labels()["words"].get(name, {})
            if value in words:
                return words[value].get(self.lang, value)
        return _expressions.text(value)

    def label(self, key: str, **values) -> str:
        return label(self.lang, key, **values)

    def word(self, group: str, value) -> str:
        return word(self.lang, group, value)

    def date(self, value) -> str:
        return date(self.lang, value)


# A CJK character or full-width punctuation mark: no space belongs between it and a Chinese market name.
_WIDE = "[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u201c\u201d]"


_OFFICE_SLOT = re.compile(r" ?\{([a-z_][a-z0-9_]*)\} ?商标局")


def name_offices(template: str, codes: dict) -> str:
    """*template* with `{home}商标局` written as the office's own name (国家知识产权局（CNIPA）) where the market has one listed."""

    def office(match: re.Match) -> str:
        code = codes.get(match.group(1))
        entry = _labels()["words"]["trademark_office"].get(code) if isinstance(code, str) else None
        return entry["zh-CN"] if entry else match.group(0)

    return _OFFICE_SLOT.sub(office, template)


def _named(value) -> bool:
    """Whether *value* (a code, or a list of codes) reads as Chinese names rather than as it is written."""
    values = value if isinstance(value, (list, tuple, frozenset)) else [value]
    return bool(values) and all(isinstance(v, str) and market("zh-CN", v) != v for v in values)


def tighten(template: str, names) -> str:
    """*template* without the spaces it sets between Chinese words and the placeholders *names* (filled with 美国...)."""
    for name in names:
        slot = re.escape("{" + name + "}")
        template = re.sub(f"(?<={_WIDE}) (?={slot})", "", template)
        template = re.sub(f"(?<={slot}) (?={_WIDE})", "", template)
    return template


def label(lang: str, key: str, **values) -> str:
    """Label *key* in *lang*, with `{name}` filled from *values* (as given: escape them first if needed)."""
    entry = _labels()["labels"][key]
    text = entry.get(lang) or entry[DEFAULT]
    return _expressions.PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


# Names CLDR has no territory for: WO marks an international registration (Madrid or Hague, at WIPO).
_OWN_NAMES = {"zh-CN": {_codes.WO: "国际注册"}}
_CLDR_LOCALES = {"zh-CN": "zh_Hans_CN"}


@functools.cache
def market(lang: str, code: str) -> str:
    """A market or jurisdiction code as a reader of *lang* names it: 美国 for US, 欧盟 for EU; English keeps the code."""
    if lang not in _CLDR_LOCALES:
        return code
    own = _OWN_NAMES.get(lang, {}).get(code)
    if own:
        return own
    return _codes.cldr_names(_CLDR_LOCALES[lang]).get(code, code)


def markets(lang: str, codes) -> str:
    """Several markets by name, joined as *lang* joins a list."""
    return list_separator(lang).join(market(lang, code) for code in codes)


def market_with_code(lang: str, code: str) -> str:
    """中国（CN）: the name with its code, where a reader may need the code too (a header, a table row)."""
    name = market(lang, code)
    return code if name == code else f"{name}（{code}）"


def list_separator(lang: str) -> str:
    return "、" if lang == "zh-CN" else ", "


_PAPER_SECTION = re.compile(r"paper §\s*([0-9.]+)")


def source(lang: str, ref: str) -> str:
    """A source as a client reads it: 论文第 5.1 节 / "the paper, section 5.1" for `paper §5.1`, a statute by its title."""
    section = _PAPER_SECTION.fullmatch(ref)
    if section:
        return label(lang, "paper_section", section=section.group(1))
    return word(lang, "source", ref)


# ---- messages: the errors and warnings of validate, evaluate, the interviews and the service ----


@functools.lru_cache(maxsize=1)
def _messages() -> dict:
    return _load(i18n_dir() / "messages.yaml").data


@functools.cache
def _message_patterns(lang: str, section: str = "messages") -> tuple:
    """(compiled English pattern, translated template) for each entry of *section*, the most specific first."""
    out = []
    for entry in _messages().get(section) or ():
        if lang not in entry:
            continue
        parts = re.split(r"(\{[a-z_]+\})", entry["en"])
        pattern = "".join(f"(?P<{p[1:-1]}>.+?)" if _expressions.PLACEHOLDER.fullmatch(p) else re.escape(p) for p in parts)
        literal = sum(len(p) for p in parts if not _expressions.PLACEHOLDER.fullmatch(p))
        out.append((literal, re.compile(pattern, re.S), entry[lang]))
    out.sort(key=lambda item: -item[0])
    return tuple((pattern, template) for _, pattern, template in out)


def message(lang: str, english: str) -> str:
    """An English message in *lang*, clause by clause ("; "): a clause the catalog lacks stays in English."""
    if lang == DEFAULT:
        return english
    text = label(lang, "clause_separator").join(_translate_clause(lang, c) or c for c in english.split("; "))
    # a suggested code names its market in the reader's language: 'GB' (United Kingdom) -> 'GB'（英国）
    text = _SUGGESTED_CODE.sub(lambda m: f"'{m.group(1)}'" + label(lang, "parenthesis", text=market(lang, m.group(1))), text)
    return text.replace("） or '", "）" + label(lang, "or") + "'")


_SUGGESTED_CODE = re.compile(r"'([A-Z]{2})' \([^()]*\)")


def _translate_clause(lang: str, english: str) -> str | None:
    types = _messages().get("types", {})
    for pattern, template in _message_patterns(lang):
        found = pattern.fullmatch(english)
        if found:
            values = found.groupdict()
            if "type" in values:
                values["type"] = types.get(values["type"], {}).get(lang, values["type"])
            if "yaml_detail" in values:
                values["yaml_detail"] = _yaml_detail(lang, values["yaml_detail"])
            return _expressions.fill(template, values)
    return None


_YAML_CONTEXT = re.compile(r"(?P<problem>.+) \((?P<context>while [^()]+)\)")


def _yaml_detail(lang: str, english: str) -> str:
    """PyYAML's `problem (context)` in *lang*, each part from the `yaml:` list of messages.yaml where listed."""
    tokens = _messages().get("yaml_tokens") or {}

    def one(text: str) -> str:
        for pattern, template in _message_patterns(lang, "yaml"):
            found = pattern.fullmatch(text)
            if found:
                values = {name: tokens.get(value, {}).get(lang, value) for name, value in found.groupdict().items()}
                return _expressions.fill(template, values)
        return text

    split = _YAML_CONTEXT.fullmatch(english)
    if split is None:
        return one(english)
    return label(lang, "yaml_detail", problem=one(split["problem"]), context=one(split["context"]))


def problem_line(problem: Problem, lang: str = DEFAULT) -> str:
    """`FILE:LINE:COL: message (at $.path)` in *lang*; the place and the path are kept as they are."""
    if lang == DEFAULT:
        return problem.format()
    from ipexpert._errors import one_line

    where = problem.file + "".join(f":{n}" for n in (problem.line, problem.column) if n is not None and problem.line is not None)
    severity = "" if problem.severity == "error" else label(lang, "severity_" + problem.severity) + label(lang, "colon")
    at = label(lang, "at_path", path=problem.path) if problem.path and problem.path != "$" else ""
    return one_line(f"{where}: {severity}{message(lang, problem.message)}{at}")


def word(lang: str, group: str, value) -> str:
    """A value of *group* (priority, category, stage...) as it reads in *lang*; unknown values as given."""
    entry = _labels()["words"].get(group, {}).get(value)
    if entry is None:
        return str(value)
    return entry.get(lang) or entry[DEFAULT]


def date(lang: str, value) -> str:
    """A date as a reader of *lang* writes it: 2026-11-25, or 2026年11月25日."""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if lang == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def rule_text_places(data: dict):
    """(field, path within the rule, English text) for every shown text of a rule, in RULE_FIELDS order."""
    for where in RULE_FIELDS:
        section, _, name = where.partition(".")
        node = data.get(section) if name else data
        if not isinstance(node, dict) or (name or section) not in node:
            continue
        value = node[name or section]
        path = tuple(where.split("."))
        if name == "timeline":
            for i, entry in enumerate(value or ()):
                yield where, path + (i, "action"), entry["action"]
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield where, path + (i,), item
        else:
            yield where, path, value


def check_translations(packs, lang: str = "zh-CN", folder: Path | None = None) -> list[Problem]:
    """A warning for each shown text of a bundled rule whose *lang* translation is missing or stale."""
    bundled = catalog(lang, str(folder) if folder else None)
    problems = []
    for pack in packs:
        cat, file = bundled, f"rules/i18n/{lang}/{pack.name}.yaml"
        if folder is None and not _bundled(pack):
            own = own_pack_translations(pack, lang)
            if own is None or isinstance(own, Problem):
                if own is not None or _has_texts(pack):
                    problems.append(own or _untranslated_pack(pack, lang))
                continue
            cat, file = own, str(translation_file(pack.file, pack.name, lang))
        for rule in pack.rules:
            fields = cat.rules.get((pack.name, rule.id), {})
            for where, place, english in rule_text_places(rule.data):
                if cat.text(pack.name, rule.id, where, english) is not None:
                    continue
                entry = fields.get(where)
                state = "is older than its English text" if entry else "is missing"
                problems.append(
                    rule.doc.problem(
                        rule.path + place,
                        f"the {lang} translation of "
                        f"{rule.key} {where} {state} (update {file}; until then it is shown in English)",
                        severity="warning",
                    )
                )
        for path, english in _shown_values(pack.doc.data):
            if english not in cat.values:
                problems.append(
                    pack.doc.problem(
                        path,
                        f"the {lang} translation of the value {english[:60]!r} is missing "
                        f"(add it under values: in {file}; until then "
                        f"it is shown in English)",
                        severity="warning",
                    )
                )
    return problems


def _shown_values(data: dict):
    """(path, text) of the reference-data and derived strings a rule text may quote: notes, routes, names."""

    def walk(node, path):
        if isinstance(node, str):
            if " " in node and not node.startswith(("http://", "https://", "?", "paper §")):
                yield path, node
        elif isinstance(node, dict):
            for key, value in node.items():
                if key != "source" and not key.endswith("_source"):
                    yield from walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, path + (i,))

    for i, fact in enumerate(data.get("facts") or ()):
        yield from walk(fact, ("facts", i))
    for i, rule in enumerate(data.get("rules") or ()):
        yield from walk(rule.get("derive"), ("rules", i, "derive"))


def _bundled(pack) -> bool:
    return _bundled_file(str(pack.file))


# ---- a consultant's own pack: its translations live beside it, in <pack folder>/i18n/<lang>/<pack>.yaml ----


def translation_file(pack_file: str, pack_name: str, lang: str) -> Path:
    """Where the *lang* translations of the pack written in *pack_file* live (bundled packs: rules/i18n)."""
    if _bundled_file(pack_file):
        return i18n_dir() / lang / f"{pack_name}.yaml"
    return Path(pack_file).parent / "i18n" / lang / f"{pack_name}.yaml"


def pack_catalog(lang: str, pack_file: str, pack_name: str) -> Catalog | None:
    """The translations beside a consultant's pack, or None when it has none; re-read when the file changes."""
    path = translation_file(pack_file, pack_name, lang)
    try:
        stamp = path.stat()
    except OSError:
        return None
    return _pack_catalog(lang, str(path), pack_name, stamp.st_mtime_ns, stamp.st_size)


@functools.lru_cache(maxsize=64)
def _pack_catalog(lang: str, path: str, pack_name: str, mtime_ns: int, size: int) -> Catalog:
    cat = Catalog(lang)
    try:
        cat.add_file(Path(path), pack_name)
    except _document.YAMLInputError as exc:
        raise IPExpertError(exc.problem) from None
    return cat


def own_pack_translations(pack, lang: str):
    """A consultant pack's catalog, None if it has no translation file, or the Problem reading it."""
    try:
        return pack_catalog(lang, pack.file, pack.name)
    except IPExpertError as exc:
        return exc.problems[0]


def _has_texts(pack) -> bool:
    """Whether *pack* shows a reader any text of its own (a pack of overrides alone does not)."""
    return any(True for rule in pack.rules for _ in rule_text_places(rule.data)) or any(_shown_values(pack.doc.data))


def _untranslated_pack(pack, lang: str) -> Problem:
    file = translation_file(pack.file, pack.name, lang)
    return pack.doc.problem(
        ("pack",),
        f"pack {pack.name} has no {lang} translation ({file}): its texts show in English in {lang} outlines; "
        f"start one with: ipexpert rules translation export {pack.file} --lang {lang} -o {pack.name}.{lang}.po",
        severity="warning",
    )


def _bundled_file(source: str) -> bool:
    if source.startswith("<bundled>/"):
        return True
    try:
        return Path(source).resolve().parent == _resources.rules_dir().resolve()
    except OSError:
        return False
