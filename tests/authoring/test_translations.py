"""Translating a consultant's own pack: export a PO file, fill it in, import it, and see it in a zh-CN outline."""

import io
import shutil

import pytest
from babel.messages.pofile import read_po, write_po
from conftest import AS_OF, EXAMPLES, ROOT

PACK = """\
pack: notes
version: 1.0.0
facts:
  - office: {market: US, note: "file online at the USPTO"}
rules:
  - id: file-note
    title: "File {brand} in {market}"
    category: trademark
    when:
      - market: {code: $market}
      - asset: {type: trademark, name: $brand}
      - office: {market: $market, note: $note}
    recommend:
      priority: high
      markets: [$market]
      assets: [$brand]
      actions: ["Ask the office how: {note}"]
    because: "{brand} is sold in {market}"
    source: [paper §2.3]
"""

CHINESE = {
    "File {brand} in {market}": "在 {market} 申请 {brand}",
    "Ask the office how: {note}": "向主管局咨询：{note}",
    "{brand} is sold in {market}": "{brand} 在 {market} 销售",
    "file online at the USPTO": "在美国专利商标局网上提交",
}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "notes.yaml").write_text(PACK, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fill(po_file, translations):
    """Fill the msgstr of each message whose English is in *translations*, as a PO editor would."""
    po = read_po(io.BytesIO(po_file.read_bytes()))
    for message in po:
        if message.id in translations:
            message.string = translations[message.id]
    out = io.BytesIO()
    write_po(out, po, width=0)
    po_file.write_bytes(out.getvalue())


def outline(invoke):
    result = invoke("evaluate", EXAMPLES / "nova-startup.yaml", "--rules", "packs", "--lang", "zh-CN", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_fill_import_shows_the_chinese_in_the_outline(folder, invoke):
    assert "Ask the office how: file online at the USPTO" in outline(invoke)
    assert invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po").exit_code == 0
    exported = (folder / "notes.po").read_text(encoding="utf-8")
    assert (
        '#: packs/notes.yaml:7\n#, python-brace-format\nmsgctxt "file-note title"\nmsgid "File {brand} in {market}"\nmsgstr ""'
        in exported
    )
    assert '#: packs/notes.yaml:4\nmsgctxt "value"\nmsgid "file online at the USPTO"\nmsgstr ""' in exported
    fill(folder / "notes.po", CHINESE)
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "packs/i18n/zh-CN/notes.yaml: 4 added, 0 updated, 0 unchanged, 0 left fuzzy, 0 left empty, 0 no longer in the pack\n"
    )
    text = outline(invoke)
    assert "在美国申请 NOVALUX" in text
    assert "向主管局咨询：在美国专利商标局网上提交" in text
    assert "NOVALUX 在美国销售" in text
    checked = invoke("rules", "check", "packs")
    assert checked.exit_code == 0 and "0 error(s), 0 warning(s)" in checked.stderr, checked.output


def test_two_exports_are_the_same_bytes_and_a_bundled_pack_exports_its_translations(folder, invoke):
    first = invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN").stdout_bytes
    second = invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN").stdout_bytes
    assert first == second and b"POT-Creation-Date: 2000-01-01 00:00+0000" in first
    bundled = invoke("rules", "translation", "export", ROOT / "rules" / "squatters.yaml", "--lang", "zh-CN")
    po = read_po(io.BytesIO(bundled.stdout_bytes))
    title = po.get("Win back {brand} in {market} - the routes against the holder and their time limits", "squatter-routes title")
    assert title.string == "夺回 {brand} 在 {market} 的商标——针对抢注人的途径及其期限"
    assert not any(m.fuzzy for m in po if m.id)


def test_a_changed_english_text_is_exported_fuzzy_with_its_old_english_and_reported_stale(folder, invoke):
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po")
    fill(folder / "notes.po", CHINESE)
    invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    pack = folder / "packs" / "notes.yaml"
    pack.write_text(PACK.replace('"{brand} is sold in {market}"', '"{brand} is sold online in {market}"'), encoding="utf-8")
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "again.po")
    again = (folder / "again.po").read_text(encoding="utf-8")
    assert (
        '#, fuzzy, python-brace-format\n#| msgid "{brand} is sold in {market}"\nmsgctxt "file-note because"\n'
        'msgid "{brand} is sold online in {market}"\nmsgstr "{brand} 在 {market} 销售"'
    ) in again
    checked = invoke("rules", "check", "packs")
    assert checked.stdout.splitlines() == [
        "packs/notes.yaml:18:14: warning: the zh-CN translation of notes/file-note because is older than its English "
        "text (update packs/i18n/zh-CN/notes.yaml; until then it is shown in English) (at $.rules[0].because)"
    ]
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "again.po")
    assert "0 added, 0 updated, 3 unchanged, 1 left fuzzy" in result.stdout
    # the translator confirms it: no longer fuzzy, the stale entry is replaced, not kept beside the new one
    fill(folder / "again.po", {"{brand} is sold online in {market}": "{brand} 在 {market} 网上销售"})
    po = read_po(io.BytesIO((folder / "again.po").read_bytes()))
    po.get("{brand} is sold online in {market}", "file-note because").flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, po, width=0)
    (folder / "again.po").write_bytes(out.getvalue())
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "again.po")
    assert "0 added, 1 updated, 3 unchanged, 0 left fuzzy" in result.stdout
    saved = (folder / "packs" / "i18n" / "zh-CN" / "notes.yaml").read_text(encoding="utf-8")
    assert "is sold in" not in saved and "{brand} 在 {market} 网上销售" in saved
    assert "NOVALUX 在美国网上销售" in outline(invoke)


