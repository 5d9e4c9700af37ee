"""Back and the review page's answers, on the question engine alone (the browser and terminal tests drive the same)."""

from __future__ import annotations

import json

import pytest
from interview_firms import AS_OF, hand_written, reply

from ipexpert import _api
from ipexpert._interview import questions as _questions
from ipexpert._interview import review as _review


@pytest.fixture(scope="module")
def engine():
    return _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))


def step(engine, state, firm):
    """One question answered (or skipped) as *firm* would; (the question, the new state)."""
    question = engine.next_question(state)
    action, answer = reply(question, state.profile, firm)
    if action == "skip":
        return question, engine.skip(state, question)
    new_state, problems = engine.answer(state, question, answer)
    assert problems == [], (question.id, problems)
    return question, new_state


def finished(engine, firm):
    state = _questions.State()
    while engine.next_question(state) is not None:
        _, state = step(engine, state, firm)
    return state


def test_back_undoes_each_step_in_turn_and_asks_the_same_question_again(engine):
    firm = hand_written("eu-brand-owner")
    states, asked = [_questions.State()], []
    for _ in range(12):
        question, state = step(engine, states[-1], firm)
        asked.append(question.id)
        states.append(state)
    state = states[-1]
    for earlier, question_id in zip(reversed(states[:-1]), reversed(asked)):
        state = _review.back(state)
        assert (state.profile, state.settled) == (earlier.profile, earlier.settled)
        assert engine.next_question(state).id == question_id
    assert _review.back(state) == state  # nothing left to undo


def test_the_steps_travel_with_the_state_and_a_malformed_step_is_a_tampered_state(engine):
    firm = hand_written("patent-holder")
    state = _questions.State()
    for _ in range(5):
        _, state = step(engine, state, firm)
    again = _questions.State.read(state.to_json())
    assert again == state and len(again.steps) == 5
    for bad in ([{"put": "firm"}], [{"drop": ["firm"]}], [{"append": []}], [{"put": [["firm"]], "settle": []}], "x"):
        data = json.loads(state.to_json())
        data["steps"] = bad
        assert _questions.State.read(json.dumps(data)) is None, bad


def test_the_review_lists_every_answer_and_skip_and_a_change_is_asked_again_with_the_old_answer(engine):
    firm = hand_written("eu-brand-owner")
    state = finished(engine, firm)
    rows = _review.answers(engine, state)
    paths = [row.path for row in rows]
    assert ("firm", "name") in paths and ("firm", "home_country") in paths
    skipped = [row for row in rows if row.skipped]
    assert all(row.question.id in state.settled for row in skipped)
    home = next(row for row in rows if row.path == ("firm", "home_country"))
    assert home.value == "CN"
    opened, question, old = _review.reopen(engine, state, ("firm", "home_country"))
    assert question.id == "firm.home_country" and old == "CN"
    assert "home_country" not in opened.profile["firm"] and not opened.reviewed
    assert engine.next_question(opened).id == "firm.home_country"
    changed, problems = engine.answer(opened, question, {"value": "HK"})
    assert problems == [] and changed.profile["firm"]["home_country"] == "HK"
    assert _review.reopen(engine, state, ("firm", "nothing")) == (state, None, _review.SKIPPED)


def test_confirming_the_review_lets_the_report_be_made_and_back_returns_to_the_review(engine):
    state = finished(engine, hand_written("small-reseller"))
    confirmed = _review.confirm(state)
    assert confirmed.reviewed and _questions.State.read(confirmed.to_json()).reviewed
    assert _review.back(confirmed) == state  # from the downloads, Back is the review page with every answer kept


@pytest.mark.parametrize(("lang", "home", "market"), [("en", "CN", "US"), ("zh-CN", "中国（CN）", "美国（US）")])
def test_the_review_names_markets_in_the_interviews_language(engine, lang, home, market):
    from ipexpert._interview import pages as _pages
    from ipexpert._interview import texts as _texts

    state = finished(engine, hand_written("eu-brand-owner"))
    rows = {row["path"]: row for row in _pages._review_rows(engine, state, _texts.texts(lang))}
    assert rows['["firm", "home_country"]']["value"] == home
    assert rows['["markets", 0, "code"]']["value"] == market
