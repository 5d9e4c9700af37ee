"""Errors in the reader's language: `validate --lang`, `evaluate --lang` and the interviews' answers
say in Chinese what is wrong, keeping FILE:LINE:COL and the $.path a consultant looks up."""

import datetime
import re

import pytest
from conftest import ROOT

from ipexpert._errors import Problem
from ipexpert._interview import questions as _questions
from ipexpert._knowledge import i18n as _i18n

HOSTILE = ROOT / "tests" / "hostile" / "profiles"
CJK = re.compile(r"[\u4e00-\u9fff]")
BAD = """firm:
  name: 测试
  home_country: CHN
  employees: 很多
markets:
  - {code: UK, status: active}
  - {code: 美国, status: planned}
markts: []
"""


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_validate_in_chinese_keeps_file_line_column_and_path(invoke, bad):
    result = invoke("validate", "--lang", "zh-CN", bad)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad}:8:1: 未知的键 'markts'；是否应为 'markets'？（位置：$.markts）" in lines
    assert (
        f"{bad}:3:17: 'CHN' 不是 ISO 3166-1 两位字母国家代码，例如中国填 CN、美国填 US；是否应为 'CN'（中国）？（位置：$.firm.home_country）"
        in lines
    )
    assert f"{bad}:4:14: '很多' 的类型应为整数（位置：$.firm.employees）" in lines
    assert any(line.startswith(f"{bad}:7:") and "是否应为 'US'（美国）" in line for line in lines)
    assert "已检查 1 个，1 个有误" in lines


def test_validate_in_english_is_unchanged(invoke, bad):
    result = invoke("validate", bad)
    assert f"{bad}:8:1: unknown key 'markts'; did you mean 'markets'? (at $.markts)" in result.output.splitlines()
    assert "1 checked, 1 invalid" in result.output


def test_evaluate_in_chinese_prints_chinese_problems(invoke, bad, tmp_path):
    result = invoke("evaluate", "--lang", "zh-CN", bad)
    assert result.exit_code == 1 and "'很多' 的类型应为整数（位置：$.firm.employees）" in result.output
    missing = invoke("evaluate", "--lang", "zh-CN", tmp_path / "nope.yaml")
    assert missing.exit_code == 1 and "nope.yaml: 无法读取：" in missing.output


def test_every_hostile_profile_gets_a_chinese_message(invoke):
    result = invoke("validate", "--lang", "zh-CN", *sorted(HOSTILE.iterdir()))
    for line in result.output.splitlines()[:-1]:
        message = line.split(": ", 1)[1] if ": " in line else line
        assert CJK.search(message), line


def test_an_unknown_clause_stays_english_and_the_rest_is_translated():
    problem = Problem("p.yaml", 2, 3, "$.x", "refused; something new")
    assert _i18n.problem_line(problem, "zh-CN") == "p.yaml:2:3: 已拒绝；something new（位置：$.x）"
    assert _i18n.problem_line(problem, "en") == problem.format()


@pytest.fixture(scope="module")
def engine():
    return _questions.engine(as_of=datetime.date(2026, 11, 25))


def ask(engine, question_id, state=None):
    state = state or _questions.State({"firm": {"name": "测试"}})
    question = engine.find(state, question_id)
    assert question is not None
    return state, question


@pytest.mark.parametrize("typed", ["中国", "ＣＮ", "cn", "China"])
def test_a_market_may_be_typed_by_its_chinese_name_or_in_full_width(engine, typed):
    state, question = ask(engine, "firm.home_country")
    new, problems = engine.answer(state, question, {"value": typed}, "zh-CN")
    assert problems == [] and new.profile["firm"]["home_country"] == "CN"


def test_an_unreadable_market_shows_the_expected_form_in_chinese(engine):
    state, question = ask(engine, "firm.home_country")
    _, problems = engine.answer(state, question, {"value": "中华"}, "zh-CN")
    assert problems == ["无法识别 '中华'：请填写国家（地区）名称或两位字母代码，例如 中国 或 CN、美国 或 US、欧盟 或 EU"]
    _, problems = engine.answer(state, question, {"value": "XX"}, "zh-CN")
    assert problems[0].startswith("'XX' 不是 ISO 3166-1 两位字母国家代码")


