"""The question engine: what it asks, in which order, and why, for the three firms and partial profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interview_firms import AS_OF, FIRMS, FIXTURES, hand_written, reply

from ipexpert import _api
from ipexpert._interview import files as _files
from ipexpert._interview import questions as _questions


@pytest.fixture(scope="module")
def engine():
    return _questions.engine(_api.default_rules(), _api.parse_date(AS_OF))


def interview(engine, firm, state=None):
    """Answer as *firm* until the engine has nothing left to ask; (questions asked, final state)."""
    state = state or _questions.State()
    asked = []
    while (question := engine.next_question(state)) is not None:
        asked.append(question)
        action, answer = reply(question, state.profile, firm)
        if action == "skip":
            state = engine.skip(state, question)
        else:
            state, problems = engine.answer(state, question, answer)
            assert problems == [], (question.id, problems)
        assert len(asked) < 80
    return asked, state


def comparable(outline):
    data = json.loads(outline.to_json())
    for section in ("recommendations", "risks"):
        for entry in data[section]:
            entry["justification"].pop("facts", None)
    return {key: data[key] for key in ("firm", "stage", "recommendations", "risks", "timeline")}


@pytest.mark.parametrize("firm_name", FIRMS)
def test_the_answers_give_the_outline_of_the_profile_written_by_hand(engine, firm_name, capsys):
    asked, state = interview(engine, hand_written(firm_name))
    profile = _files.profile_yaml(state.profile)
    assert _api.validate(profile) == []
    by_hand = _api.evaluate(FIXTURES / f"{firm_name}.yaml", as_of=AS_OF)
    assert comparable(_api.evaluate(profile, as_of=AS_OF)) == comparable(by_hand)
    not_asked = engine.count_fields() - len(_questions.asked_fields(asked))
    with capsys.disabled():
        print(f"\n{firm_name}: {len(asked)} questions asked, {not_asked} of {engine.count_fields()} schema fields not asked")


def test_a_mark_registered_at_home_can_be_recorded_so_no_home_filing_is_advised(engine):
    firm = hand_written("eu-brand-owner")
    asked, state = interview(engine, firm)
    places = [q.fields for q in asked if q.id == "ip_assets[0].registrations[+]"][0]
    jurisdiction = next(sub for sub in places if sub.path[-1] == "jurisdiction")
    assert jurisdiction.choices == ("US", "EU", "CN", "WO")  # the markets, home, and an international registration
    assert {"jurisdiction": "CN", "status": "registered", "filed": "2019-06-10"} in state.profile["ip_assets"][0]["registrations"]
    outline = _api.evaluate(state.profile, as_of=AS_OF)
    assert not [r for r in outline.recommendations if r.rule.endswith("register-brand-at-home")]


def test_only_inventions_are_asked_where_they_were_invented_and_only_granted_rights_when_they_end(engine):
    profile = {
        "firm": {"name": "Handy", "home_country": "CN"},
        "markets": [{"code": "US", "status": "active"}],
        "products": [{"name": "Tool", "origin": "own_design"}],
        "ip_assets": [
            {"type": "trademark", "name": "HANDYPRO", "registrations": [{"jurisdiction": "US", "status": "pending"}]},
            {"type": "patent", "name": "Grip", "registrations": [{"jurisdiction": "US", "status": "registered"}]},
        ],
    }
    ids = {q.id for q in engine._walk(profile, engine.schema, (), "", _questions.State(profile))}
    assert "ip_assets[0].invented_in" not in ids and "ip_assets[0].security_examination" not in ids
    assert "ip_assets[1].invented_in" in ids
    assert "ip_assets[0].registrations[0].expires" not in ids and "ip_assets[0].registrations[0].registered" not in ids
    assert "ip_assets[1].registrations[0].expires" in ids and "ip_assets[1].registrations[0].registered" in ids


def test_the_reseller_is_asked_nothing_about_designs_or_patents_of_its_own(engine):
    asked, _ = interview(engine, hand_written("small-reseller"))
    paths = {q.schema_path for q in asked} | _questions.asked_fields(asked)
    assert not any(p.startswith("ip_assets[].") for p in paths if p not in ("ip_assets[].type", "ip_assets[].name"))
    assert "ip_assets[].products" not in paths and "ip_assets[].registrations[]" not in paths


def test_a_field_no_rule_reads_is_never_asked(engine):
    assert not any(
        kind == "firm" and field == "payment_providers" for kind, field in _questions.fields_read_by_rules(engine.rules)
    )
    for firm_name in FIRMS:
        asked, _ = interview(engine, hand_written(firm_name))
        assert "payment_providers" not in _questions.asked_fields(asked)


def test_fields_read_by_rules_names_the_rules(engine):
    read = _questions.fields_read_by_rules(engine.rules)
    assert "paper-products/product-clearance-search" in read[("sale", "clearance_search")]
    assert "paper-products/copycat-risk" in read[("history", "copycats_seen")]


def test_registrations_are_asked_only_for_the_firms_markets_its_home_and_wo(engine):
    state = _questions.resume(
        {
            "firm": {"name": "A", "home_country": "CN"},
            "markets": [{"code": "US", "status": "active"}, {"code": "EU", "status": "planned"}],
            "ip_assets": [{"type": "trademark", "name": "ACME"}],
        }
    )
    question = engine.find(state, "ip_assets[0].registrations[+]")
    assert question is not None
    jurisdiction = next(sub for sub in question.fields if sub.path[-1] == "jurisdiction")
    assert jurisdiction.choices == ("US", "EU", "CN", "WO")


def test_where_an_invention_was_made_is_asked_for_patents_only(engine):
    state = _questions.resume(
        {
            "firm": {"name": "A", "home_country": "CN", "employees": 20},
            "markets": [{"code": "US", "status": "active"}],
            "ip_assets": [
                {"type": "trademark", "name": "ACME"},
                {
                    "type": "patent",
                    "name": "Hinge",
                    "registrations": [{"jurisdiction": "CN", "status": "pending", "filed": "2026-03-01"}],
                },
            ],
        }
    )
    assert engine.find(state, "ip_assets[0].invented_in") is None
    patent = engine.find(state, "ip_assets[1].invented_in")
    assert patent is not None
    assert any("security examination" in str(why) for why in patent.why)


def test_every_question_says_which_advice_depends_on_it(engine):
    asked, _ = interview(engine, hand_written("patent-holder"))
    optional = [q for q in asked if not q.required]
    assert optional and all(q.why for q in optional)
    clearance = next(q for q in asked if q.schema_path == "products[].clearance_search")
    assert any("Folding e-bike" in str(why) for why in clearance.why)


def test_why_we_ask_is_one_sentence_with_the_known_values_and_words_for_the_rest(engine):
    firm = hand_written("patent-holder")
    state, seen, sentences = _questions.State(), 0, []
    while (question := engine.next_question(state)) is not None:
        for lang, opening, end in (
            ("en", "We ask because your answer decides whether the outline gives this advice: “", "”."),
            ("zh-CN", "之所以询问此项，是因为您的回答决定纲要是否给出以下建议：“", "”。"),
        ):
            sentence = engine.why_sentence(question, lang, state.profile)
            if question.required:
                assert sentence in ("Every profile needs this.", "每份档案都需要这一项。")
                continue
            seen += 1
            assert sentence.startswith(opening) and sentence.endswith(end), sentence
            assert "…" not in sentence and "{" not in sentence, sentence
        if question.id == "ip_assets[0].registrations[+]":  # the right asked about is named, its dates are words
            assert "Check Hinge mechanism's dates in a market - an expiry on a given date" in engine.why_sentence(
                question, "en", state.profile
            )
            assert "核实 Hinge mechanism 在某个市场的日期——注册日为某日" in engine.why_sentence(question, "zh-CN", state.profile)
        sentences.append(engine.why_sentence(question, "en", state.profile))
        action, answer = reply(question, state.profile, firm)
        state = engine.skip(state, question) if action == "skip" else engine.answer(state, question, answer)[0]
    assert seen > 20
    # the firm's home is known from the first answers: named (CN), never "your home country"
    assert not any("your home country" in s for s in sentences) and any(" CN" in s for s in sentences)


def test_every_value_a_rule_title_names_has_words_for_when_it_is_not_known_yet():
    from ipexpert._knowledge import expressions as _expressions
    from ipexpert._knowledge import i18n as _i18n

    words = _i18n._labels()["words"]["unknown"]
    names = {name for rule in _api.default_rules().rules for name in _expressions.placeholders(rule.data.get("title") or "")}
    assert sorted(names - set(words)) == []
    assert all(words[name]["en"] and words[name]["zh-CN"] for name in names)


def test_answers_are_checked_with_the_messages_of_validate(engine):
    state = _questions.resume({"firm": {"name": "A", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]})
    question = engine.find(state, "firm.founded")
    assert question is not None
    same, problems = engine.answer(state, question, {"value": "1700"})
    expected = _api.validate({**state.profile, "firm": {**state.profile["firm"], "founded": 1700}})
    assert problems == [p.message for p in expected] and problems
    assert same is state
    dated = _questions.resume(
        {**state.profile, "markets": [{"code": "EU", "status": "planned"}], "ip_assets": [{"type": "trademark", "name": "ACME"}]}
    )
    launch = engine.find(dated, "markets[0].launch_date")
    _, problems = engine.answer(dated, launch, {"value": "2027-02-30"})
    assert (
        problems
        == [
            p.message
            for p in _api.validate(
                {**dated.profile, "markets": [{"code": "EU", "status": "planned", "launch_date": "2027-02-30"}]}
            )
        ]
        and problems
    )


def test_a_partial_profile_is_resumed_with_only_what_is_missing(engine, tmp_path):
    firm = hand_written("eu-brand-owner")
    partial = tmp_path / "partial.yaml"
    partial.write_text(
        "firm: {name: Lumen Home Ltd., home_country: CN, employees: 25}\nmarkets: [{code: US, status: active}]\n",
        encoding="utf-8",
    )
    state = _questions.read_partial(partial)
    asked, final = interview(engine, firm, state)
    ids = {q.id for q in asked}
    assert not ids & {"firm.name", "firm.home_country", "firm.employees"}
    assert comparable(_api.evaluate(final.profile, as_of=AS_OF)) == comparable(
        _api.evaluate(FIXTURES / "eu-brand-owner.yaml", as_of=AS_OF)
    )


def test_a_state_sent_back_with_a_wrong_value_is_not_trusted():
    assert _questions.trusted(_questions.State.from_json('{"profile": {"firm": {"founded": "soon"}}, "settled": []}')) is None
    assert _questions.State.from_json("not json").profile == {}
    assert _questions.State.read("not json") is None and _questions.State.read("") == _questions.State()
    unfinished = _questions.State.from_json('{"profile": {"firm": {"name": "A"}}, "settled": []}')
    assert _questions.trusted(unfinished) is unfinished


def test_the_profile_file_has_the_schema_modeline_and_comments(engine):
    text = _files.profile_yaml(
        {
            "firm": {"name": "Ünïcode <b>", "home_country": "NO"},
            "markets": [{"code": "NO", "status": "planned", "launch_date": "2027-01-02"}],
        }
    )
    modeline = text.splitlines()[0]
    assert modeline.startswith("# yaml-language-server: $schema=/")  # the installed schema, which an editor reads offline
    installed = Path(modeline.split("=", 1)[1])
    assert installed.is_file() and json.loads(installed.read_text(encoding="utf-8"))["title"]
    assert "# Markets: Markets the firm sells in" in text
    assert _api.validate(text) == []
    assert _api.evaluate(text, as_of=AS_OF).firm == {"name": "Ünïcode <b>", "home_country": "NO"}


HOSTILE = sorted((Path(__file__).resolve().parents[1] / "hostile" / "profiles").iterdir())


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_a_hostile_partial_profile_is_refused_or_resumed_never_crashes(engine, path):
    from ipexpert._errors import InvalidProfileError

    try:
        state = _questions.read_partial(path)
    except InvalidProfileError as exc:
        assert exc.problems and all("\n" not in p.format() for p in exc.problems)
        return
    question = engine.next_question(state)
    assert question is None or question.id


def _schema_fields():
    """(schema path, node) of every field and list of objects in the profile schema."""
    from ipexpert._reading import schemas as _schemas

    schema = _schemas.schema("profile")

    def resolve(node):
        return schema["$defs"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    def walk(node, prefix):
        for name, sub in resolve(node).get("properties", {}).items():
            sub = resolve(sub)
            path = prefix + name
            if name == "$schema":
                continue
            if sub.get("type") == "object":
                yield from walk(sub, path + ".")
            elif sub.get("type") == "array" and resolve(sub.get("items", {})).get("type") == "object":
                yield path + "[]", sub
                yield from walk(sub["items"], path + "[].")
            else:
                yield path, sub

    return list(walk(schema, ""))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_field_has_a_question_and_every_choice_a_name_in_each_language(lang):
    """A field added to the schema without its question would be asked by its English title (or its id)."""
    from ipexpert._interview.texts import texts

    entries = texts(lang)._questions
    missing = [path for path, _ in _schema_fields() if not (entries.get(path) or {}).get("label")]
    assert missing == [], f"interview/{lang}.yaml has no question for {missing}"
    from ipexpert._reading import codes as _codes

    codes = set(_codes.market_codes()) | {"EU", "WO"}
    for path, node in _schema_fields():
        values = set(node.get("enum") or (node.get("items") or {}).get("enum") or [])
        if values and not values <= codes:  # market codes are shown as codes
            choices = entries[path].get("choices", {})
            assert values <= set(choices), f"{lang}: {path} has no name for {sorted(values - set(choices))}"
    offered = set(_questions.engine(_api.default_rules(), _api.parse_date(AS_OF)).channel_choices())
    assert offered <= set(entries["channels"]["choices"]), (
        f"{lang}: no name for channels {sorted(offered - set(entries['channels']['choices']))}"
    )


def test_the_outline_cache_is_bounded_by_bytes_not_by_a_count_of_profiles(monkeypatch):
    # It kept 4,096 outlines (about 63 KB each) whatever their size: 250 MB before any was freed.
    monkeypatch.setattr(_questions, "CACHE_BYTES", 400_000)
    engine = _questions.Engine(_api.default_rules(), _api.parse_date(AS_OF))
    for year in range(1990, 2020):
        profile = {
            "firm": {"name": f"Firm {year}", "home_country": "CN", "founded": year},
            "markets": [{"code": "DE", "status": "active"}],
        }
        assert engine.outline(profile) is not None
    assert 0 < engine._outlines.currsize <= 200_000 and len(engine._outlines) < 30
    assert engine.outline(profile) is engine.outline(profile)  # the latest is still kept
