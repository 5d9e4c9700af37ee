"""A valid profile whose lists multiply past the firing limit is "too large", not "a loop", on every face."""

import json

import pytest
import yaml
from conftest import AS_OF

import ipexpert
from ipexpert._engine import rulebase
from ipexpert._reading.codes import market_codes
from ipexpert._service import evaluating
from ipexpert._service.options import Limits

# 20 markets x 15 trademarks: rule paper-core/trademark-gap fires once per mark and market
# without a registration, past a lowered limit of 300 firings (the real limit, 10,000 plus
# 100 per fact, is met the same way by about 175 markets x 140 marks).
LIMIT = 300


def huge_profile(markets=20, marks=15) -> str:
    codes = [code for code in market_codes() if code not in ("EU", "WO")][:markets]
    return yaml.safe_dump(
        {
            "firm": {"name": "Wide Reach Trading", "home_country": "CN", "business_model": "own_brand"},
            "channels": ["amazon"],
            "markets": [{"code": code, "status": "active"} for code in codes],
            "ip_assets": [{"type": "trademark", "name": f"MARK{n}"} for n in range(marks)],
        }
    )


@pytest.fixture
def low_limit(monkeypatch):
    monkeypatch.setattr(rulebase, "FIRING_LIMIT_BASE", LIMIT)
    monkeypatch.setattr(rulebase, "FIRINGS_PER_FACT", 0)


def assert_says_what_is_too_large(message):
    assert message.startswith("the profile is too large to evaluate at once: its 20 markets and 15 ip_assets need more than 300")
    assert "split it into smaller profiles" in message and "loop" not in message


def test_the_api_raises_profile_too_large_pointing_at_the_largest_list(low_limit, tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(huge_profile())
    with pytest.raises(ipexpert.ProfileTooLargeError) as caught:
        ipexpert.evaluate(path, as_of=AS_OF)
    assert isinstance(caught.value, ipexpert.EvaluationError)  # callers catching the base still catch it
    (problem,) = caught.value.problems
    assert (problem.file, problem.path) == (str(path), "$.markets")
    assert problem.line is not None
    assert_says_what_is_too_large(problem.message)
    # A smaller profile evaluates under the same limit.
    assert ipexpert.evaluate(huge_profile(5, 5), as_of=AS_OF).recommendations


def test_the_cli_prints_one_line_and_exits_1(low_limit, invoke, tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(huge_profile())
    result = invoke("evaluate", path, "--as-of", AS_OF)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{path}:") and line.endswith("(at $.markets)")
    assert_says_what_is_too_large(line.split(": ", 1)[1])


def test_batch_records_profile_too_large(low_limit, invoke, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "wide.yaml").write_text(huge_profile())
    (folder / "small.yaml").write_text(huge_profile(3, 2))
    out = tmp_path / "out.jsonl"
    result = invoke("batch", folder, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    records = {record["input"].rsplit("/", 1)[-1]: record for record in map(json.loads, out.read_text().splitlines())}
    assert "outline" in records["small.yaml"]
    error = records["wide.yaml"]["error"]
    assert error["kind"] == "profile_too_large"
    assert_says_what_is_too_large(error["problems"][0]["message"])


@pytest.mark.parametrize(
    ("operation", "options"),
    [
        ("evaluate", {}),
        ("report", {}),
        ("explain", {"target": "paper-core/trademark-gap"}),
        ("diff", {"assignments": ("firm.employees=5",)}),
    ],
)
def test_the_service_answers_413_problem_details(low_limit, monkeypatch, operation, options):
    # What the evaluating process answers, run here so that the lowered limit applies.
    monkeypatch.setattr(evaluating, "_child", {"rules": ipexpert.load_rules(), "limits": Limits(), "book": ()})
    status, media_type, body, _, _ = evaluating._answer(operation, huge_profile().encode(), {"as_of": AS_OF, **options})
    assert (status, media_type) == (413, "application/problem+json")
    data = json.loads(body)
    assert data["title"] == "Content Too Large" and "too large to evaluate" in data["detail"]
    (problem,) = data["problems"]
    assert problem["path"] == "$.markets"
    assert_says_what_is_too_large(problem["message"])
