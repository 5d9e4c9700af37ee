"""What a rule's `recommend:` or `risk:` says, read once: its subject and the variables its words use.

Two firings of one rule make one item of the outline when they have the same identity.
A conclusion that names a subject (`markets`, `assets`, `products`) declares that its
firings merge by subject: one item per subject, whatever else they bound. A conclusion
with no subject is identified by the values of the variables its words use, so firings
whose words differ stay separate items. The outline builds identities from this, and
`rules check` warns where the words of a conclusion with a subject use a variable the
subject does not fix (firings that differ there would merge into one item, and only one
wording would be shown).
"""

from __future__ import annotations

from dataclasses import dataclass

from ipexpert._knowledge import expressions as _expressions

SUBJECT_FIELDS = ("markets", "assets", "products")
SECTIONS = ("recommend", "risk")


@dataclass(frozen=True)
class Conclusion:
    """One `recommend:` or `risk:` of a rule."""

    section: str  # "recommend" or "risk"
    has_subject: bool  # it names markets, assets or products: its firings merge by subject
    subject_variables: frozenset  # the variables its subject reads
    words: tuple  # (variable, path in the rule) for each variable its words use, first use first

    def word_variables(self) -> list:
        return list(dict.fromkeys(name for name, _ in self.words))

    def unfixed(self) -> list:
        """(variable, path) of the words' variables the subject does not fix, each at its first use."""
        if not self.has_subject:
            return []
        seen, out = set(), []
        for name, path in self.words:
            if name not in self.subject_variables and name != "as_of" and name not in seen:
                seen.add(name)
                out.append((name, path))
        return out


def conclusions(data: dict) -> list[Conclusion]:
    """The conclusions of a rule's data (a rule may both recommend and name a risk)."""
    out = []
    for section in SECTIONS:
        spec = data.get(section)
        if not isinstance(spec, dict):
            continue
        declared = [field for field in SUBJECT_FIELDS if spec.get(field)]
        subject = set().union(*(_expressions.variables_in(spec[field]) for field in declared)) if declared else set()
        words = list(_words(data, section))
        out.append(Conclusion(section, bool(declared), frozenset(subject), tuple(words)))
    return out


def conclusion(data: dict, section: str) -> Conclusion:
    return next(c for c in conclusions(data) if c.section == section)


def _words(data, section):
    """(variable, path) for each variable the item's words use: title, because, actions, timeline, level, due."""
    spec = data[section]
    title = ((section, "title"), spec["title"]) if "title" in spec else (("title",), data.get("title", ""))
    texts: list[tuple[tuple, object]] = [title, (("because",), data.get("because", ""))]
    for key in ("actions", "timeline"):
        for i, item in enumerate(spec.get(key) or ()):
            texts.append(((section, key, i), item))
    for path, item in texts:
        yield from _template_variables(item, path)
    for key in ("priority", "severity", "due", "kind"):
        if key in spec:
            for name, path in _operand_variables(spec[key], (section, key)):
                yield name, path


def _template_variables(item, path):
    if isinstance(item, str):
        for name in sorted(_expressions.placeholders(item), key=lambda name: item.index("{" + name + "}")):
            yield name, path
    elif isinstance(item, dict):
        for key, value in item.items():
            yield from _template_variables(value, path + (key,))
            if key == "date":
                yield from _operand_variables(value, path + (key,))


def _operand_variables(item, path):
    name = _expressions.variable(item)
    if name:
        yield name, path
    elif isinstance(item, dict):
        for key, value in item.items():
            yield from _operand_variables(value, path + (key,))
    elif isinstance(item, list):
        for i, value in enumerate(item):
            yield from _operand_variables(value, path + (i,))
