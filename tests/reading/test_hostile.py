"""Hostile and broken input: each corpus item gives one clear positioned error (exit 1), or a correct result.

The corpus lives in tests/hostile/ (profiles/ and rules/); inputs too big to commit are
made here in tmp_path. Every profile goes through the CLI (file and stdin), `validate`,
and the library API; every rule pack through `evaluate --rules` and `load_rules`.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import AS_OF, ROOT, SPINWELL

import ipexpert
from ipexpert._reading import document as _document

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
PROFILES = HOSTILE / "profiles"
PACKS = HOSTILE / "rules"
PWNED = Path("/tmp/ipexpert-hostile-pwned")

OK = None  # the outcome of an input that must evaluate correctly

# Profile -> (LINE:COL, pattern of the message) of the first problem, or OK.
PROFILE_CASES = {
    # YAML safety
    "alias-bomb.yaml": ("7:4", r"this value expands to more than 200,000 values through aliases \(an alias bomb\?\); refused"),
    "alias-recursive.yaml": ("4:10", r"an alias refers to a value that contains it"),
    "alias-undefined.yaml": ("2:9", r"not valid YAML: found undefined alias 'nowhere'"),
    "tag-python-object-apply.yaml": (
        "1:7",
        r"the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed.* \(at \$\.firm\)",
    ),
    "tag-python-object-new.yaml": ("2:9", r"the tag '.*python/object/new:os.system' is not allowed"),
    "tag-python-name.yaml": ("2:9", r"the tag '.*python/name:os.system' is not allowed"),
    "tag-python-module.yaml": ("2:9", r"the tag '.*python/module:os' is not allowed"),
    "tag-verbatim-python.yaml": ("2:9", r"the tag '.*python/object/apply:os.system' is not allowed"),
    "tag-binary.yaml": ("2:9", r"the tag 'tag:yaml.org,2002:binary' is not allowed"),
    "tag-set.yaml": ("6:5", r"the tag 'tag:yaml.org,2002:set' is not allowed.* \(at \$\.markets\[0\]\)"),
    "tag-timestamp.yaml": ("10:18", r"the tag 'tag:yaml.org,2002:timestamp' is not allowed"),
    "tag-custom.yaml": ("3:17", r"the tag '!country' is not allowed.* \(at \$\.firm\.home_country\)"),
    "tag-custom-root.yaml": ("1:1", r"the tag '!profile' is not allowed"),
    "tag-directive.yaml": ("6:14", r"the tag 'tag:example.com,2026:count' is not allowed"),
    "duplicate-key-top.yaml": ("11:1", r"duplicate key 'firm' \(first at line 1\) \(at \$\.firm\)"),
    "duplicate-key-nested.yaml": ("8:5", r"duplicate key 'status' \(first at line 7\) \(at \$\.markets\[0\]\.status\)"),
    "duplicate-key-json.json": ("1:46", r"duplicate key 'name' \(first at line 1\) \(at \$\.firm\.name\)"),
    "multi-document.yaml": ("11:1", r"more than one YAML document"),
    "multi-document-explicit-end.yaml": ("13:1", r"more than one YAML document"),
    "empty.yaml": ("1:1", r"the document is empty"),
    "comments-only.yaml": ("1:1", r"the document is empty"),
    "explicit-null-document.yaml": ("2:1", r"a profile is a mapping with firm: and markets:, not a single value"),
    "top-level-list.yaml": ("1:1", r"a profile is a mapping with firm: and markets:, not a list"),
    "top-level-list.json": ("1:1", r"a profile is a mapping with firm: and markets:, not a list"),
    "top-level-scalar.yaml": ("1:1", r"a profile is a mapping with firm: and markets:, not a single value"),
    "key-integer.yaml": ("11:1", r"unknown key '1'.* \(at \$\['1'\]\)"),
    "key-null.yaml": ("11:1", r"unknown key '~'"),
    "key-complex.yaml": ("11:3", r"a mapping key must be a plain string"),
    "key-mapping-flow.yaml": ("11:1", r"a mapping key must be a plain string"),
    "merge-key.yaml": ("1:1", r"unknown key 'base'"),
    "tab-indentation.yaml": ("3:1", r"not valid YAML: found character '\\t' that cannot start any token"),
    "unclosed-flow.yaml": ("12:1", r"not valid YAML: expected ',' or '\]'"),
    "bad-escape.yaml": ("2:19", r"not valid YAML: found unknown escape character 'q'"),
    "surrogate-escape.yaml": ("2:9", r"unpaired surrogate escape .* \(at \$\.firm\.name\)"),
    "invalid-utf8.yaml": ("2:17", r"not UTF-8 text \(byte 0xff\)"),
    "latin1.yaml": ("2:13", r"not UTF-8 text \(byte 0xe9\)"),
    "utf16.yaml": ("1:1", r"not UTF-8 text \(byte 0xff\); it looks like UTF-16, save it as UTF-8"),
    "nul-byte.yaml": ("4:15", r"binary data \(NUL byte\) is not allowed"),
    "control-char.yaml": ("2:17", r"character U\+001B is not allowed"),
    "binary-gzip.yaml": ("1:2", r"not UTF-8 text \(byte 0x8b\)"),
    "binary-png.yaml": ("1:1", r"not UTF-8 text \(byte 0x89\)"),
    "json-unclosed.json": ("3:1", r"not valid YAML: expected ',' or '\]'"),
    "json-number-name.json": ("1:19", r"42 should be of type string \(quote it\) \(at \$\.firm\.name\)"),
    "json-nan.json": ("1:68", r"'NaN' should be of type number"),
    "json-overflow.json": ("1:68", r"'1e999' is not a finite number"),
    "bom.yaml": OK,
    "crlf.yaml": OK,
    "cr-only.yaml": OK,
    "bom-crlf.json": OK,
    "json-trailing-comma.json": OK,  # a flow mapping may end with a comma in YAML
    "json-single-quotes.json": OK,  # single-quoted strings are YAML
    "json-emoji-escape.json": OK,  # a UTF-16 surrogate pair, as JSON writes U+1F300
    # YAML 1.1 surprises and wrong types
    "norway-unquoted.yaml": OK,
    "norway-home.yaml": OK,
    # ON stays the string 'ON' (not YAML 1.1's true), and is then refused: it is no country code.
    "on-off-yes-as-codes.yaml": (
        "6:11",
        r"'ON' is not an ISO 3166-1 alpha-2 country code \(or EU\); did you mean 'CN' \(China\)",
    ),
    "norway-lowercase.yaml": ("6:11", r"'no' is not an ISO 3166-1 alpha-2 country code \(or EU\); did you mean 'NO' \(Norway\)"),
    "yes-for-boolean.yaml": ("12:17", r"'yes' should be of type boolean \(write true or false\)"),
    "off-for-boolean.yaml": ("12:17", r"'off' should be of type boolean \(write true or false\)"),
    "norway-for-boolean.yaml": ("14:23", r"'No' should be of type boolean \(write true or false\)"),
    "date-month-13.yaml": ("10:18", r"'2027-13-45' is not a valid date \(YYYY-MM-DD\)"),
    "date-feb-30.yaml": ("10:18", r"'2027-02-30' is not a valid date"),
    "date-as-integer.yaml": ("10:18", r"20270501 should be of type string \(quote it\)"),
    "date-with-time.yaml": ("10:18", r"'2027-05-01T10:00:00Z' is not a valid date"),
    "date-slashes.yaml": ("10:18", r"'2027/05/01' is not a valid date"),
    "date-year-1.yaml": ("10:18", r"0001-01-01 is out of range; a date here is between 1800-01-01 and 2200-12-31"),
    "date-year-9999.yaml": ("10:18", r"9999-12-31 is out of range"),
    "date-for-founded.yaml": ("5:12", r"'2023-01-01' should be of type integer"),
    "number-for-name.yaml": ("2:9", r"42 should be of type string \(quote it\) \(at \$\.firm\.name\)"),
    "bool-for-name.yaml": ("2:9", r"true should be of type string \(quote it\)"),
    "null-for-name.yaml": ("2:8", r"null should be of type string"),
    "empty-name.yaml": ("2:9", r"'' should be non-empty"),
    "string-for-employees.yaml": ("4:14", r"'12' should be of type integer \(at \$\.firm\.employees\)"),
    "word-for-employees.yaml": ("4:14", r"'twelve' should be of type integer"),
    "float-for-employees.yaml": ("4:14", r"12.5 should be of type integer"),
    "bool-for-employees.yaml": ("4:14", r"true should be of type integer"),
    "negative-employees.yaml": ("4:14", r"-3 is less than the minimum of 0"),
    "huge-int-employees.yaml": ("4:14", r"'9{57}'\.\.\. is not a valid int"),
    "hex-employees.yaml": OK,
    "inf-revenue.yaml": ("5:23", r"'.inf' is not a finite number"),
    "overflow-revenue.yaml": ("5:23", r"'1e999' is not a finite number"),
    "dict-for-markets.yaml": ("3:3", r'\{"code": "US", "status": "active"\} should be of type array \(at \$\.markets\)'),
    "string-for-markets.yaml": ("2:10", r"'US, DE' should be of type array"),
    "empty-markets.yaml": ("2:10", r"needs at least 1 item\(s\) \(at \$\.markets\)"),
    "list-for-firm.yaml": ("1:7", r'\["A", "CN"\] should be of type object \(at \$\.firm\)'),
    "missing-firm.yaml": ("1:1", r"missing required key 'firm'"),
    "unknown-top-key.yaml": ("11:1", r"unknown key 'notes'; allowed: .* \(at \$\.notes\)"),
    "misspelt-key.yaml": ("1:1", r"missing required key 'markets'"),
    "misspelt-enum.yaml": ("7:13", r"'actve' is not one of active, planned; did you mean 'active'\?"),
    # profile semantics
    "product-in-unlisted-market.yaml": (
        "14:19",
        r"product sold in FR, which is not among the firm's markets \(US, JP\) \(at \$\.products\[0\]\.markets\[1\]\)",
    ),
    "registration-expires-before-filed.yaml": ("18:18", r"expires 2020-01-09, not after it was filed \(2024-01-10\)"),
    "registration-expires-when-filed.yaml": ("18:18", r"expires 2024-01-10, not after it was filed \(2024-01-10\)"),
    "launch-date-on-active-market.yaml": ("8:18", r"launch_date is for planned markets; this market is active"),
    "market-listed-twice.yaml": (
        "11:11",
        r"market US is listed twice \(first at \$\.markets\[0\]\) \(at \$\.markets\[2\]\.code\)",
    ),
    "asset-listed-twice.yaml": ("15:11", r"trademark 'HOSTILE' is listed twice \(at \$\.ip_assets\[1\]\.name\)"),
    "product-listed-twice.yaml": ("14:11", r"product 'Tri-spinner' is listed twice"),
    "product-market-twice.yaml": ("14:14", r"the list has duplicate items \(at \$\.products\[0\]\.markets\)"),
    "designations-not-wo.yaml": ("17:23", r"designations are only for international \(WO\) registrations"),
    "several-problems.yaml": ("11:11", r"market US is listed twice"),
    # names that must come out escaped, and names that must simply work
    "markup-in-names.yaml": OK,
    "cjk-names.yaml": OK,
}

# Rule pack -> (LINE:COL, pattern of the message) of the first problem, or OK.
PACK_CASES = {
    "runaway-self.yaml": (
        "12:5",
        r"rule runaway/tick-forever fired more than [\d,]+ times in one evaluation; it keeps deriving new facts",
    ),
    "runaway-pair.yaml": ("1[26]:5", r"rule ping-pong/p[io]ng fired more than [\d,]+ times"),
    "runaway-cross-join.yaml": (
        "22:5",
        r"rule every-five-items of pack cross-join stopped the evaluation: it holds more than "
        r"[\d,]+ partial matches \(its conditions share too few variables",
    ),
    "template-tricks.yaml": OK,
    "template-dunder-placeholder.yaml": ("6:12", r"\{__class__\} is used but no condition binds \$__class__"),
    "dunder-field.yaml": ("8:15", r"'__class__' is not valid: expected a field name"),
    "regex-operator.yaml": ("8:23", r"unknown key 'matches'"),
    "eval-operator.yaml": ("8:23", r"unknown key 'eval'"),
    "pack-is-list.yaml": ("1:1", r"a rule pack is a mapping with pack, version and rules"),
    "pack-is-scalar.yaml": ("1:1", r"a rule pack is a mapping"),
    "pack-empty.yaml": ("1:1", r"the document is empty"),
    "pack-rules-mapping.yaml": ("4:3", r"should be of type array \(at \$\.rules\)"),
    "pack-python-tag.yaml": ("3:8", r"the tag '.*python/object/apply:os.system' is not allowed"),
    "pack-duplicate-key.yaml": ("3:1", r"duplicate key 'pack' \(first at line 1\)"),
    "pack-duplicate-rule-id.yaml": ("10:9", r"rule id 'same' is used twice in pack dup-id \(first at line 4\)"),
    "pack-alias-bomb.yaml": ("8:4", r"expands to more than 200,000 values through aliases"),
    "pack-invalid-utf8.yaml": ("3:11", r"not UTF-8 text \(byte 0xe9\)"),
    "unbound-variable.yaml": ("7:13", r"\$nowhere is used but no condition binds it"),
}


def error_line(source: str, expected) -> re.Pattern:
    """The one line `FILE:LINE:COL: message` expected for *source*."""
    linecol, message = expected
    return re.compile(rf"^(?:.*/)?{re.escape(source)}:{linecol}: .*{message}")


def assert_clean_failure(result, source, expected):
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines, "an error must be printed"
    assert error_line(source, expected).match(lines[0]), lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert "internal error" not in result.stderr


def outline_validator():
    schema = json.loads((ROOT / "schemas" / "outline.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(autouse=True)
def no_pwned_file():
    PWNED.unlink(missing_ok=True)
    yield
    assert not PWNED.exists(), "an object tag was executed"


def test_every_corpus_file_states_its_outcome():
    assert sorted(p.name for p in PROFILES.iterdir()) == sorted(PROFILE_CASES)
    assert sorted(p.name for p in PACKS.iterdir()) == sorted(PACK_CASES)


@pytest.mark.parametrize("name", sorted(PROFILE_CASES))
def test_profile_through_the_cli(invoke, name):
    path = PROFILES / name
    expected = PROFILE_CASES[name]
    result = invoke("evaluate", path, "--as-of", AS_OF, "--format", "json")
    if expected is OK:
        assert result.exit_code == 0, result.stderr
        assert list(outline_validator().iter_errors(json.loads(result.stdout))) == []
        return
    assert_clean_failure(result, name, expected)
    checked = invoke("validate", path)
    assert checked.exit_code == 1
    assert error_line(name, expected).match(checked.stdout.splitlines()[0]), checked.stdout


@pytest.mark.parametrize("name", sorted(PROFILE_CASES))
def test_profile_from_stdin(invoke, name):
    expected = PROFILE_CASES[name]
    result = invoke("evaluate", "-", "--as-of", AS_OF, input=(PROFILES / name).read_bytes())
    if expected is OK:
        assert result.exit_code == 0, result.stderr
    else:
        assert_clean_failure(result, "<stdin>", expected)


@pytest.mark.parametrize("name", sorted(PROFILE_CASES))
def test_profile_through_the_api(name):
    path = PROFILES / name
    expected = PROFILE_CASES[name]
    if expected is OK:
        assert ipexpert.validate(path) == []
        outline = ipexpert.evaluate(path, as_of=AS_OF)
        assert list(outline_validator().iter_errors(json.loads(outline.to_json()))) == []
        return
    problems = ipexpert.validate(path)
    assert problems and error_line(str(path), expected).match(problems[0].format()), problems
    with pytest.raises(ipexpert.InvalidProfileError) as caught:
        ipexpert.evaluate(path.read_bytes(), as_of=AS_OF)
    assert error_line("<profile>", expected).match(caught.value.problems[0].format())


@pytest.mark.parametrize("name", sorted(PACK_CASES))
def test_rule_pack_through_the_cli(invoke, name):
    expected = PACK_CASES[name]
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "--rules", PACKS / name)
    if expected is OK:
        assert result.exit_code == 0, result.stderr
    else:
        assert_clean_failure(result, name, expected)


@pytest.mark.parametrize("name", sorted(PACK_CASES))
def test_rule_pack_through_the_api(name):
    expected = PACK_CASES[name]
    if expected is OK:
        ipexpert.evaluate(SPINWELL, ipexpert.load_rules(PACKS / name), as_of=AS_OF)
        return
    with pytest.raises(ipexpert.IPExpertError) as caught:
        ipexpert.evaluate(SPINWELL, ipexpert.load_rules(PACKS / name), as_of=AS_OF)
    assert error_line(name, expected).match(caught.value.problems[0].format()), caught.value
    runaway = name.startswith("runaway")
    assert isinstance(caught.value, ipexpert.EvaluationError if runaway else ipexpert.InvalidRulePackError)


def test_template_tricks_stay_literal_text():
    outline = ipexpert.evaluate(SPINWELL, ipexpert.load_rules(PACKS / "template-tricks.yaml"), as_of=AS_OF)
    recs = [r for r in outline.recommendations if r.id.startswith("tricks")]
    assert recs
    rec = recs[0]
    market = rec.markets[0]
    assert rec.title == (
        "Tricks {market.__class__} {0} %(x)s %s {"
        + market
        + "} {market!r} {market:>10} $"
        + market
        + " {market[0]} for "
        + market
    )
    assert rec.actions == ["{market.__class__.__mro__[1].__subclasses__()}", "{market.__init__.__globals__}", "{{}}"]
    assert rec.justification.because == "{market.__init__.__globals__[os]} {!r} {:d}"
    assert "class 'str'" not in outline.to_json()


# Inputs too big to commit, made at test time.

DEEP = 10_000


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        "a: {" * DEEP + "}" * DEEP,
        "- " * DEEP + "x\n",
        "".join(" " * i + "a:\n" for i in range(3_000)),  # block style, as deep as 5 MB allows
    ],
    ids=["flow-sequence", "flow-mapping", "block-sequence", "block-mapping"],
)
def test_deep_nesting_is_refused_without_recursion(invoke, tmp_path, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    result = invoke("evaluate", path)
    assert_clean_failure(result, "deep.yaml", (r"\d+:\d+", "nested more than 64 levels deep"))
    assert ipexpert.validate(text)[0].message == "nested more than 64 levels deep"


def test_many_values_without_aliases_are_refused_before_building(tmp_path):
    text = "[" + "1," * 300_000 + "1]"
    problems = ipexpert.validate(text)
    assert problems[0].message == "more than 200,000 values; refused"


def sparse_file(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def test_huge_file_is_refused_by_its_size_without_being_read(invoke, tmp_path, monkeypatch):
    path = sparse_file(tmp_path / "huge.yaml", 300 * 1024 * 1024)
    real_open = open

    def guarded_open(file, *args, **kwargs):
        assert Path(file) != path, "the huge file was opened"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    result = invoke("evaluate", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(  # no line: the whole file is the problem
        "huge.yaml: file is 314,572,800 bytes; the limit is 5,242,880 bytes"
    )


def test_huge_stdin_is_read_only_up_to_the_limit(invoke, tmp_path):
    path = sparse_file(tmp_path / "huge.yaml", 300 * 1024 * 1024)
    with open(path, "rb") as stream:
        result = invoke("evaluate", "-", input=stream)
        assert stream.tell() <= _document.MAX_BYTES + 1
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "<stdin>: more than 5,242,880 bytes; the limit is 5,242,880 bytes"


def test_file_just_over_the_limit_is_refused_and_one_at_the_limit_is_read(tmp_path):
    over = tmp_path / "over.yaml"
    over.write_bytes(b"#" * _document.MAX_BYTES + b"\n")
    assert ipexpert.validate(over)[0].message.startswith("file is 5,242,881 bytes")
    at = tmp_path / "at.yaml"
    body = SPINWELL.read_bytes()
    at.write_bytes(body + b"#" * (_document.MAX_BYTES - len(body)))
    assert ipexpert.validate(at) == []


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("name: Spinwell Trading Co.", "name: " + "A" * 1_000_000, "is 1,000,000 characters long; at most 200 are allowed"),
        ("channels: [amazon, ebay]", "channels: [" + "a" * 1_000_000 + "!]", "is not valid: expected a channel, lower case."),
        ("code: DE", "code: " + "D" * 4_000_000, "is not an ISO 3166-1 alpha-2 country code"),
    ],
    ids=["long-name", "long-channel-pattern", "long-code-pattern"],
)
def test_very_long_strings_get_a_short_message(old, new, message):
    text = SPINWELL.read_text().replace(old, new)
    problems = ipexpert.validate(text)
    assert message in problems[0].message
    assert len(problems[0].format()) < 300


def test_object_tags_are_never_executed_in_a_real_process(tmp_path):
    for name in ("tag-python-object-apply.yaml", "tag-python-object-new.yaml", "tag-verbatim-python.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "ipexpert", "evaluate", str(PROFILES / name)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert done.returncode == 1
        assert "is not allowed" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "ipexpert", "evaluate", str(SPINWELL), "--rules", str(PACKS / "pack-python-tag.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1 and "is not allowed" in done.stderr


def test_runaway_rule_in_a_real_process(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ipexpert",
            "evaluate",
            str(SPINWELL),
            "--as-of",
            AS_OF,
            "--rules",
            str(PACKS / "runaway-self.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert re.search(r"runaway-self.yaml:12:5: rule runaway/tick-forever fired more than", done.stderr)


def test_alias_bomb_from_stdin_in_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "ipexpert", "validate", "-"],
        input=(PROFILES / "alias-bomb.yaml").read_bytes(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert b"<stdin>:7:4: this value expands to more than 200,000 values" in done.stdout


def test_as_of_far_outside_the_years_of_trade_is_a_usage_error(invoke):
    for day in ("0001-01-01", "9999-12-31"):
        result = invoke("evaluate", SPINWELL, "--as-of", day)
        assert result.exit_code == 2
        assert "out of range" in result.stderr


# Output: escaped in every renderer, written atomically or not at all.

HOSTILE_NAMES = PROFILES / "markup-in-names.yaml"


def test_markup_and_control_characters_are_escaped_in_text(invoke):
    out = invoke("evaluate", HOSTILE_NAMES, "--as-of", AS_OF, "--format", "text").stdout
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[31mRed" in out
    assert "\\x0d\\x0aFAKE LINE" in out  # the fake line stays on its own line's text
    assert not any(line.startswith("FAKE LINE") for line in out.splitlines())


def test_markup_and_control_characters_are_escaped_in_markdown(invoke):
    out = invoke("evaluate", HOSTILE_NAMES, "--as-of", AS_OF, "--format", "markdown").stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert not re.search(r"(?<!\\)<(?!https://)", out), (
        "an unescaped < reaches the Markdown (a source's <https://...> autolink aside)"
    )
    assert "\\<script\\>" in out
    assert "**Bold**" not in out and "**BRAND**" not in out
    assert "[x](javascript" not in out
    cells = None  # a table row has as many cells as its header: the names' pipes are escaped
    for line in out.splitlines():
        if not line.startswith("|"):
            cells = None
            continue
        count = len(re.findall(r"(?<!\\)\|", line))
        cells = cells or count
        assert count == cells, line


def test_markup_survives_unchanged_in_json(invoke):
    data = json.loads(invoke("evaluate", HOSTILE_NAMES, "--as-of", AS_OF, "--format", "json").stdout)
    assert data["firm"]["name"].startswith("<script>alert(1)</script> **Bold**")
    assert "\x1b[31m" in data["firm"]["name"]


def test_cjk_names_render_in_every_format(invoke):
    for fmt, expected in (("text", "深圳市旋转贸易有限公司"), ("markdown", "指尖陀螺"), ("json", "旋转 SPINWELL 🌀")):
        result = invoke("evaluate", PROFILES / "cjk-names.yaml", "--as-of", AS_OF, "--format", fmt)
        assert result.exit_code == 0
        assert expected in result.stdout


def test_escaped_surrogate_pairs_become_one_character():
    assert ipexpert.evaluate(PROFILES / "json-emoji-escape.json", as_of=AS_OF).firm["name"] == "Spin \U0001f300 Co."
    assert (
        ipexpert.validate({"firm": {"name": "\U00010000", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]})
        == []
    )


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".ipexpert-"))


@pytest.mark.parametrize("where", ["missing-folder", "parent-is-a-file", "is-a-folder"])
def test_output_to_an_unwritable_place_fails_cleanly(invoke, tmp_path, where):
    (tmp_path / "file.txt").write_text("x")
    target = {
        "missing-folder": tmp_path / "no" / "such" / "out.md",
        "parent-is-a-file": tmp_path / "file.txt" / "out.md",
        "is-a-folder": tmp_path,
    }[where]
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "-o", target)
    assert result.exit_code == (2 if where == "is-a-folder" else 1)
    assert "Traceback" not in result.stderr
    if where != "is-a-folder":
        assert re.match(rf"^{re.escape(str(target))}: cannot write: ", result.stderr)
        assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_failed_evaluation_leaves_the_old_output_untouched(invoke, tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("yesterday's outline\n")
    result = invoke("evaluate", PROFILES / "alias-bomb.yaml", "-o", target)
    assert result.exit_code == 1
    assert target.read_text() == "yesterday's outline\n"


def test_a_failed_write_leaves_no_partial_file(invoke, tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("yesterday's outline\n")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "-f", "json", "-o", target)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{target}: cannot write: No space left on device"
    assert target.read_text() == "yesterday's outline\n"
    assert leftovers(tmp_path) == []


def test_a_successful_write_is_whole_and_leaves_no_temporary_file(invoke, tmp_path):
    target = tmp_path / "out.json"
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF, "-f", "json", "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["as_of"] == AS_OF
    assert leftovers(tmp_path) == []


# The same corpus through `ipexpert batch` (a folder, and JSON Lines) and `ipexpert serve`.


def test_the_profile_corpus_through_batch(invoke, tmp_path):
    out = tmp_path / "out.jsonl"
    result = invoke("batch", PROFILES, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1  # some inputs are invalid; the batch still writes every record
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [Path(r["input"]).name for r in records] == sorted(PROFILE_CASES)
    for record in records:
        name = Path(record["input"]).name
        expected = PROFILE_CASES[name]
        if expected is OK:
            assert "outline" in record, record
            assert list(outline_validator().iter_errors(record["outline"])) == []
        else:
            problem = ipexpert.Problem(**record["error"]["problems"][0])
            assert record["error"]["kind"] == "invalid_profile"
            assert error_line(name, expected).match(problem.format()), problem


JSON_LINES = [
    ('{"firm": {"name": "A", "home_country": "CN", "name": "B"}, "markets": []}', r"duplicate key 'name'"),
    ('{"firm": {"name": "A", "home_country": "CN", "annual_revenue_usd": NaN}, "markets": []}', r"NaN is not a number"),
    ("[1, 2]", r"a profile is a JSON object, not list"),
    ('{"firm": ' * 10_000 + "1" + "}" * 10_000, r"nested too deeply|nested more than 64 levels"),
    (
        '{"firm": {"name": "A", "home_country": "CN"}, "markets": [{"code": "US", "status": "active", "launch_date": "0001-01-01"}]}',
        r"out of range",
    ),
    ('{"firm": {"name": "\\x", "home_country": "CN"}}', r"not valid JSON"),
]


@pytest.mark.parametrize("line, message", JSON_LINES, ids=["duplicate", "nan", "list", "deep", "date-range", "bad-escape"])
def test_hostile_json_lines_through_batch(invoke, tmp_path, line, message):
    good = SPINWELL.read_text()
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ipexpert._reading.profile.read(good).data) + "\n" + line + "\n")
    out = tmp_path / "out.jsonl"
    result = invoke("batch", source, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    first, second = [json.loads(x) for x in out.read_text().splitlines()]
    assert "outline" in first  # one bad line never costs the others their result
    problem = second["error"]["problems"][0]
    assert second["input"].endswith("in.jsonl:2") and problem["line"] == 2
    assert re.search(message, problem["message"]), problem


@pytest.mark.parametrize(
    "line",
    [
        '{"firm": {"name": "A \\ud800", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]}',
        '{"firm": {"name": "A", "home_country": "CN", "annual_revenue_usd": 1e999}, "markets": [{"code": "US", "status": "active"}]}',
    ],
    ids=["lone-surrogate", "overflow-to-infinity"],
)
def test_json_lines_the_loader_refuses_are_refused_by_batch_too(invoke, tmp_path, line):
    source = tmp_path / "in.jsonl"
    source.write_text(line + "\n")
    out = tmp_path / "out.jsonl"
    result = invoke("batch", source, "-o", out, "--as-of", AS_OF)
    assert out.exists(), result.stderr
    record = json.loads(out.read_text())
    assert record["error"]["kind"] == "invalid_profile"


SERVE_CASES = {
    "alias-bomb.yaml": 400,
    "tag-python-object-apply.yaml": 400,
    "duplicate-key-nested.yaml": 400,
    "invalid-utf8.yaml": 400,
    "surrogate-escape.yaml": 400,
    "multi-document.yaml": 400,
    "empty.yaml": 400,
    "top-level-list.yaml": 422,
    "norway-for-boolean.yaml": 422,
    "product-in-unlisted-market.yaml": 422,
    "date-year-1.yaml": 422,
    "markup-in-names.yaml": 200,
    "norway-unquoted.yaml": 200,
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """`ipexpert serve` in a child process on a free loopback port."""
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    import http.client
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (tmp_path_factory.mktemp("serve") / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )

    def post(path, body, content_type="application/yaml"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST" if body is not None else "GET", path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    deadline = time.monotonic() + 60
    while True:
        try:
            if post("/healthz", None)[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
        assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
    yield post
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.mark.parametrize("name", sorted(SERVE_CASES))
def test_the_corpus_through_the_service(service, name):
    status, body = service(f"/v1/evaluate?as_of={AS_OF}", (PROFILES / name).read_bytes())
    assert status == SERVE_CASES[name], body
    assert b"Traceback" not in body
    data = json.loads(body)
    if status == 200:
        assert list(outline_validator().iter_errors(data)) == []
    else:
        problem = ipexpert.Problem(**data["problems"][0])
        assert error_line("<request>", PROFILE_CASES[name]).match(problem.format()), problem
    assert service("/healthz", None)[0] == 200


def test_an_output_file_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(invoke, tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    new = tmp_path / "new.txt"
    assert invoke("evaluate", SPINWELL, "--as-of", AS_OF, "-o", new).exit_code == 0
    assert new.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a temporary file
    old = tmp_path / "old.txt"
    old.write_text("x")
    old.chmod(0o640)
    assert invoke("evaluate", SPINWELL, "--as-of", AS_OF, "-o", old).exit_code == 0
    assert old.stat().st_mode & 0o777 == 0o640
