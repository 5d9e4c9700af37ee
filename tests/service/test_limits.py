"""Bounded matching: a rule that joins every fact with every other stops with one line, everywhere."""

import json
import re
import shutil

import pytest
from conftest import ROOT
from test_serve import request, run_server

import ipexpert

PACK = ROOT / "tests" / "hostile" / "rules" / "runaway-cross-join.yaml"
SPINWELL = ROOT / "examples" / "spinwell-trending.yaml"
AS_OF = "2026-11-25"
LINE = re.compile(
    r"runaway-cross-join.yaml:22:5: rule every-five-items of pack cross-join stopped the evaluation: "
    r"it holds more than [\d,]+ partial matches"
)


def test_the_api_raises_an_evaluation_error_and_the_rule_base_stays_usable():
    rules = ipexpert.load_rules(PACK)
    with pytest.raises(ipexpert.EvaluationError) as caught:
        ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    (problem,) = caught.value.problems
    assert LINE.search(problem.format())
    # The same engine evaluates the next profile as if nothing had happened.
    plain = ipexpert.evaluate(SPINWELL, as_of=AS_OF).to_json()
    without = ipexpert.load_rules(PACK.parent / "template-tricks.yaml")
    assert ipexpert.evaluate(SPINWELL, without, as_of=AS_OF).recommendations
    with pytest.raises(ipexpert.EvaluationError):
        ipexpert.evaluate(SPINWELL, rules, as_of=AS_OF)
    assert ipexpert.evaluate(SPINWELL, as_of=AS_OF).to_json() == plain


def test_batch_records_an_evaluation_error(invoke, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SPINWELL, folder / "spinwell.yaml")
    out = tmp_path / "out.jsonl"
    result = invoke("batch", folder, "-o", out, "--as-of", AS_OF, "--rules", PACK)
    assert result.exit_code == 1
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["error"]["kind"] == "evaluation_failed"
    (problem,) = record["error"]["problems"]
    assert (problem["line"], problem["column"]) == (22, 5) and "every-five-items of pack cross-join" in problem["message"]


def test_the_service_answers_500_with_the_line(tmp_path):
    servers = run_server(tmp_path, "--rules", str(PACK))
    port = next(servers)
    try:
        status, _, body = request(port, "POST", f"/v1/evaluate?as_of={AS_OF}", SPINWELL.read_bytes(), "application/yaml")
        assert status == 500
        (problem,) = json.loads(body)["problems"]
        assert problem["line"] == 22 and "partial matches" in problem["message"]
        assert request(port, "GET", "/healthz")[0] == 200
    finally:
        next(servers, None)


def test_rules_check_warns_about_conditions_joined_on_nothing(invoke):
    result = invoke("rules", "check", "--no-default-rules", PACK)
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "translation" not in line]  # it has no zh-CN file: one line says so
    assert [line.split(": warning: ")[0] for line in lines] == [f"{PACK.relative_to(ROOT)}:{n}:9" for n in range(26, 31)]
    assert (
        lines[0]
        .split(": warning: ")[1]
        .startswith(
            "condition 1 shares no variable with the rest of rule cross-join/every-five-items: conditions 1 (item), 2 (item)"
        )
    )


def test_bundled_packs_have_no_cross_join_warning(invoke):
    result = invoke("rules", "check")
    assert result.exit_code == 0
    assert "shares no variable" not in result.output
