"""The four JSON Schemas pass the strictest outside tools editors and validators use:
Ajv in strict mode (union types allowed) and check-jsonschema's metaschema check."""

import subprocess
import sys

from conftest import AJV, ROOT, need, skip_or_fail

SCHEMAS = sorted((ROOT / "schemas").glob("*.schema.json"))


def test_there_are_four_schemas():
    assert [p.name for p in SCHEMAS] == [
        "firm-profile.schema.json",
        "outline.schema.json",
        "rule-pack.schema.json",
        "test-case.schema.json",
    ]


def test_every_schema_compiles_in_ajv_strict_mode():
    need("node", AJV)
    done = subprocess.run(
        ["node", str(ROOT / ".ci" / "ajv-strict.js"), *map(str, SCHEMAS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("compiles in Ajv strict mode") == 4


def test_every_schema_passes_check_jsonschema_metaschema_check():
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        skip_or_fail("check-jsonschema is not installed: pip install '.[lint]'")
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--check-metaschema", *map(str, SCHEMAS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
