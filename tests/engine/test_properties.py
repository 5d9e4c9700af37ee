"""Property tests: for any profile, `evaluate` returns a schema-valid outline or raises InvalidProfileError.

Profiles are drawn from the profile schema itself (then made consistent, so most of
them evaluate), and mutated: a value replaced by any JSON value, a key dropped or
added, the YAML text cut or corrupted. Nothing else may come out: no other
exception, no outline that breaks schemas/outline.schema.json.

The CI run is bounded (IPEXPERT_PROPERTY_EXAMPLES, default 150 examples per test);
scripts/long_property_run.py runs the same properties for as long as asked.
"""

from __future__ import annotations

import datetime
import json
import os

import jsonschema
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ipexpert

EXAMPLES = int(os.environ.get("IPEXPERT_PROPERTY_EXAMPLES", "150"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
AS_OF = datetime.date(2026, 11, 25)
PROFILE_SCHEMA = json.loads((ROOT / "schemas" / "firm-profile.schema.json").read_text())
OUTLINE_SCHEMA = json.loads((ROOT / "schemas" / "outline.schema.json").read_text())
OUTLINE = jsonschema.Draft202012Validator(OUTLINE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

tried = {"examples": 0}  # read by scripts/long_property_run.py


_RULES = []


def default_rules():
    if not _RULES:
        _RULES.append(ipexpert.load_rules())
    return _RULES[0]


# Any text, including control characters, markup, right-to-left marks and lone surrogates.
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=40)
NAMES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    st.sampled_from(["Spinwell", "深圳市旋转贸易", "<b>x</b> | `y`", "\x1b[31mRed", "NO", "on", "2027-05-01", "{market}"]),
)
DATES = st.dates(datetime.date(1990, 1, 1), datetime.date(2060, 12, 31)).map(datetime.date.isoformat)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), ANY_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ANY_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def from_schema(schema: dict, name: str = ""):
    """A strategy for values valid against *schema* (the subset of JSON Schema the profile uses)."""
    if "$ref" in schema:  # the code lists live in $defs
        return from_schema(PROFILE_SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]], name)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", [])
        optional = [key for key in props if key not in required and key != "$schema"]
        return st.fixed_dictionaries(
            {key: from_schema(props[key], key) for key in required},
            optional={key: from_schema(props[key], key) for key in optional},
        )
    if kind == "array":
        items = from_schema(schema.get("items", {}), name)
        low = schema.get("minItems", 0)
        high = max(low, schema.get("maxItems", 4))
        if schema.get("uniqueItems"):
            return st.lists(items, min_size=low, max_size=high, unique_by=lambda v: json.dumps(v, sort_keys=True))
        return st.lists(items, min_size=low, max_size=high)
    if kind == "string":
        if schema.get("format") == "date":
            return DATES
        if "pattern" in schema:
            return st.from_regex(schema["pattern"].replace("\\d", "[0-9]"), fullmatch=True).filter(lambda s: s.isascii())
        if name == "name":
            return NAMES.filter(lambda s: 0 < len(s) <= schema.get("maxLength", 200))
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 30), 30))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e12), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    return JSON_VALUES


