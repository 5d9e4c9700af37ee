"""The client report: one self-contained HTML page (or its PDF) built from an outline and its run.

The page holds who prepared it and for whom (when a letterhead is given), the firm and stage,
a summary of what is due first, a market x right matrix, the filing timeline as an SVG chart,
the plan with its reasons and numbered sources, the risks, the sources, and an audit appendix
(ids, rules and pack versions, the profile lines each conclusion rests on). It is rendered with Jinja2 (autoescaping on); every text
is made printable first, so markup, scripts, bidi overrides and control characters in a
profile show as text. Nothing is fetched: CSS and SVG are inline and fonts are the system's.
"""

from __future__ import annotations

import datetime
import functools
import unicodedata
from dataclasses import dataclass

from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import i18n as _i18n
from ipexpert._outputs.text import plain, sections

# The rights the matrix shows as columns, in this order.
MATRIX_TYPES = ("trademark", "design", "patent", "utility_model")
EXPIRING_MONTHS = 12  # a right ending within this many months of the as-of date is shown as expiring
SUMMARY_ITEMS = 6
EVENT_KINDS = ("planned", "filed", "expected", "launch", "priority", "expiry")
# Colours are SVG attributes, not CSS, so browsers and WeasyPrint draw them alike.
EVENT_COLOURS = {
    "planned": "#2f6db5",
    "filed": "#1e7b3c",
    "expected": "#5d9c70",
    "launch": "#6a3fb5",
    "priority": "#c25e00",
    "expiry": "#b3261e",
}


def render(outline, run, doc, fmt: str = "html", paper: str = "A4", letterhead=None):
    """The report as HTML text, or as PDF bytes when *fmt* is "pdf", or Word bytes when it is "docx";
    *letterhead* says who prepared it."""
    if fmt == "docx":
        from ipexpert._outputs import docx as _docx

        return _docx.render(context(outline, run, doc, letterhead))
    html_text = html(outline, run, doc, letterhead)
    if fmt == "pdf":
        from ipexpert._outputs import pdf as _pdf

        return _pdf.from_html(html_text, paper)
    return html_text


def html(outline, run, doc, letterhead=None) -> str:
    """The report as one HTML document, byte-identical for the same outline, profile and letterhead."""
    template = _environment().get_template("report.html.j2")
    return template.render(**context(outline, run, doc, letterhead))


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ipexpert._outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: plain(value) if isinstance(value, str) else value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


@dataclass
class Event:
    date: datetime.date
    kind: str
    text: str
    start: datetime.date | None = None  # for a span (filing to expected registration)
    estimated: bool = False


# Latin text first in a Latin font, so quotes and § keep their Latin widths; Chinese first in a CJK font.
LATIN_FONTS = "Noto Sans, DejaVu Sans, Helvetica Neue, Arial"
CJK_FONTS = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei"


def fonts(lang: str) -> str:
    """The font list for text in *lang*, as SVG's font-family attribute takes it."""
    first, then = (CJK_FONTS, LATIN_FONTS) if lang == "zh-CN" else (LATIN_FONTS, CJK_FONTS)
    return f"{first}, {then}, sans-serif"


def context(outline, run, doc, letterhead=None) -> dict:
    """Everything the template shows, computed here so the template only lays it out."""
    lang = outline.language
    as_of = datetime.date.fromisoformat(outline.as_of)
    data = doc.data
    facts = _facts_by_kind(run)
    notes = _Notes(lang)
    plan = [
        {"title": _i18n.word(lang, "category", category), "items": [_item(outline, rec, notes, lang) for rec in recs]}
        for category, recs in sections(outline)
    ]
    risks = [_risk(outline, risk, notes, lang) for risk in outline.risks]
    events = _events(outline, data, facts, as_of, lang)
    stage = outline.stage
    return {
        "lang": lang,
        "label": functools.partial(_i18n.label, lang),
        "word": functools.partial(_i18n.word, lang),
        "date": functools.partial(_i18n.date, lang),
        "outline": outline,
        "firm": data["firm"],
        "home_country": _i18n.market_with_code(lang, data["firm"]["home_country"]),
        "as_of": _i18n.date(lang, as_of),
        "stage_name": _i18n.word(lang, "stage", stage.value) if stage.value else _i18n.label(lang, "unknown"),
        "stage_because": stage.because,
        "summary": _summary(outline, lang),
        "matrix": _matrix(data, facts, as_of, lang),
        "chart": _chart(events, as_of, lang),
        "events": events,
        "plan": plan,
        "risks": risks,
        "notes": notes.items,
        "untranslated": bool(outline.untranslated),
        "version": outline.ipexpert_version,
        "letterhead": letterhead or None,
        "fonts": fonts(lang),
        "audit": _audit(outline, lang),
    }


