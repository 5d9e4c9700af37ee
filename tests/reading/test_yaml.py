"""The safe YAML reader: positions kept, YAML 1.1 surprises avoided, nothing constructed."""

import pytest

from ipexpert._reading import document as _document


def load(text):
    return _document.load(text, "p.yaml")


def test_positions_are_kept_for_values_and_keys():
    doc = load("firm:\n  name: X\nmarkets:\n  - code: US\n    status: active\n")
    assert doc.position(("markets", 0, "code")) == (4, 11)
    assert doc.position(("firm", "name"), key=True) == (2, 3)


def test_yaml_1_1_booleans_and_dates_stay_strings():
    doc = load("a: NO\nb: on\nc: yes\nd: 2027-05-01\ne: true\nf: 0x1F\n")
    assert doc.data == {"a": "NO", "b": "on", "c": "yes", "d": "2027-05-01", "e": True, "f": 31}


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: !!python/object/apply:os.system [ls]", "is not allowed"),
        ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)"),
        ("a: [\n", "not valid YAML"),
        ("a: b\n---\nc: d\n", "more than one YAML document"),
        ("", "the document is empty"),
        ("a: .nan", "not a finite number"),
    ],
    ids=["object-tag", "duplicate-key", "broken", "two-documents", "empty", "nan"],
)
def test_unsafe_or_broken_yaml_gives_one_positioned_problem(text, message):
    with pytest.raises(_document.YAMLInputError) as caught:
        load(text)
    line = str(caught.value)
    assert line.startswith("p.yaml:")
    assert message in line
    assert "\n" not in line


def test_variables_are_plain_scalars_inside_flow_mappings():
    doc = load("when: {code: ?market, list: [?a, ?b_2]}\n")
    assert doc.data == {"when": {"code": "?market", "list": ["?a", "?b_2"]}}


def test_libyaml_and_the_pure_python_reader_agree_on_every_shipped_file():
    from conftest import ROOT

    files = sorted(ROOT.glob("rules/*.yaml")) + sorted(ROOT.glob("examples/*.yaml")) + sorted(ROOT.glob("rules/tests/*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast = _document.load(text, path.name)
        slow = _document.Document(None, path.name)
        slow.data = _document._Builder(slow).build(_document._compose(text, path.name))
        assert (fast.data, fast.positions, fast.key_positions) == (slow.data, slow.positions, slow.key_positions), path


@pytest.mark.parametrize("text", ["n: 0x" + "f" * 40, "n: 0o" + "7" * 70, "n: 1" + "0" * 18])
def test_hex_and_octal_integers_keep_to_the_18_digit_cap_as_decimals_do(text):
    # 0x and 0o used to be read at any size: valid at /v1/validate, then refused further on.
    with pytest.raises(_document.YAMLInputError) as caught:
        load(text)
    assert "p.yaml:1:4:" in str(caught.value) and "is not a valid int" in caught.value.problem.message
    assert load("n: 0xDE0B6B3A763FFFF").data == {"n": 10**18 - 1}


def _numeric_properties(node, path=()):
    """(path, schema) of every integer or number property of the profile schema."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            yield path, node
        for key, value in node.get("properties", {}).items():
            yield from _numeric_properties(value, path + (key,))


def test_the_profile_schema_allows_no_integer_the_reader_refuses():
    # The schema (what an editor checks against) used to allow 20-digit integers the reader refuses.
    import json

    import jsonschema
    import yaml
    from conftest import ROOT

    import ipexpert

    schema = json.loads((ROOT / "schemas" / "firm-profile.schema.json").read_text(encoding="utf-8"))
    example = (ROOT / "examples" / "model-citizen.yaml").read_text(encoding="utf-8")
    numeric = list(_numeric_properties(schema))
    assert len(numeric) >= 7
    for path, spec in numeric:
        largest = min(spec.get("maximum", 10**18 - 1), 10**18 - 1)
        for value, valid in ((largest, True), (10**18, False), (12345678901234567890, False)):
            data = yaml.safe_load(example)
            data.setdefault(path[0], {})[path[1]] = value
            reader_says = [p.path for p in ipexpert.validate(yaml.safe_dump(data, sort_keys=False))]
            where = "$." + ".".join(path)
            assert jsonschema.Draft202012Validator(spec).is_valid(value) == valid, (where, value)
            assert reader_says == ([] if valid else [where]), (where, value, reader_says)