def test_an_import_keeps_what_it_does_not_touch_and_reports_english_no_longer_in_the_pack(folder, invoke):
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po")
    fill(folder / "notes.po", CHINESE)
    invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "one.po")
    text = (folder / "one.po").read_text(encoding="utf-8")
    text = text.replace('msgstr "在 {market} 申请 {brand}"', 'msgstr "在 {market} 注册 {brand}"')
    text = text.replace('msgid "{brand} is sold in {market}"', 'msgid "{brand} was sold in {market}"')
    (folder / "one.po").write_text(text, encoding="utf-8")
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "one.po")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("one.po:") and "'{brand} was sold in {market}' is no longer in" in lines[0]
    assert "0 added, 1 updated, 2 unchanged" in result.stdout
    text = outline(invoke)
    assert "在美国注册 NOVALUX" in text and "NOVALUX 在美国销售" in text


def test_a_malformed_po_is_a_one_line_error(folder, invoke):
    (folder / "bad.po").write_text('msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\nmsgid "x"\nmsgfoo "y"\n', encoding="utf-8")
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "bad.po")
    assert result.exit_code == 1
    assert result.stderr == 'bad.po:6: not a PO file: Unknown or misformatted keyword (msgfoo "y")\n'
    (folder / "nolang.po").write_text('msgid "x"\nmsgstr "y"\n', encoding="utf-8")
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "nolang.po")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1 and "the PO header names no language" in result.stderr


def test_a_placeholder_the_english_does_not_have_is_refused(folder, invoke):
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po")
    fill(folder / "notes.po", {**CHINESE, "File {brand} in {market}": "在 {country} 申请 {brand}"})
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("notes.po:") and line.endswith(
        "the translation of 'file-note title' uses {country}, which its English does not (placeholders must match)"
    )
    assert not (folder / "packs" / "i18n").exists()


def test_check_reports_missing_translations_once_the_pack_has_a_file(folder, invoke):
    checked = invoke("rules", "check", "packs")
    (line,) = checked.stdout.splitlines()
    assert "pack notes has no zh-CN translation" in line and "ipexpert rules translation export packs/notes.yaml" in line
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po")
    fill(folder / "notes.po", {"File {brand} in {market}": CHINESE["File {brand} in {market}"]})
    invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    checked = invoke("rules", "check", "packs")
    assert checked.exit_code == 0
    lines = checked.stdout.splitlines()
    assert len(lines) == 3
    shown = "\n".join(lines)
    assert "notes/file-note recommend.actions is missing (update packs/i18n/zh-CN/notes.yaml" in shown
    assert "notes/file-note because is missing" in shown
    assert "value 'file online at the USPTO' is missing (add it under values: in packs/i18n/zh-CN/notes.yaml" in shown
    assert "title" not in shown