def consistent(profile: dict) -> dict:
    """The same profile with the cross-field facts the schema cannot express put right."""
    markets, seen = [], set()
    for market in profile["markets"]:
        if market["code"] not in seen:
            seen.add(market["code"])
            if market["status"] == "active":
                market.pop("launch_date", None)
            markets.append(market)
    profile["markets"] = markets
    products, names = [], set()
    for product in profile.get("products", []):
        if product["name"] not in names:
            names.add(product["name"])
            if "markets" in product:
                product["markets"] = [code for code in product["markets"] if code in seen] or [markets[0]["code"]]
            products.append(product)
    if "products" in profile:
        profile["products"] = products
    assets, keys = [], set()
    for asset in profile.get("ip_assets", []):
        if (asset["type"], asset["name"]) in keys:
            continue
        keys.add((asset["type"], asset["name"]))
        if asset["type"] not in ("patent", "utility_model"):
            asset.pop("invented_in", None)
            asset.pop("security_examination", None)
        for reg in asset.get("registrations", []):
            # a registration date needs the registered status and comes at least 6 months after filing
            if reg["status"] != "registered" or (
                "filed" in reg and reg.get("registered", "9999") < f"{int(reg['filed'][:4]) + 1:04d}"
            ):
                reg.pop("registered", None)
            if "filed" in reg and "expires" in reg and reg["expires"] <= reg["filed"]:
                reg["filed"], reg["expires"] = reg["expires"], reg["filed"]
                if reg["filed"] == reg["expires"]:
                    del reg["expires"]
            if reg["jurisdiction"] != "WO":
                reg.pop("designations", None)
        assets.append(asset)
    if "ip_assets" in profile:
        profile["ip_assets"] = assets
    return profile


PROFILES = from_schema(PROFILE_SCHEMA).map(consistent)


def paths(value, path=()):
    """Every path inside a JSON value."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, path + (index,))


@st.composite
def mutated(draw):
    """A profile with one to three random changes."""
    profile = draw(PROFILES)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(profile))))
        how = draw(st.sampled_from(["replace", "drop", "add"]))
        if not where:
            continue
        parent = profile
        for part in where[:-1]:
            parent = parent[part]
        if how == "replace":
            parent[where[-1]] = draw(JSON_VALUES)
        elif how == "drop":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(ANY_TEXT)] = draw(JSON_VALUES)
        else:
            parent.append(draw(JSON_VALUES))
    return profile


@st.composite
def corrupted_text(draw):
    """The YAML text of a valid profile with bytes cut, repeated or replaced."""
    text = yaml.safe_dump(draw(PROFILES), allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "truncate"]))
        if how == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif how == "insert":
            text = (
                text[:at]
                + draw(
                    st.binary(min_size=1, max_size=8)
                    | st.sampled_from(
                        [
                            b"&a",
                            b"*a",
                            b"!!python/name:os.system ",
                            b"\t",
                            b"- ",
                            b": ",
                            b"{",
                            b"]",
                            b"\xef\xbb\xbf",
                            b"\r\n",
                            b"---\n",
                        ]
                    )
                )
                + text[at:]
            )
        else:
            text = text[:at]
    return text


def assert_outline_or_invalid(profile):
    """The property: a valid outline, or InvalidProfileError with one-line positioned problems."""
    tried["examples"] += 1
    try:
        outline = ipexpert.evaluate(profile, default_rules(), as_of=AS_OF)
    except ipexpert.InvalidProfileError as exc:
        assert exc.problems
        for problem in exc.problems:
            line = problem.format()
            assert "\n" not in line and line.startswith("<profile>"), line
        return None
    errors = list(OUTLINE.iter_errors(json.loads(outline.to_json())))
    assert errors == [], errors[0].message
    return outline


@PROPERTY_SETTINGS
@given(PROFILES)
def test_a_schema_valid_profile_gives_a_valid_outline_or_a_clean_error(profile):
    assert_outline_or_invalid(profile)


@PROPERTY_SETTINGS
@given(PROFILES)
def test_a_schema_valid_profile_passes_validate_after_the_consistency_fixes(profile):
    tried["examples"] += 1
    assert ipexpert.validate(profile) == []
    assert ipexpert.evaluate(profile, default_rules(), as_of=AS_OF).to_json()


@PROPERTY_SETTINGS
@given(mutated())
def test_a_mutated_profile_gives_a_valid_outline_or_a_clean_error(profile):
    assert_outline_or_invalid(profile)


@PROPERTY_SETTINGS
@given(corrupted_text())
def test_corrupted_yaml_text_gives_a_valid_outline_or_a_clean_error(text):
    assert_outline_or_invalid(text)
