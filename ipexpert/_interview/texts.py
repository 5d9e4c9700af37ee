"""The interview's words in each language, read from ipexpert/_interview/LANG.yaml (data, not code)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ipexpert import LANGUAGES  # stated once, in the package
from ipexpert._knowledge import i18n as _i18n
from ipexpert._reading import document as _document

_DIR = Path(__file__).parent


@functools.cache
def texts(lang: str = "en") -> Texts:
    """The texts for *lang* (en or zh-CN); anything else gets English."""
    lang = lang if lang in LANGUAGES else "en"
    return Texts(_document.load((_DIR / f"{lang}.yaml").read_bytes(), f"interview/{lang}.yaml").data)


class Texts:
    """Looks up a UI string, a question's label and help, a choice's name."""

    def __init__(self, data: dict):
        self.lang = data["lang"]
        self.name = data["name"]
        self._ui = data["ui"]
        self._questions = data["questions"]
        self.formats = data["formats"]

    def colon(self) -> str:
        return _i18n.label(self.lang, "colon")

    def paren(self, text) -> str:
        """` (text)` in English, `（text）` in Chinese."""
        return _i18n.label(self.lang, "parenthesis", text=text)

    def date(self, value) -> str:
        return _i18n.date(self.lang, value)

    def level(self, value: str) -> str:
        """A priority or severity (critical, high, medium, low) in this language."""
        return self._ui["levels"].get(value, value)

    def stage(self, value: str) -> str:
        return self._entry("firm.stage").get("choices", {}).get(value, value)

    def ui(self, key: str, **values) -> str:
        text = self._ui[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def _entry(self, schema_path: str) -> dict:
        return self._questions.get(schema_path, {})

    def label(self, question, more: bool = False) -> str:
        entry = self._entry(question.schema_path)
        text = (
            entry.get("more") if more and entry.get("more") else entry.get("label") or question.schema.get("title") or question.id
        )
        return str(text).replace("{item}", self.about(question))

    def about(self, question) -> str:
        """The item a question concerns, its market named in this language: `SPINWELL（美国）`, `德国`."""
        about = question.about or ""
        if question.path and question.path[0] == "markets" and re.fullmatch(r"[A-Z]{2}", about):
            return _i18n.market(self.lang, about)
        found = re.fullmatch(r"(.*) \(([A-Z]{2})\)", about)
        if found and self.lang != "en":
            return found.group(1) + _i18n.label(self.lang, "parenthesis", text=_i18n.market(self.lang, found.group(2)))
        return about

    def help(self, question) -> str:
        return self._entry(question.schema_path).get("help", "")

    def choice(self, question, value) -> str:
        """The readable name of *value* for a choice question (a group's member: its own label)."""
        if question.kind == "group":
            member = next((m for m in question.fields if m.path[-1] == value), None)
            return self._entry(member.schema_path).get("label", value) if member else str(value)
        named = self._entry(question.schema_path).get("choices", {}).get(value)
        if named is None and isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value):
            return _i18n.market_with_code(self.lang, value)  # a market: 美国（US）
        return str(value) if named is None else named
