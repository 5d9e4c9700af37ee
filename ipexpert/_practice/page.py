"""The agenda as one printable HTML page, in English or Simplified Chinese.

Every text is made one printable line before Jinja2 escapes it, so markup and control
characters in a profile show as text; the page fetches nothing (inline CSS, system fonts).
"""

from __future__ import annotations

import datetime
import functools

from ipexpert import __version__
from ipexpert._errors import one_line
from ipexpert._knowledge import i18n as _i18n
from ipexpert._practice import agenda


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("ipexpert._practice", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: one_line(value) if isinstance(value, str) else value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(entries, clients, as_of: datetime.date, days: int, lang: str = "en") -> str:
    """The page for the agenda *entries* (from `agenda.build`) over the book's *clients*."""
    last = as_of + datetime.timedelta(days=days)
    ok = [c for c in clients if c.ok]
    named = {e.client for e in entries}
    quiet = sorted({c.name for c in ok} - named)
    errors = [p.format() for c in clients for p in c.problems]
    label = functools.partial(_i18n.label, lang)
    rows = [
        {
            "date": _i18n.date(lang, e.date),
            "overdue": e.overdue,
            "client": e.client,
            "markets": agenda.market_names(lang, e.markets),
            "priority": e.priority,
            "level": _i18n.word(lang, "priority", e.priority),
            "title": e.title,
            "actions": e.actions,
            "because": label("because_title") + label("colon") + e.because,
            "item": e.item,
            "file": e.file,
        }
        for e in entries
    ]
    return (
        _environment()
        .get_template("agenda.html.j2")
        .render(
            lang=lang,
            label=label,
            heading=label("agenda_heading", start=_i18n.date(lang, as_of), end=_i18n.date(lang, last), days=days),
            count=label("agenda_count", items=len(entries), named=len(named), clients=len(ok)),
            overdue=label("agenda_overdue"),
            overdue_note=label("agenda_overdue_note"),
            rows=rows,
            quiet=label("agenda_quiet", clients=agenda.joined(lang, quiet)) if quiet else "",
            failed=label("agenda_failed", count=sum(not c.ok for c in clients)),
            errors=errors,
            version=__version__,
        )
    )
