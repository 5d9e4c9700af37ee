"""`ipexpert init DIR`: the examples, schemas and a starter pack, ready to follow the tour with."""

import pytest
from conftest import AS_OF, EXAMPLES, ROOT


def test_init_writes_what_the_tour_needs_and_the_starter_pack_passes_its_own_test(invoke, tmp_path, monkeypatch):
    result = invoke("init", tmp_path / "tour")
    assert result.exit_code == 0, result.output
    tour = tmp_path / "tour"
    assert sorted(p.name for p in (tour / "examples").iterdir()) == sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert (tour / "examples" / "nova-startup.yaml").read_bytes() == (EXAMPLES / "nova-startup.yaml").read_bytes()
    assert sorted(p.name for p in (tour / "schemas").iterdir()) == sorted(p.name for p in (ROOT / "schemas").glob("*.json"))
    monkeypatch.chdir(tour)
    checked = invoke("rules", "check", "my-packs/")
    assert checked.exit_code == 0 and "0 error(s), 1 warning(s)" in checked.output
    assert "its texts show in English in zh-CN outlines" in checked.output  # until the consultant translates it
    tested = invoke("rules", "test", "my-packs/tests/", "--rules", "my-packs/")
    assert tested.exit_code == 0 and "2 passed, 0 failed" in tested.output
    outline = invoke("evaluate", "examples/nova-startup.yaml", "--rules", "my-packs/", "--as-of", AS_OF)
    assert "Review the IP plan for GB with us before the launch" in outline.output


def test_every_written_file_points_its_editor_at_a_schema_that_is_there(tmp_path, invoke):
    invoke("init", tmp_path)
    for path in tmp_path.rglob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve().is_file(), path


def test_init_never_overwrites_and_says_so_in_one_line(invoke, tmp_path):
    (tmp_path / "examples").mkdir()
    mine = tmp_path / "examples" / "spinwell-trending.yaml"
    mine.write_text("firm: {name: Mine}\n", encoding="utf-8")
    result = invoke("init", tmp_path)
    assert result.exit_code == 1
    assert result.output == f"{mine}: already exists; init never overwrites: give a new or empty folder\n"
    assert mine.read_text(encoding="utf-8") == "firm: {name: Mine}\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["examples", "spinwell-trending.yaml"]  # nothing else written


@pytest.mark.parametrize("make", ["file", "again"])
def test_init_into_a_file_or_a_folder_already_made_is_a_one_line_error(invoke, tmp_path, make):
    target = tmp_path / "t"
    if make == "file":
        target.write_text("x", encoding="utf-8")
    else:
        invoke("init", target)
    result = invoke("init", target)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "is a file, not a folder" in result.output if make == "file" else "(and 16 more)" in result.output
