"""Exit codes come from one boundary: invalid input 1, usage 2, a bug 3, each with one line on stderr."""

import subprocess
import sys

from conftest import AS_OF, SPINWELL


def test_a_bug_exits_3_with_one_line_and_no_traceback(invoke, monkeypatch):
    from ipexpert._outputs import text as _text

    def broken(outline, fmt):
        raise KeyError("recommendations")

    monkeypatch.setattr(_text, "render", broken)
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF)
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "ipexpert: internal error: KeyError: 'recommendations' (set IPEXPERT_DEBUG=1 for details)"
    ]


def test_a_bug_shows_its_traceback_with_ipexpert_debug(invoke, monkeypatch):
    from ipexpert._outputs import text as _text

    monkeypatch.setenv("IPEXPERT_DEBUG", "1")
    monkeypatch.setattr(_text, "render", lambda outline, fmt: {}["boom"])
    try:
        invoke("evaluate", SPINWELL, "--as-of", AS_OF)
    except KeyError:
        return
    raise AssertionError("IPEXPERT_DEBUG=1 must let the exception through")


def test_a_file_that_cannot_be_used_is_invalid_input_on_one_line(invoke, monkeypatch, tmp_path):
    # An OSError the library did not translate itself becomes one line with the file name.
    from ipexpert._outputs import text as _text

    def unreadable(outline, fmt):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked.yaml"))

    monkeypatch.setattr(_text, "render", unreadable)
    result = invoke("evaluate", SPINWELL, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"ipexpert: {tmp_path / 'locked.yaml'}: Permission denied"]


def test_checking_commands_exit_1_through_the_boundary(invoke, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("firm: {name: X, home_country: CN}\nmarkets: []\n")
    assert invoke("validate", bad).exit_code == 1
    assert invoke("validate", SPINWELL).exit_code == 0
    case = tmp_path / "cases.yaml"
    case.write_text(
        f"cases:\n  - name: impossible\n    profile: {SPINWELL}\n    as_of: '{AS_OF}'\n    expect:\n      stage: startup\n"
    )
    failed = invoke("rules", "test", case)
    assert failed.exit_code == 1
    assert "FAIL" in failed.output


def test_exit_codes_in_a_real_process():
    run = [sys.executable, "-m", "ipexpert"]
    assert subprocess.run([*run, "schema", "profile", "--path"], capture_output=True).returncode == 0
    assert subprocess.run([*run, "frobnicate"], capture_output=True).returncode == 2
    missing = subprocess.run([*run, "validate", "no-such-profile.yaml"], capture_output=True, text=True)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr


def test_schema_path_names_the_installed_file_that_schema_prints(invoke):
    from pathlib import Path

    for name in ("profile", "rule-pack", "outline", "test-case"):
        path = Path(invoke("schema", name, "--path").output.strip())
        assert path.is_absolute()
        assert path.read_text(encoding="utf-8") == invoke("schema", name).output
