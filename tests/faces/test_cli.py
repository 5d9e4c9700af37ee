"""The command line, end to end: formats, stdin, -o, exit codes, determinism."""

import json
import subprocess
import sys

import jsonschema
from conftest import AS_OF, ROOT, SPINWELL


def outline_validator():
    schema = json.loads((ROOT / "schemas" / "outline.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_evaluate_prints_a_readable_outline(invoke):
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF)
    assert result.exit_code == 0
    assert result.output.startswith("IP strategy outline for Spinwell Trading Co. (as of 2026-11-25)")
    assert "because:" in result.output and "sources:" in result.output


def test_json_output_follows_the_outline_schema_and_is_byte_identical(invoke):
    first = invoke("evaluate", SPINWELL, "--format", "json", "--as-of", AS_OF)
    second = invoke("evaluate", SPINWELL, "--format", "json", "--as-of", AS_OF)
    assert first.exit_code == 0
    assert first.output == second.output
    data = json.loads(first.output)
    assert list(outline_validator().iter_errors(data)) == []
    assert data["as_of"] == AS_OF
    assert data["recommendations"], "the example should get advice"
    for rec in data["recommendations"]:
        assert rec["justification"]["sources"], rec["id"]
        for fact in rec["justification"]["facts"]:
            assert fact["path"].startswith(("$", "--as-of")) or ":facts[" in fact["path"]


def test_markdown_to_a_file(invoke, tmp_path):
    target = tmp_path / "outline.md"
    result = invoke("evaluate", SPINWELL, "--format", "markdown", "-o", target, "--as-of", AS_OF)
    assert result.exit_code == 0 and result.output == ""
    text = target.read_text()
    assert text.startswith("# IP strategy outline: Spinwell Trading Co.\n")
    assert "**Because:**" in text


def test_stdin_gives_the_same_advice_as_the_file(invoke):
    from_file = json.loads(invoke("evaluate", SPINWELL, "-f", "json", "--as-of", AS_OF).output)
    from_stdin = json.loads(invoke("evaluate", "-", "-f", "json", "--as-of", AS_OF, input=SPINWELL.read_text()).output)
    assert [r["id"] for r in from_stdin["recommendations"]] == [r["id"] for r in from_file["recommendations"]]


def test_as_of_changes_due_dates(invoke):
    early = json.loads(invoke("evaluate", SPINWELL, "-f", "json", "--as-of", "2025-01-01").output)
    late = json.loads(invoke("evaluate", SPINWELL, "-f", "json", "--as-of", AS_OF).output)
    assert early["as_of"] == "2025-01-01"
    assert [r["due"] for r in early["recommendations"]] != [r["due"] for r in late["recommendations"]]


def test_invalid_profile_exits_1_with_one_line_per_problem(invoke, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("firm:\n  name: X\n  home_country: CN\n  stage: growing\nmarkets:\n  - {code: US, status: active}\n")
    result = invoke("evaluate", bad)
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "bad.yaml:4:10: 'growing' is not one of startup, development, growth, stable; did you mean 'growth'? (at $.firm.stage)"
    )


def test_validate_reports_every_file(invoke, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("firm: {name: X, home_country: CN}\nmarkets: []\n")
    result = invoke("validate", SPINWELL, bad)
    assert result.exit_code == 1
    assert "bad.yaml:2:10: needs at least 1 item(s) (at $.markets)" in result.output
    assert "2 checked, 1 invalid" in result.output
    assert invoke("validate", SPINWELL).exit_code == 0


def test_usage_errors_exit_2(invoke):
    assert invoke("evaluate", SPINWELL, "--as-of", "2026-13-01").exit_code == 2
    assert invoke("evaluate", SPINWELL, "--format", "rtf").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


def test_missing_file_is_an_input_error(invoke, tmp_path):
    result = invoke("evaluate", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "nope.yaml: cannot read: No such file or directory" in result.output


def test_set_changes_the_profile_before_evaluation(invoke):
    result = invoke("evaluate", SPINWELL, "-f", "json", "--as-of", AS_OF, "--set", "firm.stage=stable")
    assert json.loads(result.output)["stage"] == {
        "value": "stable",
        "declared": True,
        "because": "as the profile states it",
        "rule": None,
    }


def test_python_dash_m_works_like_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "ipexpert", "evaluate", str(SPINWELL), "-f", "json", "--as-of", AS_OF],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["firm"]["name"] == "Spinwell Trading Co."


def test_schema_command_prints_each_schema(invoke):
    for which in ("profile", "rule-pack", "outline", "test-case"):
        result = invoke("schema", which)
        assert result.exit_code == 0
        assert json.loads(result.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_output_is_identical_across_processes_hash_seeds_and_working_folders(tmp_path):
    """The same profile gives the same bytes wherever the command runs (bundled packs are <bundled>/...)."""
    import shutil

    (tmp_path / "examples").mkdir()
    shutil.copy(SPINWELL, tmp_path / "examples" / SPINWELL.name)
    outputs = set()
    for seed, cwd, path in (
        ("0", ROOT, f"examples/{SPINWELL.name}"),
        ("1", tmp_path, f"examples/{SPINWELL.name}"),
        ("12345", ROOT / "examples" / "..", f"examples/{SPINWELL.name}"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "ipexpert", "evaluate", path, "-f", "json", "--as-of", AS_OF],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert '"file": "<bundled>/rules/' in outputs.pop()