def _audit(outline, lang) -> list:
    """The audit appendix: for each recommendation and risk, its id, the rule and pack version that
    concluded it, and the profile lines it rests on (kept off the client's cards)."""
    versions = {pack["name"]: pack["version"] for pack in outline.rule_packs}
    out = []
    for item in [*outline.recommendations, *outline.risks]:
        pack = item.rule.split("/", 1)[0]
        out.append(
            {
                "id": item.id,
                "title": item.title,
                "rule": item.rule,
                "pack": f"{pack} {versions.get(pack, '')}".strip(),
                "lines": _lines(item.justification, lang),
            }
        )
    return out


def _facts_by_kind(run) -> dict:
    out: dict = {}
    for origin in run.origins.values():
        out.setdefault(origin.kind, []).append(dict(origin.fields))
    return out


class _Notes:
    """Source notes numbered in the order the report first cites them."""

    def __init__(self, lang):
        self.lang = lang
        self.items: list = []
        self._index: dict = {}

    def number(self, source) -> int:
        key = (source.ref, source.url)
        if key not in self._index:
            url = source.url if source.url and source.url.startswith(("https://", "http://")) else None
            ref = _i18n.source(self.lang, source.ref)
            self.items.append({"number": len(self.items) + 1, "ref": ref, "url": url})
            self._index[key] = len(self.items)
        return self._index[key]


def _subjects(item, lang) -> list:
    out = []
    names = [_i18n.market(lang, code) for code in item.markets]
    for key, values in (("markets", names), ("assets", item.assets), ("products", item.products)):
        if values:
            out.append({"label": _i18n.label(lang, key), "text": _i18n.list_separator(lang).join(values)})
    return out


def _lines(justification, lang) -> list:
    """Every fact a conclusion rests on, as a consultant checks it: its path and where it is written."""
    out = []
    for fact in justification.facts:
        if fact["kind"] == "evaluation":
            out.append({"path": "--as-of", "line": _i18n.label(lang, "as_of_date")})
        elif fact["path"].startswith("$"):
            line = _i18n.label(lang, "profile_line", line=fact["line"]) if fact["line"] else ""
            out.append({"path": fact["path"], "line": line})
        else:  # reference data of a rule pack
            out.append({"path": fact["path"], "line": f"{fact['file']}:{fact['line']}" if fact["line"] else fact["file"]})
    return out


def _basis(justification, lang) -> str:
    """What a client reads of the same facts: the profile lines to look at, and the evaluation date if it counted."""
    lines = sorted({f["line"] for f in justification.facts if f["path"].startswith("$") and f["line"]})
    key = "basis_line" if len(lines) == 1 else "basis_lines"
    parts = [_i18n.label(lang, key, lines=_i18n.list_separator(lang).join(map(str, lines)))] if lines else []
    if any(f["kind"] == "evaluation" for f in justification.facts):
        parts.append(_i18n.label(lang, "as_of_date"))
    text = _i18n.list_separator(lang).join(parts) if parts else _i18n.label(lang, "basis_reference")
    return _i18n.label(lang, "basis", text=text)


def _item(outline, rec, notes, lang) -> dict:
    return {
        "id": rec.id,
        "title": rec.title,
        "priority": rec.priority,
        "priority_text": _i18n.word(lang, "priority", rec.priority),
        "due": _i18n.date(lang, rec.due) if rec.due else None,
        "subjects": _subjects(rec, lang),
        "actions": rec.actions,
        "because": rec.justification.because,
        "basis": _basis(rec.justification, lang),
        "notes": [notes.number(s) for s in rec.justification.sources],
        "untranslated": rec.rule in outline.untranslated,
    }


def _risk(outline, risk, notes, lang) -> dict:
    return {
        "id": risk.id,
        "title": risk.title,
        "severity": risk.severity,
        "severity_text": _i18n.word(lang, "priority", risk.severity),
        "kind": _i18n.word(lang, "risk_kind", risk.kind),
        "subjects": _subjects(risk, lang),
        "because": risk.because,
        "basis": _basis(risk.justification, lang),
        "notes": [notes.number(s) for s in risk.justification.sources],
        "untranslated": risk.rule in outline.untranslated,
    }


