"""Rendering an outline as terminal text or Markdown (JSON is `Outline.to_json`).

Recommendations are grouped by category, sections ordered by their most urgent item;
every text that came from a profile is escaped for the target (control characters for
a terminal, Markdown and HTML syntax for Markdown).
"""

from __future__ import annotations

import re

from ._outline import CATEGORIES, LEVELS

TITLES = {
    "strategy": "Strategy",
    "trade_secret": "Trade secrets and confidentiality",
    "trademark": "Trademarks",
    "patent": "Patents",
    "design": "Designs",
    "copyright": "Copyright",
    "freedom_to_operate": "Freedom to operate",
    "enforcement": "Enforcement and monitoring",
    "management_system": "IP management systems",
    "organization": "Organisation",
}


def plain(text) -> str:
    """Text safe for a terminal: control and escape characters shown, not obeyed."""
    return "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in str(text))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~])")


def markdown_text(text) -> str:
    """Text safe inside Markdown: syntax and HTML characters escaped, control characters shown."""
    return _MD_SPECIAL.sub(r"\\\1", plain(text))


def sections(outline):
    """[(category, [recommendations])], the section with the most urgent item first."""
    order = {level: i for i, level in enumerate(LEVELS)}
    groups = {}
    for rec in outline.recommendations:
        groups.setdefault(rec.category, []).append(rec)
    rank = {name: i for i, name in enumerate(CATEGORIES)}
    return sorted(
        groups.items(),
        key=lambda item: (min(order[r.priority] for r in item[1]), rank.get(item[0], 99), item[0]),
    )


def _subjects(item) -> str:
    parts = []
    for label, values in (("markets", item.markets), ("assets", item.assets), ("products", item.products)):
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    return "; ".join(parts)


def _sources(justification) -> str:
    return ", ".join(s.url if s.url and s.url != s.ref else s.ref for s in justification.sources)


def text(outline) -> str:
    """The outline for a terminal."""
    out = []
    stage = outline.stage
    out.append(f"IP strategy outline for {plain(outline.firm['name'])} (as of {outline.as_of})")
    out.append(f"Stage: {stage.value or 'unknown'} ({plain(stage.because)})")
    out.append("Rule packs: " + ", ".join(f"{p['name']} {p['version']}" for p in outline.rule_packs))
    if not outline.recommendations:
        out.append("\nNo recommendations.")
    for category, recs in sections(outline):
        out.append("")
        out.append(f"== {TITLES.get(category, category)} ==")
        for rec in recs:
            due = f", due {rec.due}" if rec.due else ""
            out.append(f"* [{rec.priority.upper()}{due}] {plain(rec.title)}")
            subjects = _subjects(rec)
            if subjects:
                out.append(f"    {plain(subjects)}")
            for action in rec.actions:
                out.append(f"    - {plain(action)}")
            out.append(f"    because: {plain(rec.justification.because)}")
            out.append(f"    sources: {plain(_sources(rec.justification))}")
            out.append(f"    id: {rec.id}")
    if outline.risks:
        out.append("")
        out.append("== Risks ==")
        for risk in outline.risks:
            subjects = _subjects(risk)
            out.append(f"* [{risk.severity.upper()}] {risk.kind}: {plain(risk.title)}" + (f" ({plain(subjects)})" if subjects else ""))
            out.append(f"    because: {plain(risk.because)}")
    if outline.timeline:
        out.append("")
        out.append("== Timeline ==")
        for entry in outline.timeline:
            out.append(f"{entry.date}  {plain(entry.action)}")
    return "\n".join(out) + "\n"


def markdown(outline) -> str:
    """The outline as a Markdown document."""
    out = [f"# IP strategy outline: {markdown_text(outline.firm['name'])}", ""]
    stage = outline.stage
    out.append(f"- **As of:** {outline.as_of}")
    out.append(f"- **Stage:** {stage.value or 'unknown'} ({markdown_text(stage.because)})")
    out.append("- **Rule packs:** " + ", ".join(f"{markdown_text(p['name'])} {markdown_text(p['version'])}" for p in outline.rule_packs))
    for category, recs in sections(outline):
        out += ["", f"## {TITLES.get(category, markdown_text(category))}", ""]
        for rec in recs:
            due = f", due {rec.due}" if rec.due else ""
            out.append(f"### {markdown_text(rec.title)}")
            out.append("")
            out.append(f"*Priority: {rec.priority}{due}* · `{rec.id}`")
            subjects = _subjects(rec)
            if subjects:
                out += ["", markdown_text(subjects)]
            if rec.actions:
                out.append("")
                out += [f"- {markdown_text(a)}" for a in rec.actions]
            out += ["", f"**Because:** {markdown_text(rec.justification.because)}", ""]
            out.append(f"**Sources:** {markdown_text(_sources(rec.justification))}")
            out.append("")
    if outline.risks:
        out += ["", "## Risks", "", "| Severity | Kind | Risk | Because |", "|---|---|---|---|"]
        for risk in outline.risks:
            out.append(f"| {risk.severity} | {risk.kind} | {markdown_text(risk.title)} | {markdown_text(risk.because)} |")
    if outline.timeline:
        out += ["", "## Timeline", "", "| Date | Action |", "|---|---|"]
        for entry in outline.timeline:
            out.append(f"| {entry.date} | {markdown_text(entry.action)} |")
    return "\n".join(out).rstrip("\n") + "\n"


def render(outline, fmt: str) -> str:
    """The outline in *fmt*: text, markdown or json."""
    if fmt == "json":
        return outline.to_json()
    if fmt == "markdown":
        return markdown(outline)
    return text(outline)
