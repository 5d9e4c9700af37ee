"""`ipexpert agenda`: one agenda across a client book, as text, JSON, iCalendar and HTML."""

import datetime
import json
import re

import pytest
import yaml
from conftest import AS_OF, EXAMPLES, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from ipexpert._practice.agenda import LEVELS, Entry, select

TWELFTH = ROOT / "tests" / "fixtures" / "book" / "court-order.yaml"


def firm_names(folder):
    return {yaml.safe_load(p.read_text(encoding="utf-8"))["firm"]["name"] for p in folder.glob("*.yaml")}


def agenda_json(invoke, *args):
    result = invoke("agenda", *args, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def calendar(invoke, *args):
    result = invoke("agenda", *args, "--as-of", AS_OF, "--format", "ics")
    assert result.exit_code == 0, result.output
    return Calendar.from_ical(result.stdout_bytes)


def test_the_json_agenda_of_twelve_clients_is_windowed_sorted_and_names_every_client(invoke, book):
    entries = agenda_json(invoke, book, "--days", "90")
    start, end = datetime.date.fromisoformat(AS_OF), datetime.date.fromisoformat(AS_OF) + datetime.timedelta(days=90)
    assert all(start <= datetime.date.fromisoformat(e["date"]) <= end for e in entries)
    keys = [(not e["overdue"], e["date"], LEVELS.index(e["priority"]), e["client"], e["file"], e["item"]) for e in entries]
    assert keys == sorted(keys)
    assert {e["client"] for e in entries} == firm_names(book) and len(firm_names(book)) == 12
    assert all(e["overdue"] == (e["date"] == AS_OF) for e in entries)
    court = [
        e for e in entries if e["client"] == "Harbor Lights Trading" and e["rule"] == "us-litigation/schedule-a-playbook-dated"
    ]
    assert [(e["date"], e["item"]) for e in court] == [
        ("2026-11-25", "schedule-a-playbook-dated#1"),
        ("2026-12-04", "schedule-a-playbook-dated#2"),
        ("2026-12-11", "schedule-a-playbook-dated#3"),
    ]
    assert {"client", "file", "date", "item", "priority", "title", "markets"} <= set(entries[0])


def test_a_shorter_window_keeps_the_overdue_items_and_drops_the_later_ones(invoke, book):
    longer, shorter = agenda_json(invoke, book, "--days", "90"), agenda_json(invoke, book, "--days", "9")
    assert shorter == [e for e in longer if e["date"] <= "2026-12-04"]
    assert any(e["overdue"] for e in shorter) and agenda_json(invoke, book, "--days", "0") == [e for e in longer if e["overdue"]]


def test_the_ics_agenda_has_one_event_per_json_entry_with_stable_uids(invoke, book):
    entries = agenda_json(invoke, book)
    feed = calendar(invoke, book)
    assert not [(c.name, c.errors) for c in feed.walk() if c.errors]  # every property parsed as RFC 5545 types it
    assert str(feed["version"]) == "2.0" and str(feed["prodid"])
    events = feed.walk("VEVENT")
    assert len(events) == len(entries)
    assert all({"UID", "DTSTAMP", "DTSTART", "SUMMARY"} <= set(e) for e in events)
    for entry, event in zip(entries, events):
        assert event.decoded("dtstart") == datetime.date.fromisoformat(entry["date"])
        assert str(event["summary"]).endswith(f"{entry['client']}: {entry['title']}")
        assert entry["actions"][0] in str(event["description"]) and entry["because"] in str(event["description"])
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert [str(e["uid"]) for e in calendar(invoke, book).walk("VEVENT")] == uids  # a second run: the same UIDs
    assert [str(e["uid"]) for e in calendar(invoke, book, "--lang", "zh-CN").walk("VEVENT")] == uids  # any language


def test_editing_one_client_changes_no_other_clients_uids(invoke, book):
    def uids_by_client():
        out = {}
        for event in calendar(invoke, book, "--days", "400").walk("VEVENT"):
            client = str(event["summary"]).removeprefix("OVERDUE ").split(": ", 1)[0]
            out.setdefault(client, set()).add((str(event["uid"]), event.decoded("dtstart")))
        return out

    before = uids_by_client()
    nova = book / "nova-startup.yaml"
    nova.write_text(nova.read_text(encoding="utf-8").replace("launch_date: 2027-0", "launch_date: 2028-0"), encoding="utf-8")
    after = uids_by_client()
    assert {k: v for k, v in after.items() if k != "Nova Gadgets"} == {k: v for k, v in before.items() if k != "Nova Gadgets"}
    assert after["Nova Gadgets"] != before["Nova Gadgets"]  # its own events moved
    same_uids = {uid for uid, _ in after["Nova Gadgets"]} & {uid for uid, _ in before["Nova Gadgets"]}
    assert same_uids  # and an item that moved kept its UID, so a subscribed calendar moves the event


def test_an_invalid_client_is_an_error_line_and_the_rest_of_the_book_is_answered(invoke, book):
    (book / "broken.yaml").write_text("firm:\n  name: Broken Ltd\n  home_country: CN\n  employes: 3\n", encoding="utf-8")
    result = invoke("agenda", book, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 1
    assert f"{book / 'broken.yaml'}:4:3: unknown key 'employes'" in result.stderr
    assert {e["client"] for e in json.loads(result.stdout)} == firm_names(book) - {"Broken Ltd"}
    text = invoke("agenda", book, "--as-of", AS_OF)
    assert text.exit_code == 1 and "1 profile(s) could not be evaluated" in text.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "ics", "html"])
