"""Rendering an outline as terminal text or Markdown (JSON is `Outline.to_json`).

Recommendations are grouped by category, sections ordered by their most urgent item;
every text that came from a profile is escaped for the target (control characters for
a terminal, Markdown and HTML syntax for Markdown).
"""

from __future__ import annotations

import re

from ipexpert._knowledge import i18n as _i18n
from ipexpert._outline.assemble import CATEGORIES, LEVELS

TITLES = {name: _i18n.word("en", "category", name) for name in CATEGORIES}


def plain(text) -> str:
    """Text safe for a terminal: control and escape characters shown, not obeyed."""
    return "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in str(text))


# What CommonMark (with GitHub's tables and strikethrough) reads as syntax anywhere in a line:
# emphasis, code, links, raw HTML and entities, table cells, strikethrough, and the escape itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
# What it reads as syntax only at the start of a line: headings, lists, quotes, setext underlines.
_MD_LINE_START = re.compile(r"^(\s*|\s*\d{1,9})((?<=\d)[.)]|(?<!\d)[#+\-=>])")
_URL = re.compile(r"https?://[^\s<>\x00-\x1f\x7f]+")


def markdown_text(text, starts_line: bool = False) -> str:
    """Text safe inside Markdown: only what Markdown would read as syntax is escaped, control characters shown.

    Dots, dashes and brackets of plain prose stay as they are, so a reader of the source sees
    the text; text that *starts_line* has an opening `#`, `-`, `+`, `>` or `1.` escaped too,
    so it cannot start a heading, list or quote.
    """
    escaped = _MD_INLINE.sub(r"\\\1", plain(text))
    return _MD_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped) if starts_line else escaped


def markdown_link(url: str) -> str:
    """A URL as a CommonMark autolink (`<https://...>`: its characters are never read as syntax), else as text."""
    return f"<{url}>" if _URL.fullmatch(url) else markdown_text(url)


def sections(outline):
    """[(category, [recommendations])], the section with the most urgent item first."""
    order = {level: i for i, level in enumerate(LEVELS)}
    groups: dict = {}
    for rec in outline.recommendations:
        groups.setdefault(rec.category, []).append(rec)
    rank = {name: i for i, name in enumerate(CATEGORIES)}
    return sorted(
        groups.items(),
        key=lambda item: (min(order[r.priority] for r in item[1]), rank.get(item[0], 99), item[0]),
    )


def _subjects(item, lang="en") -> str:
    """`markets: DE, US; assets: SPINWELL`, or in Chinese `市场：德国、美国；权利：SPINWELL`."""
    parts = []
    names = [_i18n.market(lang, code) for code in item.markets]
    for label, values in (("markets", names), ("assets", item.assets), ("products", item.products)):
        if values:
            parts.append(f"{_i18n.label(lang, label)}{_i18n.label(lang, 'colon')}{_i18n.list_separator(lang).join(values)}")
    return _i18n.label(lang, "subject_separator").join(parts)


def _sources(justification, lang="en") -> str:
    """The sources of a conclusion: a link as its address, a paper section or a statute in words."""
    shown = [s.url if s.url and s.url != s.ref else _i18n.source(lang, s.ref) for s in justification.sources]
    return _i18n.label(lang, "source_separator").join(shown)


def _markdown_sources(justification, lang="en") -> str:
    """The sources in Markdown: addresses as autolinks, a paper section or a statute in words."""
    return _i18n.label(lang, "source_separator").join(
        markdown_link(s.url)
        if s.url and s.url != s.ref
        else markdown_link(s.ref)
        if _URL.fullmatch(s.ref)
        else markdown_text(_i18n.source(lang, s.ref))
        for s in justification.sources
    )


def _mark(outline, item) -> str:
    """A visible note on an item whose rule has no translation in the outline's language."""
    return f" [{_i18n.label(outline.language, 'untranslated')}]" if item.rule in outline.untranslated else ""


