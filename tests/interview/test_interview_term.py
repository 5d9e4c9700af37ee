"""The terminal interview driven through a pseudo-terminal, keys and all, for the three firms."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser / terminal session per firm: run once, not on every Python

pexpect = pytest.importorskip("pexpect")

from conftest import CI, need, need_pdf  # noqa: E402
from interview_firms import AS_OF, FIRMS, FIXTURES, hand_written, reply  # noqa: E402

from ipexpert import _api  # noqa: E402
from ipexpert._interview import files as _files  # noqa: E402
from ipexpert._interview import questions as _questions  # noqa: E402
from ipexpert._interview import review as _review  # noqa: E402
from ipexpert._interview.texts import texts  # noqa: E402

DOWN, ENTER, SPACE = "\x1b[B", "\r", " "
IPEXPERT = [sys.executable, "-m", "ipexpert"]


def spawn(*args, cwd):
    env = dict(os.environ, TERM="xterm", COLUMNS="120", LINES="40", NO_COLOR="1")
    return pexpect.spawn(
        IPEXPERT[0], IPEXPERT[1:] + list(args), cwd=str(cwd), env=env, encoding="utf-8", timeout=60, dimensions=(40, 120)
    )


def see(child, text):
    child.expect(re.escape(text[:40]))


def select(child, options, value):
    child.send(DOWN * options.index(value) + ENTER)


def comparable(outline):
    import json

    data = json.loads(outline.to_json())
    for section in ("recommendations", "risks"):
        for entry in data[section]:
            entry["justification"].pop("facts", None)
    return {key: data[key] for key in ("firm", "stage", "recommendations", "risks", "timeline")}


def answer_field(child, question, value, t, required):
    """Type one answer the way a person would: arrows for choices, Space to tick, text and Enter."""
    kind = question.type
    see(child, t.label(question))
    if kind == "boolean":
        options = ["yes", "no"] + ([] if required else ["skip"])
        select(child, options, value)
    elif kind == "choice":
        options = list(question.choices) + ([] if required else ["skip"])
        select(child, options, value)
    elif kind == "list":
        known = [v for v in question.choices if v != "other"]
        options = known + (["other"] if "other" in question.choices and question.kind != "group" else [])
        typed = [v for v in value if v not in known]
        keys = ""
        for option in options:
            if option in value or (option == "other" and typed):
                keys += SPACE
            keys += DOWN
        child.send(keys + ENTER)
        if typed:
            see(child, t.ui("other_values"))
            child.send(", ".join(typed) + ENTER)
    elif kind == "date":
        child.send(value[:6])  # half a date: the hint shows while it is typed
        see(child, t.ui("date_hint"))
        child.send(value[6:] + ENTER)
    else:
        child.send(value + ENTER)


def skip_field(child, question, t):
    see(child, t.label(question))
    kind = question.type
    if kind in ("boolean", "choice"):
        options = (["yes", "no"] if kind == "boolean" else list(question.choices)) + ["skip"]
        select(child, options, "skip")
    else:
        child.send(ENTER)  # nothing typed or ticked


def run_interview(tmp_path, firm_name, t):
    firm = hand_written(firm_name)
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    child = spawn("interview", "-o", "profile.yaml", "--as-of", AS_OF, "--lang", t.lang, cwd=tmp_path)
    state, asked = _questions.State(), []
    while (question := engine.next_question(state)) is not None:
        asked.append(question)
        action, answer = reply(question, state.profile, firm)
        if question.kind == "item":
            if not question.required:
                see(child, t.label(question, more=bool(asked and _questions.has_items(state.profile, question.path))))
                select(child, ["add", "skip"], "add" if action == "answer" else "skip")
            if action == "answer":
                for sub in question.fields:
                    answer_field(child, sub, answer[sub.path[-1]], t, required=True)
        elif action == "answer":
            answer_field(child, question, answer["value"], t, question.required)
        else:
            skip_field(child, question, t)
        state = engine.skip(state, question) if action == "skip" else engine.answer(state, question, answer)[0]
    return child, asked, state


def confirm_review(child, t, state, engine):
    """The review lists every answer; the first choice writes the profile."""
    see(child, t.ui("review_next"))
    listed = child.before
    for answer in _review.answers(engine, state)[:3]:
        assert t.label(answer.question)[:20] in listed
    child.send(ENTER)


# The patent holder answers in Chinese: its reasons, outline and reports are Chinese.
LANGUAGE = {FIRMS[0]: "en", FIRMS[1]: "en", FIRMS[2]: "zh-CN"}


@pytest.mark.parametrize("firm_name", FIRMS)
def test_the_terminal_interview_writes_the_profile_and_report_of_a_firm_written_by_hand(tmp_path, firm_name, capsys):
    lang = LANGUAGE[firm_name]
    t = texts(lang)
    child, asked, state = run_interview(tmp_path, firm_name, t)
    confirm_review(child, t, state, _questions.engine(_api.default_rules(), _api.parse_date(AS_OF)))
    see(child, t.ui("saved", path="profile.yaml"))
    offers = ["outline", *_files.report_formats(), "finish"]
    wanted = ["html", "pdf", "outline"] if lang == "zh-CN" else ["html", "outline"]
    if lang == "zh-CN" and ("pdf" not in offers or not shutil.which("pdftotext")):
        if CI:
            need("pdftotext")
            need_pdf()
        wanted.remove("pdf")  # the rest of the run is still checked
    for choice in wanted:
        see(child, t.ui("next_step"))
        select(child, offers, choice)
        offers.remove(choice)
        if choice == "outline":
            child.expect("战略纲要" if lang == "zh-CN" else "IP strategy outline for")
        else:
            see(child, t.ui("report_saved", path=f"profile-report.{choice}"))
    see(child, t.ui("next_step"))
    select(child, offers, "finish")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = (tmp_path / "profile.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert _api.validate(text) == []
    by_hand = _api.evaluate(FIXTURES / f"{firm_name}.yaml", as_of=AS_OF)
    assert comparable(_api.evaluate(text, as_of=AS_OF)) == comparable(by_hand)
    report = (tmp_path / "profile-report.html").read_text(encoding="utf-8")
    assert report == _api.report(text, as_of=AS_OF, name="profile.yaml", lang=lang, format="html")
    if "pdf" in wanted:
        pdf = subprocess.run(["pdftotext", str(tmp_path / "profile-report.pdf"), "-"], capture_output=True, text=True, check=True)
        title = _api.evaluate(text, as_of=AS_OF, lang="zh-CN").recommendations[0].title
        assert re.sub(r"\s+", "", title) in re.sub(r"\s+", "", pdf.stdout)
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    not_asked = engine.count_fields() - len(_questions.asked_fields(asked))
    with capsys.disabled():
        print(
            f"\n{firm_name}: {len(asked)} questions asked in the terminal ({lang}), {not_asked} of {engine.count_fields()} schema fields not asked"
        )


def test_in_chinese_each_question_says_why_in_chinese(tmp_path):
    (tmp_path / "partial.yaml").write_text(
        "firm: {name: Quickship Goods, home_country: CN, employees: 5}\nmarkets: [{code: US, status: active}]\n",
        encoding="utf-8",
    )
    child = spawn("interview", "-o", "profile.yaml", "--from", "partial.yaml", "--lang", "zh-CN", "--as-of", AS_OF, cwd=tmp_path)
    child.expect("为什么问这个：(.*)\r?\n")
    reasons = child.match.group(1)
    assert re.search(r"[\u4e00-\u9fff]", reasons) and not re.search(r"[A-Za-z]{5,}", reasons.replace("Walmart", "")), reasons
    child.sendintr()
    child.expect(pexpect.EOF)


def test_a_wrong_answer_in_chinese_gets_a_chinese_message_and_a_chinese_name_is_read(tmp_path):
    child = spawn("interview", "-o", "profile.yaml", "--lang", "zh-CN", "--as-of", AS_OF, cwd=tmp_path)
    see(child, "贵公司叫什么名字？")
    child.send("Quickship" + ENTER)
    see(child, "贵公司设在哪个国家？")
    child.send("中华" + ENTER)
    see(child, "请修改这个回答：无法识别 '中华'：请填写国家（地区）名称或两位字母代码")
    see(child, "贵公司设在哪个国家？")
    child.send("中国" + ENTER)
    index = child.expect([re.escape("请修改这个回答"), "市场"])
    assert index == 1  # 中国 was read as CN
    child.sendintr()
    child.expect(pexpect.EOF)


def test_ctrl_c_leaves_no_file(tmp_path):
    t = texts("zh-CN")
    child = spawn("interview", "-o", "profile.yaml", "--lang", "zh-CN", "--as-of", AS_OF, cwd=tmp_path)
    see(child, "贵公司叫什么名字？")
    child.send("Quickship" + ENTER)
    see(child, "贵公司设在哪个国家？")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert list(tmp_path.iterdir()) == []
    assert t.ui("title")


def test_a_partial_profile_is_resumed_asking_only_what_is_missing(tmp_path):
    (tmp_path / "partial.yaml").write_text("firm: {name: Quickship Goods, home_country: CN}\n", encoding="utf-8")
    child = spawn("interview", "-o", "profile.yaml", "--from", "partial.yaml", "--as-of", AS_OF, cwd=tmp_path)
    index = child.expect([re.escape("What is your firm's name"), re.escape("Add a market")])
    assert index == 1  # the name and country are not asked again
    child.sendintr()
    child.expect(pexpect.EOF)


def test_a_wrong_answer_in_a_partial_profile_is_one_line(tmp_path):
    (tmp_path / "partial.yaml").write_text("firm:\n  name: Quickship Goods\n  home_country: China\n", encoding="utf-8")
    child = spawn("interview", "-o", "profile.yaml", "--from", "partial.yaml", cwd=tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert re.search(r"partial\.yaml:3:17: .*China.* \(at \$\.firm\.home_country\)", child.before)
    assert not (Path(tmp_path) / "profile.yaml").exists()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_back_and_the_review_change_answers_before_the_profile_is_written(tmp_path, lang):
    """`<` goes back to the home country; on the review, the CN registration's status is changed."""
    t = texts(lang)
    firm = hand_written(FIRMS[1])  # its mark is registered at home, in CN, which is not one of its markets
    engine = _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))
    child = spawn("interview", "-o", "profile.yaml", "--as-of", AS_OF, "--lang", lang, cwd=tmp_path)
    state = _questions.State()
    name, home = engine.next_question(state), None
    answer_field(child, name, firm["firm"]["name"], t, True)
    state = engine.answer(state, name, {"value": firm["firm"]["name"]})[0]
    home = engine.next_question(state)
    answer_field(child, home, "JP", t, True)  # a slip
    see(child, t.ui("back_hint"))
    child.send("<" + ENTER)  # Back, from the first market's code
    see(child, t.label(home))
    answer_field(child, home, "CN", t, True)
    state = engine.answer(state, home, {"value": "CN"})[0]
    while (question := engine.next_question(state)) is not None:
        action, answer = reply(question, state.profile, firm)
        if question.kind == "item":
            if not question.required:
                select(child, ["add", "skip"], "add" if action == "answer" else "skip")
            if action == "answer":
                for sub in question.fields:
                    answer_field(child, sub, answer[sub.path[-1]], t, required=True)
        elif action == "answer":
            answer_field(child, question, answer["value"], t, question.required)
        else:
            skip_field(child, question, t)
        state = engine.skip(state, question) if action == "skip" else engine.answer(state, question, answer)[0]

    see(child, t.ui("review_next"))
    child.send(DOWN + ENTER)  # change an answer
    rows = _review.answers(engine, state)
    where = ("ip_assets", 0, "registrations", 1, "status")
    see(child, t.ui("which_answer"))
    child.send(DOWN * [a.path for a in rows].index(where) + ENTER)
    opened, question, old = _review.reopen(engine, state, where)
    assert old == "registered"
    see(child, t.label(question))
    choices = list(question.choices)
    child.send(DOWN * (choices.index("pending") - choices.index("registered")) + ENTER)  # the old answer is where it starts
    state = engine.answer(opened, question, {"value": "pending"})[0]
    while (question := engine.next_question(state)) is not None:  # whatever the change makes worth asking
        skip_field(child, question, t)
        state = engine.skip(state, question)
    see(child, t.ui("review_next"))
    child.send(ENTER)
    see(child, t.ui("saved", path="profile.yaml"))
    see(child, t.ui("next_step"))
    select(child, ["outline", *_files.report_formats(), "finish"], "finish")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    written = _api.evaluate(tmp_path / "profile.yaml", as_of=AS_OF)
    assert written.firm["home_country"] == "CN"
    profile = _questions.read_partial(tmp_path / "profile.yaml").profile
    assert profile["ip_assets"][0]["registrations"][1] == {"jurisdiction": "CN", "status": "pending", "filed": "2019-06-10"}


@pytest.mark.parametrize("no_color", ["1", ""])
def test_no_color_turns_the_styles_off(tmp_path, no_color):
    (tmp_path / "partial.yaml").write_text("firm: {name: Quickship Goods, home_country: CN}\n", encoding="utf-8")
    env = dict(os.environ, TERM="xterm", COLUMNS="120", LINES="40", NO_COLOR=no_color)
    child = pexpect.spawn(
        IPEXPERT[0],
        IPEXPERT[1:] + ["interview", "-o", "profile.yaml", "--from", "partial.yaml", "--as-of", AS_OF],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 120),
    )
    child.expect("Why we ask: ")
    dimmed = "\x1b[2m" in child.before
    child.sendintr()
    child.expect(pexpect.EOF)
    assert dimmed == (no_color == "")