def test_every_format_is_byte_identical_across_runs(invoke, book, fmt):
    first = invoke("agenda", book, "--as-of", AS_OF, "--format", fmt).stdout_bytes
    assert first == invoke("agenda", book, "--as-of", AS_OF, "--format", fmt).stdout_bytes


@pytest.mark.parametrize(
    "lang, heading, overdue", [("en", "Agenda from 2026-11-25", "OVERDUE"), ("zh-CN", "待办日程：2026年11月25日", "已逾期")]
)
def test_the_html_agenda_is_a_page_in_either_language(invoke, book, lang, heading, overdue, tmp_path):
    out = tmp_path / "agenda.html"
    result = invoke("agenda", book, "--as-of", AS_OF, "--format", "html", "--lang", lang, "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
    assert heading in page and overdue in page
    assert all(name.replace("&", "&amp;") in page for name in firm_names(book))


def test_the_chinese_agenda_names_markets_and_items_in_chinese(invoke, book):
    result = invoke("agenda", book, "--as-of", AS_OF, "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "［" in line]
    assert lines and all(re.search(r"［[^］A-Za-z]+（[A-Z]{2}）", line) for line in lines)
    assert "［美国（US）］" in result.stdout and "（编号：" in result.stdout
    assert not re.search(r"［[A-Z]{2}[、］]|[、［][A-Z]{2}］", result.stdout)  # no bare code as a market
    english = invoke("agenda", book, "--as-of", AS_OF).stdout
    assert " [US] " in english and "美国" not in english
    events = calendar(invoke, book, "--lang", "zh-CN").walk("VEVENT")
    described = [str(e["description"]) for e in events if "市场：" in str(e["description"])]
    assert described and all(re.search(r"^市场：[^A-Za-z]+（[A-Z]{2}）", d, re.M) for d in described)
    assert all("：" in str(e["summary"]) and ": " not in str(e["summary"]) for e in events)


def test_profile_text_is_escaped_in_the_html_agenda(invoke, tmp_path):
    profile = yaml.safe_load(TWELFTH.read_text(encoding="utf-8"))
    profile["firm"]["name"] = '<script>alert("x")</script> \u202eTAC'
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    page = invoke("agenda", tmp_path / "evil.yaml", "--as-of", AS_OF, "--format", "html").stdout
    assert "<script>" not in page and "&lt;script&gt;" in page and "\u202e" not in page


def test_the_agenda_is_the_same_with_two_worker_processes(invoke, book):
    assert agenda_json(invoke, book, "--jobs", "2") == agenda_json(invoke, book)


# ---- the window and the order, against an obviously correct reference ----


def reference_agenda(entries, as_of, days):
    """The agenda read off a calendar day by day: overdue items first, then each day of the window in turn;
    within one day the critical items, then high, medium, low; within one level clients by name, then file, then item."""

    def ordered(group):
        out = []
        for level in LEVELS:
            for client in sorted({e.client for e in group}):
                for file in sorted({e.file for e in group}):
                    out += sorted(
                        (e for e in group if e.priority == level and e.client == client and e.file == file), key=lambda e: e.item
                    )
        return out

    overdue = [e for e in entries if e.overdue]
    out = []
    for date in sorted({e.date for e in overdue}):
        out += ordered([e for e in overdue if e.date == date])
    for offset in range(days + 1):
        day = (as_of + datetime.timedelta(days=offset)).isoformat()
        out += ordered([e for e in entries if not e.overdue and e.date == day])
    return out


AS_OF_DATE = datetime.date(2026, 11, 25)


@st.composite
def generated_entries(draw):
    items = []
    for n in range(draw(st.integers(0, 30))):
        offset = draw(st.integers(-20, 60))
        date = AS_OF_DATE + datetime.timedelta(days=offset)
        items.append(
            Entry(
                client=draw(st.sampled_from(["Acme", "Bolt", "Ceres", "acme"])),
                file=draw(st.sampled_from(["a.yaml", "b.yaml"])),
                date=date.isoformat(),
                overdue=offset <= 0,
                item=f"rule-{draw(st.integers(0, 5))}:{n}",
                recommendation="r",
                rule="p/r",
                priority=draw(st.sampled_from(LEVELS)),
                title="t",
                markets=(),
                actions=(),
                because="b",
            )
        )
    return items


@settings(max_examples=300, deadline=None)
@given(generated_entries(), st.integers(0, 45))
def test_the_agenda_selects_and_orders_as_the_day_by_day_reference_does(entries, days):
    assert select(entries, AS_OF_DATE, days) == reference_agenda(entries, AS_OF_DATE, days)


def test_the_hostile_corpus_as_a_book_gives_one_line_per_bad_profile_and_answers_the_rest(invoke, tmp_path):
    corpus = ROOT / "tests" / "hostile" / "profiles"
    result = invoke("agenda", corpus, "--as-of", AS_OF, "--format", "json", "--days", "3660")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("evaluated ")]  # progress: 100 profiles
    assert lines and all(line.startswith(str(corpus) + "/") for line in lines)
    bad = {line.split(":", 1)[0] for line in lines}
    answered = {e["file"] for e in json.loads(result.stdout)}
    assert answered and not bad & answered


def test_the_window_is_at_most_ten_years_and_holds_at_the_last_as_of_date(invoke):
    assert invoke("agenda", EXAMPLES / "nova-startup.yaml", "--days", "3661").exit_code == 2
    result = invoke("agenda", EXAMPLES / "nova-startup.yaml", "--as-of", "2200-12-31", "--days", "3660", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)
