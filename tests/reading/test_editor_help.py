"""Editor help: shipped packs and examples name their JSON Schema, and `ipexpert schema` prints each one."""

import json

import pytest
from conftest import ROOT

SHIPPED = sorted((ROOT / "rules").glob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))
SCHEMA_OF = {"rules": "rule-pack.schema.json", "examples": "firm-profile.schema.json"}


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.name}/{p.name}" for p in SHIPPED])
def test_every_shipped_file_starts_with_its_schema_line(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../schemas/{SCHEMA_OF[path.parent.name]}"
    assert (path.parent / first.split("=", 1)[1]).resolve().is_file()


@pytest.mark.parametrize(
    "which, file",
    [
        ("profile", "firm-profile.schema.json"),
        ("rule-pack", "rule-pack.schema.json"),
        ("outline", "outline.schema.json"),
    ],
    ids=["profile", "rule-pack", "outline"],
)
def test_schema_prints_each_schema(invoke, which, file):
    result = invoke("schema", which)
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads((ROOT / "schemas" / file).read_text(encoding="utf-8"))
    assert json.loads(result.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_an_unknown_schema_is_a_usage_error(invoke):
    assert invoke("schema", "profiles").exit_code == 2
