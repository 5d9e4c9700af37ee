"""Reading a typed answer: the types the schema expects, full-width input, markets by name, yes and no in both languages."""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import TYPE_CHECKING

from ipexpert._reading import codes as _codes
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile

if TYPE_CHECKING:
    from ipexpert._interview.questions import Question


class _Absent:
    def __repr__(self):
        return "<absent>"


_ABSENT = _Absent()


# What separates typed values: commas, the Chinese comma and enumeration comma, semicolons (and, for codes, spaces).
_NAME_SEPARATORS = re.compile(r"[,，、;；]")
_CODE_SEPARATORS = re.compile(r"[,，、;；\s]+")
_YES = ("yes", "true", "y", "1", "是", "对", "有", "是的")
_NO = ("no", "false", "n", "0", "否", "不", "不是", "没有", "无")


def _is_code(question: Question) -> bool:
    return question.schema_path.endswith(("code", "home_country", "jurisdiction", "markets", "designations", "taken_in"))


def _convert(question: Question, raw):
    """(value, problem message) for form text *raw*: the types the schema expects.

    Full-width input reads as its ASCII twin (ＣＮ, ２０２７, 「，」 between values), and a market may be
    typed by its name (中国, 美国, Germany) as well as its code.
    """
    kind = question.type
    if kind == "list":
        if isinstance(raw, list):  # values picked from the choices
            parts = [str(v).strip() for v in raw]
        else:  # typed
            text = "" if raw is None else str(raw)
            names = question.schema_path == "ip_assets[].products"
            parts = _NAME_SEPARATORS.split(text) if names else _CODE_SEPARATORS.split(text)
        out = []
        for part in parts:
            part = part.strip()
            if question.schema_path != "ip_assets[].products" and part != "other":
                part = unicodedata.normalize("NFKC", part)
                if _is_code(question) and part:
                    code = _codes.code_for_name(part)
                    if code is None:
                        return _ABSENT, f"{part!r} is not a market: write a country code such as CN or US, or its name"
                    part = code
                else:
                    part = part.lower() if question.schema_path == "channels" else part.upper()
            if part and part != "other" and part not in out:
                out.append(part)
        return (out if out else _ABSENT), None
    text = "" if raw is None else str(raw).strip()
    if kind in ("boolean", "integer", "number") or _is_code(question):
        text = unicodedata.normalize("NFKC", text)
    if text == "":
        if question.required:
            return _ABSENT, "an answer is needed"
        return _ABSENT, None
    if kind == "boolean":
        if text.lower() in _YES:
            return True, None
        if text.lower() in _NO:
            return False, None
        return _ABSENT, f"{text!r} is not yes or no"
    if kind == "integer":
        try:
            return int(text), None
        except ValueError:
            return text, None  # the schema check says what is wrong, as validate does
    if kind == "number":
        try:
            number = float(text)
            return (int(number) if number.is_integer() else number), None
        except ValueError:
            return text, None
    if _is_code(question):
        code = _codes.code_for_name(text)
        if code is None and not (len(text) == 2 and text.isascii()):
            return _ABSENT, f"{text!r} is not a market: write a country code such as CN or US, or its name"
        return code or text.upper(), None  # a two-letter slip gets the schema's "did you mean"
    return text, None


def _problems_at(profile: dict, path: tuple) -> list[str]:
    """The messages `validate` gives for *profile* at or under *path* (the rest may be unfinished)."""
    doc = _profile.read(copy.deepcopy(profile), "<answers>")
    prefix = _document.json_path(path)
    found = []
    for problem in _profile.problems(doc) or []:
        if problem.path == prefix or problem.path.startswith(prefix + ".") or problem.path.startswith(prefix + "["):
            if problem.message not in found:
                found.append(problem.message)
    return found
