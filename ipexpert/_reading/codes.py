"""Market and jurisdiction codes: ISO 3166-1 alpha-2 (from pycountry), plus EU and WO.

A market is a country (its ISO 3166-1 alpha-2 code) or EU, the European Union as one market
(an EU trade mark or design at the EUIPO). A registration's jurisdiction may also be WO, an
international registration (Madrid or Hague) recorded by WIPO. The profile schema lists these
codes as enums so an editor completes them; this module supplies the list, the names, the
"did you mean" for a mistyped code, and the same check for codes written in rule packs.

`UK` is refused: it is not an ISO 3166-1 code (the United Kingdom is GB), and accepting both
would split one market's facts and registrations in two. The message says to write GB.
"""

from __future__ import annotations

import functools
import unicodedata

from ipexpert._errors import Problem

EU = "EU"
WO = "WO"
UK_MESSAGE = "'UK' is not an ISO 3166-1 code: the United Kingdom is GB"
# The codes of the bundled jurisdiction facts come first in suggestions (markets sellers enter).
_PREFERRED = ("CN", "US", "GB", "DE", "FR", "JP", "KR", "IN", "AU", "CA", "MX", "BR", "EU")


@functools.cache
def iso_codes() -> tuple[str, ...]:
    """Every ISO 3166-1 alpha-2 code, sorted (pycountry's copy of the ISO list)."""
    import pycountry

    return tuple(sorted(country.alpha_2 for country in pycountry.countries))


def market_codes() -> tuple[str, ...]:
    """What a market may be: a country, or EU."""
    return iso_codes() + (EU,)


def jurisdiction_codes() -> tuple[str, ...]:
    """What a registration's jurisdiction may be: a country, EU, or WO (international registration)."""
    return iso_codes() + (EU, WO)


def name(code: str) -> str:
    """`China` for CN, `European Union` for EU; the code itself when unknown."""
    if code == EU:
        return "European Union"
    if code == WO:
        return "international registration (WIPO)"
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def is_code_list(values) -> bool:
    """True when a schema enum is one of the code lists (so its error message can be specific)."""
    return isinstance(values, list) and len(values) > 200 and "GB" in values and "CN" in values


def suggestions(word, allowed) -> list[str]:
    """The codes a mistyped *word* most likely meant: a case fix, GB for UK, a name, or a one-letter slip."""
    allowed = set(allowed)
    if not isinstance(word, str):
        return []
    text = word.strip()
    if text.upper() == "UK":
        return ["GB"]
    if text.upper() in allowed and text.upper() != text:
        return [text.upper()]
    if 2 <= len(text) <= 60:
        by_name = _by_name(text, allowed)
        if by_name:
            return [by_name]
    if len(text) != 2:
        return []
    up = text.upper()
    close = [c for c in allowed if sum(a != b for a, b in zip(c, up)) == 1]
    return sorted(close, key=lambda c: (c not in _PREFERRED, _PREFERRED.index(c) if c in _PREFERRED else 0, c))[:3]


@functools.cache
def cldr_names(locale: str) -> dict[str, str]:
    """Territory names in *locale* by code (Babel's copy of CLDR): 美国 for US, 欧盟 for EU in zh_Hans_CN."""
    from babel import Locale

    return dict(Locale.parse(locale).territories)


@functools.cache
def _chinese_codes() -> dict[str, str]:
    names = {name: code for code, name in cldr_names("zh_Hans_CN").items() if code in set(jurisdiction_codes())}
    names["国际注册"] = WO
    return names


