"""The Word report (`--format docx`): read back with python-docx, it holds what the HTML report holds, in both languages."""

import datetime
import io
import os
import pty
import subprocess
import sys
import zipfile

import pytest
from conftest import AS_OF, EXAMPLES, SPINWELL

import ipexpert

docx = pytest.importorskip("docx")


def word_report(path, lang):
    return ipexpert.report(path, as_of=AS_OF, lang=lang, format="docx")


def shown_date(text, lang):
    day = datetime.date.fromisoformat(text)
    return day.isoformat() if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


@pytest.mark.parametrize("lang", ipexpert.LANGUAGES)
def test_the_word_report_reads_back_with_every_item_date_and_source(lang):
    outline = ipexpert.evaluate(SPINWELL, as_of=AS_OF, lang=lang)
    document = docx.Document(io.BytesIO(word_report(SPINWELL, lang)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == (
        "Title",
        {"en": "IP strategy report: ", "zh-CN": "知识产权战略报告："}[lang] + "Spinwell Trading Co.",
    )
    titles = [text for style, text in paragraphs if style == "Heading 3"]
    assert sorted(titles) == sorted([r.title for r in outline.recommendations] + [r.title for r in outline.risks])
    summary = [text for style, text in paragraphs if style == "List Number"]
    assert summary and all(any(r.title in text for r in outline.recommendations) for text in summary)
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {shown_date(entry.date, lang) for entry in outline.timeline} <= cells  # the timeline table has every date
    text = "\n".join(t for _, t in paragraphs)
    for rec in outline.recommendations:
        assert all(action in text for action in rec.actions) and rec.justification.because in text
    urls = {s.url for r in outline.recommendations for s in r.justification.sources if s.url}
    assert urls and all(url in text for url in urls)
    assert document.core_properties.created == datetime.datetime(2026, 11, 25, tzinfo=datetime.timezone.utc)
    assert document.core_properties.language == lang


@pytest.mark.parametrize("lang", ipexpert.LANGUAGES)
def test_the_same_inputs_give_the_same_word_bytes(lang):
    first = word_report(SPINWELL, lang)
    assert first == word_report(SPINWELL, lang)
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_every_example_gives_a_word_report_in_chinese_with_no_english_card_titles_where_translated():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        outline = ipexpert.evaluate(path, as_of=AS_OF, lang="zh-CN")
        document = docx.Document(io.BytesIO(word_report(path, "zh-CN")))
        titles = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
        assert len(titles) == len(outline.recommendations) + len(outline.risks), path.name


def test_without_python_docx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)
    with pytest.raises(ipexpert.IPExpertError) as caught:
        word_report(SPINWELL, "en")
    assert caught.value.problems[0].message == "a Word report needs python-docx (docx is missing): pip install 'ipexpert[docx]'"


def test_the_cli_writes_a_word_file_and_refuses_a_terminal(tmp_path):
    out = tmp_path / "r.docx"
    cli = [sys.executable, "-m", "ipexpert", "evaluate", str(SPINWELL), "--as-of", AS_OF, "--format", "docx"]
    done = subprocess.run(cli + ["--lang", "zh-CN", "-o", str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == word_report(SPINWELL, "zh-CN")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(cli, stdout=follower, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2 and b"a DOCX file is not written to a terminal" in done.stderr
