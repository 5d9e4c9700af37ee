"""What the rules read and say: the fact fields and values their conditions name, which profile fields feed them, and a rule's title before every value is known."""

from __future__ import annotations

from ipexpert._knowledge import conditions as _conditions
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import i18n as _i18n
from ipexpert._reading import facts as _facts


def _feeds(schema_path: str) -> list[tuple[str, str]]:
    """The (fact kind, field) pairs a profile field (as `products[].origin`) becomes, as the facts stage declares them."""
    place: list[str] = []
    for part in schema_path.split("."):
        place += [part[:-2], "[]"] if part.endswith("[]") else [part]
    return _facts.fed_by(tuple(place))


def _patterns(rule):
    """Every fact pattern of *rule*'s conditions (under not, exists and group too): the condition tree's."""
    return [pattern for pattern, _, _ in _conditions.patterns(rule.conditions)]


def fields_read_by_rules(rule_base) -> dict[tuple[str, str], list[str]]:
    """{(fact kind, field): [rule keys]} for every fact field some rule's conditions read."""
    read: dict[tuple[str, str], list[str]] = {}
    for rule in rule_base.rules:
        for pattern in _patterns(rule):
            for name in pattern.fields:
                keys = read.setdefault((pattern.kind, name), [])
                if rule.key not in keys:
                    keys.append(rule.key)
    return read


def literals_read_by_rules(rule_base) -> dict[tuple[str, str], set]:
    """{(kind, field): values} that rules compare a field with, e.g. thresholds of `gt:`."""
    found: dict[tuple[str, str], set] = {}
    for rule in rule_base.rules:
        for pattern in _patterns(rule):
            for name, test in pattern.fields.items():
                values = found.setdefault((pattern.kind, name), set())
                for value in test.values() if isinstance(test, dict) else [test]:
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, (int, float, str)) and not isinstance(item, bool) and not _expressions.variable(item):
                            values.add(item)
    return found


def _title(rule, bindings: dict, translation=None) -> str:
    """*rule*'s title in *translation*'s language (English by default), filled from *bindings*; a value not
    known yet reads as words ("your brand", "a market"), or "…" where no word fits."""
    translation = translation or _i18n.Translation()
    text = translation.fill(rule, "title", rule.data.get("title") or rule.key, bindings)
    missing = [name for name in _expressions.placeholders(text) if name not in bindings]
    if translation.lang == "zh-CN":
        text = _i18n.tighten(text, missing)
    opens_with_unknown = any(text.startswith("{" + name + "}") for name in missing)
    text = _expressions.PLACEHOLDER.sub(lambda m: _unknown(translation.lang, m.group(1)), text)
    return text[:1].upper() + text[1:] if opens_with_unknown else text  # "Your brand cannot be enrolled..."


def _unknown(lang: str, name: str) -> str:
    said = _i18n.word(lang, "unknown", name)
    return "…" if said == name else said