def code_for_name(text: str) -> str | None:
    """The code a person means by 中国, ＣＮ, cn or China (full-width forms read as their ASCII twins), or None."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if plain.upper() in set(jurisdiction_codes()):
        return plain.upper()
    return _chinese_codes().get(plain) or _by_name(plain, jurisdiction_codes())


def _by_name(text: str, allowed) -> str | None:
    import pycountry

    if text in _chinese_codes():
        return _chinese_codes()[text] if _chinese_codes()[text] in allowed else None
    if text.lower() in ("europe", "european union"):
        return EU if EU in allowed else None
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return found.alpha_2 if found.alpha_2 in allowed else None


def message(word, allowed) -> str:
    """The one-line explanation for a value that is not one of the *allowed* codes."""
    allowed = list(allowed)
    if isinstance(word, str) and word.strip().upper() == "UK":
        head = UK_MESSAGE
    else:
        shown = repr(word) if isinstance(word, str) else str(word)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        extra = [c for c in (EU, WO) if c in allowed]
        plus = f" (or {' or '.join(extra)})" if extra else ""
        head = f"{shown} is not an ISO 3166-1 alpha-2 country code{plus}"
    hints = suggestions(word, allowed)
    if hints:
        head += "; did you mean " + " or ".join(f"{c!r} ({name(c)})" for c in hints) + "?"
    return head


def schema_defs() -> dict:
    """The `$defs` of the profile schema that list the codes (kept in sync by a test)."""
    return {
        "country_code": {
            "title": "Country code",
            "description": "ISO 3166-1 alpha-2 country code (the United Kingdom is GB).",
            "enum": list(iso_codes()),
        },
        "market_code": {
            "title": "Market code",
            "description": "ISO 3166-1 alpha-2 country code (the United Kingdom is GB), or EU for the European Union (EUIPO).",
            "enum": list(market_codes()),
        },
        "jurisdiction_code": {
            "title": "Jurisdiction code",
            "description": "ISO 3166-1 alpha-2 country code (the United Kingdom is GB), EU (EUIPO), or WO (international registration, Madrid or Hague).",
            "enum": list(jurisdiction_codes()),
        },
    }


# ---- Codes written in rule packs ----

# Fact fields that hold one market or jurisdiction code, and those that hold a list of them.
CODE_FIELDS = {"code", "market", "jurisdiction", "home_country", "home"}
CODE_LIST_FIELDS = {"markets", "designations", "taken_in", "members"}
# Fields whose values a rule text may quote as a market's name (customs offices are keyed by region).
TEXT_CODE_FIELDS = CODE_FIELDS | CODE_LIST_FIELDS | {"region", "office"}


def pack_problems(doc) -> list[Problem]:
    """Codes in a rule pack's reference facts that are not valid codes, each placed (rule conditions: `field_problems`)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    found = []
    for i, item in enumerate(data.get("facts", []) or []):
        if isinstance(item, dict):
            for kind, fields in item.items():
                found += _fields(doc, ("facts", i, kind), fields)
    for i, item in enumerate(data.get("facts", []) or []):
        if isinstance(item, dict) and "eu" in item:
            for j, code in enumerate((item["eu"] or {}).get("members", []) or []):
                if code in (EU, WO):
                    found.append(doc.problem(("facts", i, "eu", "members", j), f"{code} cannot be an EU member state"))
    return found


def field_problems(doc, path, fields) -> list[Problem]:
    """Literal codes in one fact pattern's *fields* (written at *path* of *doc*) that are not valid codes."""
    return _fields(doc, path, fields)


def _fields(doc, path, fields) -> list[Problem]:
    """Literal codes in *fields* (a fact or a pattern): a plain value, an eq/in/contains operand, or a list."""
    found: list[Problem] = []
    if not isinstance(fields, dict):
        return found
    for name_, spec in fields.items():
        if name_ in CODE_FIELDS:
            found += _literals(doc, path + (name_,), spec, single=True)
        elif name_ in CODE_LIST_FIELDS:
            found += _literals(doc, path + (name_,), spec, single=False)
    return found


def _literals(doc, path, spec, single: bool) -> list[Problem]:
    items = []
    if isinstance(spec, dict):
        for op in ("eq", "in", "contains", "not_in"):
            if op in spec:
                operand = spec[op]
                if isinstance(operand, list):
                    items += [(path + (op, j), v) for j, v in enumerate(operand)]
                else:
                    items.append((path + (op,), operand))
    elif isinstance(spec, list):
        items = [(path + (j,), v) for j, v in enumerate(spec)]
    elif single:
        items = [(path, spec)]
    allowed = jurisdiction_codes()
    return [
        doc.problem(where, message(value, allowed))
        for where, value in items
        if isinstance(value, str) and not value.startswith(("?", "$")) and value not in allowed  # a variable
    ]
