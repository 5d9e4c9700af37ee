"""The client report as a Word document a consultant edits before sending (`--format docx`).

It shows what the HTML report shows, in the same order and from the same context
(`report.context`), as plain Word paragraphs, tables and styles a consultant can change:
no chart (the timeline table carries every date), no fields, no macros. The bytes are the same
for the same outline, profile and letterhead: the document's dates are the report's date and
every part of the file has a fixed timestamp.
"""

from __future__ import annotations

import base64
import datetime
import io
import zipfile

from ipexpert._errors import MissingExtraError

LATIN_FONT = "Arial"
CJK_FONT = "Microsoft YaHei"
PRIORITY_COLORS = {"critical": "B3261E", "high": "C25E00", "medium": "2F6DB5", "low": "5B6575"}
LOGO_WIDTH_CM = 4.0


def _docx():
    try:
        import docx
    except ImportError as exc:
        raise MissingExtraError(
            f"a Word report needs python-docx ({exc.name} is missing): pip install 'ipexpert[docx]'"
        ) from None
    return docx


def render(context: dict) -> bytes:
    """The report of *context* (from `report.context`) as the bytes of a .docx file."""
    docx = _docx()
    from docx.shared import Cm, Pt, RGBColor

    label, lang = context["label"], context["lang"]
    document = docx.Document()
    _fonts(document, lang)
    outline = context["outline"]
    firm = context["firm"]

    letterhead = context.get("letterhead")
    if letterhead:
        picture = _logo(letterhead.logo)
        if picture is not None:
            document.add_picture(picture, width=Cm(LOGO_WIDTH_CM))
        _pairs(
            document,
            [
                (label("prepared_for"), firm["name"]),
                (label("prepared_by"), letterhead.prepared_by()),
                (label("date"), context["as_of"]),
            ],
        )
    document.add_heading(label("report_heading", firm=firm["name"]), level=0)
    _pairs(
        document,
        [
            (label("firm"), f"{firm['name']} · {label('home_country')}{label('colon')}{firm['home_country']}"),
            (label("as_of"), context["as_of"]),
            (label("stage"), f"{context['stage_name']} — {context['stage_because']}"),
        ],
    )
    notice = document.add_paragraph(label("not_legal_advice"))
    notice.runs[0].italic = True
    if context["untranslated"]:
        document.add_paragraph(label("untranslated_note", mark=label("untranslated")))

    document.add_heading(label("summary"), level=1)
    if context["summary"]:
        for rec in context["summary"]:
            item = document.add_paragraph(style="List Number")
            _badge(item, rec["priority_text"], rec["priority"], RGBColor)
            item.add_run(rec["title"])
            if rec["due"]:
                item.add_run(" " + label("due", date=rec["due"])).italic = True
    else:
        document.add_paragraph(label("summary_none"))

    document.add_heading(label("matrix"), level=1)
    matrix = context["matrix"]
    if matrix["rows"]:
        document.add_paragraph(label("matrix_note"))
        document.add_paragraph(" · ".join(state["text"] for state in matrix["states"]))
        header = [label("market")] + [f"{col['name']} ({col['type']})" for col in matrix["columns"]]
        rows = [
            [f"{row['market']} ({row['status']})"]
            + [cell["text"] + (f" — {cell['detail']}" if cell.get("detail") else "") for cell in row["cells"]]
            for row in matrix["rows"]
        ]
        _table(document, header, rows)
    else:
        document.add_paragraph(label("matrix_none"))

    document.add_heading(label("timeline"), level=1)
    if context["events"]:
        rows = [[context["date"](event.date), label("ev_" + event.kind), event.text] for event in context["events"]]
        _table(document, [label("date"), label("kind"), label("event")], rows)
    else:
        document.add_paragraph(label("timeline_none"))

    document.add_heading(label("plan"), level=1)
    if not context["plan"]:
        document.add_paragraph(label("recommendations_none"))
    for group in context["plan"]:
        document.add_heading(group["title"], level=2)
        for rec in group["items"]:
            _card(document, rec, rec["priority"], rec["priority_text"], rec.get("due"), label, RGBColor)
            for action in rec["actions"]:
                document.add_paragraph(action, style="List Bullet")
            _because(document, rec, label)

    if context["risks"]:
        document.add_heading(label("risks"), level=1)
        for risk in context["risks"]:
            _card(document, risk, risk["severity"], f"{risk['severity_text']} {risk['kind']}", None, label, RGBColor)
            _because(document, risk, label)

    if context["notes"]:
        document.add_heading(label("sources_title"), level=1)
        document.add_paragraph(label("paper_note"))
        for note in context["notes"]:
            text = f"[{note['number']}] {note['ref']}" + (
                f" <{note['url']}>" if note["url"] and note["url"] != note["ref"] else ""
            )
            document.add_paragraph(text)

    audit = context.get("audit")
    if audit:
        document.add_heading(label("audit_title"), level=1)
        document.add_paragraph(label("audit_note"))
        packs = ", ".join(f"{pack['name']} {pack['version']}" for pack in outline.rule_packs)
        document.add_paragraph(f"{label('rule_packs')}{label('colon')}{packs}")
        rows = [
            [
                f"{entry['title']}\n{entry['id']}",
                f"{entry['rule']}\n{entry['pack']}",
                "\n".join(line["path"] + (f" ({line['line']})" if line["line"] else "") for line in entry["lines"]),
            ]
            for entry in audit
        ]
        _table(document, [label("audit_item"), label("audit_rule"), label("profile_lines")], rows)

    footer = document.sections[0].footer.paragraphs[0]
    footer.text = f"{label('generated_by', version=context['version'])} · {label('as_of')} {context['as_of']}"
    footer.runs[0].font.size = Pt(8)

    when = datetime.datetime.fromisoformat(outline.as_of)
    properties = document.core_properties
    properties.title = label("report_heading", firm=firm["name"])
    properties.author = letterhead.prepared_by() if letterhead else ""
    properties.last_modified_by = properties.author
    properties.created = properties.modified = properties.last_printed = when
    properties.revision = 1
    properties.language = lang
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_timestamps(buffer.getvalue())


