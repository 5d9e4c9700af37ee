"""The library API: load_rules, evaluate, validate, the outline's types and the exceptions."""

import datetime
import json
import pkgutil
import subprocess
import sys

import jsonschema
import pytest
from conftest import AS_OF, ROOT, SPINWELL

import ipexpert


@pytest.fixture(scope="module")
def rules():
    return ipexpert.load_rules()


def test_all_is_sorted_and_is_the_whole_public_surface():
    assert ipexpert.__all__ == sorted(ipexpert.__all__)
    public = {name for name in dir(ipexpert) if not name.startswith("_")} - {"cli"}
    assert public == set(ipexpert.__all__)
    assert all(getattr(ipexpert, name) is not None for name in ipexpert.__all__)
    modules = {m.name for m in pkgutil.iter_modules(ipexpert.__path__)}
    assert {m for m in modules if not m.startswith("_")} == {"cli"}


def test_import_and_help_load_neither_the_engine_nor_the_schema_checker():
    # The public names load on first use, so `ipexpert --help` starts quickly.
    code = (
        "import sys, ipexpert, ipexpert.cli\n"
        "print(sorted(m for m in ('ipexpert._vendor.experta', 'jsonschema') if m in sys.modules))\n"
        "ipexpert.RuleBase\n"
        "print('ipexpert._vendor.experta' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_every_public_name_is_documented_in_docs_api():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in ipexpert.__all__ if f"`{name}" not in text]
    assert missing == []


def test_importing_the_library_or_evaluating_loads_no_server_or_process_pool():
    code = (
        "import sys\n"
        "from ipexpert.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('starlette', 'uvicorn', 'multiprocessing', 'concurrent', 'ipexpert._service', 'ipexpert._batch.local')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    argv = [sys.executable, "-c", code, "evaluate", str(SPINWELL), "--as-of", AS_OF, "--format", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("{")
    assert done.stderr.strip() == "[]"


def test_a_profile_as_dict_yaml_json_or_path_gives_the_same_advice(rules):
    text = SPINWELL.read_text(encoding="utf-8")
    data = ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    outlines = [
        ipexpert.evaluate(str(SPINWELL), rules, as_of=AS_OF),
        ipexpert.evaluate(text, rules, as_of=AS_OF),
        ipexpert.evaluate(json.loads(json.dumps(ipexpert_yaml(text))), rules, as_of=AS_OF),
        ipexpert.evaluate(json.dumps(ipexpert_yaml(text)), rules, as_of=datetime.date(2026, 11, 25)),
    ]
    for outline in outlines:
        assert [r.id for r in outline.recommendations] == [r.id for r in data.recommendations]
        assert [r.id for r in outline.risks] == [r.id for r in data.risks]
        assert outline.timeline == data.timeline


def ipexpert_yaml(text):
    import yaml

    data = yaml.safe_load(text)
    return json.loads(json.dumps(data, default=str))


def test_the_outline_is_typed_and_its_json_is_the_contract(rules):
    outline = ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    assert isinstance(outline, ipexpert.Outline)
    assert isinstance(outline.stage, ipexpert.Stage)
    assert outline.recommendations and outline.timeline
    for rec in outline.recommendations:
        assert isinstance(rec, ipexpert.Recommendation)
        assert isinstance(rec.justification, ipexpert.Justification)
        assert all(isinstance(s, ipexpert.Source) for s in rec.justification.sources)
    assert all(isinstance(r, ipexpert.Risk) for r in outline.risks)
    assert all(isinstance(t, ipexpert.TimelineEntry) for t in outline.timeline)
    assert json.loads(outline.to_json()) == outline.to_dict()
    schema = json.loads((ROOT / "schemas" / "outline.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(outline.to_dict(), schema)
    assert outline.to_json() == ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF).to_json()


def test_the_rules_default_to_the_bundled_packs(rules):
    assert ipexpert.evaluate(SPINWELL, as_of=AS_OF).to_json() == ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF).to_json()
    assert isinstance(rules, ipexpert.RuleBase)
    assert {p.name for p in rules.packs} >= {"paper-core", "jurisdictions"}


def test_validate_returns_problems_with_their_place():
    assert ipexpert.validate(SPINWELL) == []
    problems = ipexpert.validate("firm:\n  name: X\n  home_country: usa\nmarkets: []\n")
    assert all(isinstance(p, ipexpert.Problem) for p in problems)
    assert ("<profile>", 3, 17, "$.firm.home_country") in {(p.file, p.line, p.column, p.path) for p in problems}
    (unreadable,) = ipexpert.validate("firm: [\n")
    assert unreadable.message.startswith("not valid YAML")


@pytest.mark.parametrize("text", ["P.txt", "profiles/acme", "acme.YAML.bak"])
def test_a_string_that_names_a_file_is_said_to_have_been_read_as_yaml_text(rules, text):
    with pytest.raises(ipexpert.InvalidProfileError) as caught:
        ipexpert.evaluate(text, rules)
    assert str(caught.value) == (
        f"<profile>:1:1: took {text!r} for YAML text, which reads as a single value; a file is read"
        " when its name ends in .yaml, .yml or .json, or when it is given as a pathlib.Path"
    )


def test_an_invalid_profile_raises_with_every_problem(rules):
    with pytest.raises(ipexpert.InvalidProfileError) as caught:
        ipexpert.evaluate("firm:\n  name: X\n  home_country: usa\nmarkets: []\n", rules)
    assert isinstance(caught.value, ipexpert.IPExpertError)
    assert {p.line for p in caught.value.problems} == {3, 4}
    assert str(caught.value).splitlines()[0].startswith("<profile>:")


def test_an_invalid_rule_pack_raises_with_file_and_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("pack: bad\nversion: 1.0.0\nrules:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ipexpert.InvalidRulePackError) as caught:
        ipexpert.load_rules(tmp_path)
    assert isinstance(caught.value, ipexpert.IPExpertError)
    problem = caught.value.problems[0]
    assert problem.file.endswith("bad.yaml") and problem.line == 4


def test_a_rule_base_without_the_defaults_holds_only_the_given_packs(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "pack: mine\nversion: 1.0.0\ntitle: Mine\nrules:\n"
        "  - id: always\n    title: Keep records\n    when:\n      - firm: {}\n"
        "    recommend: {priority: low}\n    because: Records help.\n    source: [paper §5.1]\n",
        encoding="utf-8",
    )
    rules = ipexpert.load_rules(tmp_path, defaults=False)
    assert [p.name for p in rules.packs] == ["mine"]
    outline = ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    assert [r.rule for r in outline.recommendations] == ["mine/always"]


def test_printing_a_rule_shows_the_rule_and_where_it_is_written_not_its_pack(rules):
    rule = rules.rule("paper-trademarks/register-brand-at-home")
    assert repr(rule).startswith("<RuleSpec paper-trademarks/register-brand-at-home at <bundled>/rules/paper-trademarks.yaml:")
    assert repr(rule).endswith(": 'Register {brand} in {home} too'>") and len(repr(rule)) < 200