def test_full_width_commas_separate_typed_markets_and_yes_no_reads_chinese(engine):
    question = _questions.Question(
        id="products[0].markets",
        kind="field",
        path=("products", 0, "markets"),
        schema_path="products[].markets",
        schema={"type": "array"},
        required=False,
        multiple=True,
    )
    assert _questions._convert(question, "美国，德国、日本") == (["US", "DE", "JP"], None)
    value, problem = _questions._convert(question, "美国，火星")
    assert value is _questions._ABSENT and "'火星' is not a market" in problem
    yes_no = _questions.Question(
        id="history.squatted",
        kind="field",
        path=("history", "squatted"),
        schema_path="history.squatted",
        schema={"type": "boolean"},
        required=False,
    )
    assert _questions._convert(yes_no, "是") == (True, None) and _questions._convert(yes_no, "否") == (False, None)
    _, problem = _questions._convert(yes_no, "也许")
    assert _i18n.message("zh-CN", problem) == "'也许' 不是“是”或“否”，请回答 是 或 否"


def test_the_invented_in_question_is_asked_only_for_inventions(engine):
    base = {"firm": {"name": "测试", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]}
    for kind, asked in (("trademark", False), ("design", False), ("patent", True)):
        profile = dict(base, ip_assets=[{"type": kind, "name": "X"}])
        found = engine.find(_questions.State(profile), "ip_assets[0].invented_in")
        assert (found is not None) == asked, kind


def test_why_we_ask_says_unknown_values_in_words(engine):
    state = _questions.State(
        {"firm": {"name": "X", "home_country": "CN", "employees": 5}, "markets": [{"code": "US", "status": "active"}]}
    )
    question = engine.find(state, "markets[+]")
    english, chinese = engine.why(question, "en"), engine.why(question, "zh-CN")
    assert "Register your brand in a market before selling there" in english
    assert "在某个市场开售前注册贵公司的品牌" in chinese
    assert not any("…" in reason or "{" in reason for reason in english + chinese)


def test_the_yaml_readers_problem_is_said_in_chinese_too(invoke, tmp_path):
    broken = {
        "colon.yaml": ("a: b\nc\nd: e\n", "3:1: 不是有效的 YAML：读取键时，找不到应有的冒号 ':'"),
        "indent.yaml": ("firm:\n  name: A\n    home: CN\n", "3:9: 不是有效的 YAML：此处不能出现键值对（请检查冒号和缩进）"),
        "quote.yaml": ('firm:\n  name: "A\n', "3:1: 不是有效的 YAML：读取带引号的文本时，文件意外结束（引号或括号未闭合？）"),
        "block.yaml": ("a:\n  - 1\n b: 2\n", "3:2: 不是有效的 YAML：解析键值对时，此处应结束当前层级，却遇到新的一组键值对"),
    }
    for name, (text, _) in broken.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = invoke("validate", "--lang", "zh-CN", *sorted(tmp_path.iterdir()))
    assert result.exit_code == 1
    for name, (_, expected) in broken.items():
        assert f"{tmp_path / name}:{expected}" in result.output, result.output
    english = invoke("validate", tmp_path / "colon.yaml").output
    assert "not valid YAML: could not find expected ':' (while scanning a simple key)" in english  # English as PyYAML says it
    hostile = invoke("validate", "--lang", "zh-CN", *sorted(HOSTILE.iterdir())).output
    details = [line.split("不是有效的 YAML：", 1)[1] for line in hostile.splitlines() if "不是有效的 YAML：" in line]
    assert len(details) >= 5
    for detail in details:  # no English words of the reader's left, only what the file holds, quoted
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"'[^']*'", "", detail).replace("YAML", "")), detail