def _fonts(document, lang: str) -> None:
    """Latin text in a Latin font and Chinese in a CJK one, in every paragraph style; the text's language for spelling."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        style.font.name = LATIN_FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "zh-CN" if lang == "zh-CN" else "en-US")
    language.set(qn("w:eastAsia"), "zh-CN")
    document.styles["Normal"].element.get_or_add_rPr().append(language)


def _pairs(document, pairs) -> None:
    table = document.add_table(rows=0, cols=2)
    for name, value in pairs:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(name).bold = True
        cells[1].text = value


def _table(document, header, rows) -> None:
    table = document.add_table(rows=1, cols=len(header), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, header):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text


def _badge(paragraph, text: str, level: str, rgb) -> None:
    run = paragraph.add_run(f"{text}  ")
    run.bold = True
    run.font.color.rgb = rgb.from_string(PRIORITY_COLORS.get(level, "1D2430"))


def _card(document, item, level, level_text, due, label, rgb) -> None:
    title = item["title"] + (f" {label('untranslated')}" if item["untranslated"] else "")
    document.add_heading(title, level=3)
    meta = document.add_paragraph()
    _badge(meta, level_text, level, rgb)
    if due:
        meta.add_run(label("due", date=due)).italic = True
    for subject in item["subjects"]:
        meta.add_run(f" · {subject['label']}{label('colon')}{subject['text']}")


def _because(document, item, label) -> None:
    why = document.add_paragraph()
    why.add_run(label("because_title") + label("colon")).bold = True
    why.add_run(item["because"] + "".join(f"[{n}]" for n in item["notes"]))


def _logo(uri: str | None):
    """The logo's bytes for Word (PNG or JPEG); an SVG logo is left out, as Word's format cannot take it."""
    if not uri or not uri.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
        return None
    return io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))


def _fixed_timestamps(data: bytes) -> bytes:
    """The same .docx with every part stamped 1980-01-01, so equal reports are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