def test_the_same_workflow_serves_a_copy_of_a_bundled_pack_as_a_consultant_pack(folder, invoke):
    shutil.copy(ROOT / "tests" / "fixtures" / "packs" / "base" / "base.yaml", folder / "packs" / "base.yaml")
    result = invoke("rules", "translation", "export", "packs/base.yaml", "--lang", "zh-CN")
    assert result.exit_code == 0 and result.stdout.count("msgctxt ") == 15


def test_an_import_into_a_translated_pack_changes_only_the_line_it_translates(tmp_path, invoke, monkeypatch):
    (tmp_path / "i18n" / "zh-CN").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "squatters.yaml", tmp_path / "squatters.yaml")
    before = (ROOT / "rules" / "i18n" / "zh-CN" / "squatters.yaml").read_text(encoding="utf-8")
    (tmp_path / "i18n" / "zh-CN" / "squatters.yaml").write_text(before, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    invoke("rules", "translation", "export", "squatters.yaml", "--lang", "zh-CN", "-o", "s.po")
    title = "Win back {brand} in {market} - the routes against the holder and their time limits"
    fill(tmp_path / "s.po", {title: "从抢注人手中夺回 {brand} 在 {market} 的商标：途径与期限"})
    result = invoke("rules", "translation", "import", "squatters.yaml", "s.po")
    assert "0 added, 1 updated, 19 unchanged" in result.stdout
    after = (tmp_path / "i18n" / "zh-CN" / "squatters.yaml").read_text(encoding="utf-8")
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert changed == [
        (
            '      zh-CN: "夺回 {brand} 在 {market} 的商标——针对抢注人的途径及其期限"',
            '      zh-CN: "从抢注人手中夺回 {brand} 在 {market} 的商标：途径与期限"',
        )
    ]


def test_a_broken_translation_file_is_a_one_line_error_wherever_it_is_read(folder, invoke):
    (folder / "packs" / "i18n" / "zh-CN").mkdir(parents=True)
    (folder / "packs" / "i18n" / "zh-CN" / "notes.yaml").write_text("rules: [1, 2]\n", encoding="utf-8")
    expected = "packs/i18n/zh-CN/notes.yaml:1:1: a translation file is a mapping with pack, language, rules and values"
    checked = invoke("rules", "check", "packs")
    assert checked.exit_code == 1 and checked.stdout.splitlines() == [expected]
    evaluated = invoke("evaluate", EXAMPLES / "nova-startup.yaml", "--rules", "packs", "--lang", "zh-CN", "--as-of", AS_OF)
    assert (
        evaluated.exit_code == 1
        and len(evaluated.stderr.splitlines()) == 1
        and "packs/i18n/zh-CN/notes.yaml:1:1" in evaluated.stderr
    )
    exported = invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN")
    assert exported.exit_code == 1 and exported.stderr.strip() == expected


def test_a_changed_action_is_fuzzy_and_its_confirmed_translation_replaces_the_old_one(folder, invoke):
    invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN", "-o", "notes.po")
    fill(folder / "notes.po", CHINESE)
    invoke("rules", "translation", "import", "packs/notes.yaml", "notes.po")
    pack = folder / "packs" / "notes.yaml"
    pack.write_text(PACK.replace("Ask the office how: {note}", "Ask the office how and when: {note}"), encoding="utf-8")
    po_text = invoke("rules", "translation", "export", "packs/notes.yaml", "--lang", "zh-CN").stdout
    assert '#| msgid "Ask the office how: {note}"\nmsgctxt "file-note recommend.actions"\n' in po_text
    po_text = po_text.replace(
        '#, fuzzy, python-brace-format\n#| msgid "Ask the office how: {note}"\n', "#, python-brace-format\n"
    ).replace('msgstr "向主管局咨询：{note}"', 'msgstr "向主管局咨询办法和时间：{note}"')
    (folder / "edited.po").write_text(po_text, encoding="utf-8")
    result = invoke("rules", "translation", "import", "packs/notes.yaml", "edited.po")
    assert "0 added, 1 updated, 3 unchanged, 0 left fuzzy" in result.stdout
    saved = (folder / "packs" / "i18n" / "zh-CN" / "notes.yaml").read_text(encoding="utf-8")
    assert saved.count("- en:") == 2  # the action and the value: the old action's entry is gone
    assert "向主管局咨询办法和时间：在美国专利商标局网上提交" in outline(invoke)
