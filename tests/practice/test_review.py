"""`ipexpert review`: a book compared with its ledger (SQLite in the book, or a real PostgreSQL), then recorded."""

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import uuid

import pytest
from conftest import AS_OF

from ipexpert._practice import ledger

NOVA_CHANGE = "~ recommendation register-brand-before-entry:novalux:gb: priority critical -> high; due 2026-11-25 -> 2027-10-01"


def postgres_server() -> str:
    """The URL of the PostgreSQL the tests may use; skip without one, except in CI, where it is a failure."""
    url = os.environ.get("IPEXPERT_TEST_POSTGRES")
    if not url:
        message = "needs a PostgreSQL server: set IPEXPERT_TEST_POSTGRES=postgresql://... (.ci/run starts one)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url():
    """A fresh, empty schema of the test server, dropped afterwards: the URL of a ledger nobody else uses."""
    import psycopg

    url = postgres_server()
    schema = f"ipexpert_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_args(request, book):
    """No option (the book's own SQLite ledger), or --ledger with a real PostgreSQL."""
    if request.param == "sqlite":
        return []
    return ["--ledger", request.getfixturevalue("postgres_url")]


def review(invoke, book, *args):
    result = invoke("review", book, "--as-of", AS_OF, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def changed_clients(report: str) -> list[str]:
    return [
        line.split(" (")[0]
        for line in report.splitlines()
        if re.search(r"\): since the evaluation recorded .*change\(s\)$", line)
    ]


def test_a_review_names_the_one_client_that_changed_and_a_third_run_reports_no_change(invoke, book, ledger_args):
    first = review(invoke, book, *ledger_args)
    assert "new to the ledger (12)" in first and "recorded in" in first
    nova = book / "nova-startup.yaml"
    nova.write_text(nova.read_text(encoding="utf-8").replace("launch_date: 2027-0", "launch_date: 2028-0"), encoding="utf-8")
    second = review(invoke, book, *ledger_args)
    assert changed_clients(second) == ["Nova Gadgets"]
    assert "  " + NOVA_CHANGE in second.splitlines()
    assert "12 client(s) reviewed: 1 changed, 0 new, 11 unchanged" in second
    third = review(invoke, book, *ledger_args)
    assert changed_clients(third) == [] and "12 client(s) reviewed: 0 changed, 0 new, 12 unchanged" in third


def test_a_chinese_review_reports_the_change_the_clients_and_the_history_in_chinese(invoke, book):
    first = review(invoke, book, "--lang", "zh-CN")
    assert "首次记入台账（12个）：" in first
    assert "共复核12个客户：0个有变化，12个为新客户，0个无变化；已记入" in first
    nova = book / "nova-startup.yaml"
    nova.write_text(nova.read_text(encoding="utf-8").replace("launch_date: 2027-0", "launch_date: 2028-0"), encoding="utf-8")
    second = review(invoke, book, "--lang", "zh-CN").splitlines()
    assert any(line.startswith("Nova Gadgets（") and "记录的评估（评估日期2026年11月25日）相比，共" in line for line in second)
    change = "  ~ 建议 register-brand-before-entry:novalux:gb：优先级：紧急 → 高；截止日期：2026年11月25日 → 2027年10月1日"
    assert change in second
    assert second[-1].startswith("共复核12个客户：1个有变化，0个为新客户，11个无变化；已记入")
    assert "建议无变化（11个）：" in "\n".join(second)
    history = invoke("review", book, "--history", "Nova Gadgets", "--lang", "zh-CN").stdout.splitlines()
    assert history[0].startswith("Nova Gadgets：") and history[0].endswith(" 中共有2次评估记录")
    assert all("评估日期2026年11月25日" in line and "项建议、" in line and "规则包：" in line for line in history[1:])
    assert "--no-record" in review(invoke, book, "--lang", "zh-CN", "--no-record").splitlines()[-1]


def test_the_history_lists_every_recorded_evaluation_with_its_packs(invoke, book, ledger_args):
    review(invoke, book, *ledger_args)
    review(invoke, book, *ledger_args, "--no-record")
    review(invoke, book, *ledger_args)
    result = invoke("review", book, "--history", "Harbor Lights Trading", *ledger_args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Harbor Lights Trading: 2 evaluation(s) recorded in")
    assert all(f"as of {AS_OF}  ipexpert " in line and "us-litigation 1.0.0" in line for line in lines[1:]) and len(lines) == 3
    assert "no evaluation recorded" in invoke("review", book, "--history", "Nobody", *ledger_args).stdout


def test_a_record_keeps_client_hash_date_version_packs_outline_and_time(invoke, book):
    review(invoke, book)
    with ledger.open_ledger(book / ".ipexpert" / "ledger.sqlite") as db:
        record = db.last("Spinwell Trading Co.", str(book / "spinwell-trending.yaml"))
        assert db.count() == 12
    assert record is not None
    assert record.as_of == AS_OF and record.ipexpert_version == "0.1.0" and len(record.profile_hash) == 64
    assert {"name": "paper-core", "version": "1.0.0"} in record.rule_packs
    assert record.outline["firm"]["name"] == "Spinwell Trading Co." and record.outline["recommendations"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record.recorded_at)


def run_review(book, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "review", str(book), "--as-of", AS_OF, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_reviews_at_once_both_land_whole(book, ledger_args):
    reviews = [run_review(book, *ledger_args), run_review(book, *ledger_args)]
    outputs = [p.communicate(timeout=300) for p in reviews]
    assert [p.returncode for p in reviews] == [0, 0], outputs
    url = ledger_args[1] if ledger_args else book / ".ipexpert" / "ledger.sqlite"
    with ledger.open_ledger(url) as db:
        rows = db._rows("SELECT recorded_at, client FROM ipexpert_evaluations ORDER BY id", ())
    assert len(rows) == 24 and sorted(client for _, client in rows[:12]) == sorted(client for _, client in rows[12:])
    assert len({stamp for stamp, _ in rows[:12]}) == 1 and len({stamp for stamp, _ in rows[12:]}) == 1  # each run in one piece
    if not ledger_args:
        with contextlib.closing(sqlite3.connect(url)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after = run_review(book, *ledger_args).communicate(timeout=300)[0]
    assert "12 client(s) reviewed: 0 changed, 0 new, 12 unchanged" in after


def test_no_record_leaves_the_ledger_as_it_was(invoke, book):
    review(invoke, book)
    assert "not recorded (--no-record)" in review(invoke, book, "--no-record")
    with ledger.open_ledger(book / ".ipexpert" / "ledger.sqlite") as db:
        assert db.count() == 12


def test_an_invalid_client_is_an_error_line_and_the_others_are_reviewed_and_recorded(invoke, book):
    (book / "broken.yaml").write_text("firm: [\n", encoding="utf-8")
    result = invoke("review", book, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(book / 'broken.yaml'))}:\d+:\d+: ", result.stderr, re.M)
    assert "12 client(s) reviewed: 0 changed, 12 new, 0 unchanged, 1 could not be evaluated" in result.stdout


def test_a_postgresql_ledger_without_psycopg_is_one_line_naming_the_extra(invoke, book, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = invoke("review", book, "--ledger", "postgresql://user:secret@localhost/ledger")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "postgresql://user:***@localhost/ledger: a PostgreSQL ledger needs psycopg: pip install 'ipexpert[postgres]'\n"
    )


def test_a_ledger_that_cannot_be_reached_is_one_line(invoke, book):
    result = invoke("review", book, "--ledger", "postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=3")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("postgresql://nobody:***@127.0.0.1:1/none?connect_timeout=3: the ledger cannot be used: ")


def test_the_history_of_a_book_never_reviewed_says_so_and_creates_nothing(invoke, book):
    result = invoke("review", book, "--history", "Nova Gadgets")
    assert result.exit_code == 1 and "no ledger here yet" in result.stderr and not (book / ".ipexpert").exists()


def test_review_needs_a_book_or_a_ledger(invoke):
    result = invoke("review")
    assert result.exit_code == 2 and "give the BOOK folder" in result.stderr