def _summary(outline, lang) -> list:
    """The most urgent recommendations, by priority then due date (the outline's own order)."""
    urgent = [r for r in outline.recommendations if r.priority in ("critical", "high")] or outline.recommendations
    return [
        {
            "id": r.id,
            "title": r.title,
            "priority": r.priority,
            "priority_text": _i18n.word(lang, "priority", r.priority),
            "due": _i18n.date(lang, r.due) if r.due else None,
            "untranslated": r.rule in outline.untranslated,
        }
        for r in urgent[:SUMMARY_ITEMS]
    ]


# ---- the market x right matrix ----


def _covers(registration, market, eu_markets) -> bool:
    where = registration["jurisdiction"]
    if where == market:
        return True
    if where == "EU":
        return market in eu_markets
    if where == "WO":
        designations = registration.get("designations") or []
        return market in designations or ("EU" in designations and market in eu_markets)
    return False


def _matrix(data, facts, as_of, lang) -> dict:
    markets = data.get("markets") or []
    assets = [a for a in data.get("ip_assets") or [] if a["type"] in MATRIX_TYPES]
    assets.sort(key=lambda a: MATRIX_TYPES.index(a["type"]))
    eu_markets = {f["market"] for f in facts.get("eu_market", [])}
    covered = {(f["asset"], f["market"]) for f in facts.get("covered", [])}
    expiry = {(f["asset"], f["jurisdiction"]): f["date"] for f in facts.get("expiry", [])}
    horizon = _expressions.add_months(as_of, EXPIRING_MONTHS)
    rows = []
    for market in markets:
        code = market["code"]
        cells = []
        for asset in assets:
            regs = [
                r
                for r in asset.get("registrations") or []
                if r["status"] in ("registered", "pending") and _covers(r, code, eu_markets)
            ]
            via = sorted({r["jurisdiction"] for r in regs} - {code})
            ends = sorted(
                d for r in regs for d in [expiry.get((asset["name"], r["jurisdiction"]))] if isinstance(d, datetime.date)
            )
            if (asset["name"], code) in covered or regs:
                if ends and ends[0] <= horizon:
                    state, detail = "expiring", _i18n.date(lang, ends[0])
                elif any(r["status"] == "registered" for r in regs):
                    state, detail = "registered", ""
                else:
                    state, detail = "pending", ""
                if via:
                    names = _i18n.markets(lang, via)
                    detail = "".join(filter(None, [detail, _i18n.label(lang, "parenthesis", text=names)]))
            elif code in (asset.get("taken_in") or []):
                state, detail = "taken", ""
            else:
                state, detail = "missing", ""
            cells.append({"state": state, "text": _i18n.word(lang, "cell", state), "detail": detail})
        rows.append(
            {
                "market": _i18n.market_with_code(lang, code),
                "status": _i18n.word(lang, "market_status", market["status"]),
                "cells": cells,
            }
        )
    columns = [{"name": a["name"], "type": _i18n.word(lang, "type", a["type"])} for a in assets]
    return {
        "columns": columns,
        "rows": rows if columns else [],
        "states": [
            {"state": s, "text": _i18n.word(lang, "cell", s)} for s in ("registered", "pending", "expiring", "taken", "missing")
        ],
    }


# ---- the timeline ----