def text(outline) -> str:
    """The outline for a terminal, in the outline's language."""
    lang = outline.language

    def label(key, **values):
        return _i18n.label(lang, key, **values)

    out = []
    stage = outline.stage
    out.append(label("outline_title", firm=plain(outline.firm["name"]), date=_i18n.date(lang, outline.as_of)))
    stage_name = _i18n.word(lang, "stage", stage.value) if stage.value else label("unknown")
    colon = label("colon")
    out.append(f"{label('stage')}{colon}{stage_name}{label('parenthesis', text=plain(stage.because))}")
    out.append(
        f"{label('rule_packs')}{colon}"
        + _i18n.list_separator(lang).join(f"{p['name']} {p['version']}" for p in outline.rule_packs)
    )
    if not outline.recommendations:
        out.append("\n" + label("recommendations_none"))
    for category, recs in sections(outline):
        out.append("")
        out.append(f"== {_i18n.word(lang, 'category', category)} ==")
        for rec in recs:
            due = label("item_separator") + label("due", date=_i18n.date(lang, rec.due)) if rec.due else ""
            priority = rec.priority.upper() if lang == "en" else _i18n.word(lang, "priority", rec.priority)
            out.append(f"* [{priority}{due}] {plain(rec.title)}{_mark(outline, rec)}")
            subjects = _subjects(rec, lang)
            if subjects:
                out.append(f"    {plain(subjects)}")
            for action in rec.actions:
                out.append(f"    - {plain(action)}")
            out.append(f"    {label('because')}{colon}{plain(rec.justification.because)}")
            out.append(f"    {label('sources')}{colon}{plain(_sources(rec.justification, lang))}")
            out.append(f"    {label('id')}{colon}{rec.id}")
    if outline.risks:
        out.append("")
        out.append(f"== {label('risks')} ==")
        for risk in outline.risks:
            subjects = _subjects(risk, lang)
            severity = risk.severity.upper() if lang == "en" else _i18n.word(lang, "priority", risk.severity)
            kind = risk.kind if lang == "en" else _i18n.word(lang, "risk_kind", risk.kind)
            out.append(
                f"* [{severity}] {kind}{colon}{plain(risk.title)}"
                + (label("parenthesis", text=plain(subjects)) if subjects else "")
                + _mark(outline, risk)
            )
            out.append(f"    {label('because')}{colon}{plain(risk.because)}")
    if outline.timeline:
        out.append("")
        out.append(f"== {label('timeline')} ==")
        for entry in outline.timeline:
            out.append(f"{entry.date}  {plain(entry.action)}")
    return "\n".join(out) + "\n"


def markdown(outline) -> str:
    """The outline as a Markdown document, in the outline's language."""
    lang = outline.language

    def label(key, **values):
        return _i18n.label(lang, key, **values)

    out = [f"# {label('markdown_title', firm=markdown_text(outline.firm['name']))}", ""]
    stage = outline.stage
    stage_name = _i18n.word(lang, "stage", stage.value) if stage.value else label("unknown")
    out.append(f"- **{label('as_of')}:** {_i18n.date(lang, outline.as_of)}")
    out.append(f"- **{label('stage')}:** {stage_name}{markdown_text(label('parenthesis', text=stage.because))}")
    out.append(
        f"- **{label('rule_packs')}:** "
        + ", ".join(f"{markdown_text(p['name'])} {markdown_text(p['version'])}" for p in outline.rule_packs)
    )
    for category, recs in sections(outline):
        out += ["", f"## {_i18n.word(lang, 'category', category) if category in CATEGORIES else markdown_text(category)}", ""]
        for rec in recs:
            due = f", {label('due', date=_i18n.date(lang, rec.due))}" if rec.due else ""
            out.append(f"### {markdown_text(rec.title)}{markdown_text(_mark(outline, rec))}")
            out.append("")
            out.append(f"*{label('priority')}: {_i18n.word(lang, 'priority', rec.priority)}{due}* · `{rec.id}`")
            subjects = _subjects(rec, lang)
            if subjects:
                out += ["", markdown_text(subjects, starts_line=True)]
            if rec.actions:
                out.append("")
                out += [f"- {markdown_text(a)}" for a in rec.actions]
            out += ["", f"**{label('because').capitalize()}:** {markdown_text(rec.justification.because)}", ""]
            out.append(f"**{label('sources').capitalize()}:** {_markdown_sources(rec.justification, lang)}")
            out.append("")
    if outline.risks:
        head = (label("severity"), label("kind"), label("risk"), label("because").capitalize())
        out += ["", f"## {label('risks')}", "", "| " + " | ".join(head) + " |", "|---|---|---|---|"]
        for risk in outline.risks:
            kind = risk.kind if lang == "en" else _i18n.word(lang, "risk_kind", risk.kind)
            out.append(
                f"| {_i18n.word(lang, 'priority', risk.severity)} | {kind} | {markdown_text(risk.title)}"
                f"{markdown_text(_mark(outline, risk))} | {markdown_text(risk.because)} |"
            )
    if outline.timeline:
        out += ["", f"## {label('timeline')}", "", f"| {label('date')} | {label('action')} |", "|---|---|"]
        for entry in outline.timeline:
            out.append(f"| {_i18n.date(lang, entry.date)} | {markdown_text(entry.action)} |")
    return "\n".join(out).rstrip("\n") + "\n"


def render(outline, fmt: str) -> str:
    """The outline in *fmt*: text, markdown or json."""
    if fmt == "json":
        return outline.to_json()
    if fmt == "markdown":
        return markdown(outline)
    return text(outline)