def _events(outline, data, facts, as_of, lang) -> list:
    def label(key, **values):
        return _i18n.label(lang, key, **values)

    events = []
    seen = set()
    for entry in outline.timeline:
        day = datetime.date.fromisoformat(entry.date)
        seen.add((day, entry.action))
        events.append(Event(day, "planned", entry.action))
    months = {f["code"]: f.get("tm_months") for f in facts.get("jurisdiction", [])}
    fallback = next((f.get("months") for f in facts.get("fallback", []) if f.get("months")), 13)
    paris = (facts.get("paris") or [{}])[0]
    priority = {
        "trademark": paris.get("tm_priority_months"),
        "design": paris.get("design_priority_months"),
        "patent": paris.get("patent_priority_months"),
        "utility_model": paris.get("patent_priority_months"),
    }
    for asset in data.get("ip_assets") or []:
        for reg in asset.get("registrations") or []:
            filed = _date(reg.get("filed"))
            if filed is None:
                continue
            where = _i18n.market(lang, reg["jurisdiction"])
            events.append(Event(filed, "filed", label("ev_filed_text", asset=asset["name"], jurisdiction=where)))
            if asset["type"] == "trademark" and reg["status"] in ("pending", "opposed"):
                expected = _expressions.add_months(filed, months.get(reg["jurisdiction"]) or fallback)
                events.append(
                    Event(
                        expected,
                        "expected",
                        label("ev_expected_text", asset=asset["name"], jurisdiction=where) + label("ev_estimated"),
                        start=filed,
                        estimated=True,
                    )
                )
            period = priority.get(asset["type"])
            if period and _expressions.add_months(filed, period) >= as_of:
                events.append(
                    Event(
                        _expressions.add_months(filed, period),
                        "priority",
                        label("ev_priority_text", asset=asset["name"], jurisdiction=where),
                    )
                )
    for fact in facts.get("expiry", []):
        if isinstance(fact.get("date"), datetime.date):
            text = label("ev_expiry_text", asset=fact["asset"], jurisdiction=_i18n.market(lang, fact["jurisdiction"]))
            events.append(
                Event(
                    fact["date"],
                    "expiry",
                    text + (label("ev_estimated") if fact.get("estimated") else ""),
                    estimated=bool(fact.get("estimated")),
                )
            )
    for market in data.get("markets") or []:
        day = _date(market.get("launch_date"))
        if day is not None:
            text = label("ev_launch_text", market=_i18n.market(lang, market["code"]))
            if (day, text) not in seen:
                events.append(Event(day, "launch", text))
    events.sort(key=lambda e: (e.date, EVENT_KINDS.index(e.kind), e.text))
    return events


def _date(value):
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


WIDTH, LEFT, RIGHT, ROW, TOP = 1000, 360, 985, 22, 46
LABEL_UNITS = 56
WINDOW_BEFORE, WINDOW_AFTER = (
    24,
    36,
)  # months of the chart before and after the as-of date, at most  # how many half-width characters fit in the label column


def _fit(text: str) -> str:
    """*text* cut to the label column, counting wide (CJK) characters twice."""
    units, out = 0, []  # type: int, list[str]
    for ch in text:
        units += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if units > LABEL_UNITS - 1:
            kept = "".join(out)
            space = kept.rfind(" ")
            if space > len(kept) * 2 // 3 and unicodedata.east_asian_width(ch) not in ("W", "F"):
                kept = kept[:space]  # Latin text is cut between words, not inside one
            return kept.rstrip() + "…"
        out.append(ch)
    return text


def _chart(events, as_of, lang) -> dict | None:
    """Geometry of the SVG timeline: one row per event, a year axis, and today's line."""
    if not events:
        return None
    low = max(
        min(e.start or e.date for e in events + [Event(as_of, "planned", "")]), _expressions.add_months(as_of, -WINDOW_BEFORE)
    )
    high = min(max(max(e.date for e in events), _expressions.add_months(as_of, 12)), _expressions.add_months(as_of, WINDOW_AFTER))
    start = datetime.date(low.year, 1, 1)
    end = datetime.date(high.year + 1, 1, 1)
    span = (end - start).days

    def x(day):
        day = min(max(day, start), end)
        return round(LEFT + (RIGHT - LEFT) * (day - start).days / span, 1)

    rows = []
    for i, event in enumerate(events):
        y = TOP + i * ROW + ROW // 2
        outside = not start <= event.date <= end  # drawn at the edge, its date in the label
        side = "earlier" if event.date < start else "later"
        text = event.text + (" " + _i18n.label(lang, side, date=_i18n.date(lang, event.date)) if outside else "")
        rows.append(
            {
                "y": y,
                "x": x(event.date),
                "x0": x(event.start) if event.start else None,
                "kind": event.kind,
                "label": _fit(text),
                "title": _i18n.date(lang, event.date) + _i18n.label(lang, "colon") + event.text,
                "estimated": event.estimated,
                "odd": i % 2 == 1,
                "outside": outside,
                "color": EVENT_COLOURS[event.kind],
            }
        )
    years = [{"x": x(datetime.date(year, 1, 1)), "year": year} for year in range(start.year, end.year + 1)]
    height = TOP + len(rows) * ROW + 12
    return {
        "width": WIDTH,
        "height": height,
        "left": LEFT,
        "right": RIGHT,
        "top": TOP,
        "years": years,
        "rows": rows,
        "today": x(as_of),
        "today_label": _i18n.label(lang, "today", date=_i18n.date(lang, as_of)),
        "legend": [{"kind": k, "text": _i18n.label(lang, "ev_" + k), "color": EVENT_COLOURS[k]} for k in EVENT_KINDS],
    }
